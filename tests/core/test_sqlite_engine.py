"""The SQLite engine: one writer that never freezes the event loop, and read-only connections for GETs."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from gateway.db import create_engine
from gateway.db.engine import create_read_engine


async def test_a_write_waiting_for_another_process_lock_leaves_the_event_loop_free(tmp_path: Path) -> None:
    db = tmp_path / "hotline.sqlite3"
    engine = create_engine(f"sqlite+aiosqlite:///{db}")
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (n INTEGER)"))
        other = sqlite3.connect(db, isolation_level=None)  # e.g. a `hotline` CLI command writing meanwhile
        other.execute("BEGIN IMMEDIATE")
        other.execute("INSERT INTO t VALUES (1)")
        # The lock is released by the event loop itself: only a loop the waiting writer leaves free runs it.
        asyncio.get_running_loop().call_later(0.2, other.execute, "COMMIT")
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO t VALUES (2)"))
        other.close()
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT n FROM t ORDER BY n"))).scalars().all() == [1, 2]
    finally:
        await engine.dispose()


@pytest.mark.parametrize("on_loop", [False, True], ids=["writer-thread", "writer-on-loop"])
async def test_the_read_pool_sees_committed_writes_and_refuses_to_write(tmp_path: Path, on_loop: bool) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'hotline.sqlite3'}"
    writer, reader = create_engine(url, sqlite_on_loop=on_loop), create_read_engine(url)
    assert reader is not None
    try:
        async with writer.begin() as conn:
            await conn.execute(text("CREATE TABLE t (n INTEGER)"))
            await conn.execute(text("INSERT INTO t VALUES (7)"))
        async with reader.connect() as conn:
            assert (await conn.execute(text("SELECT n FROM t"))).scalar_one() == 7
            with pytest.raises(OperationalError, match=r"readonly|query_only|attempt to write"):
                await conn.execute(text("INSERT INTO t VALUES (8)"))
    finally:
        await writer.dispose()
        await reader.dispose()


async def test_each_statement_is_one_trip_to_the_connections_thread(tmp_path: Path, monkeypatch) -> None:
    # aiosqlite's own cursor makes four trips per statement (cursor, execute, fetch, close); each trip
    # is a queue hop, a loop wake-up and a GIL hand-over, which was most of a short request's time.
    from gateway.db.engine import _OneTripConnection

    trips: list[str] = []
    original = _OneTripConnection._execute

    async def counted(self, fn, *args, **kwargs):
        trips.append(getattr(fn, "__name__", repr(fn)))
        return await original(self, fn, *args, **kwargs)

    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'hotline.sqlite3'}")
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (n INTEGER PRIMARY KEY, s TEXT)"))
        monkeypatch.setattr(_OneTripConnection, "_execute", counted)
        async with engine.connect() as conn:
            before = len(trips)
            await conn.execute(text("INSERT INTO t (s) VALUES ('a'), ('b')"))
            assert (await conn.execute(text("SELECT s FROM t ORDER BY n"))).scalars().all() == ["a", "b"]
            assert trips[before:] == ["_statement"] * 3  # BEGIN, INSERT, SELECT: one trip each
    finally:
        await engine.dispose()


async def test_results_rowcounts_errors_and_long_streamed_reads_are_those_of_sqlite(tmp_path: Path) -> None:
    from sqlalchemy.exc import IntegrityError

    from gateway.db.engine import _OneTripCursor

    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'hotline.sqlite3'}")
    rows = 2 * _OneTripCursor.CHUNK + 7  # longer than a trip reads at once
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (n INTEGER PRIMARY KEY, s TEXT NOT NULL)"))
            await conn.execute(text("INSERT INTO t (n, s) VALUES (:n, 'x')"), [{"n": n} for n in range(rows)])
            assert (await conn.execute(text("UPDATE t SET s = 'y' WHERE n < 10"))).rowcount == 10
            inserted = await conn.execute(text("INSERT INTO t (s) VALUES ('z')"))
            assert inserted.lastrowid == rows
        async with engine.connect() as conn:
            every = (await conn.execute(text("SELECT n FROM t ORDER BY n"))).scalars().all()
            assert every == list(range(rows + 1))
            streamed = [n async for n in await conn.stream_scalars(
                text("SELECT n FROM t ORDER BY n").execution_options(yield_per=300))]
            assert streamed == every
            first = (await conn.execute(text("SELECT n FROM t ORDER BY n"))).first()
            assert first == (0,)
        with pytest.raises(IntegrityError):
            async with engine.begin() as conn:
                await conn.execute(text("INSERT INTO t (n, s) VALUES (1, 'dup')"))
        async with engine.connect() as conn:  # the failed transaction left nothing behind
            assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar() == rows + 1
    finally:
        await engine.dispose()


async def test_a_read_inside_a_request_transaction_needs_no_savepoint_and_sees_its_writes(tmp_path: Path) -> None:
    from sqlalchemy import event

    from gateway.db.engine import session_factory
    from gateway.db.unit_of_work import for_reads

    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'hotline.sqlite3'}")
    sessions = session_factory(engine)
    said: list[str] = []
    event.listen(engine.sync_engine, "before_cursor_execute", lambda *a: said.append(a[2].split()[0].upper()))
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (n INTEGER)"))
        async with sessions.request_transaction():
            async with sessions() as session, session.begin():
                await session.execute(text("INSERT INTO t VALUES (1)"))
            said.clear()
            async with for_reads(sessions) as session:
                assert (await session.execute(text("SELECT n FROM t"))).scalars().all() == [1]
            assert said == ["SELECT"]  # no SAVEPOINT / ROLLBACK TO around it
        async with for_reads(sessions) as session:  # and the request's write was not undone by it
            assert (await session.execute(text("SELECT count(*) FROM t"))).scalar() == 1
    finally:
        await engine.dispose()
