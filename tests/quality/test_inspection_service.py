"""Every finished call with a post-call transcript is inspected by the sweep (SQLite and PostgreSQL):
findings with evidence stored with the call's score, a re-run changes nothing and keeps the supervisor's
verdicts, a newer transcript is inspected again; the queue, verdicts and per-agent trends; the routes
are the supervisors' only and the recording is served only from the recording directory."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.appkeys import ENGINE
from gateway.calls.models import CallRecord
from gateway.db import session_factory
from gateway.quality.checks import Mentions
from gateway.quality.keys import QUALITY
from gateway.quality.models import QaFinding, QaInspection
from gateway.quality.rules import Rules
from gateway.quality.service import QualityService
from gateway.speech.models import Transcript
from gateway.tickets.service import TicketService
from gateway.understanding.shared import UNDERSTANDING
from tests.api.support import running_gateway
from tests.tickets.support import AGENT, SH, FakeClock, complaint

STARTED = datetime(2026, 11, 16, 9, 0, tzinfo=SH)
RUDE = [{"speaker": "agent", "start": 1.0, "end": 3.0, "text": "喂，说吧。"},
        {"speaker": "citizen", "start": 4.0, "end": 9.0, "text": "幸福路23号路灯坏了三天了，我要投诉"},
        {"speaker": "agent", "start": 10.0, "end": 13.0, "text": "这个不归我们管"},
        {"speaker": "agent", "start": 14.0, "end": 16.0, "text": "感谢您的来电，再见。"}]
POLITE = [{"speaker": "agent", "start": 1.0, "end": 3.0, "text": "您好，12345热线，请讲。"}, *RUDE[1:2],
          {"speaker": "agent", "start": 10.0, "end": 13.0, "text": "好的，已经给您登记了"}, RUDE[3]]


def no_mentions(text: str, when: datetime) -> Mentions:
    return Mentions([], [], [])


async def add_call(engine: AsyncEngine, call_id: str, segments: list[dict[str, object]], *,
                   ticket: str | None = None, agent: str = "1001", recording: str | None = None,
                   answered: bool = True) -> None:
    async with session_factory(engine).begin() as session:
        await session.execute(insert(CallRecord), [{
            "id": call_id, "state": "ended", "started_at": STARTED, "agent_id": agent, "ticket_id": ticket,
            "answered_at": STARTED + timedelta(seconds=10) if answered else None, "recording": recording,
            "ended_at": STARTED + timedelta(minutes=3), "outcome": "answered" if answered else "abandoned",
            "abandoned": not answered, "kind": "citizen", "direction": "inbound", "caller": "", "caller_name": ""}])
        session.add(Transcript(call_key=call_id, source="post_call", segments=segments,
                               text=" ".join(str(s["text"]) for s in segments)))


def quality(engine: AsyncEngine, clock: FakeClock) -> QualityService:
    return QualityService(session_factory(engine), Rules.load(), no_mentions, clock)


async def rows(engine: AsyncEngine) -> list[tuple[object, ...]]:
    async with session_factory(engine)() as session:
        found = await session.execute(select(QaFinding.call_id, QaFinding.key, QaFinding.check, QaFinding.text,
                                             QaFinding.start_seconds, QaFinding.verdict).order_by(QaFinding.key))
        return [tuple(r) for r in found.all()]


async def test_the_sweep_inspects_each_finished_call_once_and_keeps_verdicts(
        engine: AsyncEngine, service: TicketService, clock: FakeClock) -> None:
    ticket = await service.create(complaint(category="咨询"), AGENT)
    await add_call(engine, "c-rude", RUDE, ticket=ticket.number)
    await add_call(engine, "c-polite", POLITE)
    await add_call(engine, "c-abandoned", POLITE, answered=False)  # nobody answered: nothing to inspect
    qa = quality(engine, clock)
    assert await qa.sweep() == 2
    assert await qa.sweep() == 0  # the durable trigger: inspected calls are not due again
    found = await rows(engine)
    assert [(r[0], r[2]) for r in found] == [
        ("c-rude", "category_lowered"), ("c-rude", "forbidden_words"), ("c-rude", "greeting")]
    assert ("c-rude", "forbidden_words@10.0", "forbidden_words", "这个不归我们管", 10.0, None) in found
    polite = await qa.call("c-polite")
    assert (polite["score"], polite["items"]) == (100.0, [])

    queue = await qa.queue()
    assert [c["call_id"] for c in queue] == ["c-rude"]
    finding = next(f for f in queue[0]["items"] if f["check"] == "forbidden_words")
    await qa.review(finding["id"], "confirmed", "reviewer", "录音核实")
    await qa.review(next(f["id"] for f in queue[0]["items"] if f["check"] == "greeting"), "dismissed",
                    "reviewer", None)

    again = await qa.inspect_call("c-rude")  # a re-run on the same material
    assert again["findings"] == 3
    after = await rows(engine)
    assert [r[:5] for r in after] == [r[:5] for r in found]
    assert {r[2]: r[5] for r in after} == {"category_lowered": None, "forbidden_words": "confirmed",
                                          "greeting": "dismissed"}

    trend = await qa.trend(days=30)
    week = {t["agent_id"]: t for t in trend}["1001"]
    assert (week["calls"], week["confirmed"], week["dismissed"]) == (2, 1, 1)
    assert week["mean_score"] == pytest.approx((100 + (await qa.call("c-rude"))["score"]) / 2, abs=0.05)


async def test_a_newer_transcript_is_inspected_again(engine: AsyncEngine, clock: FakeClock) -> None:
    await add_call(engine, "c1", RUDE)
    qa = quality(engine, clock)
    assert await qa.sweep() == 1
    async with session_factory(engine).begin() as session:
        session.add(Transcript(call_key="c1", source="post_call", segments=POLITE, text=""))
    assert await qa.sweep() == 1
    assert (await qa.call("c1"))["score"] == 100.0
    async with session_factory(engine)() as session:
        assert await session.scalar(select(func.count()).select_from(QaFinding)) == 0
        assert await session.scalar(select(func.count()).select_from(QaInspection)) == 1


async def test_the_qa_routes_are_for_supervisors_and_serve_recordings_from_their_directory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    recordings = tmp_path / "monitor"
    recordings.mkdir()
    wav = recordings / "c-rude.wav"
    wav.write_bytes(b"RIFF....WAVEfmt ")
    outside = tmp_path / "secret.wav"
    outside.write_bytes(b"no")
    monkeypatch.setenv("HOTLINE_CALLS__RECORDING_DIR", str(recordings))
    async with running_gateway(tmp_path, FakeClock(STARTED + timedelta(hours=1))) as api:
        engine = api.app[ENGINE]
        await add_call(engine, "c-rude", RUDE, recording=str(wav))
        await add_call(engine, "c-out", RUDE, recording=str(outside))  # a path outside the directory
        api.app[QUALITY].extract = no_mentions
        assert await api.app[QUALITY].sweep() == 2
        for who in ("agent", "water"):
            assert (await api.call(who, "GET", "/qa/queue")).status == 403
        queue = await api.ok("admin", "GET", "/qa/queue")
        assert {c["call_id"] for c in queue["items"]} == {"c-rude", "c-out"}
        finding = queue["items"][0]["items"][0]
        reviewed = await api.ok("admin", "POST", f"/qa/findings/{finding['id']}/review",
                                {"verdict": "dismissed", "note": "误报"})
        assert (reviewed["verdict"], reviewed["reviewer"]) == ("dismissed", "reviewer")
        assert (await api.call("admin", "POST", "/qa/findings/1/review", {"verdict": "maybe"})).status == 422
        missing = await api.call("admin", "POST", "/qa/findings/99999/review", {"verdict": "confirmed"})
        assert missing.status == 404
        audio = await api.call("admin", "GET", "/qa/calls/c-rude/recording")
        assert (audio.status, await audio.read()) == (200, wav.read_bytes())
        assert (await api.call("admin", "GET", "/qa/calls/c-out/recording")).status == 404
        assert (await api.call("agent", "GET", "/qa/calls/c-rude/recording")).status == 403
        assert (await api.ok("admin", "GET", "/qa/calls/c-rude"))["findings"] >= 2
        trend = await api.ok("admin", "GET", "/qa/trend", params={"agent_id": "1001"})
        assert [t["calls"] for t in trend["items"]] == [2]


async def test_the_gateways_inspector_reads_places_with_the_process_one_understanding_pipeline(
        tmp_path: Path) -> None:
    async with running_gateway(tmp_path, FakeClock(STARTED)) as api:
        shared = api.app[UNDERSTANDING]
        extract = api.app[QUALITY].extract
        assert extract is not None and shared.loaded is None
        mentions = await asyncio.to_thread(extract, "我家在城关镇东风社区楼下下水道堵了", STARTED)
        assert shared.loaded is not None  # no second LAC copy: the inspector asked the shared one
        assert mentions.places
