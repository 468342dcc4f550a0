"""Settings of quality inspection (``[quality]`` in the settings file)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class QualitySettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    # The deployment's rules (greeting/closing phrases, forbidden words, thresholds, weights); None: the
    # shipped gateway/quality/data/rules.toml.
    rules_file: Path | None = None
    batch: int = Field(default=20, ge=1, le=500)  # calls inspected per sweep
