"""A batched job on its own timer: ``step()`` does one batch in its own transaction and says how many
items it handled; the worker repeats it until there is nothing left, then sleeps ``interval`` seconds.

A failing step (database down, a bug on one batch) is logged and retried at the next tick with a growing
pause: its transaction rolled back, so the work is still there. The loop is one named task, awaited at
stop — never a bare fire-and-forget task whose exception nobody retrieves.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger(__name__)

Step = Callable[[], Awaitable[int]]


class BatchWorker:
    def __init__(self, name: str, step: Step, *, interval: float = 3.0, max_backoff: float = 60.0,
                 duty: float = 1.0) -> None:
        self.name = name
        self.step = step
        self.interval = interval
        self.max_backoff = max_backoff
        # Share of wall time a backlog may take: after a batch of t seconds the loop rests t·(1/duty − 1)
        # before the next one, so background reading never starves the request path of the process.
        self.duty = duty
        self.failures = 0  # consecutive failed steps (0 when healthy)
        # With several instances on one database (gateway/leadership) only the leader works; the others
        # would only redo the same reading to lose the race for the cursor (safe, but wasted CPU).
        self.gate: Callable[[], Any] | None = None
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        """Run now rather than at the next tick."""
        self._wake.set()

    async def run_until_idle(self, *, paced: bool = False) -> int:
        """Steps until a batch is empty; returns the items handled. Raises what a step raises.
        ``paced``: rest between batches to keep within ``duty`` (the timer loop; tests and the CLI drain
        at full speed)."""
        total = 0
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            done = await self.step()
            if done <= 0:
                return total
            total += done
            if paced and self.duty < 1.0:
                await asyncio.sleep((loop.time() - started) * (1 / self.duty - 1))

    async def _loop(self) -> None:
        while True:
            pause = self.interval
            try:
                if self.gate is None or self.gate():
                    await self.run_until_idle(paced=True)
                self.failures = 0
            except Exception:  # nothing is lost: the step's transaction rolled back, the work is retried
                self.failures += 1
                pause = min(self.interval * 2**self.failures, self.max_backoff)
                log.exception("%s: step failed (%d in a row); retrying in %.0f s", self.name, self.failures, pause)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), pause)
            self._wake.clear()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._loop(), name=f"job:{self.name}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
