"""Who may see which citizen's data, checked on every route and every outbound payload.

One gateway holds four tickets whose callers have distinctive numbers, names and addresses:

    ticket  confidential  caller consented  lead   assisting  territory (汉阴县)
    N       no            no                water  roads      inside
    N2      no            no                power  —          inside
    C       yes           yes               water  roads      outside
    C2      yes           no                power  —          outside

N2 ⊂ N and C2 ⊂ C in content, so each pair raises a hot-issue warning. Every route of the HTTP API (taken
from the router: a route missing from ``ROUTES`` fails the suite) is called with every token kind, and
the raw bytes of each answer — and of every webhook, console event and SMS — are searched for what that
audience may not see: the caller's full number (and its first 7 digits, which the old mask kept), name,
surname or street address; the content of a ticket whose content it may not see; the numbers of tickets
it may not see at all. Hot issues and reports never carry a confidential ticket's words, for anyone.
"""

from __future__ import annotations

import asyncio
import io
import json
import time
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import WSMsgType
from sqlalchemy import select

from gateway.appkeys import SESSIONS
from gateway.auth.middleware import TOKENS
from gateway.reports.keys import REPORTS
from gateway.sms.models import SmsMessage
from gateway.timers import TIMERS
from gateway.webhooks.models import WebhookDelivery
from tests.api.support import Api, running_gateway
from tests.tickets.support import SH, FakeClock
from tests.webhooks.receiver import Receiver

pytestmark = pytest.mark.asyncio(loop_scope="module")

AUDIENCES = ("admin", "agent", "seat", "water", "roads", "power")
UNITS = ("water", "roads", "power")
TERRITORY = "汉阴县"
MONDAY = "2026-11-02"


@dataclass(frozen=True)
class Citizen:
    number: str
    name: str
    address: str
    secrets: tuple[str, ...]  # what identifies them beyond the full values: surname, street, estate

    def strings(self) -> set[str]:
        return {self.number, self.number[:7], self.name, self.address, *self.secrets}


@dataclass(frozen=True)
class Case:
    key: str
    citizen: Citizen
    content: str
    words: tuple[str, ...]  # phrases of this content (shared ones are hidden only from who sees neither)
    location: str
    confidential: bool
    disclose: bool
    lead: str
    assisting: tuple[str, ...]


N = Case("N", Citizen("13912345678", "欧阳娜娜", "汉阴县琉璃街7号翠竹苑2单元501", ("欧阳", "琉璃街", "翠竹苑")),
         "城关镇幸福路路灯坏了，晚上很黑，琥珀巷口也不亮，请回电13912345678", ("琥珀巷", "路灯坏了"),
         "汉阴县城关镇幸福路", False, False, "water", ("roads",))
N2 = Case("N2", Citizen("15011223344", "上官云飞", "汉阴县银杏巷3号", ("上官", "银杏巷")),
          "城关镇幸福路路灯坏了，晚上很黑", ("路灯坏了",), "汉阴县城关镇幸福路", False, False, "power", ())
C = Case("C", Citizen("13787654321", "司马光明", "汉滨区杏林路9号金桂园8栋1101", ("司马", "杏林路", "金桂园")),
         "举报鼹鼠化工厂夜间偷排废水，翡翠河段发黑发臭，举报人电话13787654321", ("翡翠河段", "鼹鼠化工厂"),
         "汉滨区江北街道滨江大道", True, True, "water", ("roads",))
C2 = Case("C2", Citizen("18655667788", "诸葛青", "汉滨区梧桐里12号", ("诸葛", "梧桐里")),
          "举报鼹鼠化工厂夜间偷排废水", ("鼹鼠化工厂",), "汉滨区江北街道滨江大道", True, False, "power", ())
CASES = (N, N2, C, C2)  # a hot issue is a matter in a place at least a township (街道) fine
CONFIDENTIAL_WORDS = ("鼹鼠", "偷排", "翡翠")  # never in a hot issue or a report, for anyone


