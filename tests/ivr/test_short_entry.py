"""The shipped voice entry honours the citizen's time (issue 15): one short greeting (recording notice,
emergency key) and straight on to the queue; a description is recorded only for a caller taking the
callback offered when the queue cannot answer soon. The development greeting fits its budget, a prompt
manifest states every prompt's duration, and start-up warns when a greeting is too long."""

from __future__ import annotations

import json
import logging
import wave
from pathlib import Path

import pytest

from ivr.flow import Flow, load_flow
from ivr.ports import QueueState
from ivr.prompts import (
    MANIFEST,
    SPEAKING_RATE,
    PromptCatalogue,
    greeting_over_budget,
    load_texts,
    render_all,
    tools_missing,
)
from tests.ivr.conftest import Ivr
from tests.ivr.fake_asterisk import FakeCaller

HAS_TTS = not tools_missing()


@pytest.fixture
def flow() -> Flow:
    return load_flow()  # the shipped flow, as a centre deploys it


def silence(path: Path, seconds: float) -> None:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(b"\0\0" * int(8000 * seconds))


async def test_silence_hears_only_the_greeting_then_the_queue(ivr: Ivr) -> None:
    caller = await FakeCaller().call(ivr.port)
    assert caller.prompts == ["greeting"]
    assert caller.variables["HOTLINE_QUEUE"] == "hotline"
    assert not any(c.startswith("RECORD FILE") for c in caller.commands)
    [session] = await ivr.sessions()
    assert (session.path, session.outcome, session.description_file) == (["greeting", "route", "to_agent"],
                                                                         "queue", None)


async def test_the_emergency_key_in_the_greeting_transfers_at_once(ivr: Ivr) -> None:
    caller = await FakeCaller(keys={"greeting": "9"}).call(ivr.port)
    assert caller.goto == ("hotline-transfer", "110", "1")


async def test_an_emergency_word_said_over_the_greeting_is_not_missed(ivr: Ivr) -> None:
    ivr.text.said = "我家楼下着火了"  # what the live ASR heard while the greeting played
    caller = await FakeCaller().call(ivr.port)
    assert caller.goto == ("hotline-transfer", "119", "1")


async def test_a_long_wait_offers_a_callback_with_a_recorded_description(ivr: Ivr) -> None:
    ivr.queue.now = QueueState(agents_logged_in=3, estimated_wait_seconds=900)
    caller = await FakeCaller(keys={"overflow_offer": "1", "callback_confirm_keys": "1"}).call(ivr.port)
    assert caller.prompts[:3] == ["greeting", "overflow_offer", "callback_confirm_number"]
    assert caller.prompts[-3:] == ["callback_confirm_keys", "callback_describe", "callback_registered"]
    assert any(c.startswith("RECORD FILE /var/spool/asterisk/monitor/hotline/ivr/1763600000.1-description wav")
               for c in caller.commands)
    [task] = await ivr.callbacks()
    [session] = await ivr.sessions()
    assert (task.reason, task.linkedid) == ("long-wait", session.linkedid)
    assert session.description_file == "/var/spool/asterisk/monitor/hotline/ivr/1763600000.1-description.wav"


async def test_a_caller_who_keys_nothing_at_the_offer_keeps_going_to_the_queue(ivr: Ivr) -> None:
    ivr.queue.now = QueueState(agents_logged_in=0, estimated_wait_seconds=0)
    caller = await FakeCaller().call(ivr.port)
    assert caller.prompts == ["greeting", "overflow_offer"]
    assert caller.variables["HOTLINE_QUEUE"] == "hotline"


def test_a_greeting_over_its_budget_is_named_and_one_within_it_is_not(tmp_path: Path) -> None:
    catalogue = PromptCatalogue(tmp_path)
    silence(tmp_path / "greeting.wav", 21)
    warning = greeting_over_budget(catalogue, "greeting", 6)
    assert warning is not None and "21.0 s" in warning and "6 s" in warning
    silence(tmp_path / "greeting.wav", 5.5)
    assert greeting_over_budget(catalogue, "greeting", 6) is None
    assert greeting_over_budget(catalogue, "absent", 6) is None  # no file to measure: nothing to say


async def test_start_up_warns_about_a_long_greeting(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from aiohttp.test_utils import TestClient, TestServer

    from gateway.app import create_app
    from gateway.config import load_settings
    from gateway.policies import load_pack
    from ivr.prompts import fixed_ids
    from ivr.service import required_prompts
    from tests.ivr.conftest import touch_prompts

    sounds = tmp_path / "sounds"
    touch_prompts(sounds, required_prompts(load_flow(), load_pack("national")) | fixed_ids())
    silence(sounds / "greeting.wav", 12)
    app = create_app(load_settings(data_dir=tmp_path, ivr={"enabled": True, "port": 0, "sounds_dir": sounds}))
    with caplog.at_level(logging.WARNING, logger="ivr.service"):
        async with TestClient(TestServer(app)):
            pass
    assert any("greeting" in r.message and "12.0 s" in r.message for r in caplog.records)


@pytest.mark.skipif(not HAS_TTS, reason="espeak-ng and sox are needed to render prompts (./dev installs them)")
def test_the_development_greeting_fits_the_budget_and_the_manifest_times_every_prompt(tmp_path: Path) -> None:
    texts = load_texts()
    wanted = {k: texts[k] for k in ("greeting", "overflow_offer", "digit_1")}
    render_all(wanted, tmp_path)
    manifest = json.loads((tmp_path / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["speaking_rate_wpm"] == SPEAKING_RATE
    assert set(manifest["prompts"]) == set(wanted)
    greeting = manifest["prompts"]["greeting"]
    assert 2 < greeting["seconds"] <= load_flow().entry.greeting_budget_seconds
    assert "录音" in greeting["text"] and "9" in greeting["text"]  # the recording notice, the emergency key
    assert greeting_over_budget(PromptCatalogue(tmp_path), "greeting", 6) is None


@pytest.mark.skipif(not HAS_TTS, reason="espeak-ng and sox are needed to render prompts (./dev installs them)")
def test_a_rendered_prompt_whose_text_changed_is_rendered_again_a_recording_is_kept(tmp_path: Path) -> None:
    render_all({"greeting": "您好。"}, tmp_path)
    short = (tmp_path / "greeting.wav").stat().st_size
    (tmp_path / "digit_1.wav").write_bytes(b"a recording")
    assert render_all({"greeting": "您好，这里是12345热线。", "digit_1": "幺"}, tmp_path) == ["greeting"]
    assert (tmp_path / "greeting.wav").stat().st_size > short
    assert (tmp_path / "digit_1.wav").read_bytes() == b"a recording"
