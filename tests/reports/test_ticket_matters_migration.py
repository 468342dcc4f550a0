"""reports_0001 on both engines: warnings made before it keep their stored ticket lists (read through
``members_of``), gain an empty matter and name, and the worker's tables are there, empty."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.db import create_engine, upgrade
from gateway.db.engine import session_factory
from gateway.db.scratch import scratch_schema, search_path_args
from gateway.reports.hotspots import members_of
from gateway.reports.models import HotspotWarning

PG_URL = os.environ.get("HOTLINE_TEST_PG_URL")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def blank(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    if request.param == "sqlite":
        engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'old.sqlite3'}")
        yield engine
        await engine.dispose()
        return
    if not PG_URL:
        pytest.skip("HOTLINE_TEST_PG_URL is not set")
    async with scratch_schema(PG_URL, "m") as schema:
        engine = create_engine(PG_URL, connect_args=search_path_args(schema))
        yield engine
        await engine.dispose()


async def test_old_warnings_keep_their_tickets_and_the_worker_tables_start_empty(blank: AsyncEngine) -> None:
    await upgrade(blank, "federation_0003")
    await upgrade(blank, "tickets_0001")
    async with blank.begin() as conn:
        await conn.execute(text(
            "INSERT INTO hotspot_warnings (key, category, place, summary, tickets, count, status, first_at,"
            " last_at, created_at) VALUES ('投诉 幸福路 路灯', 'complaint', '城关镇幸福路', '', "
            "'[\"2026110200001\", \"2026110200002\"]', 2, 'open', '2026-11-02 10:00:00+00', "
            "'2026-11-02 10:00:00+00', '2026-11-02 10:00:00+00')"))
    await upgrade(blank)
    async with session_factory(blank)() as session:
        [old] = list(await session.scalars(select(HotspotWarning)))
        assert (old.matter_code, old.name) == (None, None)
        assert (await members_of(session, [old]))[old.id] == ["2026110200001", "2026110200002"]
        for table in ("ticket_matters", "job_cursors"):
            assert (await session.execute(text(f"SELECT count(*) FROM {table}"))).scalar() == 0
