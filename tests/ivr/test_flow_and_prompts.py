"""The flow file, the prompt catalogue, the start-up checks and the wiring into the gateway."""

from __future__ import annotations

import shutil
import subprocess
import sys
import wave
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from gateway.app import create_app
from gateway.config import load_settings
from gateway.errors import ConfigError
from gateway.policies import load_pack
from ivr.flow import Flow, load_flow
from ivr.prompts import PromptCatalogue, fixed_ids, load_texts, render_all, to_pinyin
from ivr.service import required_prompts
from tests.api.support import operator_headers
from tests.ivr.conftest import touch_prompts
from tests.ivr.fake_asterisk import FakeCaller

HAS_TTS = shutil.which("espeak-ng") is not None and shutil.which("sox") is not None


def test_the_shipped_flow_and_texts_cover_every_prompt_of_every_pack() -> None:
    texts = load_texts()
    flow = load_flow()
    for pack in ("national", "qingyang", "hanbin", "chuxiong", "liaoyang"):
        assert required_prompts(flow, load_pack(pack)) <= set(texts), pack


def test_packs_supply_emergency_words_for_all_four_services() -> None:
    words = load_pack("qingyang").emergency_linkage.words
    assert set(words) == {"110", "119", "120", "122"}
    assert "着火" in words["119"] and "车祸" in words["122"]


@pytest.mark.parametrize("change, message", [
    ({"entry": {"progress_key": "0"}}, "key '0' is used by both"),
    ({"emergency": {"keys": {"1": "119"}}}, "key '1' is used by both"),
    ({"languages": [{"key": "x", "queue": "hotline-en"}]}, "not a phone key"),
    ({"emergency": {"keys": {"9": "911"}}}, "emergency.keys.9"),
    ({"entry": {"descibe_seconds": 5}}, "entry.descibe_seconds"),
])
def test_a_bad_flow_file_is_refused_with_the_field(tmp_path: Path, change: dict, message: str) -> None:
    import tomllib

    data = tomllib.loads((Path(__file__).parents[2] / "ivr/flows/default.toml").read_text())
    for section, values in change.items():
        if isinstance(values, dict):
            data.setdefault(section, {}).update(values)
        else:
            data[section] = values
    path = tmp_path / "flow.toml"
    path.write_text(_toml(data))
    with pytest.raises(ConfigError, match=message.replace("'", ".")):
        load_flow(path)


def _toml(data: dict) -> str:
    lines: list[str] = []
    tables = []
    for key, value in data.items():
        if isinstance(value, dict):
            tables.append((key, value))
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            for item in value:
                lines.append(f"[[{key}]]")
                lines += [f"{k} = {_value(v)}" for k, v in item.items()]
        else:
            lines.append(f"{key} = {_value(value)}")
    for name, table in tables:
        lines.append(f"[{name}]")
        lines += [f"{k} = {_value(v)}" for k, v in table.items()]
    return "\n".join(lines) + "\n"


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, dict):
        return "{ " + ", ".join(f'"{k}" = {_value(v)}' for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    return str(value)


def test_a_missing_prompt_file_fails_start_up_with_its_id(tmp_path: Path) -> None:
    ids = required_prompts(Flow(), load_pack("national"))
    catalogue = touch_prompts(tmp_path, ids - {"callback_registered"})
    with pytest.raises(ConfigError, match="callback_registered") as caught:
        catalogue.require(ids)
    assert caught.value.details["missing"] == ["callback_registered"]


def test_recorded_files_in_other_formats_count() -> None:
    catalogue = PromptCatalogue(Path("/nonexistent"), asterisk_dir="/usr/share/asterisk/sounds/hotline/zh/")
    assert catalogue.sound("greeting") == "/usr/share/asterisk/sounds/hotline/zh/greeting"


def test_pinyin_for_the_mandarin_voice_reads_digits_one_by_one() -> None:
    assert to_pinyin("欢迎致电12345。") == "huan1 ying2 zhi4 dian4 yi1 er4 san1 si4 wu3."
    assert to_pinyin("您好，再见") == "nin2 hao3, zai4 jian4"


@pytest.mark.skipif(not HAS_TTS, reason="espeak-ng and sox are needed to render prompts (./dev installs them)")
def test_prompts_render_to_8khz_mono_wav_and_recorded_files_are_kept(tmp_path: Path) -> None:
    (tmp_path / "digit_1.wav").write_bytes(b"a recording")
    done = render_all({"digit_1": "幺", "greeting": "您好，欢迎致电12345。"}, tmp_path)
    assert done == ["greeting"]
    with wave.open(str(tmp_path / "greeting.wav")) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (8000, 1, 2)
        assert w.getnframes() > 8000  # more than a second of speech
    assert (tmp_path / "digit_1.wav").read_bytes() == b"a recording"


@pytest.mark.skipif(not HAS_TTS, reason="espeak-ng and sox are needed to render prompts")
@pytest.mark.slow
def test_the_cli_renders_then_checks_every_prompt(tmp_path: Path) -> None:
    def hotline(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "gateway", *args], capture_output=True, text=True,
                              cwd=Path(__file__).parents[2], env={"PATH": "/usr/bin:/bin"})

    missing = hotline("ivr", "prompts", "check", "--dir", str(tmp_path))
    assert missing.returncode == 2 and "greeting" in missing.stderr
    rendered = hotline("ivr", "prompts", "render", "--dir", str(tmp_path))
    assert rendered.returncode == 0, rendered.stderr
    assert len(list(tmp_path.glob("*.wav"))) == len(load_texts())
    assert hotline("ivr", "prompts", "check", "--dir", str(tmp_path)).returncode == 0


async def test_the_gateway_serves_the_voice_entry_and_reports_it_ready(tmp_path: Path) -> None:
    sounds = tmp_path / "sounds"
    touch_prompts(sounds, required_prompts(load_flow(), load_pack("national")) | fixed_ids())
    settings = load_settings(data_dir=tmp_path, ivr={"enabled": True, "port": 0, "sounds_dir": sounds})
    app = create_app(settings)
    async with TestClient(TestServer(app)) as client:
        ready = await (await client.get("/readyz", headers=await operator_headers(app))).json()
        assert ready["checks"]["ivr"] == "ok"
        from ivr.service import IVR

        caller = await FakeCaller().call(app[IVR].server.port)
        assert caller.variables["HOTLINE_QUEUE"] == "hotline"


def test_the_gateway_refuses_to_start_without_its_prompts(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, ivr={"enabled": True, "port": 0, "sounds_dir": tmp_path / "none"})
    with pytest.raises(ConfigError, match="greeting"):
        create_app(settings)
