"""No PBX runs on the placeholder secrets asterisk_conf/site ships (issue 20, item 9): the shipped files are
refused key by key, a deployed copy with real secrets passes, and ``hotline serve`` / ``hotline pbx check``
refuse to go on while one is left, naming the file and the key."""

from __future__ import annotations

import re
import secrets
import shutil
from pathlib import Path

import pytest

from gateway.calls.site_check import DefaultSecret, check_deployment, default_secrets
from gateway.cli import main
from gateway.config import load_settings
from gateway.errors import ConfigError

CONF_DIR = Path(__file__).resolve().parents[2] / "asterisk_conf"
SEATS = ("1001", "1002", "1003", "1004", "2001", "3001", "3002")


def deployed(tmp_path: Path, keep: str | None = None) -> Path:
    """A copy of asterisk_conf/ with every placeholder replaced by a random secret, except ``keep``."""
    target = tmp_path / "etc-asterisk"
    shutil.copytree(CONF_DIR, target)
    for path in (target / "site").glob("*.conf"):
        text = path.read_text()
        text = re.sub(r"change-me-[\w-]+", lambda m: m[0] if m[0] == keep else secrets.token_hex(12), text)
        path.write_text(text)
    return target


def test_every_secret_the_repository_ships_is_refused() -> None:
    found = set(default_secrets(CONF_DIR))
    assert DefaultSecret("site/manager.conf", "site-manager-gateway", "secret") in found
    assert {DefaultSecret("site/pjsip.conf", f"site-auth-{seat}", "password") for seat in SEATS} <= found
    assert len(found) == len(SEATS) + 1


def test_a_deployment_with_its_own_secrets_passes(tmp_path: Path) -> None:
    assert default_secrets(deployed(tmp_path)) == []


def test_one_secret_left_is_named_by_file_section_and_key(tmp_path: Path) -> None:
    assert default_secrets(deployed(tmp_path, keep="change-me-2001")) == [
        DefaultSecret("site/pjsip.conf", "site-auth-2001", "password")
    ]


def test_an_empty_password_counts_as_a_default(tmp_path: Path) -> None:
    conf = deployed(tmp_path)
    pjsip = conf / "site" / "pjsip.conf"
    pjsip.write_text(re.sub(r"(\[site-auth-1003\]\(!\)\npassword =).*", r"\1 ", pjsip.read_text()))
    assert [str(s) for s in default_secrets(conf)] == ["site/pjsip.conf [site-auth-1003] password"]


def test_pbx_check_exits_2_naming_what_is_left(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    conf = deployed(tmp_path, keep="change-me-ami")
    assert main(["pbx", "check", "--conf-dir", str(conf)]) == 2
    out = capsys.readouterr().out
    assert f"{conf}/site/manager.conf: [site-manager-gateway] secret" in out
    assert "pjsip.conf" not in out
    assert main(["pbx", "check", "--conf-dir", str(deployed(tmp_path / "ok"))]) == 0


def test_the_gateway_refuses_to_start_on_default_secrets(tmp_path: Path) -> None:
    shipped = load_settings(data_dir=tmp_path, ami={"secret": "s3cret-from-the-vault"},
                            calls={"asterisk_conf_dir": str(CONF_DIR)})
    with pytest.raises(ConfigError, match=r"site/pjsip.conf \[site-auth-1001\] password") as refused:
        check_deployment(shipped)
    assert refused.value.error_id == "default-secrets"
    placeholder_ami = load_settings(data_dir=tmp_path, ami={"secret": "change-me-ami"})
    with pytest.raises(ConfigError, match="AMI secret"):
        check_deployment(placeholder_ami)
    check_deployment(load_settings(data_dir=tmp_path, ami={"secret": "s3cret-from-the-vault"},
                                   calls={"asterisk_conf_dir": str(deployed(tmp_path))}))


def test_hotline_serve_stops_before_serving(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "hotline.toml"
    config.write_text(f'data_dir = "{tmp_path}"\n[calls]\nasterisk_conf_dir = "{CONF_DIR}"\n')
    monkeypatch.setenv("HOTLINE_AMI__SECRET", "s3cret-from-the-vault")
    assert main(["serve", "--config", str(config), "--port", "1"]) == 2
    assert "site/manager.conf [site-manager-gateway] secret" in capsys.readouterr().err
