"""The durable-jobs worker (gateway/jobs): a failing step is retried by the same loop — its error logged,
never an unretrieved task exception — and a standby instance leaves the work to the leader."""

from __future__ import annotations

import asyncio
import itertools

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


async def test_a_backlog_is_worked_at_no_more_than_the_workers_duty_share_of_the_time() -> None:
    # Background reading (hot issues) must leave the request path most of the process: with duty 1/3 a
    # batch of t seconds is followed by a rest of at least 2t before the next batch starts.
    loop = asyncio.get_running_loop()
    spans: list[tuple[float, float]] = []
    batches = [1, 1, 1, 0]
    drained = asyncio.Event()

    async def step() -> int:
        started = loop.time()
        await asyncio.sleep(0.02)  # the batch's work
        spans.append((started, loop.time()))
        if len(spans) == len(batches):
            drained.set()
        return batches[len(spans) - 1]

    worker = BatchWorker("test", step, interval=3600, duty=1 / 3)
    worker.start()
    try:
        await asyncio.wait_for(drained.wait(), 30)
    finally:
        await worker.stop()
    for (start, end), (next_start, _) in itertools.pairwise(spans):
        assert next_start - end >= 2 * (end - start) * 0.99


async def test_draining_on_demand_is_not_paced() -> None:
    batches = [5, 5, 0]

    async def step() -> int:
        await asyncio.sleep(0.01)
        return batches.pop(0)

    worker = BatchWorker("test", step, duty=0.001)  # paced, each batch would be followed by a 10 s rest
    assert await asyncio.wait_for(worker.run_until_idle(), 5) == 10


async def test_two_first_runs_of_a_job_at_once_share_one_cursor(engine) -> None:
    # Two instances (or the CLI draining beside the timer) running a job for the first time both find no
    # cursor row; neither may fail on the other's insert.
    from datetime import UTC, datetime

    from sqlalchemy import func, select
    from sqlalchemy.ext.asyncio import async_sessionmaker

    from gateway.jobs.models import JobCursor, lock_cursor

    sessions = async_sessionmaker(engine, expire_on_commit=False)

    async def first_run(position: int) -> None:
        async with sessions() as session, session.begin():
            cursor = await lock_cursor(session, "new-job", datetime.now(UTC))
            cursor.position = max(cursor.position, position)

    if engine.dialect.name == "sqlite":  # one writer: the runs take turns anyway
        for position in (3, 5):
            await first_run(position)
    else:
        await asyncio.gather(first_run(3), first_run(5))
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(JobCursor)) == 1
        assert await session.scalar(select(JobCursor.position)) == 5