def sees(audience: str, case: Case) -> tuple[bool, bool, bool]:
    """(the ticket at all, its content, its caller) — the rules of gateway/tickets/views.py."""
    if audience in ("admin", "agent"):
        return True, True, True
    if audience == "seat":
        inside = case.location.startswith(TERRITORY)
        return inside, inside, inside
    if audience != case.lead and audience not in case.assisting:
        return False, False, False
    content = not case.confidential or audience == case.lead
    return True, content, content and case.disclose


def forbidden(audience: str, numbers: dict[str, str], *, aggregate: bool = False, asked: str = "") -> set[str]:
    """What ``audience`` may not see; ``asked``: the request, whose own ticket numbers may come back in a
    404 (naming what was asked for reveals nothing)."""
    hidden: set[str] = set()
    shown: set[str] = set()
    for case in CASES:
        ticket, content, caller = sees(audience, case)
        (shown if caller else hidden).update(case.citizen.strings())
        (shown if content else hidden).update(case.words)
        if not ticket and numbers[case.key] not in asked:
            hidden.add(numbers[case.key])
    words = {w for w in CONFIDENTIAL_WORDS if not any(
        sees(audience, c)[1] and w in c.content for c in CASES)}
    if aggregate:  # hot issues and reports: no confidential words even for those who may read the ticket
        words = set(CONFIDENTIAL_WORDS)
    return (hidden - shown) | words


def leaks(raw: bytes, strings: set[str]) -> list[str]:
    text = raw.decode("utf-8", errors="replace")
    try:  # JSON may escape non-ASCII: search the decoded document as well
        text += json.dumps(json.loads(text), ensure_ascii=False)
    except ValueError:
        pass
    return sorted(s for s in strings if s in text)


def readable(raw: bytes, content_type: str) -> bytes:
    if "spreadsheetml" in content_type:  # an XLSX is a zip of XML: search what it contains
        with zipfile.ZipFile(io.BytesIO(raw)) as book:
            return b"".join(book.read(name) for name in book.namelist())
    return raw


# ---- the world ----------------------------------------------------------------------------------------


@dataclass
class World:
    api: Api
    numbers: dict[str, str]
    receivers: dict[str, Receiver]
    pages: dict[str, list[str]] = field(default_factory=dict)
    sms: list[SmsMessage] = field(default_factory=list)


async def _page(api: Api, who: str, into: list[str]) -> asyncio.Task[None]:
    ws = await api.client.ws_connect("/api/v1/ws")
    await ws.send_json({"type": "hello", "token": api.tokens[who]})

    async def read() -> None:
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                into.append(message.data)

    return asyncio.get_running_loop().create_task(read())


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    clock = FakeClock(datetime(2026, 11, 4, 10, 0, tzinfo=SH))
    fast = {"poll_interval": 0.02, "retry": {"initial_delay": 0.05, "jitter": 0}}
    path: Path = tmp_path_factory.mktemp("audiences")
    async with running_gateway(path, clock, webhooks=fast, sms=fast,
                               analysis={"hotspot_threshold": 2}) as api:
        _, api.tokens["seat"] = await api.app[TOKENS].create("agent", "a2001", territory=TERRITORY)
        receivers = {}
        for unit in UNITS:
            receivers[unit] = await Receiver("unset").start()
            hook = await api.ok("admin", "POST", "/webhooks/endpoints", {
                "id": f"{unit}-hook", "owner": unit, "url": receivers[unit].url, "generate_secret": True},
                status=201)
            receivers[unit].secret = hook["secret"]
        world = World(api, {}, receivers)
        readers = []
        for who in ("admin", "agent", "seat"):
            world.pages[who] = []
            readers.append(await _page(api, who, world.pages[who]))

        for case in CASES:  # then edited: the timeline keeps the before and after values of the edit
            t = await api.ok("agent", "POST", "/tickets", {
                "category": "投诉", "content": case.content, "caller_number": case.citizen.number,
                "caller_name": "某某", "caller_address": "待核实", "location": case.location,
                "confidential": case.confidential, "disclose_caller": case.disclose}, status=201)
            world.numbers[case.key] = t["number"]
            await api.ok("agent", "PATCH", f"/tickets/{t['number']}", {
                "content": case.content + "。", "caller_name": case.citizen.name,
                "caller_address": case.citizen.address})
        hotspots = api.app[REPORTS].hotspots
        await hotspots.drain()
        for case in CASES:
            number = world.numbers[case.key]
            await api.ok("agent", "POST", f"/tickets/{number}/accept", {})
            await api.ok("agent", "POST", f"/tickets/{number}/dispatch", {
                "lead_unit": case.lead, "assisting": list(case.assisting), "note": f"请核实：{case.content}"})
        await hotspots.drain()
        for case in (N, C):
            number = world.numbers[case.key]
            await api.ok("water", "POST", f"/tickets/{number}/sign")
            # A file about the matter (a confidential ticket's words), as a scan would be: the unit wrote
            # it, so it holds no more of the caller than the unit was shown.
            form = aiohttp.FormData(quote_fields=False)
            form.add_field("file", "%PDF-1.4\n{}".format(" ".join(CONFIDENTIAL_WORDS if case.confidential
                                                                      else ("路灯",))).encode(),
                           filename=f"{case.key}.pdf")
            uploaded = await api.client.post(f"/api/v1/tickets/{number}/attachments", data=form,
                                             headers={"Authorization": f"Bearer {api.tokens['water']}"})
            assert uploaded.status == 201, await uploaded.text()
            await api.ok("water", "POST", f"/tickets/{number}/reply", {
                "text": f"已处理：{case.content}", "attachments": [await uploaded.json()]})
            await api.ok("admin", "POST", f"/tickets/{number}/reply/review", {"approve": True, "note": "ok"})
        await _settle(world)
        yield world
        for task in readers:
            task.cancel()
        for receiver in receivers.values():
            await receiver.close()


