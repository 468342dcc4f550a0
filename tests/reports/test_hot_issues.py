"""Hot issues are one matter in one place within the window, named as an analyst would; the worker that
finds them reads committed tickets in batches, so an outage delays it but loses and doubles nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from gateway.bus import DomainEvent
from gateway.jobs.models import JobCursor
from gateway.reports.hotspots import HotspotWatcher, members_of
from gateway.reports.models import HotspotWarning, TicketMatter
from gateway.reports.periodic import ReportBuilder
from gateway.tickets.service import TicketService
from gateway.understanding.shared import SharedUnderstanding
from tests.tickets.support import AGENT, complaint

POWER_CUT = ["翠竹苑小区从早上开始停电了，冰箱里的东西都要坏了", "我们翠竹苑这边又没电了 什么时候能来电啊",
             "喂 翠竹苑停电好几个小时了 家里有老人 热得受不了"]
LIFT = ["翠竹苑五号楼的电梯又坏了，老人下不了楼", "翠竹苑的电梯困人了好几次 物业也不修"]


def watcher(service: TicketService, understanding: SharedUnderstanding, *, threshold: int = 3,
            minutes: float = 60, sessions: Any = None) -> HotspotWatcher:
    return HotspotWatcher(sessions or service.sessions, service.bus, None, service.clock,
                          window=timedelta(minutes=minutes), threshold=threshold, understanding=understanding)


async def report(service: TicketService, location: str, texts: list[str], **extra: Any) -> list[str]:
    numbers = []
    for i, text in enumerate(texts):
        service.clock.advance(minutes=2)  # type: ignore[attr-defined]
        t = await service.create(complaint(content=text, location=location, caller_number=f"1390013{i:04d}",
                                           **extra), AGENT)
        numbers.append(t.number)
    return numbers


async def warnings(service: TicketService) -> list[tuple[HotspotWarning, list[str]]]:
    async with service.sessions() as session:
        rows = list(await session.scalars(select(HotspotWarning).order_by(HotspotWarning.id)))
        members = await members_of(session, rows)
    return [(w, members[w.id]) for w in rows]


async def test_a_cluster_is_named_as_a_matter_in_a_place_with_its_count_and_tickets(
        service: TicketService, understanding: SharedUnderstanding, events: list[DomainEvent]) -> None:
    hot = watcher(service, understanding)
    numbers = await report(service, "递铺街道翠竹苑", POWER_CUT)
    await report(service, "孝丰镇", ["社保卡补办需要带什么材料"])  # another matter, the same minutes
    await hot.drain()
    [(warning, members)] = await warnings(service)
    assert (warning.summary, warning.matter_code, warning.count) == ("递铺街道翠竹苑 电力供应", "DL01", 3)
    assert warning.place == "安吉县递铺街道翠竹苑" and members == sorted(numbers)
    more = await report(service, "翠竹苑", ["翠竹苑还是没有电"])
    await hot.drain()
    [(warning, members)] = await warnings(service)  # joins the warning: no second one
    assert warning.count == 4 and members == sorted(numbers + more)


async def test_two_matters_in_one_place_and_one_matter_in_two_places_are_separate_clusters(
        service: TicketService, understanding: SharedUnderstanding) -> None:
    hot = watcher(service, understanding, threshold=2)
    await report(service, "递铺街道翠竹苑", POWER_CUT[:2])
    await report(service, "递铺街道翠竹苑", LIFT)
    await report(service, "递铺街道金桂园", ["金桂园整个小区都停电了", "金桂园又没电了 空调都开不了"])
    await report(service, "递铺街道银杏苑", ["银杏苑停电了"])  # alone in its place: no cluster
    await hot.drain()
    assert sorted((w.summary, w.count) for w, _ in await warnings(service)) == [
        ("递铺街道翠竹苑 电力供应", 2), ("递铺街道翠竹苑 电梯等特种设备", 2), ("递铺街道金桂园 电力供应", 2)]


@pytest.mark.parametrize(("gap", "hot"), [(timedelta(minutes=60), True), (timedelta(minutes=60, seconds=1), False)])
async def test_the_window_holds_tickets_up_to_its_length_apart(
        service: TicketService, understanding: SharedUnderstanding, gap: timedelta, hot: bool) -> None:
    await service.create(complaint(content=POWER_CUT[0], location="递铺街道翠竹苑"), AGENT)
    service.clock.advance(seconds=gap.total_seconds())  # type: ignore[attr-defined]
    await service.create(complaint(content=POWER_CUT[1], location="递铺街道翠竹苑", caller_number="13900130001"),
                         AGENT)
    await watcher(service, understanding, threshold=2, minutes=60).drain()
    assert len(await warnings(service)) == (1 if hot else 0)


async def test_creating_a_ticket_writes_nothing_for_hot_issues(
        service: TicketService, understanding: SharedUnderstanding) -> None:
    watcher(service, understanding)  # wired, but its worker has not run
    await report(service, "递铺街道翠竹苑", POWER_CUT)
    async with service.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(TicketMatter)) == 0
        assert await session.scalar(select(func.count()).select_from(HotspotWarning)) == 0


class Outage:
    """The database as the worker sees it: every new session fails while it is down."""

    def __init__(self, sessions: Any) -> None:
        self.sessions = sessions
        self.down_after: int | None = None  # sessions opened before the outage starts

    def __call__(self) -> Any:
        if self.down_after is not None:
            if self.down_after <= 0:
                raise OperationalError("BEGIN", {}, ConnectionRefusedError("database is down"))
            self.down_after -= 1
        return self.sessions()


async def test_the_worker_resumes_after_an_outage_without_loss_or_double_counting(
        service: TicketService, understanding: SharedUnderstanding) -> None:
    outage = Outage(service.sessions)
    hot = watcher(service, understanding, sessions=outage)
    first = await report(service, "递铺街道翠竹苑", POWER_CUT)
    outage.down_after = 1  # it reads the new tickets, then the database goes away before it writes
    with pytest.raises(OperationalError):
        await hot.drain()
    async with service.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(TicketMatter)) == 0  # nothing half-done
    outage.down_after = None
    service.clock.advance(minutes=10)  # type: ignore[attr-defined]
    later = await report(service, "递铺街道翠竹苑", ["翠竹苑到现在还是停电"])  # created while it was away
    assert await hot.drain() == 4
    assert await hot.drain() == 0
    [(warning, members)] = await warnings(service)
    assert warning.count == 4 and members == sorted(first + later)  # judged by when they were created
    # … a restarted worker (a new process) starts from the durable cursor and counts nothing again
    service.clock.advance(minutes=5)  # type: ignore[attr-defined]
    assert await watcher(service, understanding).drain() == 0
    async with service.sessions() as session:
        cursor = await session.scalar(select(JobCursor).where(JobCursor.name == "hotspots"))
        rows = await session.scalar(select(func.count()).select_from(TicketMatter))
    assert rows == 4 and cursor is not None and cursor.position > 0
    [(warning, members)] = await warnings(service)
    assert warning.count == 4 and members == sorted(first + later)


async def test_reports_count_topics_as_matters_and_issues_as_matters_in_places(
        service: TicketService, understanding: SharedUnderstanding) -> None:
    power = await report(service, "递铺街道翠竹苑", POWER_CUT)
    await report(service, "递铺街道翠竹苑", LIFT)
    await report(service, "递铺街道金桂园", ["金桂园整个小区都停电了"], confidential=True)
    await watcher(service, understanding).drain()
    builder = ReportBuilder(platform_id="anji", level="county", excluded_categories=[])
    async with service.sessions() as session:
        data = await builder.build(session, "week", service.clock().date(), service.clock())
    assert data["volumes"]["by_topic"] == [("电力供应", 4), ("电梯等特种设备", 2)]
    assert [(i["topic"], i["count"], i["tickets"]) for i in data["top_issues"]] == [
        ("递铺街道翠竹苑 电力供应", 3, power), ("递铺街道翠竹苑 电梯等特种设备", 2, data["top_issues"][1]["tickets"])]
    assert "金桂园" not in str(data)  # a confidential ticket's place is content: counted, never named
