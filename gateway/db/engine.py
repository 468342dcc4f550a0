from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import event, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from gateway.db.unit_of_work import Sessions


def create_engine(
    url: str, *, echo: bool = False, pool_size: int = 10, connect_args: dict[str, Any] | None = None
) -> AsyncEngine:
    # hide_parameters: a failed statement's error text (logged) must not carry the citizen's number or text.
    if url.startswith("sqlite"):
        _private_file(url)
        # One connection: SQLite has one writer anyway, and concurrent writers on separate connections
        # wait in SQLite's busy handler (sleeps of up to 100 ms), which is what made p99 explode.
        # Queuing for the single connection in asyncio is fair and costs microseconds.
        engine = create_async_engine(url, echo=echo, hide_parameters=True, pool_size=1, max_overflow=0, pool_timeout=60,
                                     connect_args={"timeout": 30, **(connect_args or {})})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
        return engine
    # No pool_pre_ping: it cost a round trip at every checkout (several per request). A connection that
    # died while pooled fails its first statement instead; SQLAlchemy then invalidates the pool and the
    # request is tried once more on a fresh connection (gateway/http/errors.py), or answers 503.
    # asyncpg prepares each statement once per connection and keeps it (the LRU below), so the ORM's
    # repeated statements skip parsing and planning.
    return create_async_engine(
        url, echo=echo, hide_parameters=True, pool_size=pool_size,
        connect_args={"prepared_statement_cache_size": 500, **(connect_args or {})},
    )


def _private_file(url: str) -> None:
    """The SQLite file holds every citizen's number and complaint: only the gateway's user may read it.
    Created (or tightened) to 0600 before SQLite opens it; SQLite gives its -wal and -shm files the
    database file's mode, and any left from an earlier, looser run are tightened too."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    if not path.parent.is_dir():
        return  # SQLite will say the directory is missing
    os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if file.exists():
            file.chmod(0o600)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # WAL lets readers run beside the single writer; NORMAL is durable across app crashes in WAL mode.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()
    # SQLAlchemy, not the sqlite3 module, says when a transaction begins (see _sqlite_begin): sqlite3's own
    # implicit BEGIN comes only before DML, so a SAVEPOINT issued first would start (and its RELEASE commit)
    # the whole transaction, breaking the request-wide transaction of gateway/db/unit_of_work.py.
    dbapi_conn.isolation_level = None


def _sqlite_begin(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN")


def session_factory(engine: AsyncEngine) -> Sessions:
    return Sessions(engine, expire_on_commit=False)
