"""``hotline federation schema``: the wire format as JSON Schema, for third-party platforms."""

from __future__ import annotations

import argparse
import json

from gateway.federation.wire import json_schemas


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("federation", help="platform levels: the wire format")
    actions = p.add_subparsers(dest="federation_action", required=True)
    actions.add_parser("schema", help="print the JSON Schema of the federation messages")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    print(json.dumps(json_schemas(), ensure_ascii=False, indent=2))
    return 0
