"""A running FastAGI server on a real store, with fakes for what other capabilities will provide."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from gateway.bus import EventBus
from gateway.policies import load_pack
from gateway.surveys.service import SurveyService
from gateway.tickets.service import TicketService
from ivr.flow import Flow, load_flow
from ivr.models import CallbackTask, IvrSession, RepeatDecision
from ivr.ports import CallRef, QueueState
from ivr.prompts import PromptCatalogue
from ivr.retry import RetryQueue
from ivr.service import IvrService, build_deps, required_prompts
from ivr.store import IvrStore
from tests.tickets.support import FakeClock


class FakeQueueStatus:
    def __init__(self) -> None:
        self.now: QueueState | None = QueueState(agents_logged_in=3, estimated_wait_seconds=10)

    async def state(self, queue: str) -> QueueState | None:
        return self.now


class FakeText:
    """Stands in for the live ASR: the text it "heard" for the call."""

    def __init__(self) -> None:
        self.said: str | None = None
        self.asked: list[CallRef] = []

    async def text(self, call: CallRef, recording: str | None, wait: float) -> str | None:
        self.asked.append(call)
        return self.said


class FakeSpeaker:
    def __init__(self) -> None:
        self.spoken: list[str] = []

    async def speak(self, text: str) -> str | None:
        self.spoken.append(text)
        return f"/tts/{len(self.spoken)}"


class BrokenStore(IvrStore):
    """A store the test can cut off: while ``broken`` every read and write fails, as on a real outage."""

    broken = False

    async def reachable(self) -> bool:
        return not self.broken

    async def _fail(self, *args: Any, **kwargs: Any) -> Any:
        if self.broken:
            raise ConnectionError("database unreachable")

    async def save_session(self, values: dict[str, Any]) -> int:
        await self._fail()
        return await super().save_session(values)

    async def create_callback(self, **values: Any) -> int:
        await self._fail()
        return await super().create_callback(**values)

    async def log_emergency(self, **values: Any) -> str:
        await self._fail()
        return await super().log_emergency(**values)

    async def tickets_opened(self, caller: str, since: Any) -> int:
        await self._fail()
        return await super().tickets_opened(caller, since)

    async def ticket(self, number: str) -> Any:
        await self._fail()
        return await super().ticket(number)


async def _no_sms(*args: object, **kwargs: object) -> None:
    raise AssertionError("no SMS in voice tests")


@dataclass
class Ivr:
    service: IvrService
    tickets: TicketService
    store: IvrStore
    queue: FakeQueueStatus
    text: FakeText
    speaker: FakeSpeaker
    bus_events: list[Any] = field(default_factory=list)

    @property
    def port(self) -> int:
        return self.service.server.port

    async def settle(self) -> None:
        """Wait for live sessions to end and their background writes (sessions, tickets, callbacks) to land."""
        for _ in range(500):
            if not self.service.server.active:
                break
            await asyncio.sleep(0.01)
        for _ in range(50):
            await self.service.deps.retry.drain(grace=5)
            if not self.service.deps.retry.pending:
                return

    async def sessions(self) -> list[IvrSession]:
        await self.settle()
        async with self.store.sessions() as s:
            return list(await s.scalars(select(IvrSession).order_by(IvrSession.id)))

    async def callbacks(self) -> list[CallbackTask]:
        await self.settle()
        async with self.store.sessions() as s:
            return list(await s.scalars(select(CallbackTask).order_by(CallbackTask.id)))

    async def repeat_decisions(self) -> list[RepeatDecision]:
        await self.settle()
        async with self.store.sessions() as s:
            return list(await s.scalars(select(RepeatDecision).order_by(RepeatDecision.id)))


def touch_prompts(directory: Path, ids: set[str]) -> PromptCatalogue:
    directory.mkdir(parents=True, exist_ok=True)
    for prompt_id in ids:
        (directory / f"{prompt_id}.wav").write_bytes(b"RIFF")
    return PromptCatalogue(directory)


def describing_flow() -> Flow:
    """The optional describe-before-queue entry (``[entry] describe_before_queue``), with the off-hours
    line and the "transferring" prompt, as a deployment may configure it; the shipped flow's short
    entry is tested on ``load_flow()`` (test_short_entry.py)."""
    data = load_flow().model_dump()
    data["entry"] |= {"describe_before_queue": True, "to_agent": "to_agent",
                      "greeting_off_hours": "greeting_off_hours"}
    data["overflow"] |= {"describe_callback": False}
    return Flow.model_validate(data)


@pytest.fixture
def flow() -> Flow:
    return describing_flow()


@pytest.fixture
def store_cls() -> type[IvrStore]:
    return IvrStore


@pytest.fixture
async def ivr(service: TicketService, clock: FakeClock, tmp_path: Path, flow: Flow,
              store_cls: type[IvrStore]) -> AsyncIterator[Ivr]:
    pack = load_pack("qingyang")
    catalogue = touch_prompts(tmp_path / "sounds", required_prompts(flow, pack))
    bus = EventBus()
    store = store_cls(service.sessions, service, clock=clock)
    queue, text, speaker = FakeQueueStatus(), FakeText(), FakeSpeaker()
    deps = build_deps(flow=flow, pack=pack, prompts=catalogue, store=store, bus=bus, clock=clock,
                      calendar=service.sla.calendar, queue_status=queue, description_text=text,
                      speaker=speaker, surveys=SurveyService(service, _no_sms),
                      retry=RetryQueue(first_delay=0.01, max_delay=0.05, give_up_after=5))
    server = IvrService(deps, host="127.0.0.1", port=0)
    await server.start(required_prompts(flow, pack))
    harness = Ivr(server, service, store, queue, text, speaker)
    bus.subscribe("ivr.", harness.bus_events.append)
    yield harness
    await server.stop()


@pytest.fixture
async def ivr_with_language(service: TicketService, clock: FakeClock, tmp_path: Path,
                            store_cls: type[IvrStore]) -> AsyncIterator[Ivr]:
    data = load_flow().model_dump()
    data["languages"] = [{"key": "2", "queue": "hotline-en", "label": "English"}]
    async for harness in ivr.__wrapped__(service, clock, tmp_path, Flow.model_validate(data), store_cls):  # type: ignore[attr-defined]
        yield harness
