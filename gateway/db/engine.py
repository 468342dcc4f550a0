from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

import aiosqlite
from sqlalchemy import event, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from gateway.db.unit_of_work import Sessions


def create_engine(
    url: str, *, echo: bool = False, pool_size: int = 10, connect_args: dict[str, Any] | None = None,
    sqlite_on_loop: bool = False,
) -> AsyncEngine:
    # hide_parameters: a failed statement's error text (logged) must not carry the citizen's number or text.
    if url.startswith("sqlite"):
        _private_file(url)
        # One connection: SQLite has one writer anyway, and concurrent writers on separate connections
        # wait in SQLite's busy handler (sleeps of up to 100 ms), which is what made p99 explode.
        # Queuing for the single connection in asyncio is fair and costs microseconds.
        args: dict[str, Any] = {"timeout": 30, "async_creator_fn": _on_loop_connect if sqlite_on_loop
                                else _one_trip_connect, **(connect_args or {})}
        engine = create_async_engine(url, echo=echo, hide_parameters=True, pool_size=1, max_overflow=0, pool_timeout=60,
                                     connect_args=args)
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


class _OnLoopConnection(aiosqlite.Connection):
    """aiosqlite hands every call to its own thread and back (two queue hops and a GIL hand-over, 0.15–0.2 ms
    idle and far more on a busy machine) — most of a short request's time, since a unit of work is 10–30
    statements. This connection makes the same calls on the event loop: a unit of work's statements take
    microseconds (WAL, synchronous=NORMAL: a commit does not fsync), so the loop is held less than by the
    hops themselves. Long reads (lists, reports, searches) belong on the read pool's connections
    (``create_read_engine``), which keep the thread."""

    async def _execute(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        return fn(*args, **kwargs)


class _OneTripCursor:
    """A statement in one trip to the connection's thread. aiosqlite makes four (make the cursor, execute,
    fetch, close), each a queue hop, a wake-up of the loop and a GIL hand-over, and a request makes 10–30
    statements: most of its time went in the trips. Here the sqlite3 cursor is made, run, read and closed
    in the thread at once; a result longer than ``CHUNK`` rows keeps its cursor open and is read on in
    further trips, so a streamed read (``yield_per``) still holds one chunk at a time."""

    CHUNK = 1000
    arraysize = 1

    def __init__(self, connection: _OneTripConnection) -> None:
        self._connection = connection
        self._cursor: sqlite3.Cursor | None = None  # open only while a long result is being read
        self._rows: list[Any] = []
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None

    async def __aenter__(self) -> _OneTripCursor:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    async def execute(self, sql: str, parameters: Any = None) -> _OneTripCursor:
        return await self._run("execute", sql, () if parameters is None else parameters)

    async def executemany(self, sql: str, parameters: Any) -> _OneTripCursor:
        return await self._run("executemany", sql, parameters)

    async def _run(self, method: str, sql: str, parameters: Any) -> _OneTripCursor:
        await self.close()
        conn = self._connection
        self._cursor, self._rows, self.description, self.rowcount, self.lastrowid = await conn._execute(
            _statement, conn._conn, method, sql, parameters, self.CHUNK)
        return self

    async def fetchall(self) -> list[Any]:
        rows, self._rows = self._rows, []
        if self._cursor is not None:
            rows += await self._connection._execute(self._cursor.fetchall)
            await self.close()
        return rows

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        size = size or self.arraysize
        if len(self._rows) < size and self._cursor is not None:
            more = await self._connection._execute(self._cursor.fetchmany, max(size, self.CHUNK))
            self._rows += more
            if not more:
                await self.close()
        rows, self._rows = self._rows[:size], self._rows[size:]
        return rows

    async def fetchone(self) -> Any:
        rows = await self.fetchmany(1)
        return rows[0] if rows else None

    async def close(self) -> None:
        self._rows = []
        if self._cursor is not None:
            cursor, self._cursor = self._cursor, None
            await self._connection._execute(cursor.close)


def _statement(conn: sqlite3.Connection, method: str, sql: str, parameters: Any, chunk: int) -> tuple[Any, ...]:
    """In the connection's thread: run one statement and read its first ``chunk`` rows."""
    cursor = conn.cursor()
    try:
        getattr(cursor, method)(sql, parameters)
        rows = cursor.fetchmany(chunk) if cursor.description else []
    except BaseException:
        cursor.close()
        raise
    exhausted = len(rows) < chunk
    if exhausted:
        cursor.close()
    return (None if exhausted else cursor), rows, cursor.description, cursor.rowcount, cursor.lastrowid


class _OneTripConnection(aiosqlite.Connection):
    def cursor(self) -> _OneTripCursor:  # type: ignore[override]  # no trip: the cursor is made with its statement
        return _OneTripCursor(self)


def _one_trip_connect(database: str, **kwargs: Any) -> aiosqlite.Connection:
    connection = _OneTripConnection(lambda: sqlite3.connect(database, **kwargs), 64)
    connection._thread.daemon = True
    return connection


def create_read_engine(url: str, *, pool_size: int = 4) -> AsyncEngine | None:
    """SQLite: a few read-only connections for the GET requests (``Sessions.reading``), each with its own
    aiosqlite thread, so a long read (a list, a report, a search) neither holds the one writer connection
    nor the event loop. WAL readers never wait for the writer (no busy-handler sleeps: the lesson of
    docs/DEVELOPING.md "One SQLite connection" holds, writes still have exactly one connection). None for
    PostgreSQL (its pool serves reads already) and for an in-memory database (private to one connection)."""
    if not url.startswith("sqlite") or pool_size < 1:
        return None
    database = make_url(url).database
    if not database or database == ":memory:" or "mode=memory" in database:
        return None
    engine = create_async_engine(url, hide_parameters=True, pool_size=pool_size, max_overflow=0, pool_timeout=60,
                                 connect_args={"timeout": 30, "async_creator_fn": _one_trip_connect})
    event.listen(engine.sync_engine, "connect", _sqlite_read_only)
    event.listen(engine.sync_engine, "begin", _sqlite_begin)
    return engine


def _sqlite_read_only(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA query_only=ON")  # a write by mistake fails loudly instead of taking a second writer
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()
    dbapi_conn.isolation_level = None


def _on_loop_connect(database: str, **kwargs: Any) -> aiosqlite.Connection:
    # check_same_thread=False: aiosqlite's thread opens it, the loop's thread uses it (never both at once).
    kwargs["check_same_thread"] = False
    connection = _OnLoopConnection(lambda: sqlite3.connect(database, **kwargs), 64)
    connection._thread.daemon = True
    return connection


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


def session_factory(engine: AsyncEngine, reader: AsyncEngine | None = None) -> Sessions:
    return Sessions(engine, expire_on_commit=False, reader=reader)
