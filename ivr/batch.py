"""Group writes that arrive together into one call of a ``write_many`` function.

No timer: the first ``add`` starts a flush on the next loop turn; whatever is added while a flush
waits for the database goes into the next one. Under a trickle each write goes alone (no added
delay); under a burst the batches grow by themselves.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


class Batch(Generic[Item, Result]):
    def __init__(self, write_many: Callable[[list[Item]], Awaitable[list[Result]]], *,
                 max_size: int = 200) -> None:
        self.write_many = write_many
        self.max_size = max_size
        self._waiting: list[tuple[Item, asyncio.Future[Result]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def add(self, item: Item) -> Result:
        """Wait until ``item`` is written with its batch; a failed batch raises for each of its items
        (their callers retry them, and they join a later batch)."""
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.get_running_loop().create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting[:self.max_size], self._waiting[self.max_size:]
            try:
                results = await self.write_many([item for item, _ in batch])
            except asyncio.CancelledError:
                for _, future in batch + self._waiting:
                    future.cancel()
                self._waiting = []
                raise
            except Exception as exc:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
            else:
                for (_, future), result in zip(batch, results, strict=True):
                    if not future.done():  # a caller cancelled at shutdown: its row is written anyway
                        future.set_result(result)
