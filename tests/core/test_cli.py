"""The ``hotline`` command as a newcomer meets it: help, version, --config anywhere, units and seats."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.cli import _leaves, build_parser, main


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HOTLINE_DATA_DIR", str(tmp_path / "var"))
    return tmp_path / "var"


def test_no_arguments_prints_the_help_and_succeeds(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: hotline") and "units" in out and "agents" in out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out.startswith("hotline ")


def test_every_option_and_positional_says_what_it_is_for() -> None:
    parser = build_parser()
    silent = [f"{leaf.prog}: {action.dest}" for leaf in _leaves(parser) for action in leaf._actions
              if not action.help and not isinstance(action, argparse._HelpAction)]
    assert silent == []


def test_every_command_takes_config_after_its_name_and_before_it(tmp_path: Path) -> None:
    parser = build_parser()
    config = tmp_path / "hotline.toml"
    for leaf in _leaves(parser):
        assert any("--config" in a.option_strings for a in leaf._actions), leaf.prog
    assert parser.parse_args(["units", "list", "--config", str(config)]).config == config
    assert parser.parse_args(["--config", str(config), "units", "list"]).config == config
    assert parser.parse_args(["tokens", "list"]).config is None


def test_units_are_added_listed_and_disabled(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["units", "add", "water", "--name", "市水务局", "--region", "西峰区"]) == 0
    assert main(["units", "add", "zone-a", "--name", "A街道", "--parent", "water"]) == 0
    assert main(["units", "disable", "water"]) == 0
    capsys.readouterr()
    assert main(["units", "list"]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()]
    assert [(r[0], r[1]) for r in rows] == [("water", "disabled"), ("zone-a", "active")]


@pytest.mark.parametrize(("argv", "says"), [
    (["units", "add", "Water Bureau", "--name", "x"], "a unit id is"),
    (["units", "add", "zone", "--name", "x", "--parent", "nowhere"], "no unit nowhere"),
    (["units", "disable", "nowhere"], "no unit nowhere"),
    (["agents", "add", "10\r\n01"], "an agent id is"),
    (["agents", "add", "1001", "--interface", "PJSIP/1001&PJSIP/1002"], "not a phone interface"),
    (["agents", "add", "1001", "--queue", "hotline,evil"], "not a queue name"),
])
def test_bad_input_is_refused_in_plain_words(argv: list[str], says: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert says in err and "Traceback" not in err


def test_agents_are_registered_with_the_configured_queues(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["agents", "add", "1001", "--name", "张三"]) == 0
    assert main(["agents", "add", "1002", "--interface", "PJSIP/seat2", "--queue", "hotline-en"]) == 0
    capsys.readouterr()
    assert main(["agents", "list"]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()]
    assert rows == [["1001", "logged_out", "PJSIP/1001", "hotline", "张三"],
                    ["1002", "logged_out", "PJSIP/seat2", "hotline-en"]]


def test_commands_do_not_print_schema_migrations(data_dir: Path) -> None:
    # A real process: pytest's own log capture would hide what a terminal shows.
    done = subprocess.run([sys.executable, "-m", "gateway.cli", "units", "list"], capture_output=True, text=True,
                          env={**os.environ, "HOTLINE_DATA_DIR": str(data_dir)}, timeout=120)
    assert done.returncode == 0, done.stderr
    assert (done.stdout, done.stderr) == ("", "")


def test_sms_reply_needs_the_inbound_secret(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sms", "reply", "13800138000", "1"]) == 2
    assert "HOTLINE_SMS__INBOUND__SECRET" in capsys.readouterr().err
