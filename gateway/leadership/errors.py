from __future__ import annotations

from gateway.errors import Unavailable

RETRY_AFTER = 1  # seconds: a standby takes over within a few of them


class NotLeader(Unavailable):
    """This instance is the standby (or was just deposed) and no leader could take the request."""

    default_error_id = "not-leader"
