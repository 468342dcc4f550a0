"""The durable-jobs worker (gateway/jobs): a failing step is retried by the same loop — its error logged,
never an unretrieved task exception — and a standby instance leaves the work to the leader."""

from __future__ import annotations

import asyncio

from gateway.jobs.worker import BatchWorker


async def test_a_failing_step_is_retried_and_the_loop_lives_on() -> None:
    outcomes: list[int | Exception] = [ConnectionError("database down"), ConnectionError("still down"), 3, 0]
    done = asyncio.Event()

    async def step() -> int:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        if not outcomes:
            done.set()
        return outcome

    worker = BatchWorker("test", step, interval=0.001, max_backoff=0.01)
    worker.start()
    try:
        await asyncio.wait_for(done.wait(), 30)
    finally:
        await worker.stop()
    assert outcomes == [] and worker.failures == 0


async def test_a_standby_instance_does_not_run_the_step() -> None:
    ran: list[int] = []
    leading = asyncio.Event()

    async def step() -> int:
        ran.append(1)
        leading.set()
        return 0

    worker = BatchWorker("test", step, interval=0.001)
    is_leader = False
    worker.gate = lambda: is_leader
    worker.start()
    try:
        for _ in range(20):  # several ticks as standby
            worker.wake()
            await asyncio.sleep(0.005)
        assert ran == []
        is_leader = True
        await asyncio.wait_for(leading.wait(), 30)
    finally:
        await worker.stop()
    assert ran