async def _settle(world: World) -> None:
    api = world.api
    async with api.app[SESSIONS]() as session:
        queued = len(list(await session.scalars(select(WebhookDelivery.id))))
    for _ in range(300):
        await api.app[TIMERS].run_once()
        if sum(len(r.received) for r in world.receivers.values()) >= queued:
            break
        await asyncio.sleep(0.02)
    async with api.app[SESSIONS]() as session:
        world.sms = list(await session.scalars(select(SmsMessage)))
    await asyncio.sleep(0.2)  # console events are pushed as they happen; let the pages read them


# ---- every route ----------------------------------------------------------------------------------------

BAD = {"_probe": True}  # a body every route refuses (extra fields are forbidden): nothing changes
Probe = tuple[str, dict[str, str] | None, Any]  # path (with {N}… placeholders), query, JSON body
AGGREGATES = {"/api/v1/reports/{period}", "/api/v1/reports", "/api/v1/hotspots/warnings",
              "/api/v1/console/wallboard"}  # these show hot issues


def ticket_probes(suffix: str = "", body: Any = None) -> list[Probe]:
    return [(f"/api/v1/tickets/{{{case.key}}}{suffix}", None, body) for case in CASES]


def report_probes() -> list[Probe]:
    return [("/api/v1/reports/week", {"start": MONDAY, "format": f}, None) for f in ("json", "csv", "html", "xlsx")]


