"""Typed errors of the forecast capability."""

from __future__ import annotations

from gateway.errors import Conflict


class NotEnoughHistory(Conflict):
    default_error_id = "forecast-needs-history"
