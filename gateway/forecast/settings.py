"""Settings of the forecast and staffing capability (``[forecast]`` in the settings file)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field, model_validator


class DeclaredEvent(BaseModel):
    """A day (or days) the deployment expects different volumes on: 供暖季开始, a policy announcement."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=64)
    start: date
    end: date | None = None  # inclusive; None: one day
    # Expected volume as a multiple of an ordinary day of its kind. None: learnt from past events in the
    # history (days already declared); 1.0 when there are none.
    factor: float | None = Field(default=None, gt=0, le=20)

    @model_validator(mode="after")
    def _ordered(self) -> DeclaredEvent:
        if self.end is not None and self.end < self.start:
            raise ValueError("end is before start")
        return self


class ShiftPattern(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=32)
    hours: float = Field(gt=0, le=12)  # a multiple of half an hour
    # First half hours a shift of this pattern may start at ("HH:MM"); None: any half hour.
    starts: list[str] | None = None


class ForecastSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    horizon_days: int = Field(default=14, ge=1, le=56)
    history_weeks: int = Field(default=52, ge=4, le=260)  # call history the model learns from
    holdout_weeks: int = Field(default=4, ge=1, le=12)  # the back-test's held-out tail
    # The standard: a person within 15 s; 接通率 ≥ 95 % leaves at most 5 % abandoned.
    service_level: float = Field(default=0.85, gt=0, lt=1)  # share answered within answer_target_seconds
    abandon_rate: float = Field(default=0.05, gt=0, lt=1)
    shrinkage: float = Field(default=0.30, ge=0, lt=0.9)  # breaks, training, meetings: rostered ≠ on phones
    # Used while the history has too few calls to measure them (fewer than min_samples).
    default_aht_seconds: float = Field(default=300, gt=0)
    default_patience_seconds: float = Field(default=90, gt=0)
    min_samples: int = Field(default=50, ge=1)
    events: list[DeclaredEvent] = []
    shifts: list[ShiftPattern] = [ShiftPattern(name="8h", hours=8), ShiftPattern(name="4h", hours=4)]
