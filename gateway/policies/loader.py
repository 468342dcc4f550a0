"""Load and validate policy packs (packs/<id>.toml).

Inheritance from ``national``: a top-level section a pack leaves out is taken whole from national.toml;
inside ``[handling]`` the categories a pack leaves out are taken one by one. A section a pack does write
replaces national's completely — so a pack never silently mixes half of a local rule with half of a
default one, and every value in effect is visible in one of the two files.
"""

from __future__ import annotations

import os
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from gateway.errors import ConfigError
from gateway.policies.model import PolicyPack

PACKS_DIR = Path(__file__).resolve().parent / "packs"
BASE_PACK = "national"
# Sections merged key by key instead of replaced whole.
_MERGED_SECTIONS = frozenset({"handling"})


def packs_dir() -> Path:
    """Where packs live: ``HOTLINE_POLICY_DIR`` (an operator's own packs) or the packs shipped here."""
    return Path(os.environ.get("HOTLINE_POLICY_DIR") or PACKS_DIR)


def available_packs(directory: Path | None = None) -> list[str]:
    return sorted(p.stem for p in (directory or packs_dir()).glob("*.toml"))


def load_pack(pack_id: str, directory: Path | None = None) -> PolicyPack:
    """Load, merge over national and validate one pack. Raises ConfigError naming the file and field."""
    return _load(pack_id, (directory or packs_dir()).resolve())


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"policy pack {path}: not valid TOML: {exc}",
                          error_id="invalid-policy-pack") from exc


@lru_cache(maxsize=32)
def _load(pack_id: str, directory: Path) -> PolicyPack:
    path = directory / f"{pack_id}.toml"
    if not path.is_file():
        known = ", ".join(available_packs(directory)) or "none"
        raise ConfigError(f"unknown policy pack {pack_id!r}; known: {known}", error_id="unknown-policy")
    data = _read(path)
    if data.get("id") != pack_id:
        raise ConfigError(f"policy pack {path}: field 'id' must be {pack_id!r} (the file name), "
                          f"not {data.get('id')!r}", error_id="invalid-policy-pack")
    where = str(path)
    if pack_id != BASE_PACK:
        base_path = directory / f"{BASE_PACK}.toml"
        if not base_path.is_file():
            raise ConfigError(f"policy pack {path}: needs {base_path} to inherit from",
                              error_id="invalid-policy-pack")
        data = merge_over(_read(base_path), data)
        where = f"{path} (merged over {base_path.name})"
    try:
        return PolicyPack.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "(top level)"
        more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise ConfigError(f"policy pack {where}: field '{field}': {first['msg']}{more}",
                          error_id="invalid-policy-pack") from exc


def merge_over(base: dict[str, Any], pack: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in pack.items():
        if key in _MERGED_SECTIONS and isinstance(value, dict) and isinstance(base.get(key), dict):
            merged[key] = {**base[key], **value}
        else:
            merged[key] = value
    # national's own notes describe national; a pack's notes describe the pack.
    merged["notes"] = pack.get("notes", [])
    return merged
