"""Only the leader acts: elected → AMI connected with its term in every ActionID; deposed → refused, cut off."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.bus import EventBus
from gateway.calls.ami import AmiClient, NotSent
from gateway.calls.model import CallModel
from gateway.db import session_factory
from gateway.leadership import bind_ami
from gateway.leadership.lease import Claim, LeaseStore
from gateway.leadership.service import Leadership
from gateway.timers import Timers
from tests.calls.conftest import fast_ami_settings
from tests.fakes.fake_ami import FakeAmi
from tests.tickets.support import FakeClock

SCOPE = "ami:test"


class Monotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def fake_ami() -> AsyncIterator[FakeAmi]:
    fake = FakeAmi()
    await fake.start()
    yield fake
    await fake.stop()


def instance(name: str, leases: LeaseStore, local: Monotonic) -> Leadership:
    leadership = Leadership(SCOPE, name, f"http://{name}:8345", lease_seconds=3.0, renew_interval=1.0, monotonic=local)
    leadership.store = leases
    return leadership


async def test_a_deposed_leader_refuses_ami_actions_and_disconnects(engine: AsyncEngine, fake_ami: FakeAmi) -> None:
    clock, local = FakeClock(datetime(2026, 12, 4, 8, 0, tzinfo=UTC)), Monotonic()
    leases = LeaseStore(session_factory(engine), 3.0, clock=clock)
    a, b = instance("a", leases, local), instance("b", leases, local)
    ami = AmiClient(fast_ami_settings(fake_ami.port), secret=fake_ami.secret)
    bind_ami(a, ami, CallModel(), EventBus())
    try:
        await a.step()
        await ami.wait_connected(5)
        await ami.send("Redirect", {"Channel": "PJSIP/1001-1", "Context": "x", "Exten": "1", "Priority": 1})
        clock.advance(seconds=4)  # a's process stalled past its lease: b takes over with term 2
        await b.step()
        await a.step()  # a learns it, stops at once
        with pytest.raises(NotSent) as refused:
            await ami.send("Redirect", {"Channel": "PJSIP/1001-1", "Context": "x", "Exten": "1", "Priority": 1})
    finally:
        await ami.close()
    assert (a.role, b.role, b.term) == ("standby", "leader", 2)
    assert refused.value.error_id == "not-leader"
    assert not ami.connected
    redirects = fake_ami.actions("Redirect")
    assert len(redirects) == 1  # the refused one never left the gateway
    assert redirects[0]["ActionID"].startswith("a/t1/")


async def test_a_leader_that_cannot_renew_stops_acting_at_its_local_deadline() -> None:
    local = Monotonic()

    class FailingStore:
        calls = 0

        async def claim(self, scope: str, instance: str, url: str | None, term: int | None) -> Claim:
            self.calls += 1
            if self.calls == 1:
                return _granted(instance)
            raise ConnectionError("database unreachable")

    leadership = Leadership(SCOPE, "a", None, lease_seconds=3.0, renew_interval=1.0, monotonic=local)
    leadership.store = FailingStore()  # type: ignore[assignment]
    deposed: list[str] = []

    async def on_deposed() -> None:
        deposed.append("ami closed")

    leadership.on_deposed(on_deposed)
    await leadership.step()
    local.now += 1.0
    await leadership.step()  # renewal fails, but the lease may still be ours: keep acting
    still_leading = leadership.check()
    local.now += 1.6  # 2.6 s after the last successful renewal: within the 0.5 s margin of the 3 s lease
    refused_before_any_step = leadership.check()
    await leadership.step()
    assert still_leading is None
    assert refused_before_any_step is not None
    assert deposed == ["ami closed"]


def _granted(instance: str) -> Claim:
    from gateway.leadership.lease import Holder

    return Claim(1, Holder(instance, 1, None, datetime(2026, 12, 4, tzinfo=UTC), live=True))


async def test_clock_driven_jobs_marked_leader_only_run_on_the_leader_alone() -> None:
    ran: list[str] = []
    leading = False
    timers = Timers()

    async def job(name: str) -> None:
        ran.append(name)

    timers.add("sla-escalation", lambda: job("sla-escalation"), leader_only=True)
    timers.add("surveys-replies", lambda: job("surveys-replies"))
    timers.gate = lambda: leading
    await timers.run_once()
    leading = True
    await timers.run_once()
    assert ran == ["surveys-replies", "sla-escalation", "surveys-replies"]
