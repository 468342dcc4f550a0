"""Refuse to run a PBX with the placeholder secrets asterisk_conf/site/ ships (``change-me-…``).

The site files are the only per-centre values (asterisk_conf/README.md, "Deploying"); they ship with
placeholders so that a copy-and-start deployment fails loudly here instead of exposing SIP seats and the
AMI user with a password printed in a public repository. Used by ``hotline serve`` at start-up (over
``calls.asterisk_conf_dir`` when set, and the gateway's own AMI secret always) and by ``hotline pbx check``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from gateway.config import Settings
from gateway.errors import ConfigError

PLACEHOLDER = "change-me"
# Keys of Asterisk config files that hold a secret (pjsip auth, manager users, registrations).
SECRET_KEYS = frozenset({"password", "secret", "md5_cred"})
_SECTION = re.compile(r"\[([^\]]+)\]")


@dataclass(frozen=True, slots=True)
class DefaultSecret:
    file: str  # relative to the configuration directory: site/pjsip.conf
    section: str
    key: str

    def __str__(self) -> str:
        return f"{self.file} [{self.section}] {self.key}"


def default_secrets(conf_dir: Path) -> list[DefaultSecret]:
    """Every secret in ``<conf_dir>/site/*.conf`` left empty or at a ``change-me`` placeholder."""
    site = conf_dir / "site"
    if not site.is_dir():
        raise ConfigError(f"{site} is not a directory: point at the Asterisk configuration holding site/")
    found: list[DefaultSecret] = []
    for path in sorted(site.glob("*.conf")):
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise ConfigError(f"cannot read {path} to check its secrets: {exc.strerror}") from exc
        section = ""
        for raw in text.splitlines():
            line = raw.split(";", 1)[0].strip()
            if header := _SECTION.match(line):
                section = header.group(1)
                continue
            key, sep, value = line.partition("=")
            value = value.removeprefix(">").strip()  # "key => value" is the same as "key = value"
            if sep and key.strip().lower() in SECRET_KEYS and (not value or value.lower().startswith(PLACEHOLDER)):
                found.append(DefaultSecret(f"site/{path.name}", section, key.strip()))
    return found


def deployment_problems(settings: Settings) -> list[str]:
    """What must change before the gateway may start, one line each (empty when all is well)."""
    problems = []
    if settings.ami.enabled:
        secret = settings.ami.resolved_secret() or ""
        if secret.lower().startswith(PLACEHOLDER):
            problems.append("the gateway's AMI secret (ami.secret / ami.secret_file) is a placeholder")
    if settings.calls.asterisk_conf_dir is not None:
        problems += [f"{settings.calls.asterisk_conf_dir / s.file} [{s.section}] {s.key} is a placeholder or empty"
                     for s in default_secrets(settings.calls.asterisk_conf_dir)]
    return problems


def check_deployment(settings: Settings) -> None:
    problems = deployment_problems(settings)
    if problems:
        raise ConfigError(
            "default secrets are still in place; change them before starting: " + "; ".join(problems),
            error_id="default-secrets",
        )