ROUTES: dict[tuple[str, str], list[Probe]] = {
    ("GET", "/api/v1/tickets"): [("/api/v1/tickets", None, None), ("/api/v1/tickets", {"active": "false"}, None),
                                 ("/api/v1/tickets", {"caller": N.citizen.number}, None),
                                 ("/api/v1/tickets", {"unit": "water"}, None)],
    ("POST", "/api/v1/tickets"): [("/api/v1/tickets", None, BAD)],
    ("GET", "/api/v1/search/tickets"): [("/api/v1/search/tickets", None, None),
                                        ("/api/v1/search/tickets", {"text": "路灯"}, None),
                                        ("/api/v1/search/tickets", {"text": "鼹鼠"}, None),
                                        ("/api/v1/search/tickets", {"caller": N.citizen.number}, None),
                                        ("/api/v1/search/tickets", {"worklist": "to_review"}, None)],
    ("GET", "/api/v1/worklists"): [("/api/v1/worklists", None, None)],
    ("GET", "/api/v1/tickets/{number}"): ticket_probes(),
    ("PATCH", "/api/v1/tickets/{number}"): ticket_probes("", BAD),
    ("GET", "/api/v1/tickets/{number}/timeline"): ticket_probes("/timeline"),
    ("GET", "/api/v1/tickets/{number}/requests"): ticket_probes("/requests"),
    ("GET", "/api/v1/tickets/{number}/notes"): ticket_probes("/notes"),
    ("POST", "/api/v1/tickets/{number}/attachments"): ticket_probes("/attachments", BAD),
    ("GET", "/api/v1/tickets/{number}/attachments"): ticket_probes("/attachments"),
    ("GET", "/api/v1/tickets/{number}/attachments/{id}"): [
        *ticket_probes("/attachments/1"), *ticket_probes("/attachments/2"), *ticket_probes("/attachments/x")],
    ("GET", "/api/v1/tickets/{number}/calls"): ticket_probes("/calls"),
    ("GET", "/api/v1/tickets/{number}/calls/{call_id}/recording"): ticket_probes("/calls/c1/recording"),
    ("GET", "/api/v1/tickets/{number}/contacts"): ticket_probes("/contacts"),
    ("POST", "/api/v1/tickets/{number}/notes"): ticket_probes("/notes", BAD),
    ("POST", "/api/v1/tickets/{number}/sign"): ticket_probes("/sign"),
    **{("POST", f"/api/v1/tickets/{{number}}/{action}"): ticket_probes(f"/{action}", BAD) for action in (
        "accept", "reject", "resolve", "dispatch", "merge", "withdraw", "links", "reopen", "close", "supervise",
        "return", "extension", "reply", "termination", "return/review", "extension/review", "reply/review",
        "termination/review")},
    ("GET", "/api/v1/reviews"): [("/api/v1/reviews", None, None)],
    ("GET", "/api/v1/units"): [("/api/v1/units", None, None)],
    ("POST", "/api/v1/units"): [("/api/v1/units", None, BAD)],
    ("GET", "/api/v1/stats/tickets"): [("/api/v1/stats/tickets", {
        "start": "2026-11-01T00:00:00+08:00", "end": "2026-12-01T00:00:00+08:00", "by": "unit,category"}, None)],
    ("GET", "/api/v1/stats/redispatch"): [("/api/v1/stats/redispatch", {
        "start": "2026-11-01T00:00:00+08:00", "end": "2026-12-01T00:00:00+08:00", "by": "unit,matter"}, None)],
    ("GET", "/api/v1/reports/{period}"): report_probes(),
    ("GET", "/api/v1/reports"): [("/api/v1/reports", None, None)],
    ("GET", "/api/v1/places/divisions"): [("/api/v1/places/divisions", None, None)],
    ("GET", "/api/v1/forecast"): [("/api/v1/forecast", None, None), ("/api/v1/forecast", {"days": "3"}, None)],
    ("GET", "/api/v1/qa/queue"): [("/api/v1/qa/queue", None, None), ("/api/v1/qa/queue", {"reviewed": "1"}, None)],
    ("GET", "/api/v1/qa/calls/{call_id}"): [("/api/v1/qa/calls/c1", None, None)],
    ("GET", "/api/v1/qa/calls/{call_id}/recording"): [("/api/v1/qa/calls/c1/recording", None, None)],
    ("POST", "/api/v1/qa/findings/{id}/review"): [("/api/v1/qa/findings/999/review", None, BAD)],
    ("GET", "/api/v1/qa/trend"): [("/api/v1/qa/trend", None, None)],
    ("GET", "/api/v1/hotspots/warnings"): [("/api/v1/hotspots/warnings", None, None)],
    ("POST", "/api/v1/hotspots/warnings/{id}/acknowledge"): [("/api/v1/hotspots/warnings/999/acknowledge", None,
                                                              None)],
    ("GET", "/api/v1/channels/tickets/{number}"): [(f"/api/v1/channels/tickets/{{{c.key}}}", None, None)
                                                   for c in CASES],
    ("POST", "/api/v1/channels/{kind}/tickets"): [("/api/v1/channels/web/tickets", None, BAD)],
    ("GET", "/api/v1/console/config"): [("/api/v1/console/config", None, None)],
    ("GET", "/api/v1/console/unit"): [("/api/v1/console/unit", None, None)],
    ("GET", "/api/v1/console/agent-performance"): [("/api/v1/console/agent-performance", {
        "start": "2026-11-01T00:00:00+08:00", "end": "2026-12-01T00:00:00+08:00"}, None)],
    ("GET", "/api/v1/console/wallboard"): [("/api/v1/console/wallboard", None, None)],
    ("GET", "/api/v1/console/systems"): [("/api/v1/console/systems", None, None)],
    ("GET", "/api/v1/console/sla-board"): [("/api/v1/console/sla-board", None, None)],
    ("GET", "/api/v1/console/calls/{call_id}"): [("/api/v1/console/calls/c1", None, None)],
    ("GET", "/api/v1/ws"): [("/api/v1/ws", None, None)],
    ("GET", "/api/v1/calls"): [("/api/v1/calls", None, None)],
    ("GET", "/api/v1/calls/handoffs"): [("/api/v1/calls/handoffs", None, None)],
    ("GET", "/api/v1/calls/kpi"): [("/api/v1/calls/kpi", None, None)],
    ("GET", "/api/v1/calls/{call_id}"): [("/api/v1/calls/c1", None, None)],
    ("POST", "/api/v1/calls/outbound"): [("/api/v1/calls/outbound", None, BAD)],
    **{("POST", f"/api/v1/calls/{{call_id}}/{action}"): [(f"/api/v1/calls/c1/{action}", None, BAD)] for action in (
        "conference", "conference/leave", "expert", "expert/cancel", "expert/complete", "hangup", "hold",
        "police", "resume", "transfer")},
    ("PUT", "/api/v1/calls/{call_id}/ticket"): [("/api/v1/calls/c1/ticket", None, BAD)],
    ("GET", "/api/v1/agents"): [("/api/v1/agents", None, None)],
    ("GET", "/api/v1/agents/{agent_id}"): [("/api/v1/agents/a1001", None, None)],
    ("PUT", "/api/v1/agents/{agent_id}"): [("/api/v1/agents/a9999", None, BAD)],
    ("PUT", "/api/v1/agents/{agent_id}/queues"): [("/api/v1/agents/a9999/queues", None, BAD)],
    **{("POST", f"/api/v1/agents/{{agent_id}}/{action}"): [(f"/api/v1/agents/a9999/{action}", None, BAD)]
       for action in ("login", "logout", "pause", "ready", "spy")},
    ("GET", "/api/v1/federation/children"): [("/api/v1/federation/children", None, None)],
    ("POST", "/api/v1/federation/children"): [("/api/v1/federation/children", None, BAD)],
    ("GET", "/api/v1/federation/mirror"): [("/api/v1/federation/mirror", None, None)],
    ("GET", "/api/v1/federation/receipts"): [("/api/v1/federation/receipts", None, None)],
    ("GET", "/api/v1/federation/schema"): [("/api/v1/federation/schema", None, None)],
    ("GET", "/api/v1/federation/status"): [("/api/v1/federation/status", None, None)],
    ("POST", "/api/v1/federation/events"): [("/api/v1/federation/events", None, BAD)],
    ("POST", "/api/v1/federation/reports"): [("/api/v1/federation/reports", None, BAD)],
    ("POST", "/api/v1/federation/call-transfers"): [("/api/v1/federation/call-transfers", None, BAD)],
    ("POST", "/api/v1/federation/outbox/replay"): [("/api/v1/federation/outbox/replay", None, BAD)],
    ("POST", "/api/v1/federation/tickets/{number}/return"): [
        (f"/api/v1/federation/tickets/{{{c.key}}}/return", None, BAD) for c in CASES],
    ("GET", "/api/v1/kb/changes"): [("/api/v1/kb/changes", None, None)],
    ("POST", "/api/v1/kb/changes"): [("/api/v1/kb/changes", None, BAD)],
    ("POST", "/api/v1/kb/changes/{change_id}/approve"): [("/api/v1/kb/changes/999/approve", None, BAD)],
    ("POST", "/api/v1/kb/changes/{change_id}/reject"): [("/api/v1/kb/changes/999/reject", None, BAD)],
    ("GET", "/api/v1/kb/entries/{entry_id}"): [("/api/v1/kb/entries/x", None, None)],
    ("GET", "/api/v1/kb/entries/{entry_id}/versions"): [("/api/v1/kb/entries/x/versions", None, None)],
    ("GET", "/api/v1/kb/export"): [("/api/v1/kb/export", None, None)],
    ("GET", "/api/v1/kb/questions"): [("/api/v1/kb/questions", None, None)],
    ("POST", "/api/v1/kb/questions"): [("/api/v1/kb/questions", None, BAD)],
    ("GET", "/api/v1/kb/reminders"): [("/api/v1/kb/reminders", None, None)],
    ("GET", "/api/v1/kb/search"): [("/api/v1/kb/search", {"q": "路灯"}, None)],
    ("POST", "/api/v1/kb/import"): [("/api/v1/kb/import", None, BAD)],
    ("POST", "/api/v1/kb/suggest"): [("/api/v1/kb/suggest", None, BAD)],
    ("GET", "/api/v1/sms/inbound"): [("/api/v1/sms/inbound", None, None)],
    ("POST", "/api/v1/sms/inbound"): [("/api/v1/sms/inbound", None, BAD)],
    ("GET", "/api/v1/sms/messages"): [("/api/v1/sms/messages", None, None)],
    ("GET", "/api/v1/sms/messages/{id}"): [("/api/v1/sms/messages/x", None, None)],
    ("POST", "/api/v1/sms/messages/{id}/replay"): [("/api/v1/sms/messages/x/replay", None, BAD)],
    ("GET", "/api/v1/sms/outbox"): [("/api/v1/sms/outbox", None, None)],
    ("GET", "/api/v1/webhooks/deliveries"): [("/api/v1/webhooks/deliveries", None, None)],
    ("GET", "/api/v1/webhooks/deliveries/{id}"): [("/api/v1/webhooks/deliveries/x", None, None)],
    ("POST", "/api/v1/webhooks/deliveries/{id}/replay"): [("/api/v1/webhooks/deliveries/x/replay", None, BAD)],
    ("GET", "/api/v1/webhooks/endpoints"): [("/api/v1/webhooks/endpoints", None, None)],
    ("POST", "/api/v1/webhooks/endpoints"): [("/api/v1/webhooks/endpoints", None, BAD)],
    ("PATCH", "/api/v1/webhooks/endpoints/{id}"): [("/api/v1/webhooks/endpoints/x", None, BAD)],
    ("POST", "/api/v1/webhooks/endpoints/{id}/replay"): [("/api/v1/webhooks/endpoints/x/replay", None, BAD)],
    ("GET", "/api/v1/openapi.json"): [("/api/v1/openapi.json", None, None)],
    ("GET", "/api/v1/docs"): [("/api/v1/docs", None, None)],
    ("GET", "/api-docs/{name}"): [("/api-docs/swagger-ui-bundle.js", None, None)],
    ("GET", "/console"): [("/console", None, None)],
    ("GET", "/console/"): [("/console/", None, None)],
    ("GET", "/console/{page}"): [("/console/supervisor", None, None), ("/console/agent", None, None)],
    ("GET", "/console/static/{name}"): [("/console/static/console.js", None, None)],
    ("GET", "/"): [("/", None, None)],
    ("GET", "/healthz"): [("/healthz", None, None)],
    ("GET", "/readyz"): [("/readyz", None, None)],
    ("GET", "/metrics"): [("/metrics", None, None)],
}


