"""Calls are persisted from the model's summaries; per-queue KPIs are computed from the stored calls
(on SQLite, and on PostgreSQL when HOTLINE_TEST_PG_URL is set)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.calls.kpi import queue_kpis
from gateway.calls.model import CallModel
from gateway.calls.models import CallRecord
from gateway.calls.recorder import CallRecorder
from gateway.db import session_factory
from tests.fakes import scenarios
from tests.fakes.fake_ami import capture_frames, parse_frames

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


async def record(engine: AsyncEngine, events: list[dict[str, Any]]) -> CallRecorder:
    clock = iter(T0 + timedelta(seconds=i) for i in range(100_000))
    model = CallModel(lambda: next(clock))
    recorder = CallRecorder(session_factory(engine))
    task = asyncio.create_task(recorder.run())
    try:
        for event in events:
            for kind, data in model.apply(event):
                if kind in ("call.offered", "call.connected", "call.ended", "call.transferred"):
                    recorder.save(data)
        await recorder.drain()
    finally:
        task.cancel()
    return recorder


def capture(name: str) -> list[dict[str, Any]]:
    return [parse_frames(f)[0] for f in capture_frames(name)]


async def test_calls_from_the_captures_are_stored_with_their_times(engine: AsyncEngine) -> None:
    await record(engine, capture("basic_call.ami") + capture("agent_answers_queue_call.ami"))
    async with session_factory(engine)() as session:
        abandoned = await session.get(CallRecord, "1795345125.0")
        answered = await session.get(CallRecord, "1795345161.1")
    assert abandoned is not None and answered is not None
    assert (abandoned.outcome, abandoned.abandoned, abandoned.hold_seconds) == ("abandoned", True, 7)
    assert answered.outcome == "answered"
    assert (answered.agent_interface, answered.talk_seconds) == ("PJSIP/1001", 18)
    assert answered.ended_at is not None and answered.ended_at.tzinfo is not None
    assert answered.queue == "hotline" and answered.ticket_id is None


async def test_kpis_per_queue_answered_within_15_s_abandoned_and_connection_rate(engine: AsyncEngine) -> None:
    events: list[dict[str, Any]] = []
    holds = [3, 10, 15, 16, 40]  # two answered later than the 15-second target
    for i, hold in enumerate(holds):
        call_id = f"1795347000.{i * 10}"
        events += scenarios.answered_call(call_id, hold=hold, agent="1001")
        events += scenarios.agent_completes(call_id, talk=60 + i)
    for i in range(3):  # three callers give up in the queue
        call_id = f"1795347100.{i * 10}"
        events += scenarios.queued_call(call_id)
        events.append({"Event": "QueueCallerAbandon", **scenarios.channel(
            "", scenarios.citizen_channel(call_id), call_id, call_id), "Queue": "hotline", "HoldTime": "20"})
        events.append(scenarios.hangup(scenarios.citizen_channel(call_id), call_id, call_id))
    events += scenarios.queued_call("1795347200.0", queue="vip")
    await record(engine, events)

    sessions = session_factory(engine)
    rows = await queue_kpis(sessions, since=T0, until=T0 + timedelta(hours=24))
    by_queue = {row["queue"]: row for row in rows}
    hotline = by_queue["hotline"]
    assert (hotline["offered"], hotline["answered"], hotline["abandoned"]) == (8, 5, 3)
    assert hotline["answered_within_target"] == hotline["answered_within_target_of_queue_join"] == 3
    assert hotline["connection_rate"] == round(5 / 8, 4)
    assert hotline["service_level_of_queue_join"] == round(3 / 8, 4)
    assert hotline["avg_hold_seconds"] == round(sum(holds) / 5, 1)
    assert hotline["max_hold_seconds"] == 40
    assert hotline["avg_abandon_wait_seconds"] == 20
    assert hotline["avg_talk_seconds"] == 62
    assert by_queue["vip"]["offered"] == 1 and by_queue["vip"]["connection_rate"] == 0
    assert await queue_kpis(sessions, since=T0 + timedelta(days=1), until=T0 + timedelta(days=2)) == []
    only_vip = await queue_kpis(sessions, since=T0, until=T0 + timedelta(hours=1), queue="vip")
    assert [row["queue"] for row in only_vip] == ["vip"]


async def test_a_linked_ticket_survives_later_updates_of_the_call(engine: AsyncEngine) -> None:
    call_id = "1795348000.0"
    await record(engine, scenarios.answered_call(call_id))
    sessions = session_factory(engine)
    async with sessions.begin() as session:
        row = await session.get(CallRecord, call_id)
        assert row is not None
        row.ticket_id = "T-20261122-0001"
    await record(engine, scenarios.agent_completes(call_id))  # a fresh model adopts the call and ends it
    async with sessions() as session:
        row = await session.get(CallRecord, call_id)
    assert row is not None and row.ticket_id == "T-20261122-0001" and row.ended_at is not None


class _Outage:
    """A session factory whose first ``failures`` transactions cannot reach the database."""

    def __init__(self, engine: AsyncEngine, failures: int) -> None:
        self.real, self.failures = session_factory(engine), failures

    def begin(self) -> Any:
        if self.failures > 0:
            self.failures -= 1
            raise OperationalError("BEGIN", None, ConnectionRefusedError("the database is down"))
        return self.real.begin()


async def test_a_call_that_ends_during_a_database_outage_is_stored_once_the_database_is_back(
    engine: AsyncEngine,
) -> None:
    call_id = "1795349000.10"
    model = CallModel()
    recorder = CallRecorder(_Outage(engine, failures=2))  # type: ignore[arg-type]
    task = asyncio.create_task(recorder.run())
    try:
        for event in [*scenarios.answered_call(call_id), *scenarios.agent_completes(call_id)]:
            for kind, data in model.apply(event):
                if kind in ("call.offered", "call.connected", "call.ended"):
                    recorder.save(data)
        async with asyncio.timeout(30):
            await recorder.drain()
    finally:
        task.cancel()
    assert recorder.healthy
    async with session_factory(engine)() as session:
        row = await session.get(CallRecord, call_id)
    assert row is not None and (row.state, row.outcome) == ("ended", "answered")
    assert row.ended_at is not None
