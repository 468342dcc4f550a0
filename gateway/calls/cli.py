"""``hotline pbx check``: refuse a deployed Asterisk configuration that still has placeholder secrets."""

from __future__ import annotations

import argparse
from pathlib import Path

from gateway.calls.site_check import default_secrets


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("pbx", help="checks of the Asterisk configuration (asterisk_conf/)")
    actions = p.add_subparsers(dest="pbx_action", required=True)
    c = actions.add_parser("check", help="fail (exit 2) while any site/ secret is a change-me placeholder")
    c.add_argument("--conf-dir", type=Path, default=Path("/etc/asterisk"),
                   help="the deployed configuration holding site/ (default /etc/asterisk)")
    c.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    found = default_secrets(args.conf_dir)
    for secret in found:
        print(f"{args.conf_dir / secret.file}: [{secret.section}] {secret.key} is a placeholder or empty")
    if found:
        print(f"{len(found)} default secret(s) left: set them before starting Asterisk")
        return 2
    print(f"{args.conf_dir / 'site'}: no default secrets")
    return 0
