"""The leadership lease: one holder per scope, a term that grows with each new holder, expiry by the clock."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.db import session_factory
from gateway.leadership.lease import LeaseStore
from tests.tickets.support import FakeClock

SCOPE = "ami:127.0.0.1:5038"


def store(engine: AsyncEngine, clock: FakeClock) -> LeaseStore:
    return LeaseStore(session_factory(engine), lease_seconds=3.0, clock=clock)


def start() -> FakeClock:
    return FakeClock(datetime(2026, 12, 4, 8, 0, tzinfo=UTC))


async def test_the_first_claim_takes_term_one_and_a_second_instance_stays_standby(engine: AsyncEngine) -> None:
    clock = start()
    leases = store(engine, clock)
    a = await leases.claim(SCOPE, "a", "http://a:8345", None)
    b = await leases.claim(SCOPE, "b", "http://b:8345", None)
    assert a.term == 1
    assert b.term is None
    assert (b.holder.instance, b.holder.term, b.holder.url, b.holder.live) == ("a", 1, "http://a:8345", True)


async def test_renewal_keeps_the_term_and_pushes_the_expiry_on(engine: AsyncEngine) -> None:
    clock = start()
    leases = store(engine, clock)
    first = await leases.claim(SCOPE, "a", None, None)
    clock.advance(seconds=2)
    renewed = await leases.claim(SCOPE, "a", None, first.term)
    clock.advance(seconds=2)  # 4 s after the first claim, 2 s after the renewal
    other = await leases.claim(SCOPE, "b", None, None)
    assert renewed.term == first.term == 1
    assert renewed.holder.expires_at > first.holder.expires_at
    assert other.term is None


async def test_a_lapsed_lease_goes_to_the_standby_with_a_new_term_and_the_old_holder_cannot_renew(
    engine: AsyncEngine,
) -> None:
    clock = start()
    leases = store(engine, clock)
    await leases.claim(SCOPE, "a", None, None)
    clock.advance(seconds=3.01)
    b = await leases.claim(SCOPE, "b", "http://b:8345", None)
    late = await leases.claim(SCOPE, "a", None, 1)
    assert b.term == 2
    assert late.term is None
    assert (late.holder.instance, late.holder.term) == ("b", 2)


async def test_a_holder_that_renews_too_late_gets_a_new_term_even_when_nobody_else_came(engine: AsyncEngine) -> None:
    clock = start()
    leases = store(engine, clock)
    await leases.claim(SCOPE, "a", None, None)
    clock.advance(seconds=5)
    again = await leases.claim(SCOPE, "a", None, 1)
    assert again.term == 2  # whatever it did under term 1 after its deadline is distinguishable


async def test_release_hands_the_lease_over_at_once_and_only_by_its_holder(engine: AsyncEngine) -> None:
    clock = start()
    leases = store(engine, clock)
    await leases.claim(SCOPE, "a", None, None)
    assert not await leases.release(SCOPE, "b", 1)  # not b's lease
    assert not await leases.release(SCOPE, "a", 7)  # not a's term
    assert (await leases.claim(SCOPE, "b", None, None)).term is None
    assert await leases.release(SCOPE, "a", 1)
    taken = await leases.claim(SCOPE, "b", None, None)
    assert taken.term == 2


async def test_scopes_are_independent(engine: AsyncEngine) -> None:
    clock = start()
    leases = store(engine, clock)
    one = await leases.claim("ami:pbx1:5038", "a", None, None)
    two = await leases.claim("ami:pbx2:5038", "b", None, None)
    assert (one.term, two.term) == (1, 1)
    current = await leases.current("ami:pbx2:5038")
    assert current is not None and current.instance == "b"
    assert await leases.current("ami:none:5038") is None
