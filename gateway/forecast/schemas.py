"""Request and answer models of GET /api/v1/forecast."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ForecastQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    days: int | None = Field(default=None, ge=1, le=56, description="horizon in days (default: the setting)")


class Forecast(BaseModel):
    model_config = ConfigDict(extra="allow")

    method: str = Field(description="seasonal_naive or calendar_glm: the one with the lower back-test WAPE")
    backtest: list[dict[str, Any]]
    days: list[dict[str, Any]]
    tomorrow: dict[str, Any]
    roster: dict[str, Any]
