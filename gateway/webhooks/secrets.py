"""Where the per-endpoint signing secrets live: never in TOML, never in the database.

The sender needs the secret itself (HMAC), so a hash in the database would not do, and a secret in the
database would travel into every backup and replica. So a secret comes from

1. the environment: ``HOTLINE_WEBHOOK_SECRET__<ENDPOINT_ID>`` (upper case, ``-`` → ``_``), or
2. a file named after the endpoint in the secrets directory (mode 0600), which the admin API can create
   with a fresh random secret and show once.

With several gateway instances, every instance needs the same secret: put the directory on shared
storage or provide the variables to each instance.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from pathlib import Path

from gateway.errors import Conflict, InvalidInput

ENV_PREFIX = "HOTLINE_WEBHOOK_SECRET__"
ENDPOINT_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def check_endpoint_id(endpoint_id: str) -> str:
    # The id names a file: a strict slug keeps it inside the secrets directory.
    if not ENDPOINT_ID.match(endpoint_id):
        raise InvalidInput(f"endpoint id {endpoint_id!r} must be a lower-case slug (a-z, 0-9, - and _)",
                           error_id="invalid-endpoint-id")
    return endpoint_id


class SecretStore:
    def __init__(self, directory: Path, environ: Mapping[str, str] = os.environ) -> None:
        self.directory = directory
        self.environ = environ

    @staticmethod
    def env_name(endpoint_id: str) -> str:
        return ENV_PREFIX + endpoint_id.upper().replace("-", "_")

    def get(self, endpoint_id: str) -> str | None:
        check_endpoint_id(endpoint_id)
        value = self.environ.get(self.env_name(endpoint_id))
        if value:
            return value
        try:
            # A few bytes from local disk; read each time so a rotated secret takes effect at once.
            return (self.directory / endpoint_id).read_text(encoding="utf-8").strip() or None
        except FileNotFoundError:
            return None

    def generate(self, endpoint_id: str) -> str:
        """Create a random secret file for a new endpoint; refuses to overwrite an existing one."""
        check_endpoint_id(endpoint_id)
        if self.get(endpoint_id) is not None:
            raise Conflict(f"endpoint {endpoint_id} already has a signing secret", error_id="webhook-secret-exists")
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        secret = secrets.token_urlsafe(32)
        fd = os.open(self.directory / endpoint_id, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(secret + "\n")
        return secret
