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
from gateway.forecast.settings import ForecastSettings
from gateway.quality.settings import QualitySettings

SECRET_KEYS = frozenset({"secret", "password", "signing_key", "token"})


class DatabaseSettings(BaseModel):
    # None → SQLite file ``<data_dir>/hotline.sqlite3`` (the embedded default).
    url: str | None = None
    echo: bool = False
    pool_size: int = 10
    search_path: str | None = None  # PostgreSQL schema, when the database is shared
    # SQLite: true runs the one writer connection's statements on the event loop (no thread hop each: faster
    # when the box is quiet). Off by default: while another process (the CLI, a backup) holds the write lock,
    # SQLite's busy handler would then sleep on the loop — AMI, consoles and every request frozen up to
    # busy_timeout. GET requests read from `sqlite_read_pool` read-only connections either way.
    sqlite_statements_on_loop: bool = False
    sqlite_read_pool: int = Field(default=4, ge=0)  # 0: GET requests read through the writer connection


class HttpSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = Field(default=8345, ge=1, le=65535)
    max_body_bytes: int = 1 << 20
    # Ticket listing/search budget per API token (token bucket): a sustained rate and a burst.
    listing_rate_per_second: float = Field(default=2.0, gt=0)
    listing_burst: int = Field(default=60, ge=1)
    # Access log (gateway/logs.py): every failed (4xx/5xx) and slow request, plus this fraction of the others
    # (1.0 = every request, the old behaviour; it halved /healthz throughput and costs every API request).
    access_log_sample: float = Field(default=0.0, ge=0.0, le=1.0)
    access_log_slow_ms: float = Field(default=500.0, ge=0.0)


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


class RetrySettings(BaseModel):
    """Backoff of a durable outbox (webhooks, SMS): exponential with jitter, then a dead letter."""

    max_attempts: int = Field(default=8, ge=1)
    initial_delay: float = Field(default=10.0, ge=0)  # seconds before the 2nd attempt; doubles after
    max_delay: float = Field(default=3600.0, ge=0)
    jitter: float = Field(default=5.0, ge=0)  # up to this many seconds added at random


class WebhookSettings(BaseModel):
    enabled: bool = True  # False: deliveries are still stored, no worker sends them
    # Signing secrets: env HOTLINE_WEBHOOK_SECRET__<ENDPOINT_ID> or a file named after the endpoint
    # here (None → <data_dir>/secrets/webhooks).
    secrets_dir: Path | None = None
    timeout: float = Field(default=10.0, gt=0)
    poll_interval: float = Field(default=2.0, gt=0)
    lease: float = Field(default=60.0, gt=0)  # a claimed row is another worker's again after this
    batch_size: int = Field(default=20, ge=1)
    retry: RetrySettings = RetrySettings()


class HttpSmsSettings(BaseModel):
    """A carrier or cloud SMS gateway reached with one templated HTTP request per message."""

    url: str | None = None  # may hold {to} {text} {message_id} (URL-encoded when rendered)
    method: str = "POST"
    body_format: str = Field(default="json", pattern="^(json|form|none)$")
    # String values may hold {to} {text} {message_id}; nested objects and lists are rendered too.
    body_template: dict[str, Any] = {"to": "{to}", "text": "{text}", "id": "{message_id}"}
    headers: dict[str, str] = {}
    auth_header: str | None = "Authorization"
    auth_prefix: str = "Bearer "
    token: SecretStr | None = None
    token_file: Path | None = None
    timeout: float = Field(default=10.0, gt=0)
    # A 2xx answer is a success unless success_field (dotted path in the JSON answer) differs from
    # success_value, e.g. Aliyun-style {"Code": "OK"}.
    success_field: str | None = None
    success_value: str | int | bool | None = None
    message_id_field: str | None = None  # dotted path of the provider's id for the message

    def resolved_token(self) -> str | None:
        return _read_secret(self.token, self.token_file)


class SmsInboundSettings(BaseModel):
    # Shared with the provider, which signs replies it forwards (same scheme as our webhooks).
    secret: SecretStr | None = None
    secret_file: Path | None = None
    signature_tolerance: int = Field(default=300, ge=1)

    def resolved_secret(self) -> str | None:
        return _read_secret(self.secret, self.secret_file)