async def test_every_route_is_in_the_table(world: World) -> None:
    served = {(r.method, r.resource.canonical) for r in world.api.app.router.routes()
              if r.resource is not None and r.method != "HEAD"}
    assert served - set(ROUTES) == set(), "add the new routes to ROUTES (and decide who may see what)"
    assert set(ROUTES) - served == set()


def _fill(world: World, path: str) -> str:
    for case in sorted(CASES, key=lambda c: -len(c.key)):  # {N2} before {N}
        path = path.replace(f"{{{case.key}}}", world.numbers[case.key])
    return path


async def _call(world: World, who: str, method: str, probe: Probe) -> tuple[int, bytes]:
    path, query, body = probe
    path = _fill(world, path)
    resp = await world.api.client.request(method, path, params=query, json=body,
                                          headers={"Authorization": f"Bearer {world.api.tokens[who]}"})
    return resp.status, readable(await resp.read(), resp.headers.get("Content-Type", ""))


@pytest.mark.parametrize("who", AUDIENCES)
@pytest.mark.parametrize("route", sorted(ROUTES), ids=lambda r: f"{r[0]} {r[1]}")
async def test_no_route_shows_an_audience_what_it_may_not_see(world: World, route: tuple[str, str],
                                                               who: str) -> None:
    for probe in ROUTES[route]:
        status, raw = await _call(world, who, route[0], probe)
        asked = _fill(world, probe[0]) + json.dumps(probe[1])
        strings = forbidden(who, world.numbers, aggregate=route[1] in AGGREGATES, asked=asked)
        assert status != 500, (probe, raw[:300])  # a crash could hide anything; 503s are typed
        assert leaks(raw, strings) == [], (probe, status)


