"""``hotline units add|list|disable``: the handling units (承办单位) tickets are dispatched to."""

from __future__ import annotations

import argparse
import asyncio

from pydantic import ValidationError
from sqlalchemy import select

from gateway.db.cli import cli_database
from gateway.errors import Conflict, InvalidInput, NotFound
from gateway.tickets.http import NewUnit
from gateway.tickets.models import Unit


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from gateway.cli import add_config_argument

    p = sub.add_parser("units", help="register, list and disable handling units (承办单位)")
    actions = p.add_subparsers(dest="units_action", required=True, metavar="ACTION")
    a = actions.add_parser("add", help="register a unit (then give it a token: tokens create --kind unit)")
    add_config_argument(a)
    a.add_argument("unit_id", help="a stable slug, e.g. water (lower-case letters, digits, - and _)")
    a.add_argument("--name", required=True, help="the unit's name, e.g. 市水务局")
    a.add_argument("--region", help="the territory it serves, e.g. 西峰区")
    a.add_argument("--parent", help="the id of the unit (or child platform) it belongs to")
    ls = actions.add_parser("list", help="list units")
    add_config_argument(ls)
    d = actions.add_parser("disable", help="stop dispatching to a unit (its tickets stay)")
    add_config_argument(d)
    d.add_argument("unit_id", help="the unit's id")
    c = actions.add_parser("clerk", help="a token for one clerk (经办人) of a unit: their actions are audited by it "
                                         "(revoke it with: tokens revoke)")
    add_config_argument(c)
    c.add_argument("unit_id", help="the unit's id")
    c.add_argument("--name", required=True, help="the clerk's name, e.g. 张三 (kept as the token's label)")
    cl = actions.add_parser("clerks", help="list a unit's clerks (its tokens)")
    add_config_argument(cl)
    cl.add_argument("unit_id", help="the unit's id")
    p.set_defaults(func=lambda args: asyncio.run(_run(args)))


async def _clerks(args: argparse.Namespace) -> int:
    from gateway.auth.tokens import TokenStore

    async with cli_database(args.config) as (_settings, sessions):
        async with sessions() as session:
            if await session.get(Unit, args.unit_id) is None:
                raise NotFound(f"no unit {args.unit_id}", error_id="unknown-unit")
        store = TokenStore(sessions)
        if args.units_action == "clerk":
            row, token = await store.create("unit", args.unit_id, label=args.name)
            print(f"clerk {args.name} of {args.unit_id}: token {row.id} (give it to them; shown once)\n{token}")
            return 0
        for row in await store.list(include_revoked=True):
            if row.kind == "unit" and row.subject == args.unit_id:
                state = "revoked" if row.revoked_at else "active"
                print(f"{row.id:<18} {state:<8} {row.label}")
    return 0


async def _run(args: argparse.Namespace) -> int:
    if args.units_action in ("clerk", "clerks"):
        return await _clerks(args)
    async with cli_database(args.config) as (_settings, sessions), sessions.begin() as session:
        if args.units_action == "add":
            try:
                new = NewUnit(id=args.unit_id, name=args.name, region=args.region, parent_id=args.parent)
            except ValidationError as exc:
                fields = ", ".join(sorted({str(e["loc"][0]) for e in exc.errors()}))
                raise InvalidInput(f"invalid {fields}: a unit id is 2 to 64 lower-case letters, digits, '-' or '_' "
                                   "(e.g. water); a name 1 to 200 characters", error_id="invalid-unit") from None
            if await session.get(Unit, new.id):
                raise Conflict(f"unit {new.id} already exists", error_id="unit-exists")
            if new.parent_id and not await session.get(Unit, new.parent_id):
                raise NotFound(f"no unit {new.parent_id} to be the parent", error_id="unknown-unit")
            session.add(Unit(id=new.id, name=new.name, region=new.region, parent_id=new.parent_id, active=True))
            print(f"unit {new.id} registered ({new.name})")
        elif args.units_action == "list":
            for row in await session.scalars(select(Unit).order_by(Unit.id)):
                state = "active" if row.active else "disabled"
                print(f"{row.id:<24} {state:<8} {row.region or '-':<12} {row.parent_id or '-':<16} {row.name}")
        else:
            unit = await session.get(Unit, args.unit_id)
            if unit is None:
                raise NotFound(f"no unit {args.unit_id}", error_id="unknown-unit")
            unit.active = False
            print(f"unit {unit.id} disabled")
    return 0
