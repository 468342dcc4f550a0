"""One place that imports every capability's models, so Alembic and tests see all tables."""

from __future__ import annotations

import importlib

MODEL_MODULES: tuple[str, ...] = (
    "gateway.tickets.models",
    "gateway.auth.models",
    "gateway.http.idempotency",
    "gateway.surveys.models",
    "gateway.webhooks.models",
    "gateway.sms.models",
    "gateway.speech.models",
    "kb.models",
    "ivr.models",
    "gateway.calls.models",
    "gateway.federation.models",
    "gateway.channels.models",
    "gateway.reports.models",
    "gateway.consoles.models",
    "gateway.leadership.models",
    "gateway.jobs.models",
    "gateway.quality.models",
    "gateway.attachments.models",
)


def import_all_models() -> None:
    for name in MODEL_MODULES:
        importlib.import_module(name)
