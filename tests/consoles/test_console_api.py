"""The console API: what the pages are configured with, ticket notes, the call desk, the wallboard and
the SLA board."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from gateway.consoles.keys import HUB
from tests.consoles.support import Gateway, running_gateway
from tests.fakes import scenarios
from tests.tickets.support import SH, FakeClock

NEW = {"category": "求助", "content": "人民路12号停水两天", "location": "人民路12号", "caller_number": "13800000001"}


async def test_config_gives_the_packs_non_acceptance_reasons_and_the_transfer_targets(gateway: Gateway) -> None:
    config = await gateway.ok("agent", "GET", "/console/config")
    assert config["actor"] == {"kind": "agent", "id": "a1001"}
    codes = [item["code"] for item in config["policy"]["non_acceptance"]]
    assert "emergency_channel" in codes and all(i["guidance"] for i in config["policy"]["non_acceptance"])
    assert {"code": "help", "zh": "求助"} in config["policy"]["categories"]
    assert {e["name"] for e in config["experts"]} == {"12333", "12348"}
    await gateway.ok("water", "GET", "/console/config", status=403)


async def test_notes_attach_to_the_ticket_in_order(gateway: Gateway) -> None:
    ticket = await gateway.ok("agent", "POST", "/tickets", NEW, status=201)
    number = ticket["number"]
    await gateway.ok("agent", "POST", f"/tickets/{number}/notes", {"text": "市民情绪激动，请先安抚"}, status=201)
    await gateway.ok("expert", "POST", f"/tickets/{number}/notes", {"text": "按条例第12条答复", "role": "expert"},
                     status=201)
    notes = (await gateway.ok("supervisor", "GET", f"/tickets/{number}/notes"))["items"]
    assert [(n["author"], n["role"], n["text"]) for n in notes] == [
        ("a1001", "agent", "市民情绪激动，请先安抚"), ("e2001", "expert", "按条例第12条答复")]
    await gateway.ok("agent", "POST", f"/tickets/{number}/notes", {"text": "x", "role": "supervisor"}, status=403)
    await gateway.ok("agent", "POST", "/tickets/nope/notes", {"text": "x"}, status=404)
    await gateway.ok("agent", "POST", f"/tickets/{number}/notes", {"text": ""}, status=422)


async def test_the_call_desk_has_the_transcript_and_draft_that_came_before_the_page(gateway: Gateway) -> None:
    call_id = "1795346000.20"
    await gateway.fake.emit(*scenarios.queued_call(call_id, citizen="13800000002"))
    await gateway.settle()
    gateway.publish("transcript.final", call_key=call_id, text="我家停水了", start=0.0, end=1.0, confidence=0.9)
    gateway.publish("transcript.partial", call_key=call_id, text="从昨天")
    gateway.publish("draft.updated", call_key=call_id, draft={"text": "我家停水了", "category": {"value": "求助"}})
    sheet = await gateway.ok("agent", "GET", f"/console/calls/{call_id}")
    assert sheet["call"]["caller"] == "13800000002" and sheet["call"]["state"] == "queued"
    assert [line["text"] for line in sheet["transcript"]] == ["我家停水了"] and sheet["partial"] == "从昨天"
    assert sheet["draft"]["category"]["value"] == "求助"
    await gateway.ok("agent", "GET", "/console/calls/1.1", status=404)


async def test_the_wallboard_counts_waiting_and_answered_calls(gateway: Gateway) -> None:
    await gateway.fake.emit(*scenarios.queued_call("1795346000.30", citizen="13800000003"))
    await gateway.fake.emit(*scenarios.answered_call("1795346000.40", citizen="13800000004", agent="1001", hold=4))
    await gateway.settle()
    board = await gateway.ok("agent", "GET", "/console/wallboard")
    assert board["waiting"] == 1 and board["waiting_calls"][0]["call_id"] == "1795346000.30"
    assert "caller" not in board["waiting_calls"][0]
    assert board["today"]["offered"] == 2 and board["today"]["answered_within_target"] == 1
    assert board["last_24h"]["connection_rate"] == 0.5
    on_call = next(a for a in board["agents"] if a["agent_id"] == "a1001")
    assert on_call["call"] == {"call_id": "1795346000.40", "state": "connected"}
    gateway.publish("hotspot.warning", call_keys=["a", "b", "c"], category="求助", place="人民路", unit="县自来水公司")
    assert (await gateway.ok("supervisor", "GET", "/console/wallboard"))["alerts"][0]["place"] == "人民路"


async def test_the_sla_board_shows_tickets_turning_yellow_then_red_by_unit(tmp_path: Path) -> None:
    clock = FakeClock(datetime(2026, 11, 16, 9, 0, tzinfo=SH))
    async with running_gateway(tmp_path, None, clock=clock) as gateway:
        number = (await gateway.ok("agent", "POST", "/tickets", NEW, status=201))["number"]
        await gateway.ok("agent", "POST", f"/tickets/{number}/accept", {})
        await gateway.ok("agent", "POST", f"/tickets/{number}/dispatch", {"lead_unit": "water"})
        assert (await gateway.ok("supervisor", "GET", "/console/sla-board"))["units"] == []
        await gateway.ok("agent", "GET", "/console/sla-board", status=403)
        due = (await gateway.ok("supervisor", "GET", f"/tickets/{number}"))["sla"]["due_at"]
        clock.now = datetime.fromisoformat(due) + timedelta(hours=1)
        [unit] = (await gateway.ok("supervisor", "GET", "/console/sla-board"))["units"]
        assert (unit["unit"], unit["name"], unit["red"]) == ("water", "县自来水公司", 1)
        assert unit["tickets"][0]["number"] == number and unit["tickets"][0]["level"] == "red"
        assert gateway.app[HUB].seq > 0  # the ticket events went through the hub


async def test_the_pages_are_told_the_telephone_and_transcription_states_in_chinese(gateway: Gateway,
                                                                                    tmp_path: Path) -> None:
    up = await gateway.ok("agent", "GET", "/console/systems")
    assert up["pbx"] == {"up": True, "zh": "电话系统已连接", "detail": None}
    assert not up["asr"]["up"] and "未配置语音识别模型" in up["asr"]["zh"]
    assert (await gateway.ok("agent", "GET", "/console/config"))["systems"] == up
    async with running_gateway(tmp_path / "nopbx", None) as without:
        down = await without.ok("agent", "GET", "/console/systems")
    assert not down["pbx"]["up"] and "通话操作不可用" in down["pbx"]["zh"]
