"""Sessions that can join one request-wide transaction (exactly-once requests, gateway/http/idempotency.py).

Services open their own sessions (``async with sessions() as s, s.begin():``). While
``Sessions.request_transaction()`` is open in the current task, every session the factory hands that task is
bound to the request's connection and its ``begin()`` is a SAVEPOINT there, so a service's commit (and its
retry loop after a version conflict) stays inside the request's transaction, and nothing is durable until
the request's owner commits it together with the stored response. Other tasks (those the handler spawns,
background workers) get ordinary independent sessions: one connection cannot serve two tasks at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

_names = itertools.count()


@dataclass(frozen=True)
class _Ambient:
    connection: AsyncConnection
    owner: asyncio.Task[Any] | None


class Sessions(async_sessionmaker[AsyncSession]):
    def __init__(self, *args: Any, reader: AsyncEngine | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Per factory (not a module global): two apps in one process keep their transactions apart.
        name = next(_names)
        self._ambient: ContextVar[_Ambient | None] = ContextVar(f"request_transaction_{name}", default=None)
        self.reader = reader
        self._reading: ContextVar[asyncio.Task[Any] | None] = ContextVar(f"reading_{name}", default=None)

    def __call__(self, **local_kw: Any) -> AsyncSession:
        ambient = self._ambient.get()
        if ambient is not None and ambient.owner is _current_task() and "bind" not in local_kw:
            return super().__call__(bind=ambient.connection, join_transaction_mode="create_savepoint", **local_kw)
        if self.reader is not None and "bind" not in local_kw and self._reading.get() is _current_task():
            return super().__call__(bind=self.reader, **local_kw)
        return super().__call__(**local_kw)

    def for_reads(self) -> AsyncSession:
        """A session that only reads. Inside the current task's request transaction it joins it without a
        SAVEPOINT (there is nothing of its own to undo: the pair cost two statements per read); elsewhere
        it is an ordinary session (the read pool's in a GET request)."""
        ambient = self._ambient.get()
        if ambient is not None and ambient.owner is _current_task():
            return super().__call__(bind=ambient.connection, join_transaction_mode="rollback_only")
        return self()

    @contextlib.contextmanager
    def reading(self) -> Iterator[None]:
        """Sessions the current task opens inside the block read from the read-only engine (SQLite's read
        pool), when there is one: a GET request's. Tasks it spawns, and request transactions, still get the
        writer."""
        token = self._reading.set(_current_task())
        try:
            yield
        finally:
            self._reading.reset(token)

    @contextlib.asynccontextmanager
    async def request_transaction(self) -> AsyncIterator[AsyncSession]:
        """One transaction for everything the current task writes until the block ends: committed when the
        block exits normally, rolled back when it raises. Yields a session on it for the caller's own rows."""
        engine = self.kw["bind"]
        async with engine.connect() as connection:
            transaction = await connection.begin()
            token = self._ambient.set(_Ambient(connection, _current_task()))
            try:
                async with self() as session:
                    yield session
                    await session.commit()  # releases its savepoint (closing would roll it back)
            except BaseException:
                self._ambient.reset(token)
                if transaction.is_active:
                    await transaction.rollback()
                raise
            self._ambient.reset(token)
            await transaction.commit()

    def in_request_transaction(self) -> bool:
        ambient = self._ambient.get()
        return ambient is not None and ambient.owner is _current_task()


def _current_task() -> asyncio.Task[Any] | None:
    try:
        return asyncio.current_task()
    except RuntimeError:
        return None


def for_reads(sessions: async_sessionmaker[AsyncSession]) -> AsyncSession:
    """``sessions.for_reads()`` when the factory is a ``Sessions`` (the app's), else a plain session."""
    return sessions.for_reads() if isinstance(sessions, Sessions) else sessions()
