"""``hotline tokens create|list|revoke``: manage API tokens on the configured database."""

from __future__ import annotations

import argparse
import asyncio
import sys

from gateway.auth.tokens import KINDS, SCOPES, TokenStore
from gateway.db.cli import cli_database


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from gateway.cli import add_config_argument

    p = sub.add_parser("tokens", help="create, list and revoke API tokens")
    add_config_argument(p)
    actions = p.add_subparsers(dest="tokens_action", required=True)
    c = actions.add_parser("create", help="create a token (printed once)")
    c.add_argument("--kind", choices=KINDS, required=True, help="who holds the token: agent, unit, admin or peer")
    c.add_argument("--subject", required=True, help="agent id, unit id, admin name or peer platform id")
    c.add_argument("--scope", action="append", choices=SCOPES, help="repeatable; default depends on kind")
    c.add_argument("--territory", help="remote seats: restrict to tickets of this region")
    c.add_argument("--label", default="", help="a note shown by tokens list")
    ls = actions.add_parser("list", help="list tokens (never their secrets)")
    ls.add_argument("--all", action="store_true", help="include revoked tokens")
    r = actions.add_parser("revoke", help="revoke a token by id")
    r.add_argument("token_id", help="the id printed by tokens create / tokens list")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_run(args))


async def _run(args: argparse.Namespace) -> int:
    async with cli_database(args.config) as (_settings, sessions):
        store = TokenStore(sessions)
        if args.tokens_action == "create":
            row, token = await store.create(args.kind, args.subject, args.scope, label=args.label,
                                            territory=args.territory)
            print(token)  # alone on standard output: TOKEN=$(hotline tokens create …) keeps just the token
            print(f"# id {row.id}, {row.kind} {row.subject}, scopes {','.join(row.scopes)} — store it now: "
                  "it is not shown again", file=sys.stderr)
        elif args.tokens_action == "list":
            for row in await store.list(include_revoked=args.all):
                state = f"revoked {row.revoked_at:%Y-%m-%d %H:%M}" if row.revoked_at else "active"
                print(f"{row.id}  {row.kind:<6} {row.subject:<20} {','.join(row.scopes):<30} {state}  {row.label}")
        else:
            row = await store.revoke(args.token_id)
            print(f"revoked {row.id} ({row.kind} {row.subject})")
    return 0
