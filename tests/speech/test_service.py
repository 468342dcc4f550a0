"""The speech capability inside the gateway: start-up, readiness "asr", live calls end to end."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.app import create_app
from gateway.bus import DomainEvent, EventBus
from gateway.config import SpeechSettings, load_settings
from gateway.db import session_factory
from gateway.speech import store
from gateway.speech.modelfiles import ModelError
from gateway.speech.service import SPEECH, SpeechService, audiosocket_uuid
from tests.api.support import operator_headers

from .fakes import FakeEngine, silence, stream_bytes, tone


async def wait_for(events: list[DomainEvent], kind: str, within: float = 10) -> DomainEvent:
    async with asyncio.timeout(within):
        while not any(e.kind == kind for e in events):  # noqa: ASYNC110 - polls state other tasks change
            await asyncio.sleep(0.01)
    return next(e for e in events if e.kind == kind)


async def send(port: int, data: bytes) -> None:
    _, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    await writer.drain()
    writer.close()


async def test_no_model_configured_means_no_speech_and_still_ready(tmp_path: Path) -> None:
    app = create_app(load_settings(data_dir=tmp_path))
    async with TestClient(TestServer(app)) as client:
        body = await (await client.get("/readyz", headers=await operator_headers(app))).json()
        assert body["checks"]["asr"].startswith("off: no [speech] model_path configured")
        assert SPEECH not in app


async def test_a_corrupt_model_is_refused_the_gateway_runs_and_calls_go_on(tmp_path: Path) -> None:
    broken = tmp_path / "model"
    (broken / "am").mkdir(parents=True)
    settings = load_settings(data_dir=tmp_path, speech={"model_path": broken, "port": 0})
    app = create_app(settings)
    async with TestClient(TestServer(app)) as client:
        service = app[SPEECH]
        async with asyncio.timeout(10):
            while service.problem == "ASR model loading":  # noqa: ASYNC110 - polls state other tasks change
                await asyncio.sleep(0.01)
        resp = await client.get("/readyz", headers=await operator_headers(app))
        body = await resp.json()
        assert (resp.status, body["status"]) == (200, "degraded")  # calls go on without live text
        assert "incomplete, missing: am/final.mdl" in body["checks"]["asr"]
        events: list[DomainEvent] = []
        service.bus.subscribe("transcript", events.append)
        assert service.address is not None
        await send(service.address[1], stream_bytes(uuid.uuid4(), tone(0.3)))
        assert (await wait_for(events, "transcript.unavailable")).data["reason"] == "no_model"


async def test_live_call_end_to_end_with_call_key_mapping(engine: AsyncEngine, tmp_path: Path) -> None:
    bus = EventBus()
    events: list[DomainEvent] = []
    bus.subscribe("", events.append)
    sessions = session_factory(engine)
    service = SpeechService(
        SpeechSettings(model_path=tmp_path, port=0), bus, sessions, engine_loader=lambda path: FakeEngine()
    )
    await service.start()
    try:
        async with asyncio.timeout(10):
            while service.pool is None:  # noqa: ASYNC110 - polls state other tasks change
                await asyncio.sleep(0.01)
        assert await service.readiness() is None
        linkedid = "1732260000.42"
        call_uuid = service.expect(linkedid)
        assert call_uuid == audiosocket_uuid(linkedid, "citizen")  # stable: the dialplan side can compute it
        assert service.address is not None
        await send(service.address[1], stream_bytes(call_uuid, tone(0.5) + silence(0.5)))
        final = await wait_for(events, "transcript.final")
        assert final.data["call_key"] == linkedid
        draft = await wait_for(events, "draft.updated")
        assert draft.data["call_key"] == linkedid and draft.data["draft"]["text"] == "utterance1"
        await wait_for(events, "transcript.ended")
        async with asyncio.timeout(5):
            while not await store.transcripts_for_call(sessions, linkedid):  # noqa: ASYNC110 - polls state other tasks change
                await asyncio.sleep(0.01)
        [live] = await store.transcripts_for_call(sessions, linkedid)
        assert live.source == "live" and live.text == "utterance1"
        assert live.segments[0]["speaker"] == "citizen"
    finally:
        await service.stop()


async def test_draft_before_the_model_is_ready_is_a_clear_error(engine: AsyncEngine) -> None:
    service = SpeechService(SpeechSettings(model_path=Path("/nowhere")), EventBus(), session_factory(engine))
    try:
        await service.draft("路灯坏了", call_key="c")
    except ModelError as exc:
        assert exc.error_id == "speech-not-ready"
    else:
        raise AssertionError("expected speech-not-ready")
