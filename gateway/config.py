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

    def resolved_secret(self) -> str | None:
        return _read_secret(self.secret, self.secret_file)


class IvrSettings(BaseModel):
    """The FastAGI voice entry (ivr/). The dialplan's HOTLINE_AGI global names host:port."""

    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = Field(default=4573, ge=0, le=65535)
    flow_file: Path | None = None  # None → ivr/flows/default.toml
    sounds_dir: Path | None = None  # prompt files (<id>.wav); None → <data_dir>/ivr/sounds/zh
    asterisk_sounds_dir: str | None = None  # the same directory as Asterisk sees it, if different


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="HOTLINE_", env_nested_delimiter="__", extra="forbid", validate_default=True
    )

    data_dir: Path = Path("var")
    policy: str = "national"
    # Operator-edited working-calendar overrides (local holidays, a year chinesecalendar lacks).
    calendar_overrides: Path | None = None
    timezone: str = "Asia/Shanghai"
    log_level: str = "INFO"
    db: DatabaseSettings = DatabaseSettings()
    http: HttpSettings = HttpSettings()
    ami: AmiSettings = AmiSettings()
    ivr: IvrSettings = IvrSettings()

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
