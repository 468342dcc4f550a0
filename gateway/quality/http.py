"""The QA queue for supervisors (admin tokens): flagged calls, their findings with evidence, the call's
recording to play from the evidence time, verdicts, and per-agent quality trends."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from gateway.appkeys import SESSIONS, SETTINGS
from gateway.calls.models import CallRecord
from gateway.calls.recordings import recording_file, recording_response
from gateway.http.api import actor_of, add_endpoints, endpoint
from gateway.http.inputs import path_int
from gateway.http.jsonio import json_response
from gateway.quality.keys import QUALITY
from gateway.quality.schemas import (
    QaFindingOut,
    QaInspectionOut,
    QaQueue,
    QaQueueQuery,
    QaReview,
    QaTrend,
    QaTrendQuery,
)

SUPERVISORS = ("admin",)
CALL_ID = r"{call_id:[A-Za-z0-9][A-Za-z0-9_.-]{0,63}}"


@endpoint("GET", "/qa/queue", summary="质检队列: flagged calls awaiting a verdict, worst score first",
          kinds=SUPERVISORS, query=QaQueueQuery, response=QaQueue, tags=("quality",))
async def queue(request: web.Request, q: QaQueueQuery) -> web.Response:
    reviewed = q.reviewed in ("1", "true")
    return json_response({"items": await request.app[QUALITY].queue(limit=q.limit, reviewed=reviewed)})


@endpoint("GET", f"/qa/calls/{CALL_ID}", summary="A call's inspection: score and findings with evidence",
          kinds=SUPERVISORS, response=QaInspectionOut, errors=(404,), tags=("quality",))
async def inspection(request: web.Request) -> web.Response:
    return json_response(await request.app[QUALITY].call(request.match_info["call_id"]))


@endpoint("GET", f"/qa/calls/{CALL_ID}/recording", summary="The call's recording (seekable: play from the evidence)",
          kinds=SUPERVISORS, errors=(404,), tags=("quality",), media_types=(("audio/wav", {}),))
async def recording(request: web.Request) -> web.StreamResponse:
    """Only a file inside ``calls.recording_dir`` is served: the path comes from the PBX, not the caller."""
    async with request.app[SESSIONS]() as session:
        call = await session.get(CallRecord, request.match_info["call_id"])
    return recording_response(await recording_file(call, Path(request.app[SETTINGS].calls.recording_dir)))


@endpoint("POST", "/qa/findings/{id}/review", summary="Confirm or dismiss a finding (kept for calibration)",
          kinds=SUPERVISORS, body=QaReview, response=QaFindingOut, errors=(404,), tags=("quality",))
async def review(request: web.Request, body: QaReview) -> web.Response:
    finding = path_int(request, "id", error_id="unknown-finding", what="finding")
    actor = actor_of(request)
    return json_response(await request.app[QUALITY].review(finding, body.verdict, actor.id, body.note))


@endpoint("GET", "/qa/trend", summary="Quality per agent and week: calls, mean score, confirmed findings",
          kinds=SUPERVISORS, query=QaTrendQuery, response=QaTrend, tags=("quality",))
async def trend(request: web.Request, q: QaTrendQuery) -> web.Response:
    return json_response({"items": await request.app[QUALITY].trend(days=q.days, agent_id=q.agent_id)})


def setup(app: web.Application) -> None:
    add_endpoints(app, queue, inspection, recording, review, trend)
