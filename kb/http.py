"""HTTP handlers under /api/v1/kb, and the start-up context that builds the knowledge base once.

The acting identity comes from the token middleware (see kb.access.actor_of).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any

from aiohttp import web
from pydantic import BaseModel, Field

from gateway.appkeys import BUS, SESSIONS
from gateway.errors import Forbidden, InvalidInput
from gateway.http.api import declare, parse_body, parse_query, validate, with_article
from gateway.http.headers import attachment
from gateway.http.inputs import path_int
from gateway.http.jsonio import json_response, loads_object
from kb import schemas as api
from kb.access import actor_of
from kb.appkeys import KB, KB_QUESTION_CLOCK
from kb.deadline import WeekdayClock, default_question_limit, load_defaults
from kb.search import SearchFilters
from kb.seed import seed
from kb.segment import Segmenter
from kb.service import KnowledgeBase, ReminderPolicy, change_dict, question_dict
from kb.transfer import FORMATS, read_rows, write_rows

log = logging.getLogger(__name__)

PREFIX = "/api/v1/kb"
MAX_LIMIT = 50
CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "json": "application/json; charset=utf-8",
                 "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def setup(app: web.Application) -> None:
    """Routes, plus the start-up context (after the database's) that builds the knowledge base."""
    app.cleanup_ctx.append(knowledge_base)
    anyone, editors, platform = ("agent", "unit", "admin"), ("unit", "admin"), ("admin",)
    files = [(CONTENT_TYPES["json"].split(";")[0], {}), (CONTENT_TYPES["csv"].split(";")[0], {"type": "string"}),
             (CONTENT_TYPES["xlsx"], {"type": "string", "format": "binary"})]
    routes: list[tuple[str, str, Any, str, tuple[str, ...], dict[str, Any]]] = [
        ("GET", "/search", search, "Search entries in force (一问一答)", anyone,
         {"query": api.SearchQuery, "response": api.SearchHits}),
        ("POST", "/suggest", suggest, "Best entries for live transcript text", anyone,
         {"body": api.SuggestBody, "response": api.SearchHits}),
        ("GET", "/entries/{entry_id}", get_entry, "One entry", anyone, {"response": api.EntryOut}),
        ("GET", "/entries/{entry_id}/versions", entry_versions, "An entry's version history", anyone,
         {"response": api.Versions}),
        ("GET", "/changes", list_changes, "Submitted changes (units: their own)", editors,
         {"query": api.ChangesQuery, "response": api.Changes}),
        ("POST", "/changes", submit_change, "Submit a new entry, a change or a withdrawal for review", editors,
         {"body": api.ChangeBody, "response": api.ChangeOut, "status": 201, "errors": (404,)}),
        ("POST", "/changes/{change_id:\\d{1,18}}/approve", approve_change, "Publish a submitted change", platform,
         {"body": api.ReviewBody, "response": api.ChangeOut}),
        ("POST", "/changes/{change_id:\\d{1,18}}/reject", reject_change, "Send a change back with reasons",
         platform, {"body": api.ReviewBody, "response": api.ChangeOut}),
        ("GET", "/questions", list_questions, "Knowledge questions (知识提问) and their deadlines", editors,
         {"query": api.QuestionsQuery, "response": api.Questions}),
        ("POST", "/questions", ask_question, "Ask a unit a knowledge question", platform,
         {"body": api.QuestionBody, "response": api.QuestionOut, "status": 201}),
        ("GET", "/reminders", list_reminders, "Entries nearing expiry or untouched for long", editors,
         {"response": api.Reminders}),
        ("POST", "/import", import_entries, "Import CSV / JSON / XLSX, validated row by row", editors,
         {"query": api.ImportQuery, "raw_body": files, "response": api.ImportReport, "also": (422,)}),
        ("GET", "/export", export_entries, "Export CSV / JSON / XLSX", editors,
         {"query": api.ExportQuery, "media_types": files}),
    ]
    for method, path, handler, summary, kinds, doc in routes:
        doc_path = "/kb" + re.sub(r"{(\w+):[^/]*}", r"{\1}", path)
        spec = declare(method, doc_path, summary=summary, kinds=kinds, scope="kb", tags=("kb",), **doc)
        app.router.add_route(method, PREFIX + path,
                             spec(_checked(handler, kinds, doc.get("body"), doc.get("query"))))


def _checked(handler: Callable[[web.Request], Awaitable[web.StreamResponse]], kinds: tuple[str, ...],
             body: type[BaseModel] | None, query: type[BaseModel] | None
             ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """Check the caller before anything is read (nobody without a fitting token gets a body parsed), then
    the documented body and query; the handler reads the cached body itself."""

    @functools.wraps(handler)
    async def checked(request: web.Request) -> web.StreamResponse:
        actor = actor_of(request)  # 401 without an identity, 403 without the kb scope
        if actor.kind not in kinds:
            needed, yours = with_article(" or ".join(kinds)), with_article(actor.kind)
            raise Forbidden(f"this needs {needed} token; yours is {yours} token",
                            error_id="wrong-token-kind")
        if body is not None:
            await parse_body(request, body)
        if query is not None:
            parse_query(request, query)
        return await handler(request)

    return checked


async def knowledge_base(app: web.Application) -> AsyncIterator[None]:
    defaults = load_defaults()
    segmenter = await asyncio.to_thread(Segmenter.load)  # ~0.4 s of CPU: never on the event loop
    clock = app.get(KB_QUESTION_CLOCK) or WeekdayClock(default_question_limit())
    policy = ReminderPolicy(expiring_within=timedelta(days=defaults["reminders"]["expiring_within_days"]),
                            stale_after=timedelta(days=defaults["reminders"]["stale_after_days"]))
    kb = KnowledgeBase(app[SESSIONS], segmenter, question_clock=clock, bus=app[BUS], reminders=policy)
    await seed(kb, only_if_empty=True)
    app[KB] = kb
    kb.search.start_building()  # the in-memory search index; searches run in SQL until it is ready
    scanner = asyncio.create_task(_scan_reminders(kb, defaults["reminders"]["scan_interval_seconds"]))
    yield
    await kb.search.aclose()
    scanner.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await scanner


async def _scan_reminders(kb: KnowledgeBase, interval: float) -> None:
    while True:
        try:
            made = await kb.scan_reminders()
            if made:
                log.info("knowledge base: %d new reminder(s)", len(made))
        except Exception:  # a failed scan (database briefly away) is retried next round, not fatal
            log.exception("knowledge-base reminder scan failed")
        await asyncio.sleep(interval)


# ---- search ----------------------------------------------------------------------------------------

def _filters(request: web.Request, data: dict[str, Any]) -> SearchFilters:
    actor = actor_of(request)
    regions = data.get("region") or ()
    if isinstance(regions, str):
        regions = (regions,)
    if not isinstance(regions, list | tuple) or not all(isinstance(r, str) for r in regions):
        raise InvalidInput("region must be a region name or a list of them", error_id="invalid-region")
    unit_id = data.get("unit_id")
    if unit_id is not None and not isinstance(unit_id, str):
        raise InvalidInput("unit_id must be a unit id", error_id="invalid-unit-id")
    public_only = _flag(data.get("public")) or actor.kind == "unit"  # internal entries are for agents
    return SearchFilters(unit_id=unit_id or None, regions=tuple(regions), public_only=public_only)


def _limit(value: Any, default: int) -> int:
    try:
        limit = int(value) if value not in (None, "") else default
    except (TypeError, ValueError) as exc:
        raise InvalidInput("limit must be a whole number", error_id="invalid-limit") from exc
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}", error_id="invalid-limit")
    return limit


def _flag(value: Any) -> bool:
    return value is True or str(value).lower() in ("1", "true", "yes")


async def search(request: web.Request) -> web.Response:
    query = request.query.get("q", "").strip()
    if not query:
        raise InvalidInput("give a query in ?q=", error_id="missing-query")
    params = {"region": request.query.getall("region", []), "unit_id": request.query.get("unit_id"),
              "public": request.query.get("public")}
    hits = await request.app[KB].search.search(query, filters=_filters(request, params),
                                              limit=_limit(request.query.get("limit"), 10))
    return json_response({"query": query, "results": [h.to_dict() for h in hits]})


async def suggest(request: web.Request) -> web.Response:
    """For the agent console: live transcript text in, the best entries out."""
    data = await _json(request)
    text = data.get("text")
    if not isinstance(text, str):
        raise InvalidInput("give the transcript as \"text\"", error_id="missing-text")
    hits = await request.app[KB].search.suggest(text, filters=_filters(request, data),
                                               limit=_limit(data.get("limit"), 3))
    return json_response({"results": [h.to_dict() for h in hits]})


# ---- entries and changes ---------------------------------------------------------------------------

async def get_entry(request: web.Request) -> web.Response:
    return json_response(await request.app[KB].entry(actor_of(request), request.match_info["entry_id"]))


async def entry_versions(request: web.Request) -> web.Response:
    versions = await request.app[KB].history(actor_of(request), request.match_info["entry_id"])
    return json_response({"versions": versions})


async def list_changes(request: web.Request) -> web.Response:
    changes = await request.app[KB].changes(actor_of(request), status=request.query.get("status"))
    return json_response({"changes": changes})


class ChangeRequest(BaseModel):
    kind: str
    entry_id: str | None = Field(default=None, max_length=64)
    content: Any = None
    base_version: int | None = None
    question_id: int | None = None
    publish: bool = False


async def submit_change(request: web.Request) -> web.Response:
    data = validate(ChangeRequest, await _json(request))
    assert isinstance(data, ChangeRequest)
    change = await request.app[KB].submit(
        actor_of(request), data.kind, entry_id=data.entry_id, content=data.content,
        base_version=data.base_version, question_id=data.question_id, publish=data.publish)
    return json_response(change_dict(change), status=201)


async def approve_change(request: web.Request) -> web.Response:
    data = await _json(request, optional=True)
    change = await request.app[KB].approve(actor_of(request), _change_id(request),
                                           str(data.get("note", "")))
    return json_response(change_dict(change))


async def reject_change(request: web.Request) -> web.Response:
    data = await _json(request)
    change = await request.app[KB].reject(actor_of(request), _change_id(request),
                                          str(data.get("note", "")))
    return json_response(change_dict(change))


# ---- knowledge questions and reminders -------------------------------------------------------------

async def list_questions(request: web.Request) -> web.Response:
    questions = await request.app[KB].questions(actor_of(request), status=request.query.get("status"))
    return json_response({"questions": questions})


async def ask_question(request: web.Request) -> web.Response:
    data = await _json(request)
    kb = request.app[KB]
    question = await kb.ask(actor_of(request), str(data.get("unit_id", "")), str(data.get("text", "")))
    return json_response(question_dict(question, kb.question_clock, kb.now()), status=201)


async def list_reminders(request: web.Request) -> web.Response:
    return json_response({"reminders": await request.app[KB].reminders(actor_of(request))})


# ---- import / export -------------------------------------------------------------------------------

async def import_entries(request: web.Request) -> web.Response:
    """Body: the file itself; ?format=csv|json|xlsx, ?strict=true to import nothing if any row is bad."""
    actor = actor_of(request)
    fmt = _format(request)
    body = await request.read()
    rows = await asyncio.to_thread(read_rows, body, fmt)  # parsing a big file is CPU work
    report = await request.app[KB].import_rows(actor, rows, strict=_flag(request.query.get("strict")))
    status = 422 if report.rejected and not report.imported and not report.unchanged else 200
    return json_response(report.as_dict(), status=status)


async def export_entries(request: web.Request) -> web.Response:
    fmt = _format(request)
    rows = await request.app[KB].export(actor_of(request),
                                        include_inactive=_flag(request.query.get("include_inactive")))
    body = await asyncio.to_thread(write_rows, rows, fmt)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPES[fmt],
                                            "Content-Disposition": attachment(f"kb-entries.{fmt}")})


def _change_id(request: web.Request) -> int:
    return path_int(request, "change_id", error_id="unknown-change", what="change")


def _format(request: web.Request) -> str:
    fmt = request.query.get("format", "json").lower()
    if fmt not in FORMATS:
        raise InvalidInput(f"format must be one of {', '.join(FORMATS)}", error_id="unknown-format")
    return fmt


async def _json(request: web.Request, *, optional: bool = False) -> dict[str, Any]:
    if optional and not request.can_read_body:
        return {}
    raw = await request.read()
    if not raw:
        raise InvalidInput("send a JSON object as the body", error_id="invalid-json")
    return loads_object(raw)
