"""The deployment's history as understanding data: closed tickets → training rows (final category, matter
and unit after 退单 and re-dispatch); approved 退单 → the dispatch feedback."""

from __future__ import annotations

import argparse
import asyncio
import json
from datetime import datetime
from pathlib import Path

import joblib
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.db import create_engine, upgrade
from gateway.tickets.schemas import SYSTEM, SatisfactionLevel
from gateway.tickets.service import TicketService
from gateway.understanding.classifier import MODEL_FILE, Example
from gateway.understanding.cli import train_command
from gateway.understanding.history import approved_returns, by_township, ticket_examples
from gateway.understanding.taxonomy import Taxonomy
from tests.tickets.support import ADMIN, AGENT, ROADS, WATER, FakeClock, complaint, make_service

SH_START = datetime.fromisoformat("2026-11-16T09:00:00+08:00")
MATTERS = Taxonomy.load().matters


async def returned_then_closed(service: TicketService) -> str:
    """Dispatched to roads, 退单 approved, re-dispatched to water, answered and closed; 咨询 at intake,
    corrected to 投诉 later."""
    ticket = await service.create(
        complaint(
            category="咨询",
            content="【咨询】来电人反映：小区停水三天了没人管",
            location="递铺街道阳光花园",
            elements={"matter": "CJ03"},
        ),
        AGENT,
    )
    await service.accept(ticket.number, AGENT)
    await service.dispatch(ticket.number, AGENT, "roads")
    await service.request_return(ticket.number, ROADS, "供水不属本单位职责", "职责清单第3条")
    await service.review_return(ticket.number, ADMIN, approve=True, note="同意退单")
    await service.update(ticket.number, AGENT, category="投诉")
    await service.dispatch(ticket.number, AGENT, "water")
    await service.sign(ticket.number, WATER)
    await service.reply(ticket.number, WATER, "已抢修恢复供水", [])
    await service.review_reply(ticket.number, ADMIN, approve=True, note="答复规范")
    await service.record_survey(ticket.number, SYSTEM, SatisfactionLevel.SATISFIED)
    return ticket.number


async def closed_without_matter(service: TicketService) -> None:
    ticket = await service.create(complaint(content="路灯不亮"), AGENT)
    await service.resolve_on_call(ticket.number, AGENT, "已告知报修渠道")
    await service.record_survey(ticket.number, SYSTEM, SatisfactionLevel.SATISFIED)


async def test_closed_tickets_train_on_their_final_category_matter_and_unit(service: TicketService) -> None:
    number = await returned_then_closed(service)
    await closed_without_matter(service)
    await service.create(complaint(elements={"matter": "CJ01"}), AGENT)  # still open: not a training row
    async with service.sessions() as session:
        history = await ticket_examples(session, MATTERS)
    assert (await service.get(number)).status == "closed"
    [row] = history.examples
    assert row == Example("小区停水三天了没人管", "投诉", "CJ03", "市水务局")
    assert history.skipped == 1  # closed, but no matter code to learn from


async def test_an_approved_return_counts_against_that_unit_matter_and_place_only(service: TicketService) -> None:
    await returned_then_closed(service)
    rejected = await service.create(complaint(location="孝丰镇", elements={"matter": "CJ03"}), AGENT)
    await service.accept(rejected.number, AGENT)
    await service.dispatch(rejected.number, AGENT, "roads")
    await service.request_return(rejected.number, ROADS, "不属本单位职责", "职责清单")
    await service.review_return(rejected.number, ADMIN, approve=False, note="属于你单位")
    async with service.sessions() as session:
        counts = await approved_returns(session)
    assert dict(counts) == {("市住建局", "CJ03", "递铺街道阳光花园"): 1}
    township = {"递铺街道阳光花园": "递铺街道"}.get
    assert by_township(counts, township) == {("市住建局", "CJ03", "递铺街道"): 1}


def test_train_from_tickets_merges_the_corpus_and_writes_the_model_with_its_date_and_metrics(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HOTLINE_DATA_DIR", str(tmp_path))

    async def seed() -> None:
        engine: AsyncEngine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'hotline.sqlite3'}")
        await upgrade(engine)
        service = make_service(engine, FakeClock(SH_START), [])
        for unit_id, name in [("water", "市水务局"), ("roads", "市住建局")]:
            await service.add_unit(unit_id, name)
        await returned_then_closed(service)
        await engine.dispose()

    asyncio.run(seed())
    corpus = tmp_path / "corpus.jsonl"
    rows = [
        ("路灯坏了", "投诉", "CJ01"),
        ("请问水费怎么交", "咨询", "CJ03"),
        ("路灯不亮了好几天", "投诉", "CJ01"),
        ("停水了什么时候来水", "咨询", "CJ03"),
        ("灯杆倒了", "求助", "CJ01"),
        ("水管爆了快来人", "求助", "CJ03"),
    ]
    corpus.write_text(
        "\n".join(json.dumps({"text": t, "category": c, "matter": m}, ensure_ascii=False) for t, c, m in rows),
        encoding="utf-8",
    )
    args = argparse.Namespace(config=None, corpus=[corpus], from_tickets=True, folds=2)
    assert train_command(args) == 0
    meta = json.loads(capsys.readouterr().out)
    assert meta["examples"] == len(rows) + 1
    assert "1 closed tickets" in meta["source"]
    assert meta["trained_at"].startswith(str(datetime.now().year))
    assert {"category_holdout_accuracy", "category_cv2_accuracy", "matter_cv2_accuracy"} <= set(meta["metrics"])
    assert joblib.load(tmp_path / MODEL_FILE)["meta"] == meta


async def test_the_live_drafts_learn_each_approved_return_as_it_is_decided(engine: AsyncEngine) -> None:
    from types import SimpleNamespace

    from gateway.bus import EventBus
    from gateway.config import SpeechSettings
    from gateway.db import session_factory
    from gateway.policies import load_pack
    from gateway.speech.service import SpeechService
    from gateway.tickets.sla import SlaClock
    from gateway.workcalendar import WorkCalendar

    bus, sessions = EventBus(), session_factory(engine)
    pack = load_pack("qingyang")
    tickets = TicketService(sessions, SlaClock(pack, WorkCalendar.for_pack(pack)), bus, FakeClock(SH_START))
    for unit_id, name in [("water", "市水务局"), ("roads", "市住建局")]:
        await tickets.add_unit(unit_id, name)
    speech = SpeechService(SpeechSettings(model_path=Path("/nowhere")), bus, sessions)
    understander = SimpleNamespace(returns={}, township_of={"递铺街道阳光花园": "递铺街道"}.get)
    await speech._load_understanding(lambda: understander)  # type: ignore[arg-type,return-value]
    assert understander.returns == {}

    await returned_then_closed(tickets)  # publishes ticket.approve_return on the shared bus
    await asyncio.gather(*speech._tasks)  # the refresh the event started
    assert understander.returns == {("市住建局", "CJ03", "递铺街道"): 1}