class SmsSettings(BaseModel):
    provider: str = Field(default="outbox", pattern="^(outbox|http)$")
    enabled: bool = True  # False: messages are queued, no worker sends them
    default_region: str = "CN"  # for numbers written without +country
    http: HttpSmsSettings = HttpSmsSettings()
    inbound: SmsInboundSettings = SmsInboundSettings()
    poll_interval: float = Field(default=2.0, gt=0)
    lease: float = Field(default=60.0, gt=0)
    batch_size: int = Field(default=20, ge=1)
    retry: RetrySettings = RetrySettings(max_attempts=5, initial_delay=30.0)
class SpeechSettings(BaseModel):
    # Live ASR is on only when a model is configured (gateway/speech/README.md).
    model_path: Path | None = None
    model_sample_rate: int | None = None  # refuse a model whose mfcc.conf rate differs (None: any)
    host: str = "127.0.0.1"  # AudioSocket listener (Asterisk res_audiosocket connects here)
    port: int = Field(default=9092, ge=0, le=65535)
    max_streams: int = Field(default=2, ge=1)  # concurrent live recognizers; one core each at most
    buffer_seconds: float = Field(default=2.0, gt=0)  # per-call audio buffer before drop-oldest
    stall_timeout: float = Field(default=10.0, gt=0)  # no frame this long → the stream is ended
    responsibility_list: Path | None = None  # 职责清单 TOML; None → the sample in gateway/speech/data
class IvrSettings(BaseModel):
    """The FastAGI voice entry (ivr/). The dialplan's HOTLINE_AGI global names host:port."""

    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = Field(default=4573, ge=0, le=65535)
    flow_file: Path | None = None  # None → ivr/flows/default.toml
    sounds_dir: Path | None = None  # prompt files (<id>.wav); None → <data_dir>/ivr/sounds/zh
    asterisk_sounds_dir: str | None = None  # the same directory as Asterisk sees it, if different
class ExpertGroup(BaseModel):
    """An expert seat group (专家座席): dialled in the ``hotline-expert`` context."""

    label: str
    number: str = Field(pattern=r"^[0-9*#+]+$")


class CallSettings(BaseModel):
    """Names shared with asterisk_conf/ (see gateway/calls/README.md)."""

    queues: list[str] = ["hotline"]
    # Where the dialplan records (site/extensions.conf HOTLINE_RECORDING_DIR); the gateway takes each
    # recording's path from the channel (MIXMONITOR_FILENAME), this is the directory's documented home.
    recording_dir: Path = Path("/var/spool/asterisk/monitor/hotline")
    # The deployed Asterisk configuration (holding site/), if the gateway may read it: start-up is refused
    # while a site secret is still a change-me placeholder (gateway/calls/site_check.py).
    asterisk_conf_dir: Path | None = None
    wrapup_seconds: float = Field(default=30, ge=0)
    # 一键转接 targets: sub-centres (分中心 / 县区平台) and retained hotlines, dialled in hotline-transfer.
    transfer_targets: dict[str, str] = {"county-subcentre": "8001", "12315": "12315"}
    experts: dict[str, ExpertGroup] = {
        "12333": ExpertGroup(label="人社 12333", number="12333"),
        "12348": ExpertGroup(label="法律 12348", number="12348"),
    }
    police_number: str = "110"
    answer_target_seconds: int = Field(default=15, gt=0)  # GB/T 33358: answer within 15 s


