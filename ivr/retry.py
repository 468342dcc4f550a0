"""Writes a call must not lose when the store is briefly away: tried at once, then retried in the
background, so the caller is never kept waiting on the database (an emergency transfer least of all).

Pending writes live in memory: they survive a database outage, not a gateway crash. Each one is
logged with its data when it finally fails, so nothing disappears without a trace.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from tenacity import AsyncRetrying, RetryError, retry_if_not_exception_type, stop_after_delay, wait_exponential

from gateway.errors import Conflict, Forbidden, InvalidInput, NotFound, Unprocessable

log = logging.getLogger(__name__)

Write = Callable[[], Awaitable[Any]]
# The store answered and said no: trying again would get the same answer.
FINAL = (Conflict, Forbidden, InvalidInput, NotFound, Unprocessable)


class RetryQueue:
    def __init__(self, *, give_up_after: float = 900.0, first_delay: float = 0.5, max_delay: float = 30.0,
                 max_pending: int = 10_000) -> None:
        self.give_up_after = give_up_after
        self.first_delay, self.max_delay = first_delay, max_delay
        self.max_pending = max_pending
        self._tasks: set[asyncio.Task[Any]] = set()
        self.failed = 0

    @property
    def pending(self) -> int:
        return len(self._tasks)

    def submit(self, what: str, write: Write, **context: Any) -> asyncio.Task[Any] | None:
        """Run ``write`` in the background until it succeeds or ``give_up_after`` seconds have passed."""
        if len(self._tasks) >= self.max_pending:
            self.failed += 1
            log.error("retry queue full: dropping %s %s", what, context)
            return None
        task = asyncio.get_running_loop().create_task(self._run(what, write, context))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _run(self, what: str, write: Write, context: dict[str, Any]) -> Any:
        retrying = AsyncRetrying(
            stop=stop_after_delay(self.give_up_after),
            wait=wait_exponential(multiplier=self.first_delay, max=self.max_delay),
            retry=retry_if_not_exception_type(FINAL),
            reraise=False,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    if attempt.retry_state.attempt_number > 1:
                        log.info("retrying %s (attempt %d)", what, attempt.retry_state.attempt_number)
                    return await write()
        except FINAL as exc:
            log.warning("%s refused: %s; data: %s", what, exc.message, context)
        except asyncio.CancelledError:
            log.error("shutdown cancelled pending %s; data: %s", what, context)
            raise
        except RetryError as exc:
            self.failed += 1
            log.error("gave up on %s after %.0f s: %s; data: %s", what, self.give_up_after,
                      exc.last_attempt.exception(), context)
        return None

    async def drain(self, grace: float = 5.0) -> None:
        """At shutdown: give pending writes ``grace`` seconds, then log what is lost."""
        if not self._tasks:
            return
        _, pending = await asyncio.wait(set(self._tasks), timeout=grace)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
