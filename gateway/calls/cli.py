"""``hotline agents add|list``: the seats (话务员) the queues ring; logging in is the console's job.
``hotline pbx check``: refuse a deployed Asterisk configuration that still has placeholder secrets."""

from __future__ import annotations

import argparse
import asyncio
import re
from pathlib import Path

from sqlalchemy import select

from gateway.calls.models import AgentRecord
from gateway.calls.site_check import default_secrets
from gateway.db.base import utcnow
from gateway.db.cli import cli_database
from gateway.errors import Conflict, InvalidInput

AGENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
QUEUE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
INTERFACE = re.compile(r"(PJSIP|SIP|IAX2|Local)/[A-Za-z0-9_.@-]{1,120}")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from gateway.cli import add_config_argument

    p = sub.add_parser("agents", help="register and list agent seats (话务员)")
    actions = p.add_subparsers(dest="agents_action", required=True, metavar="ACTION")
    a = actions.add_parser("add", help="register a seat, or update a logged-out one")
    add_config_argument(a)
    a.add_argument("agent_id", help="the seat's id, usually its extension, e.g. 1001")
    a.add_argument("--name", default="", help="the agent's name as the consoles show it")
    a.add_argument("--interface", help="the phone Asterisk rings (default: PJSIP/<agent_id>)")
    a.add_argument("--queue", action="append", dest="queues",
                   help="repeatable: a queue the seat serves (default: the configured calls.queues)")
    ls = actions.add_parser("list", help="list seats with their state")
    add_config_argument(ls)
    p.set_defaults(func=lambda args: asyncio.run(_run(args)))

    p = sub.add_parser("pbx", help="checks of the Asterisk configuration (asterisk_conf/)")
    pbx_actions = p.add_subparsers(dest="pbx_action", required=True, metavar="ACTION")
    c = pbx_actions.add_parser("check", help="fail (exit 2) while any site/ secret is a change-me placeholder")
    c.add_argument("--conf-dir", type=Path, default=Path("/etc/asterisk"),
                   help="the deployed configuration holding site/ (default /etc/asterisk)")
    c.set_defaults(func=check_pbx)


def check_pbx(args: argparse.Namespace) -> int:
    found = default_secrets(args.conf_dir)
    for secret in found:
        print(f"{args.conf_dir / secret.file}: [{secret.section}] {secret.key} is a placeholder or empty")
    if found:
        print(f"{len(found)} default secret(s) left: set them before starting Asterisk")
        return 2
    print(f"{args.conf_dir / 'site'}: no default secrets")
    return 0


async def _run(args: argparse.Namespace) -> int:
    async with cli_database(args.config) as (settings, sessions), sessions.begin() as session:
        if args.agents_action == "list":
            for row in await session.scalars(select(AgentRecord).order_by(AgentRecord.id)):
                served = ",".join(row.queues)
                print(f"{row.id:<12} {row.state:<11} {row.interface:<20} {served:<20} {row.name}")
            return 0
        if not AGENT_ID.fullmatch(args.agent_id):
            raise InvalidInput("an agent id is letters, digits, '.', '_' or '-' (at most 64)",
                               error_id="invalid-agent-id")
        interface = args.interface or f"PJSIP/{args.agent_id}"
        if not INTERFACE.fullmatch(interface):
            raise InvalidInput(f"not a phone interface: {interface!r} (e.g. PJSIP/1001)", error_id="invalid-interface")
        queues = args.queues or list(settings.calls.queues)
        bad = [q for q in queues if not QUEUE.fullmatch(q)]
        if bad:
            raise InvalidInput(f"not a queue name: {', '.join(map(repr, bad))}", error_id="invalid-queue")
        agent = await session.get(AgentRecord, args.agent_id)
        if agent is None:
            session.add(AgentRecord(id=args.agent_id, name=args.name, interface=interface, queues=queues,
                                    state="logged_out", state_since=utcnow()))
            print(f"agent {args.agent_id} registered ({interface}, queues {', '.join(queues)})")
        elif agent.state != "logged_out":
            raise Conflict(f"agent {agent.id} is {agent.state}: log it out before changing it",
                           error_id="agent-logged-in")
        else:
            agent.name, agent.interface, agent.queues = args.name or agent.name, interface, queues
            print(f"agent {args.agent_id} updated ({interface}, queues {', '.join(queues)})")
    return 0
