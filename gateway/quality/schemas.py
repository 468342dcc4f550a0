"""Request and answer models of the QA routes (/api/v1/qa/…)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class QaQueueQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reviewed: Literal["0", "1", "true", "false"] | None = Field(
        default=None, description="1: flagged calls whose findings all have a verdict")
    limit: int = Field(default=50, ge=1, le=500)


class QaTrendQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    days: int = Field(default=56, ge=1, le=366)
    agent_id: str | None = Field(default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class QaReview(BaseModel):
    model_config = ConfigDict(extra="forbid")

    verdict: Literal["confirmed", "dismissed"]
    note: str | None = Field(default=None, max_length=500)


class QaOpen(BaseModel):
    model_config = ConfigDict(extra="allow")


class QaQueue(QaOpen):
    items: list[dict[str, Any]]


class QaInspectionOut(QaOpen):
    call_id: str
    score: float
    items: list[dict[str, Any]]


class QaFindingOut(QaOpen):
    id: int
    check: str
    verdict: str | None


class QaTrend(QaOpen):
    items: list[dict[str, Any]]
