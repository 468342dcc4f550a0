"""What keeps callers off the store's time: the repeat-caller index, batched session writes, the
health answer from the last probe."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from ivr.batch import Batch
from ivr.recent import RecentCalls
from ivr.service import IvrService
from ivr.store import IvrStore
from tests.ivr.conftest import Ivr
from tests.ivr.fake_asterisk import FakeCaller

CALLER = "+8613800138000"


# ---- RecentCalls --------------------------------------------------------------------------------

def test_recent_calls_count_within_the_window_and_forget_older_ones(clock) -> None:
    recent = RecentCalls(timedelta(minutes=60), clock)
    start = clock.now
    recent.load([(CALLER, start - timedelta(minutes=90)), (CALLER, start - timedelta(minutes=30))])
    recent.add(CALLER, start)
    assert recent.count(CALLER, start - timedelta(minutes=60)) == 2
    assert recent.count("+8613900139000", start - timedelta(minutes=60)) == 0
    clock.advance(minutes=45)
    assert recent.count(CALLER, clock.now - timedelta(minutes=60)) == 1
    clock.advance(hours=2)
    assert recent.count(CALLER, clock.now - timedelta(minutes=60)) == 0
    assert len(recent) == 0  # numbers that stopped calling take no memory


def test_a_long_call_ending_after_a_short_one_keeps_the_order(clock) -> None:
    recent = RecentCalls(timedelta(minutes=60), clock)
    recent.add(CALLER, clock.now)
    recent.add(CALLER, clock.now - timedelta(minutes=70))  # started before the window, ended now
    recent.add(CALLER, clock.now - timedelta(minutes=10))
    assert recent.count(CALLER, clock.now - timedelta(minutes=60)) == 2


class CountingStore(IvrStore):
    ticket_reads = 0

    async def tickets_opened(self, caller: str, since: Any) -> int:
        self.ticket_reads += 1
        return await super().tickets_opened(caller, since)


@pytest.fixture
def store_cls() -> type[IvrStore]:
    return CountingStore


async def test_below_the_threshold_the_rule_never_reads_the_store(ivr: Ivr, clock) -> None:
    for _ in range(4):
        await FakeCaller().call(ivr.port)
        clock.advance(minutes=1)
    assert ivr.store.ticket_reads == 0  # type: ignore[attr-defined]
    fifth = await FakeCaller().call(ivr.port)
    assert fifth.variables["HOTLINE_QUEUE"] == "hotline-supervisor"
    assert ivr.store.ticket_reads == 1  # type: ignore[attr-defined]


async def test_a_restarted_server_remembers_the_calls_in_the_table(ivr: Ivr, clock) -> None:
    for _ in range(4):
        await FakeCaller().call(ivr.port)
        clock.advance(minutes=1)
    await ivr.settle()
    await ivr.service.stop()

    restarted = IvrService(ivr.service.deps, host="127.0.0.1", port=0)
    restarted.deps.recent_calls = RecentCalls(timedelta(minutes=60), clock)  # a new process: empty memory
    await restarted.start(set())
    try:
        fifth = await FakeCaller().call(restarted.server.port)
        assert fifth.variables["HOTLINE_QUEUE"] == "hotline-supervisor"
    finally:
        await restarted.stop()


async def test_emergencies_are_not_counted_as_repeat_calls(ivr: Ivr, clock) -> None:
    for _ in range(4):
        await FakeCaller(keys={"greeting": "9"}).call(ivr.port)
    assert ivr.service.deps.recent_calls.count(CALLER, clock.now - timedelta(hours=1)) == 0
    await FakeCaller().call(ivr.port)
    assert ivr.service.deps.recent_calls.count(CALLER, clock.now - timedelta(hours=1)) == 1


# ---- batched session writes ---------------------------------------------------------------------

async def test_writes_arriving_together_go_in_one_batch_and_each_gets_its_result() -> None:
    batches: list[list[int]] = []

    async def write_many(items: list[int]) -> list[int]:
        batches.append(items)
        await asyncio.sleep(0.01)
        return [item * 10 for item in items]

    batch: Batch[int, int] = Batch(write_many, max_size=3)
    results = await asyncio.gather(*(batch.add(i) for i in range(5)))
    assert results == [0, 10, 20, 30, 40]
    assert batches == [[0, 1, 2], [3, 4]]
    assert await batch.add(7) == 70  # a lone write goes at once
    assert batches[-1] == [7]


async def test_a_failed_batch_fails_each_write_so_each_can_be_retried() -> None:
    async def write_many(items: list[str]) -> list[str]:
        raise ConnectionError("database unreachable")

    batch: Batch[str, str] = Batch(write_many)
    results = await asyncio.gather(batch.add("a"), batch.add("b"), return_exceptions=True)
    assert all(isinstance(r, ConnectionError) for r in results)


async def test_sessions_of_a_burst_are_all_saved(ivr: Ivr) -> None:
    callers = [FakeCaller(callerid=f"1390013{i:04d}", linkedid=f"1763600100.{i}") for i in range(40)]
    await asyncio.gather(*(c.call(ivr.port) for c in callers))
    sessions = await ivr.sessions()
    assert sorted(s.linkedid for s in sessions) == sorted(c.linkedid for c in callers)
    assert len({s.id for s in sessions}) == 40


# ---- the health answer ----------------------------------------------------------------------------

async def test_the_health_answer_is_the_last_probe_and_is_refreshed_in_the_background(ivr: Ivr) -> None:
    store = IvrStore(ivr.store.sessions, ivr.tickets, health_ttl=0.0)
    assert await store.reachable()  # the first answer waits for a probe

    async def unreachable() -> bool:
        store._healthy = False
        return False

    store._ping = unreachable  # type: ignore[method-assign]
    assert await store.reachable()  # still the last answer: no caller waits for the new probe
    await asyncio.sleep(0)
    assert not await store.reachable()
    await store.close()
