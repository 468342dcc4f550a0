from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine


def create_engine(
    url: str, *, echo: bool = False, pool_size: int = 10, connect_args: dict[str, Any] | None = None
) -> AsyncEngine:
    # hide_parameters: a failed statement's error text (logged) must not carry the citizen's number or text.
    if url.startswith("sqlite"):
        # One connection: SQLite has one writer anyway, and concurrent writers on separate connections
        # wait in SQLite's busy handler (sleeps of up to 100 ms), which is what made p99 explode.
        # Queuing for the single connection in asyncio is fair and costs microseconds.
        engine = create_async_engine(url, echo=echo, hide_parameters=True, pool_size=1, max_overflow=0, pool_timeout=60,
                                     connect_args={"timeout": 30, **(connect_args or {})})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(
        url, echo=echo, hide_parameters=True, pool_size=pool_size, pool_pre_ping=True, connect_args=connect_args or {}
    )


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # WAL lets readers run beside the single writer; NORMAL is durable across app crashes in WAL mode.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
