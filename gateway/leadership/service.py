"""Leadership: which gateway instance drives one Asterisk, renewed every ``renew_interval`` seconds.

One task per instance claims the lease (lease.py) in a loop. The instance that holds it is the *leader*:
it connects to AMI, runs the call pipeline and the timer jobs that must run once. Every other instance is
a *standby*: it serves the HTTP API and consoles, forwards call control to the leader (forward.py), and
claims the lease as soon as it lapses. The leader stops acting the moment its lease may have lapsed:
``check()`` (called before every AMI action) refuses once the local deadline passes, and the loop then
runs the ``on_deposed`` callbacks (disconnect AMI) even if the database is unreachable.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
from collections.abc import Awaitable, Callable
from typing import Literal

from gateway.leadership.lease import Holder, LeaseStore

log = logging.getLogger(__name__)

Role = Literal["leader", "standby"]
Elected = Callable[[int], Awaitable[None]]
Deposed = Callable[[], Awaitable[None]]


def new_instance_id() -> str:
    """Unique per process: a restarted gateway is a new holder and always starts a new term."""
    return f"{socket.gethostname()[:60]}-{os.getpid()}-{secrets.token_hex(3)}"


class Leadership:
    def __init__(
        self,
        scope: str,
        instance: str,
        url: str | None,
        *,
        lease_seconds: float,
        renew_interval: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        """``monotonic`` is the local clock the deadline is kept on (tests pass a controllable one)."""
        if renew_interval * 2 > lease_seconds:
            raise ValueError("the lease must outlast at least two renewals")
        self.scope = scope
        self.instance = instance
        self.url = url
        self.lease_seconds = lease_seconds
        self.renew_interval = renew_interval
        self.monotonic = monotonic
        # Stop acting this long before the lease can lapse in the database (clock-rate drift, a slow loop).
        self.margin = min(0.5, lease_seconds / 4)
        self.store: LeaseStore | None = None
        self.term: int | None = None  # ours while we lead; the last term we led otherwise
        self.leader: Holder | None = None  # the holder as last seen (for forwarding)
        self.elections = 0
        # False from election until the capabilities bound to it report they have caught up (the AMI resync):
        # until then the new leader answers call control with 503 not-leader rather than "no such call".
        self.synced = True
        self.needs_sync = False
        self._deadline = 0.0  # monotonic: act only before this
        self._leading = False
        self._elected: list[Elected] = []
        self._deposed: list[Deposed] = []
        self._task: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()

    # ---- what others ask -------------------------------------------------------------------------

    @property
    def role(self) -> Role:
        return "leader" if self.is_leader else "standby"

    @property
    def is_leader(self) -> bool:
        return self._leading and self.monotonic() < self._deadline

    @property
    def in_control(self) -> bool:
        """Leader and caught up with Asterisk: call control can be served here."""
        return self.is_leader and self.synced

    def check(self) -> str | None:
        """The fence, before each leader-only action: None when we may act, else why not."""
        if self.is_leader:
            return None
        holder = self.leader
        if holder is not None and holder.live and holder.instance != self.instance:
            return f"this gateway instance is the standby; the leader is {holder.instance} (term {holder.term})"
        return "this gateway instance does not hold the leadership (a standby, or its lease lapsed)"

    def leader_url(self) -> str | None:
        """The live leader's internal URL when it is another instance, else None."""
        holder = self.leader
        if holder is None or not holder.live or holder.instance == self.instance or not holder.url:
            return None
        return holder.url

    def describe(self) -> dict[str, object]:
        holder = self.leader
        return {
            "role": self.role,
            "in_control": self.in_control,
            "term": self.term if self.is_leader else (holder.term if holder else None),
            "instance": self.instance,
            "scope": self.scope,
            "leader": holder.instance if holder is not None and holder.live else None,
        }

    def on_elected(self, callback: Elected) -> None:
        self._elected.append(callback)

    def on_deposed(self, callback: Deposed) -> None:
        self._deposed.append(callback)

    # ---- the loop --------------------------------------------------------------------------------

    def start(self, store: LeaseStore) -> None:
        self.store = store
        self._task = asyncio.create_task(self._run(), name="leadership")

    async def stop(self) -> None:
        """Clean shutdown: stop acting first, then hand the lease over at once."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._leading:
            term = self.term
            await self._depose("shutting down")
            if self.store is not None and term is not None:
                with contextlib.suppress(Exception):  # the lease lapses by itself anyway
                    async with asyncio.timeout(self.renew_interval * 2):
                        await self.store.release(self.scope, self.instance, term)

    async def wait_changed(self) -> None:
        self._changed.clear()
        await self._changed.wait()

    async def _run(self) -> None:
        while True:
            await self.step()
            # Wake up early enough to depose on time even when the database hangs.
            pause = self.renew_interval
            if self._leading:
                pause = max(0.0, min(pause, self._deadline - self.monotonic()))
            await asyncio.sleep(pause)

    async def step(self) -> None:
        """One claim: renew, take over, or stay standby; depose when the lease is (or may be) lost."""
        assert self.store is not None
        started = self.monotonic()
        try:
            async with asyncio.timeout(self.renew_interval):
                claim = await self.store.claim(
                    self.scope, self.instance, self.url, self.term if self._leading else None
                )
        except Exception as exc:  # database down or slow: we cannot know; act until the deadline only
            if self._leading and self.monotonic() >= self._deadline:
                await self._depose(f"could not renew the lease ({exc.__class__.__name__})")
            elif not self._leading:
                log.debug("leadership claim failed: %r", exc)
            return
        self.leader = claim.holder
        if claim.term is None:
            if self._leading:
                await self._depose(f"the lease is held by {claim.holder.instance} (term {claim.holder.term})")
            return
        deadline = started + self.lease_seconds - self.margin
        if self._leading and claim.term == self.term:
            self._deadline = deadline
            return
        if self._leading:  # we lapsed and took it again: a new term, as if another instance had led
            await self._depose("the lease lapsed before it was renewed")
        self.term, self._deadline, self._leading = claim.term, deadline, True
        self.synced = not self.needs_sync
        self.elections += 1
        log.warning(
            "leadership: this instance (%s) is now the leader of %s, term %d", self.instance, self.scope, claim.term
        )
        for callback in self._elected:
            try:
                await callback(claim.term)
            except Exception:  # one capability failing to start must not keep the others from serving
                log.exception("leadership: a start-up callback failed")
        self._changed.set()

    async def _depose(self, why: str) -> None:
        self._leading = False
        self._deadline = 0.0
        log.warning(
            "leadership: this instance (%s) stops leading %s (term %s): %s", self.instance, self.scope, self.term, why
        )
        for callback in self._deposed:
            try:
                await callback()
            except Exception:
                log.exception("leadership: a stop callback failed")
        self._changed.set()
