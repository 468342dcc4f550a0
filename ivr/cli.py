"""``hotline ivr prompts render|check``: development voices for the prompts, and the start-up check."""

from __future__ import annotations

import argparse
from pathlib import Path

from gateway.config import load_settings
from gateway.policies import load_pack
from ivr.flow import load_flow
from ivr.prompts import PromptCatalogue, load_texts, render_all
from ivr.service import required_prompts, sounds_dir


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from gateway.cli import add_config_argument

    ivr = sub.add_parser("ivr", help="the FastAGI voice entry")
    commands = ivr.add_subparsers(dest="ivr_command", required=True, metavar="COMMAND")
    prompts = commands.add_parser("prompts", help="prompt sound files").add_subparsers(
        dest="prompts_command", required=True, metavar="ACTION")
    render = prompts.add_parser("render", help="render prompt texts to 8 kHz WAV with espeak-ng (development)")
    check = prompts.add_parser("check", help="fail, naming the ids, if a prompt the flow uses has no file")
    for p in (render, check):
        add_config_argument(p)
        p.add_argument("--dir", type=Path, help="sounds directory (default: setting ivr.sounds_dir)")
    render.add_argument("--force", action="store_true", help="re-render files that already exist")
    render.set_defaults(func=run_render)
    check.set_defaults(func=run_check)


def _directory(args: argparse.Namespace) -> Path:
    settings = load_settings(args.config)
    return args.dir or sounds_dir(settings.ivr, settings.data_dir)


def run_render(args: argparse.Namespace) -> int:
    directory = _directory(args)
    texts = load_texts()
    done = render_all(texts, directory, force=args.force)
    print(f"rendered {len(done)} of {len(texts)} prompts into {directory}")
    return 0


def run_check(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    directory = args.dir or sounds_dir(settings.ivr, settings.data_dir)
    ids = required_prompts(load_flow(settings.ivr.flow_file), load_pack(settings.policy))
    PromptCatalogue(directory).require(ids)
    print(f"all {len(ids)} prompts present in {directory}")
    return 0
