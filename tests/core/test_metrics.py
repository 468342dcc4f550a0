"""/metrics: the gauges an operator pages on, the standard process metrics, no ``_created`` clutter; and
/readyz naming the ASR state. Values come from the running gateway, changed through its API."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import update

from gateway.appkeys import CALENDAR, SESSIONS
from gateway.calls.model import Call
from gateway.calls.service import CALLS
from gateway.db.base import utcnow
from gateway.gauges import OPERATOR_GAUGES, calendar_days_left
from gateway.policies import load_pack
from gateway.sms.models import SmsMessage
from gateway.surveys.service import SURVEYS
from gateway.webhooks.models import WebhookDelivery
from gateway.workcalendar import WorkCalendar
from tests.api.support import Api, operator_headers, running_gateway
from tests.tickets.support import SH, FakeClock

OPERATOR_GAUGES_EXPOSED = {
    "hotline_calendar_data_days_left", "hotline_queue_callers_waiting", "hotline_queue_longest_wait_seconds",
    "hotline_agents", "hotline_tickets_open", "hotline_surveys_pending", "hotline_webhook_backlog_oldest_seconds",
    "hotline_sms_backlog_oldest_seconds",
}
SUPERVISE = {"level": 1, "note": "请尽快处理"}
NEW = {"category": "投诉", "content": "幸福路23号路灯坏了三天了", "caller_number": "13800138000",
       "location": "城关镇幸福路23号"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def api(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Api]:
    # Workers off: webhooks and texts stay queued, as they do when a receiver or the SMS provider is down.
    async with running_gateway(tmp_path, clock, ami={"enabled": False}, sms={"enabled": False},
                               webhooks={"enabled": False}) as api:
        yield api


async def scrape(api: Api) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of /metrics as {(name, sorted labels): value}."""
    resp = await api.client.get("/metrics", headers=await operator_headers(api.app))
    assert resp.status == 200
    samples = {}
    for family in text_string_to_metric_families(await resp.text()):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def names(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float]) -> set[str]:
    return {name for name, _ in samples}


def tickets_open(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float]) -> dict[str, float]:
    return {dict(labels)["sla_level"]: v for (name, labels), v in samples.items() if name == "hotline_tickets_open"}


async def dispatch(api: Api) -> dict[str, object]:
    number = (await api.ok("agent", "POST", "/tickets", NEW, status=201))["number"]
    await api.ok("agent", "POST", f"/tickets/{number}/accept", {})
    return await api.ok("agent", "POST", f"/tickets/{number}/dispatch", {"lead_unit": "water"})


async def test_the_operator_gauges_and_process_metrics_are_exposed_without_created_series(api: Api) -> None:
    samples = await scrape(api)
    assert OPERATOR_GAUGES_EXPOSED <= names(samples)
    assert {"process_cpu_seconds_total", "process_resident_memory_bytes", "process_open_fds",
            "python_info"} <= names(samples)
    assert not [n for n in names(samples) if n.endswith("_created")]
    assert set(tickets_open(samples)) == {"normal", "yellow", "red", "overdue"}
    assert {dict(labels)["state"] for (name, labels) in samples if name == "hotline_agents"} >= {
        "logged_out", "available", "paused", "wrapup"}
    # The PBX link and ASR are switched off here: no series, so an alert on "down" cannot fire.
    assert "hotline_pbx_up" not in names(samples) and "hotline_asr_up" not in names(samples)


