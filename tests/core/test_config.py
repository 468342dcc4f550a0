"""Settings come from typed defaults, then the TOML file, then HOTLINE_* variables; secrets never from TOML."""

from pathlib import Path

import pytest

from gateway.config import load_settings
from gateway.errors import ConfigError


def test_defaults_put_data_under_var() -> None:
    settings = load_settings()
    assert settings.data_dir == Path("var")
    assert settings.database_url.startswith("sqlite+aiosqlite:///")
    assert settings.database_url.endswith("var/hotline.sqlite3")


def test_toml_overrides_defaults_and_env_overrides_toml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "hotline.toml"
    cfg.write_text('policy = "qingyang"\n[http]\nport = 9000\n[ami]\nhost = "10.0.0.5"\n', encoding="utf-8")
    monkeypatch.setenv("HOTLINE_AMI__HOST", "127.0.0.2")
    settings = load_settings(cfg)
    assert settings.policy == "qingyang"
    assert settings.http.port == 9000
    assert settings.ami.host == "127.0.0.2"


def test_secret_in_toml_is_refused_with_the_env_var_to_use(tmp_path: Path) -> None:
    cfg = tmp_path / "hotline.toml"
    cfg.write_text('[ami]\nsecret = "hunter2"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="HOTLINE_AMI__SECRET"):
        load_settings(cfg)


def test_secret_from_env_or_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret_file = tmp_path / "ami.secret"
    secret_file.write_text("from-file\n", encoding="utf-8")
    monkeypatch.setenv("HOTLINE_AMI__SECRET_FILE", str(secret_file))
    assert load_settings().ami.resolved_secret() == "from-file"
    monkeypatch.setenv("HOTLINE_AMI__SECRET", "from-env")
    assert load_settings().ami.resolved_secret() == "from-env"


@pytest.mark.parametrize(
    ("content", "message"),
    [("[http]\nport = 70000\n", "http.port"), ("nonsense = 1\n", "nonsense"), ("port = \n", "not valid TOML")],
)
def test_bad_config_names_the_problem(tmp_path: Path, content: str, message: str) -> None:
    cfg = tmp_path / "hotline.toml"
    cfg.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_settings(cfg)


def test_missing_config_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "absent.toml")
