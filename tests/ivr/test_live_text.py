"""The description's text comes from the live ASR's bus events (no model needed: the events are sent here)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer

from gateway.app import create_app
from gateway.bus import EventBus
from gateway.config import load_settings
from gateway.policies import load_pack
from ivr.flow import load_flow
from ivr.live_text import LiveDescriptionText
from ivr.ports import CallRef
from ivr.prompts import fixed_ids
from ivr.service import DESCRIPTION_TEXT, IVR, required_prompts
from tests.ivr.conftest import touch_prompts
from tests.ivr.fake_asterisk import FakeCaller

CALL = CallRef(linkedid="1763600000.7", uniqueid="1763600000.7", caller="+8613800138000")


async def test_the_finals_of_the_call_are_its_text() -> None:
    bus = EventBus()
    live = LiveDescriptionText(bus)
    bus.publish("transcript.partial", call_key=CALL.linkedid, text="我家")
    bus.publish("transcript.final", call_key=CALL.linkedid, text="我家楼下", start=0.0, end=1.2)
    bus.publish("transcript.final", call_key=CALL.linkedid, text="着火了", start=1.5, end=2.4)
    bus.publish("transcript.final", call_key="1763600000.8", text="路灯坏了", start=0.0, end=1.0)
    assert await live.text(CALL, None, wait=1.5) == "我家楼下 着火了"


async def test_a_call_found_by_its_audiosocket_uuid() -> None:
    bus = EventBus()
    live = LiveDescriptionText(bus)
    speech_id = "0b6a3c52-8d1e-4c43-9d55-0f2d8f7c1a10"  # HOTLINE_SPEECH_ID set by the dialplan
    bus.publish("transcript.final", call_key=speech_id, text="有人持刀抢劫")
    call = CallRef(CALL.linkedid, CALL.uniqueid, CALL.caller, speech_id=speech_id)
    assert await live.text(call, None, wait=1.0) == "有人持刀抢劫"


async def test_an_utterance_still_being_decoded_is_waited_for() -> None:
    bus = EventBus()
    live = LiveDescriptionText(bus)
    bus.publish("transcript.partial", call_key=CALL.linkedid, text="我爸突然")
    asking = asyncio.create_task(live.text(CALL, None, wait=5.0))
    await asyncio.sleep(0.05)
    assert not asking.done()
    bus.publish("transcript.final", call_key=CALL.linkedid, text="我爸突然晕倒了")
    assert await asyncio.wait_for(asking, 1.0) == "我爸突然晕倒了"


async def test_the_wait_is_bounded_and_what_was_heard_is_returned() -> None:
    bus = EventBus()
    live = LiveDescriptionText(bus)
    bus.publish("transcript.final", call_key=CALL.linkedid, text="车祸了")
    bus.publish("transcript.partial", call_key=CALL.linkedid, text="有人")
    assert await live.text(CALL, None, wait=0.05) == "车祸了"


async def test_a_call_the_asr_never_heard_answers_none_without_waiting() -> None:
    bus = EventBus()
    live = LiveDescriptionText(bus)
    bus.publish("transcript.partial", call_key="someone-else", text="喂")
    async with asyncio.timeout(0.1):
        assert await live.text(CALL, None, wait=10.0) is None


async def test_an_ended_stream_answers_at_once_and_old_calls_are_forgotten() -> None:
    bus = EventBus()
    live = LiveDescriptionText(bus, max_calls=2)
    bus.publish("transcript.partial", call_key=CALL.linkedid, text="我")
    bus.publish("transcript.ended", call_key=CALL.linkedid, text="")
    async with asyncio.timeout(0.1):
        assert await live.text(CALL, None, wait=10.0) is None
    bus.publish("transcript.final", call_key="a", text="一")
    bus.publish("transcript.final", call_key="b", text="二")
    assert await live.text(CALL, None, wait=0) is None  # the oldest call made room
    live.close()
    bus.publish("transcript.final", call_key="c", text="三")
    assert await live.text(CallRef("c", None, None), None, wait=0) is None


async def test_with_live_asr_configured_the_gateway_routes_on_what_the_caller_said(tmp_path: Path) -> None:
    sounds = tmp_path / "sounds"
    touch_prompts(sounds, required_prompts(load_flow(), load_pack("national")) | fixed_ids())
    # A model directory is configured (live ASR on); it never loads, which does not matter here: the
    # speech service's events are published by the test.
    settings = load_settings(data_dir=tmp_path, ivr={"enabled": True, "port": 0, "sounds_dir": sounds},
                             speech={"model_path": tmp_path / "no-model", "port": 0})
    app = create_app(settings)
    assert isinstance(app[DESCRIPTION_TEXT], LiveDescriptionText)
    async with TestClient(TestServer(app)):
        from gateway.appkeys import BUS

        app[BUS].publish("transcript.final", call_key="1763600000.1", text="我家楼下着火了")
        caller = await FakeCaller().call(app[IVR].server.port)
        assert caller.goto == ("hotline-transfer", "119", "1")


def test_without_live_asr_no_text_provider_is_registered(tmp_path: Path) -> None:
    app = create_app(load_settings(data_dir=tmp_path, ivr={"enabled": True, "port": 0}))
    assert DESCRIPTION_TEXT not in app