async def test_open_tickets_move_through_the_sla_levels(api: Api, clock: FakeClock) -> None:
    signed = await dispatch(api)
    unsigned = await dispatch(api)
    await api.ok("water", "POST", f"/tickets/{signed['number']}/sign")
    assert tickets_open(await scrape(api)) == {"normal": 2, "yellow": 0, "red": 0, "overdue": 0}

    sign_by = datetime.fromisoformat(unsigned["sla"]["sign_by"])  # type: ignore[index]
    due = datetime.fromisoformat(signed["sla"]["due_at"])  # type: ignore[index]
    assert sign_by < due
    clock.now = sign_by + timedelta(minutes=1)  # the unsigned one missed its sign-by limit
    assert tickets_open(await scrape(api))["red"] == 1

    clock.now = due + timedelta(days=1)  # both past the handling deadline
    assert tickets_open(await scrape(api)) == {"normal": 0, "yellow": 0, "red": 0, "overdue": 2}

    await api.ok("water", "POST", f"/tickets/{signed['number']}/reply", {"text": "已修复"})
    clock.advance(minutes=1)  # beyond the cache
    assert tickets_open(await scrape(api))["overdue"] == 1  # a replied ticket is no longer under the clock


async def test_a_scrape_storm_is_served_from_the_cache(api: Api, clock: FakeClock) -> None:
    gauges = api.app[OPERATOR_GAUGES]
    await scrape(api)
    await api.ok("admin", "PUT", "/agents/a1001", {"name": "王芳"})
    await dispatch(api)
    samples = await scrape(api)  # within the cache period: the same values
    assert samples[("hotline_agents", (("state", "logged_out"),))] == 0
    assert tickets_open(samples)["normal"] == 0

    clock.advance(seconds=gauges.ttl.total_seconds())
    samples = await scrape(api)
    assert samples[("hotline_agents", (("state", "logged_out"),))] == 1
    assert tickets_open(samples)["normal"] == 0  # the SLA levels are costlier: cached for longer

    clock.advance(seconds=gauges.ttls["tickets"].total_seconds())
    assert tickets_open(await scrape(api))["normal"] == 1


async def test_agents_surveys_and_the_sms_backlog(api: Api, clock: FakeClock) -> None:
    await api.ok("admin", "PUT", "/agents/a1001", {"name": "王芳"})
    ticket = await dispatch(api)
    number = ticket["number"]
    await api.ok("water", "POST", f"/tickets/{number}/sign")
    await api.ok("water", "POST", f"/tickets/{number}/reply", {"text": "已更换灯头"})
    await api.ok("admin", "POST", f"/tickets/{number}/reply/review", {"approve": True, "note": "规范"})
    assert await api.app[SURVEYS].open_pending() == [number]  # the survey text is queued, not sent
    async with api.app[SESSIONS].begin() as session:  # queued ten minutes ago (the outbox runs on wall time)
        await session.execute(update(SmsMessage).values(created_at=utcnow() - timedelta(minutes=10)))
    clock.advance(minutes=1)

    samples = await scrape(api)
    assert samples[("hotline_agents", (("state", "logged_out"),))] == 1
    assert samples[("hotline_surveys_pending", ())] == 1
    assert 600 <= samples[("hotline_sms_backlog_oldest_seconds", ())] < 700
    assert samples[("hotline_webhook_backlog_oldest_seconds", ())] == 0  # no endpoint: nothing queued


async def test_the_oldest_undelivered_webhook_age_per_endpoint(api: Api, clock: FakeClock) -> None:
    for endpoint in ("water-main", "water-audit"):
        await api.ok("admin", "POST", "/webhooks/endpoints", {"id": endpoint, "owner": "water",
                                                              "url": "https://water.example.cn/hooks",
                                                              "generate_secret": True}, status=201)
    ticket = await dispatch(api)  # a ticket.dispatched for each endpoint, queued (the worker is off)
    async with api.app[SESSIONS].begin() as session:  # queued ten minutes ago (the outbox runs on wall time)
        await session.execute(update(WebhookDelivery).values(created_at=utcnow() - timedelta(minutes=10)))
        await session.execute(update(WebhookDelivery).where(WebhookDelivery.endpoint_id == "water-audit")
                              .values(status="delivered"))
    await api.ok("admin", "POST", f"/tickets/{ticket['number']}/supervise", SUPERVISE)
    clock.advance(minutes=1)

    samples = await scrape(api)
    assert 600 <= samples[("hotline_webhook_endpoint_oldest_undelivered_seconds",
                           (("endpoint", "water-main"),))] < 700
    # The audit endpoint got the dispatch; its reminder is new.
    assert samples[("hotline_webhook_endpoint_oldest_undelivered_seconds", (("endpoint", "water-audit"),))] < 60


