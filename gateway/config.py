"""Settings: typed defaults → TOML file (``--config``) → ``HOTLINE_*`` environment variables.

Nested keys use a double underscore in the environment: ``HOTLINE_DB__URL``, ``HOTLINE_HTTP__PORT``.
Secrets (passwords, AMI secret, signing keys) are refused in the TOML file: they come from the
environment or from a file named by a ``*_file`` setting, so a config file can be shared or committed.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, SecretStr, ValidationError
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from gateway.errors import ConfigError

SECRET_KEYS = frozenset({"secret", "password", "signing_key", "token"})


class DatabaseSettings(BaseModel):
    # None → SQLite file ``<data_dir>/hotline.sqlite3`` (the embedded default).
    url: str | None = None
    echo: bool = False
    pool_size: int = 10


class HttpSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = Field(default=8345, ge=1, le=65535)
    max_body_bytes: int = 1 << 20


class AmiSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = Field(default=5038, ge=1, le=65535)
    username: str = "gateway"
    secret: SecretStr | None = None
    secret_file: Path | None = None
    action_timeout: float = Field(default=5.0, gt=0)
    ping_interval: float = Field(default=5.0, gt=0)
    reconnect_delay: float = Field(default=1.0, gt=0)
    enabled: bool = True
    reconnect_max_delay: float = Field(default=10.0, gt=0)

    def resolved_secret(self) -> str | None:
        return _read_secret(self.secret, self.secret_file)


class ExpertGroup(BaseModel):
    """An expert seat group (专家座席): dialled in the ``hotline-expert`` context."""

    label: str
    number: str = Field(pattern=r"^[0-9*#+]+$")


class CallSettings(BaseModel):
    """Names shared with asterisk_conf/ (see gateway/calls/README.md)."""

    queues: list[str] = ["hotline"]
    recording_dir: Path = Path("/var/spool/asterisk/monitor/hotline")
    wrapup_seconds: float = Field(default=30, ge=0)
    # 一键转接 targets: sub-centres (分中心 / 县区平台) and retained hotlines, dialled in hotline-transfer.
    transfer_targets: dict[str, str] = {"county-subcentre": "8001", "12315": "12315"}
    experts: dict[str, ExpertGroup] = {
        "12333": ExpertGroup(label="人社 12333", number="12333"),
        "12348": ExpertGroup(label="法律 12348", number="12348"),
    }
    police_number: str = "110"
    answer_target_seconds: int = Field(default=15, gt=0)  # GB/T 33358: answer within 15 s


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="HOTLINE_", env_nested_delimiter="__", extra="forbid", validate_default=True
    )

    data_dir: Path = Path("var")
    policy: str = "national"
    timezone: str = "Asia/Shanghai"
    log_level: str = "INFO"
    db: DatabaseSettings = DatabaseSettings()
    http: HttpSettings = HttpSettings()
    ami: AmiSettings = AmiSettings()
    calls: CallSettings = CallSettings()

    @property
    def database_url(self) -> str:
        if self.db.url:
            return self.db.url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'hotline.sqlite3').resolve()}"


def _read_secret(value: SecretStr | None, path: Path | None) -> str | None:
    if value is not None:
        return value.get_secret_value()
    if path is not None:
        try:
            return path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"cannot read secret file {path}: {exc.strerror}") from exc
    return None


def _refuse_secrets(data: dict[str, Any], where: str, prefix: str = "") -> None:
    for key, value in data.items():
        if isinstance(value, dict):
            _refuse_secrets(value, where, f"{prefix}{key}.")
        elif key in SECRET_KEYS:
            env = "HOTLINE_" + (prefix + key).upper().replace(".", "__")
            raise ConfigError(
                f"{where}: '{prefix}{key}' is a secret; set it with {env} or a '{key}_file' path instead"
            )


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build the settings. ``overrides`` (command-line flags) win over everything else."""
    file_data: dict[str, Any] = {}
    if config_file is not None:
        try:
            file_data = tomllib.loads(Path(config_file).read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError(f"config file not found: {config_file}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {config_file} is not valid TOML: {exc}") from exc
        _refuse_secrets(file_data, str(config_file))

    class _Loaded(Settings):
        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            return (init_settings, env_settings, InitSettingsSource(settings_cls, file_data))

    try:
        loaded = _Loaded(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"invalid setting '{where}': {first['msg']}") from exc
    return loaded
