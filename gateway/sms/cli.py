"""``hotline sms reply NUMBER TEXT``: answer a survey as the citizen would, in development.

It sends what an SMS provider forwards — a signed POST to /api/v1/sms/inbound of a running gateway — with
the inbound secret of the same configuration, so the real path is exercised, signature check included.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import uuid

import aiohttp

from gateway.config import load_settings
from gateway.errors import ConfigError, Unavailable
from gateway.webhooks.signing import signature_headers


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from gateway.cli import add_config_argument

    p = sub.add_parser("sms", help="development helpers for SMS")
    actions = p.add_subparsers(dest="sms_action", required=True, metavar="ACTION")
    r = actions.add_parser("reply", help="send a citizen's text to the running gateway, as the SMS provider would")
    add_config_argument(r)
    r.add_argument("number", help="the citizen's mobile number, e.g. 13800138000")
    r.add_argument("text", help="what the citizen answers, e.g. 1 (非常满意) … 5 (非常不满意)")
    r.add_argument("--url", help="the gateway's base URL (default: http://<http.host>:<http.port>)")
    p.set_defaults(func=lambda args: asyncio.run(_reply(args)))


async def _reply(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    secret = settings.sms.inbound.resolved_secret()
    if secret is None:
        raise ConfigError("inbound SMS are off: set HOTLINE_SMS__INBOUND__SECRET for the gateway and this command")
    host = "127.0.0.1" if settings.http.host in ("0.0.0.0", "::") else settings.http.host
    base = (args.url or f"http://{host}:{settings.http.port}").rstrip("/")
    raw = json.dumps({"id": f"cli-{uuid.uuid4().hex}", "from": args.number, "text": args.text}).encode()
    headers = {"Content-Type": "application/json", **signature_headers(secret, raw)}
    try:
        async with aiohttp.ClientSession() as session, \
                session.post(f"{base}/api/v1/sms/inbound", data=raw, headers=headers) as resp:
            answer = await resp.text()
    except aiohttp.ClientError as exc:
        raise Unavailable(f"no gateway answering at {base}: {exc}") from None
    if resp.status >= 300:
        print(answer)
        return 1
    print(f"text from {args.number} received by {base}")
    return 0
