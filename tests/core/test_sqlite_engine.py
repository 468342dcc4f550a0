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