# ---- every outbound payload -----------------------------------------------------------------------------


@pytest.mark.parametrize("unit", UNITS)
async def test_webhooks_carry_only_what_the_unit_may_see(world: World, unit: str) -> None:
    received = world.receivers[unit].received
    assert received, f"{unit} got no webhook at all: the setup is broken"
    for r in received:
        aggregate = r.event.startswith("hotspot.")
        assert leaks(json.dumps(r.body, ensure_ascii=False).encode(),
                     forbidden(unit, world.numbers, aggregate=aggregate)) == [], r.event


async def test_the_hotspot_webhook_names_only_the_units_own_tickets(world: World) -> None:
    warnings = [r.body for unit in UNITS for r in world.receivers[unit].received if r.event == "hotspot.warning"]
    assert warnings, "the clusters raised no hot-issue warning: the setup is broken"
    for unit in UNITS:
        own = {world.numbers[c.key] for c in CASES if c.lead == unit or unit in c.assisting}
        for r in world.receivers[unit].received:
            if r.event == "hotspot.warning":
                assert set(r.body["data"]["tickets"]) <= own


@pytest.mark.parametrize("who", ("admin", "agent", "seat"))
async def test_console_events_carry_only_what_the_page_may_see(world: World, who: str) -> None:
    messages = world.pages[who]
    assert any('"welcome"' in m for m in messages)
    for m in messages:
        event = json.loads(m)
        aggregate = str(event.get("kind", "")).startswith("hotspot.")
        assert leaks(m.encode(), forbidden(who, world.numbers, aggregate=aggregate)) == [], event.get("kind")


