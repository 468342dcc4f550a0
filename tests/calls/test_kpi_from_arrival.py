"""KPIs counted from the citizen's arrival (issue 15): citizens who hang up in the voice entry are offered
and abandoned there; answers within 15 s are counted from arrival and from queue join, both labelled; the
outcomes add up to what was offered, per queue and for the centre."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.calls.kpi import call_kpis
from gateway.calls.models import CallRecord
from gateway.db import session_factory
from tests.calls.conftest import Env
from tests.fakes import scenarios

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
PARTS = ("answered", "abandoned_in_entry", "abandoned_in_queue", "transferred_before_answer", "emergency",
         "self_service", "unanswered", "in_progress")


def at(seconds: float | None) -> datetime | None:
    return None if seconds is None else T0 + timedelta(seconds=seconds)


def call(call_id: str, arrived: float, *, queued: float | None = None, answered: float | None = None,
         ended: float | None = None, outcome: str | None = None, queue: str | None = None,
         direction: str = "inbound", abandoned: bool = False) -> CallRecord:
    hold = None if queued is None or (answered is None and ended is None) else round(
        (answered if answered is not None else ended or 0) - queued)
    return CallRecord(id=call_id, kind="citizen", direction=direction, state="ended" if outcome else "queued",
                      queue=queue if queue is not None else ("hotline" if queued is not None else None),
                      started_at=at(arrived), queued_at=at(queued), answered_at=at(answered), ended_at=at(ended),
                      hold_seconds=hold, abandoned=abandoned, outcome=outcome, transfers=[])


def calls() -> list[CallRecord]:
    """Fresh rows for each store: an ORM instance saved once is not inserted again."""
    return [
        call("a", 0, queued=6, answered=14, ended=60, outcome="answered"),  # 14 s from arrival, 8 s from join
        call("b", 10, queued=16, answered=35, ended=90, outcome="answered"),  # 25 s / 19 s: neither
        call("c", 20, queued=28, answered=40, ended=99, outcome="answered"),  # 20 s / 12 s: from join only
        call("d", 100, queued=105, answered=115, ended=150, outcome="answered"),  # exactly 15 s from arrival
        call("e", 200, queued=206, ended=230, outcome="abandoned", abandoned=True),
        call("f", 300, queued=305, ended=320, outcome="transferred"),  # one-key transfer out of the queue
        call("g", 400, ended=403, outcome="entry_abandoned"),  # hung up in the greeting
        call("h", 500, ended=505, outcome="entry_abandoned"),
        call("i", 600, ended=700, outcome="emergency"),  # key 9: the voice entry sent it to 110
        call("j", 650, ended=720, outcome="self_service"),  # a callback registered
        call("k", 800),  # still in the voice entry
        call("old", -3600, ended=-3590, outcome="entry_abandoned"),  # before the window
        call("out", 30, ended=90, outcome="answered", direction="outbound"),  # a callback we made
    ]


async def test_kpis_by_arrival_and_by_queue_join_are_exact_and_add_up(engine: AsyncEngine) -> None:
    sessions = session_factory(engine)
    async with sessions.begin() as session:
        session.add_all(calls())
    kpis = await call_kpis(sessions, since=T0, until=T0 + timedelta(hours=1))
    entry, hotline = kpis["queues"]
    assert (entry["queue"], hotline["queue"]) == (None, "hotline")

    assert (hotline["offered"], hotline["answered"]) == (6, 4)
    assert hotline["answered_within_target_of_arrival"] == 2  # a, d
    assert hotline["answered_within_target_of_queue_join"] == 3  # a, c, d
    assert (hotline["abandoned_in_queue"], hotline["transferred_before_answer"]) == (1, 1)
    assert (hotline["entry_seconds_p50"], hotline["entry_seconds_p95"]) == (6, 8)

    assert (entry["offered"], entry["abandoned_in_entry"], entry["emergency"], entry["self_service"],
            entry["in_progress"]) == (5, 2, 1, 1, 1)
    assert (entry["entry_seconds_p50"], entry["entry_seconds_p95"]) == (3, 5)

    centre = kpis["centre"]
    assert centre["offered"] == 11
    for row in (entry, hotline, centre):
        assert row["offered"] == sum(row[part] for part in PARTS), row
    assert centre["abandoned"] == 3
    # 接通率 and the 15 s service level over the 9 citizens who asked for a person (not 110, not self-service).
    assert centre["connection_rate"] == round(4 / 9, 4)
    assert centre["service_level"] == round(2 / 9, 4)
    assert centre["service_level_of_queue_join"] == round(3 / 9, 4)
    assert centre["entry_seconds_p95"] == 8


def entry_hangup(call_id: str, **chan_vars: str) -> list[dict[str, Any]]:
    """A citizen answered by the PBX who hangs up in the voice entry (no queue ever joined)."""
    name = scenarios.citizen_channel(call_id)
    citizen = scenarios.channel("", name, call_id, call_id, caller="13800138000", context="hotline-entry")
    hangup = scenarios.hangup(name, call_id, call_id)
    if chan_vars:
        hangup["ChanVariable"] = [f"{k}={v}" for k, v in chan_vars.items()]
    return [{"Event": "Newchannel", **citizen},
            {"Event": "UserEvent", **citizen, "UserEvent": "HotlineCall", "Kind": "citizen"}, hangup]


async def test_citizens_who_hang_up_in_the_voice_entry_are_in_the_kpis(env: Env) -> None:
    await env.fake.emit(*entry_hangup("1795349000.10"), *entry_hangup("1795349000.20"),
                        *entry_hangup("1795349000.30", HOTLINE_ENTRY_OUTCOME="callback"))
    await env.settle()
    kpis = await (await env.client.get("/api/v1/calls/kpi")).json()
    [entry] = kpis["queues"]
    assert (entry["queue"], entry["offered"], entry["abandoned_in_entry"], entry["self_service"]) == (None, 3, 2, 1)
    assert (kpis["centre"]["offered"], kpis["centre"]["abandoned"]) == (3, 2)
    stored = await (await env.client.get("/api/v1/calls/1795349000.10")).json()
    assert (stored["outcome"], stored["queue"]) == ("entry_abandoned", None)
