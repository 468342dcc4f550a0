"""``hotline understanding train|draft|eval`` and ``hotline bench understanding``."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gateway.understanding.classifier import MODEL_FILE

if TYPE_CHECKING:
    from gateway.understanding.history import History
    from gateway.understanding.pipeline import Understander


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from gateway.cli import add_config_argument

    parser = sub.add_parser("understanding", help="citizen text → draft fields: train, draft, eval")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    train = verbs.add_parser("train", help="train the category/matter model from the shipped corpus")
    add_config_argument(train)
    train.add_argument("--corpus", type=Path, action="append", help="JSON lines {text, category, matter}")
    train.add_argument(
        "--from-tickets",
        action="store_true",
        help="add the ticket store's closed tickets (final category, matter and unit) to the corpus",
    )
    train.add_argument("--folds", type=int, default=0, help="also report a stratified k-fold cross-validation")
    train.set_defaults(func=train_command)
    draft = verbs.add_parser("draft", help="JSON lines {text} (or plain lines) → one draft per line")
    add_config_argument(draft)
    draft.add_argument("file", nargs="?", default="-", help="input file, - for stdin")
    draft.set_defaults(func=draft_command)
    ev = verbs.add_parser("eval", help="per-field accuracy on a labelled evaluation set")
    add_config_argument(ev)
    ev.add_argument("files", nargs="*", type=Path, help="JSON lines (default: tests/understanding/data/*eval.jsonl)")
    ev.set_defaults(func=eval_command)


def _understander(args: argparse.Namespace, *, retrain: bool = False) -> Understander:
    from gateway.config import load_settings
    from gateway.understanding.pipeline import Understander

    settings = load_settings(args.config)
    return Understander.load(data_dir=settings.data_dir, retrain=retrain, timezone=settings.timezone)


def train_command(args: argparse.Namespace) -> int:
    from gateway.config import load_settings
    from gateway.understanding.classifier import read_corpus, train
    from gateway.understanding.ner import Tagger

    settings = load_settings(args.config)
    examples = read_corpus(args.corpus)
    sources = [str(p) for p in args.corpus] if args.corpus else ["shipped corpus"]
    if args.from_tickets:
        history = asyncio.run(_closed_tickets(args.config))
        examples += history.examples
        sources.append(f"{len(history.examples)} closed tickets ({history.skipped} without a matter left out)")
    model = train(examples, Tagger().tag, source=", ".join(sources), folds=args.folds)
    model.save(settings.data_dir / MODEL_FILE)
    print(json.dumps(model.meta, ensure_ascii=False, indent=2))
    return 0


async def _closed_tickets(config: Path | None) -> History:
    from gateway.db.cli import cli_database
    from gateway.understanding.history import ticket_examples
    from gateway.understanding.taxonomy import Taxonomy

    async with cli_database(config) as (_settings, sessions), sessions() as session:
        return await ticket_examples(session, Taxonomy.load().matters)


def draft_command(args: argparse.Namespace) -> int:
    understander = _understander(args)
    stream = sys.stdin if args.file == "-" else open(args.file, encoding="utf-8")
    with stream:
        for line in stream:
            line = line.strip()
            if not line:
                continue
            text = line
            if line.startswith("{"):
                try:
                    text = str(json.loads(line)["text"])
                except (json.JSONDecodeError, KeyError):
                    print(json.dumps({"error": 'a JSON line needs a "text"'}, ensure_ascii=False))
                    continue
            print(json.dumps(published(understander.understand(text)), ensure_ascii=False), flush=True)
    return 0


def published(draft: dict[str, Any]) -> dict[str, Any]:
    """The stable line ``understanding draft`` prints: ``category`` and ``urgency`` as plain values (the
    category's Chinese name), their confidence and evidence beside them in ``*_detail``; every other field
    as the pipeline gives it (each already carries its evidence)."""
    out = dict(draft)
    for name in ("category", "urgency"):
        field = draft[name]
        out[name] = field["value"]
        out[f"{name}_detail"] = {"confidence": field["confidence"], "evidence": field["evidence"]}
    return out


def eval_command(args: argparse.Namespace) -> int:
    from gateway.understanding.evaluate import DEFAULT_SETS, evaluate, read_cases, report

    understander = _understander(args)
    files = args.files or [p for p in DEFAULT_SETS if p.exists()]
    cases = read_cases(files)
    print(f"{len(cases)} cases from {', '.join(map(str, files))}; model {understander.model.meta}")
    print(report(evaluate(understander, cases), understander.taxonomy.categories))
    return 0