async def test_a_remote_seat_gets_the_hot_issue_alerts_of_its_territory_only(world: World) -> None:
    live = [json.loads(m) for m in world.pages["seat"]]
    places = [e["data"]["place"] for e in live if e.get("kind") == "hotspot.warning"]
    board = await world.api.ok("seat", "GET", "/console/wallboard")
    assert places == [N.location]
    assert [a["place"] for a in board["alerts"]] == [N.location]
    everyone = await world.api.ok("agent", "GET", "/console/wallboard")
    assert sorted(a["place"] for a in everyone["alerts"]) == sorted([N.location, C.location])


async def test_sms_texts_carry_no_one_elses_data_and_no_content(world: World) -> None:
    assert world.sms, "no survey SMS was queued: the setup is broken"
    for message in world.sms:
        own = next(c for c in CASES if message.to_number.endswith(c.citizen.number))
        others = set().union(*(c.citizen.strings() for c in CASES if c is not own))
        contents = {w for c in CASES for w in c.words} | set(CONFIDENTIAL_WORDS)
        assert leaks(message.text.encode(), others | contents) == []


# ---- the named leaks, one by one (issue 20 items 2–4) ---------------------------------------------------


async def test_masks_do_not_identify() -> None:
    from gateway.tickets.views import mask_address, mask_number

    assert mask_number("+8613912345678") == "*******5678"
    assert mask_address("陕西省安康市汉滨区建民街道幸福路88号锦绣小区3栋") == "陕西省安康市汉滨区"
    assert mask_address("锦绣小区3栋2单元") is None  # no division name: nothing, never the estate
    assert mask_address("城关镇幸福路23号") is None