class FederationSettings(BaseModel):
    """This platform's place among the 12345 platforms (gateway/federation/README.md)."""

    platform_id: str = Field(default="local", pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")
    level: str = Field(default="city", pattern="^(province|city|county|district)$")
    parent_url: str | None = None  # base URL of the parent platform's gateway; None: top level
    parent_id: str | None = None  # the parent's platform_id
    parent_token: SecretStr | None = None  # the peer token the parent issued to us
    parent_token_file: Path | None = None
    # Tokens we present to child platforms: env HOTLINE_FEDERATION_TOKEN__<CHILD_ID> or a file named
    # after the child here (None → <data_dir>/secrets/federation).
    secrets_dir: Path | None = None
    enabled: bool = True  # False: events are queued, no worker sends them
    timeout: float = Field(default=10.0, gt=0)
    poll_interval: float = Field(default=2.0, gt=0)
    lease: float = Field(default=60.0, gt=0)
    batch_size: int = Field(default=20, ge=1)
    retry: RetrySettings = RetrySettings(max_attempts=1000, initial_delay=2.0, max_delay=300.0)
    # 一键转接 targets (names in calls.transfer_targets) that are federated platforms → their platform id
    # (our parent_id or a child's id): a call transferred there hands its ticket over with it.
    transfer_platforms: dict[str, str] = {}
    # How long a handed-over ticket may wait for its call to be matched by the caller's number alone.
    transfer_match_minutes: float = Field(default=30.0, gt=0)

    def resolved_parent_token(self) -> str | None:
        return _read_secret(self.parent_token, self.parent_token_file)


class ChannelSettings(BaseModel):
    """Signed intake from the web portal, WeChat, mailbox, app, national platform, leader boards."""

    # Per-channel HMAC secrets: env HOTLINE_CHANNEL_SECRET__<KIND> or a file named after the kind here
    # (None → <data_dir>/secrets/channels).
    secrets_dir: Path | None = None
    signature_tolerance: int = Field(default=300, ge=1)
    # Channels whose citizens get the reviewed reply back through the channel adapter's webhook.
    reply_channels: list[str] = ["web", "wechat", "mail", "app", "national_platform", "leader_board"]


class AnalysisSettings(BaseModel):
    """Hot issues (热点) and periodic reports (分析研判)."""

    hotspot_window_minutes: float = Field(default=60.0, gt=0)
    hotspot_threshold: int = Field(default=5, ge=2)
    hotspot_similarity: float = Field(default=75.0, ge=0, le=100)  # unused since hot issues are matters in places
    hotspot_interval_seconds: float = Field(default=3.0, gt=0)  # how often the worker reads new tickets
    reports_dir: Path | None = None  # scheduled reports are kept here (None → <data_dir>/reports)
    scheduled_periods: list[str] = ["week", "month", "quarter", "year"]


class ConsoleSettings(BaseModel):
    """Console events between instances sharing one PostgreSQL (gateway/consoles/relay.py)."""

    relay: bool = True  # on PostgreSQL; SQLite means one instance and no relay
    relay_poll_interval: float = Field(default=5.0, gt=0)  # also read without a NOTIFY (a dropped listener)
    relay_keep_minutes: float = Field(default=60.0, gt=0)  # rows older than this are pruned


class LeadershipSettings(BaseModel):
    """Active/standby instances per Asterisk on one PostgreSQL (gateway/leadership/README.md)."""

    enabled: bool | None = None  # None: on with PostgreSQL, off with SQLite (one instance only)
    scope: str | None = None  # what is led; None → "ami:<ami.host>:<ami.port>" (one leader per Asterisk)
    advertise_url: str | None = None  # how peers reach this instance's API; None → http://<http.host>:<port>
    lease_seconds: float = Field(default=3.0, gt=0)  # a dead leader's lease lapses after this
    renew_interval: float = Field(default=1.0, gt=0)  # the leader renews, a standby tries, this often
    forward_timeout: float = Field(default=15.0, gt=0)  # a standby waits this long for the leader's answer


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
    timer_interval: float = Field(default=30.0, gt=0)  # seconds between clock-driven sweeps (督办, surveys …)
    db: DatabaseSettings = DatabaseSettings()
    http: HttpSettings = HttpSettings()
    ami: AmiSettings = AmiSettings()
    webhooks: WebhookSettings = WebhookSettings()
    sms: SmsSettings = SmsSettings()
    speech: SpeechSettings = SpeechSettings()
    ivr: IvrSettings = IvrSettings()
    calls: CallSettings = CallSettings()
    federation: FederationSettings = FederationSettings()
    channels: ChannelSettings = ChannelSettings()
    analysis: AnalysisSettings = AnalysisSettings()
    consoles: ConsoleSettings = ConsoleSettings()
    leadership: LeadershipSettings = LeadershipSettings()
    forecast: ForecastSettings = ForecastSettings()
    quality: QualitySettings = QualitySettings()

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
