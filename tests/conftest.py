"""Shared fixtures: a migrated database on SQLite always, and on PostgreSQL when HOTLINE_TEST_PG_URL is set."""

from __future__ import annotations

import os
import threading
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.bus import DomainEvent
from gateway.db import create_engine, upgrade
from gateway.db.scratch import scratch_schema, search_path_args
from gateway.tickets.service import TicketService
from tests.tickets.support import SH, FakeClock, make_service

PG_URL = os.environ.get("HOTLINE_TEST_PG_URL")


_PIPELINE: list[Any] = []
_PIPELINE_LOCK = threading.Lock()


def shared_understander(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The understanding pipeline, loaded (and its model trained) once per test session: every gateway a
    test starts shares it, as one process shares it in production (gateway/understanding/shared.py)."""
    with _PIPELINE_LOCK:
        if not _PIPELINE:
            from gateway.understanding.pipeline import Understander

            _PIPELINE.append(Understander.load(data_dir=tmp_path_factory.mktemp("understanding")))
        return _PIPELINE[0]


@pytest.fixture(autouse=True)
def _one_understanding_pipeline(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    monkeypatch.setattr("gateway.understanding.shared.load_understander",
                        lambda data_dir, timezone: shared_understander(tmp_path_factory))


@pytest.fixture
def understanding(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from gateway.understanding.shared import SharedUnderstanding

    return SharedUnderstanding(lambda: shared_understander(tmp_path_factory))


@pytest.fixture(autouse=True)
def _no_ivr_listener(monkeypatch: pytest.MonkeyPatch) -> None:
    """Apps built by tests do not open the FastAGI port unless a test asks (tests/ivr enable it)."""
    monkeypatch.setenv("HOTLINE_IVR__ENABLED", "false")


def _engines() -> list[object]:
    return ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=_engines())
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """A freshly migrated database: a SQLite file, or a throwaway schema on the test PostgreSQL."""
    if request.param == "sqlite":
        eng = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'test.sqlite3'}")
        await upgrade(eng)
        yield eng
        await eng.dispose()
        return
    if not PG_URL:
        pytest.skip("HOTLINE_TEST_PG_URL is not set (./dev test starts a private PostgreSQL and sets it)")
    async with scratch_schema(PG_URL, "t") as schema:
        # Each test gets its own schema, so tests never see each other's rows.
        eng = create_engine(PG_URL, connect_args=search_path_args(schema))
        await upgrade(eng)
        yield eng
        await eng.dispose()


# ---- the ticket core on a real store, shared by every capability built on it ----------------------------

@pytest.fixture
def clock() -> FakeClock:
    # Monday 2026-11-16, 09:00 Shanghai: a plain working day.
    return FakeClock(datetime(2026, 11, 16, 9, 0, tzinfo=SH))


@pytest.fixture
def events() -> list[DomainEvent]:
    return []


@pytest.fixture
async def service(engine: AsyncEngine, clock: FakeClock, events: list[DomainEvent]) -> TicketService:
    svc = make_service(engine, clock, events)
    for unit_id, name in [("water", "市水务局"), ("roads", "市住建局"), ("power", "国网供电公司")]:
        await svc.add_unit(unit_id, name)
    return svc