async def test_units_may_not_filter_by_the_callers_number(world: World) -> None:
    for unit in UNITS:
        resp = await world.api.call(unit, "GET", "/tickets", params={"caller": N.citizen.number, "limit": "1"})
        assert resp.status == 422
        assert (await resp.json())["error_id"] == "caller-filter-not-allowed"
    found = await world.api.ok("agent", "GET", "/tickets", params={"caller": N.citizen.number})
    assert [t["number"] for t in found["items"]] == [world.numbers["N"]]


async def test_listing_is_rate_limited_per_token(world: World) -> None:
    api = world.api
    _, api.tokens["scraper"] = await api.app[TOKENS].create("unit", "water")
    from gateway.tickets.http import LISTING_LIMIT

    limiter = api.app[LISTING_LIMIT]
    now = time.monotonic()
    limiter.clock = lambda: now  # time stands still: the bucket does not refill during the test
    try:
        for _ in range(limiter.burst):
            assert (await api.call("scraper", "GET", "/tickets")).status == 200
        resp = await api.call("scraper", "GET", "/tickets")
        assert resp.status == 429
        assert (await resp.json())["error_id"] == "rate-limited"
        assert int(resp.headers["Retry-After"]) >= 1
        assert (await api.call("water", "GET", "/tickets")).status == 200  # another token has its own budget
    finally:
        limiter.clock = time.monotonic


async def test_a_units_report_has_only_its_own_hot_issues(world: World) -> None:
    for unit in UNITS:
        report = await world.api.ok(unit, "GET", "/reports/week", params={"start": MONDAY})
        own = {world.numbers[c.key] for c in CASES if c.lead == unit or unit in c.assisting}
        warnings = await world.api.ok("admin", "GET", "/hotspots/warnings")
        mine = {w["id"] for w in warnings["items"] if own & set(w["tickets"])}
        assert {h["id"] for h in report["hotspots"]} == mine
    _, world.api.tokens["parks"] = await world.api.app[TOKENS].create("unit", "parks")  # holds no ticket
    report = await world.api.ok("parks", "GET", "/reports/week", params={"start": MONDAY})
    assert (report["volumes"]["total"], report["hotspots"]) == (0, [])


async def test_hot_issue_summaries_are_words_of_non_confidential_tickets_only(world: World) -> None:
    warnings = (await world.api.ok("admin", "GET", "/hotspots/warnings"))["items"]
    assert len(warnings) == 2
    for w in warnings:
        assert all(case.content[:12] not in w["summary"] for case in CASES)
    confidential = next(w for w in warnings if world.numbers["C"] in w["tickets"])
    assert confidential["summary"] == ""


async def test_a_remote_seat_sees_its_territorys_hot_issues_and_reports_only(world: World) -> None:
    inside = {world.numbers["N"], world.numbers["N2"]}
    warnings = (await world.api.ok("seat", "GET", "/hotspots/warnings"))["items"]
    assert [set(w["tickets"]) for w in warnings] == [inside]
    report = await world.api.ok("seat", "GET", "/reports/week", params={"start": MONDAY})
    assert report["volumes"]["total"] == 2
    resp = await world.api.call("seat", "GET", f"/channels/tickets/{world.numbers['C']}")
    assert resp.status == 404
    month = {"start": "2026-11-01T00:00:00+08:00", "end": "2026-12-01T00:00:00+08:00"}
    stats = await world.api.ok("seat", "GET", "/stats/tickets", params=month)
    assert sum(f["dispatched"] for f in stats["items"]) == 2
    everything = await world.api.ok("agent", "GET", "/stats/tickets", params=month)
    assert sum(f["dispatched"] for f in everything["items"]) == 4
