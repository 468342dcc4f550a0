"""The categories and the two-level matter taxonomy (诉求事项), loaded from TOML a deployment may replace."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway.errors import ConfigError

DATA = Path(__file__).with_name("data")


@dataclass(frozen=True, slots=True)
class Matter:
    code: str
    name: str
    domain: str  # level 1, e.g. 城乡建设

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "name": self.name, "domain": self.domain}


@dataclass(frozen=True, slots=True)
class Taxonomy:
    categories: tuple[str, ...]
    matters: dict[str, Matter]

    @classmethod
    def load(cls, path: Path | None = None) -> Taxonomy:
        path = path or DATA / "taxonomy.toml"
        data = read_toml(path)
        matters = {
            m["code"]: Matter(m["code"], m["name"], d["name"]) for d in data.get("domain", []) for m in d["matters"]
        }
        if not matters or not data.get("categories"):
            raise ConfigError(f"{path}: a taxonomy needs `categories` and [[domain]] tables with matters")
        return cls(tuple(data["categories"]), matters)


def read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"file not found: {path}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from exc
