"""The SQLite database and its WAL files are readable by the gateway's user only (issue 20, item 10)."""

from __future__ import annotations

import stat
from pathlib import Path

from sqlalchemy import text

from gateway.db import create_engine


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_a_new_database_and_its_wal_files_are_private(tmp_path: Path) -> None:
    db = tmp_path / "hotline.sqlite3"
    engine = create_engine(f"sqlite+aiosqlite:///{db}")
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (caller TEXT)"))
            await conn.execute(text("INSERT INTO t VALUES ('13812345678')"))
        files = [db, tmp_path / "hotline.sqlite3-wal", tmp_path / "hotline.sqlite3-shm"]
        assert all(f.exists() for f in files)
        assert {f.name: _mode(f) for f in files} == {f.name: 0o600 for f in files}
    finally:
        await engine.dispose()


async def test_an_existing_world_readable_database_is_tightened(tmp_path: Path) -> None:
    db = tmp_path / "old.sqlite3"
    db.touch(mode=0o644)
    db.chmod(0o644)
    engine = create_engine(f"sqlite+aiosqlite:///{db}")
    await engine.dispose()
    assert _mode(db) == 0o600
