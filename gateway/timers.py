"""Periodic jobs that move tickets by the clock: deemed signing, 督办 on yellow/red, surveys.

Each job reads its work from the database, so a restart (or a second gateway instance) loses nothing;
jobs are idempotent and safe to run on several instances at once (transitions are version-checked).
Jobs added with ``leader_only`` (clock-driven 督办 and deemed signing) run on the leader alone when
instances share PostgreSQL (``gate``, set by gateway/leadership): one sweep, one audit trail, no races.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[Any]]


class Timers:
    def __init__(self, interval: float = 30.0) -> None:
        self.interval = interval
        self.jobs: list[tuple[str, Job]] = []
        self.leader_only: set[str] = set()
        self.gate: Callable[[], bool] | None = None  # None: one instance, every job runs here
        self._nudge = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def add(self, name: str, job: Job, *, leader_only: bool = False) -> None:
        self.jobs.append((name, job))
        if leader_only:
            self.leader_only.add(name)

    def nudge(self) -> None:
        """Run the jobs now rather than at the next tick (e.g. right after a reply is reviewed)."""
        self._nudge.set()

    async def run_once(self) -> dict[str, Any]:
        results: dict[str, Any] = {}
        leading = self.gate is None or self.gate()
        for name, job in self.jobs:
            if name in self.leader_only and not leading:
                continue
            try:
                results[name] = await job()
            except Exception:  # one failing job must not stop the others, nor the loop
                log.exception("timer job %s failed", name)
        return results

    async def _loop(self) -> None:
        while True:
            await self.run_once()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._nudge.wait(), self.interval)
            self._nudge.clear()

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="timers")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


TIMERS = web.AppKey("timers", Timers)


async def timers_ctx(app: web.Application) -> AsyncIterator[None]:
    app[TIMERS].start()
    yield
    await app[TIMERS].stop()
