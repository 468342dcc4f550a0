"""Builds the calls capability once (composition root helper) and owns its tasks' start and stop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

from aiohttp import web

from gateway.appkeys import BUS, READINESS, SESSIONS, SETTINGS, SWITCHED_OFF
from gateway.calls.agents import AgentService
from gateway.calls.ami import AmiClient
from gateway.calls.handoffs import sweep_police_handoffs
from gateway.calls.hold import HoldControl
from gateway.calls.model import CallModel
from gateway.calls.operations import CallOperations
from gateway.calls.pipeline import CallPipeline
from gateway.calls.recorder import CallRecorder
from gateway.leadership import LEADERSHIP, bind_ami
from gateway.timers import TIMERS
from gateway.webhooks.keys import WEBHOOKS

log = logging.getLogger(__name__)


@dataclass
class CallsService:
    ami: AmiClient
    model: CallModel
    agents: AgentService
    operations: CallOperations
    holds: HoldControl
    pipeline: CallPipeline
    recorder: CallRecorder


CALLS = web.AppKey("calls", CallsService)


async def calls_context(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx: the AMI client, the event pipeline and the call recorder live as long as the app."""
    settings, sessions, bus = app[SETTINGS], app[SESSIONS], app[BUS]
    ami = AmiClient(settings.ami)
    model = CallModel()
    recorder = CallRecorder(sessions)
    agents = AgentService(ami, sessions, bus, settings.calls, talking_on=lambda interface: (
        call.call_id if (call := model.call_of_agent(interface)) is not None else None))
    operations = CallOperations(ami, model, agents, sessions, bus, settings.calls, webhooks=lambda: app.get(WEBHOOKS))
    holds = HoldControl(operations)
    pipeline = CallPipeline(ami, model, agents, operations, recorder, bus, holds)
    app[CALLS] = CallsService(ami, model, agents, operations, holds, pipeline, recorder)
    app[TIMERS].add("police-handoffs", lambda: sweep_police_handoffs(sessions, lambda: app.get(WEBHOOKS)))
    tasks = [
        asyncio.create_task(recorder.run(), name="call-recorder"),
        asyncio.create_task(pipeline.run(), name="call-pipeline"),
    ]
    leadership = app.get(LEADERSHIP)
    if settings.ami.enabled:
        if leadership is None:
            ami.start()
        else:  # active/standby: only the leader connects (gateway/leadership)
            bind_ami(leadership, ami, model, bus)

        async def probe() -> str | None:
            if leadership is not None and not leadership.is_leader:
                return None  # a standby has no AMI link on purpose; /readyz shows its role
            return ami.problem()

        app[READINESS]["pbx"] = probe
    else:
        log.warning("PBX link disabled (ami.enabled = false): call operations answer 503")
        app[SWITCHED_OFF]["pbx"] = "ami.enabled = false (call operations answer 503)"
    yield
    await ami.close()
    await agents.close()
    tasks[1].cancel()
    await pipeline.settle()
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(5):
            await recorder.drain()
    tasks[0].cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task