async def test_callers_waiting_per_queue(api: Api, clock: FakeClock) -> None:
    model = api.app[CALLS].model
    now = clock()
    model.calls["c1"] = Call(call_id="c1", direction="inbound", state="queued", queue="hotline",
                             started_at=now - timedelta(seconds=100), queued_at=now - timedelta(seconds=90))
    model.calls["c2"] = Call(call_id="c2", direction="inbound", state="queued", queue="hotline",
                             started_at=now - timedelta(seconds=30), queued_at=now - timedelta(seconds=20))
    samples = await scrape(api)
    assert samples[("hotline_queue_callers_waiting", (("queue", "hotline"),))] == 2
    assert samples[("hotline_queue_longest_wait_seconds", (("queue", "hotline"),))] == 90


async def test_a_failing_source_is_left_out_and_counted(api: Api) -> None:
    async def broken() -> list[object]:
        raise OSError("database unreachable")

    api.app[OPERATOR_GAUGES].sources["surveys"] = broken
    samples = await scrape(api)
    assert "hotline_surveys_pending" not in names(samples)
    assert "hotline_tickets_open" in names(samples)
    assert samples[("hotline_metrics_source_errors_total", (("source", "surveys"),))] == 1


async def test_pbx_and_asr_down_read_zero_and_readyz_names_asr(tmp_path: Path, clock: FakeClock) -> None:
    async with running_gateway(tmp_path, clock, ami={"port": _free_port(), "reconnect_delay": 60},
                               speech={"model_path": tmp_path / "no-such-model"}) as api:
        samples = await scrape(api)
        assert samples[("hotline_pbx_up", ())] == 0
        assert samples[("hotline_asr_up", ())] == 0
        ready = await api.client.get("/readyz", headers=await operator_headers(api.app))
        body = await ready.json()
        assert ready.status == 200 and body["status"] == "degraded"
        assert body["checks"]["asr"] not in ("ok", None) and not body["checks"]["asr"].startswith("off")


async def test_readyz_says_asr_is_off_when_no_model_is_configured(api: Api) -> None:
    body = await (await api.client.get("/readyz", headers=await operator_headers(api.app))).json()
    assert body["status"] == "ready"
    assert body["checks"]["asr"].startswith("off: no [speech] model_path")


def test_calendar_days_left_counts_to_the_end_of_the_last_year_with_data(tmp_path: Path) -> None:
    calendar = qingyang_calendar(None)
    last = max(y for y in range(2000, 2100) if calendar.covers(y))
    start_of_next = datetime(last + 1, 1, 1, tzinfo=SH)
    assert calendar_days_left(calendar, start_of_next - timedelta(days=10)) == 10
    assert calendar_days_left(calendar, start_of_next + timedelta(days=3)) == -3
    overrides = tmp_path / "calendar.toml"
    overrides.write_text(f"full_years = [{last + 1}]\n")
    extended = qingyang_calendar(overrides)
    assert calendar_days_left(extended, start_of_next - timedelta(days=10)) == 10 + (
        datetime(last + 2, 1, 1) - datetime(last + 1, 1, 1)).days


def qingyang_calendar(overrides: Path | None) -> WorkCalendar:
    return WorkCalendar.for_pack(load_pack("qingyang"), overrides)


async def test_the_gauge_uses_the_gateways_calendar(api: Api, clock: FakeClock) -> None:
    samples = await scrape(api)
    assert samples[("hotline_calendar_data_days_left", ())] == calendar_days_left(api.app[CALENDAR], clock())
