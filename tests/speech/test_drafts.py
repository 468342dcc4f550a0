"""Duplicate (并案) candidates from open tickets and hotspot (热点) warnings across calls."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gateway.speech.drafts import Candidate, DraftBuilder, HotspotDetector
from gateway.speech.extract import Segmenter
from gateway.speech.lexicon import Lexicon, ResponsibilityList


class FakeOpenTickets:
    """What the ticket store will implement: open tickets like this matter."""

    def __init__(self, candidates: list[Candidate], *, fail: bool = False) -> None:
        self.candidates = candidates
        self.fail = fail
        self.asked: list[tuple[str | None, str | None, str]] = []

    async def similar(self, caller: str | None, place: str | None, text: str) -> list[Candidate]:
        self.asked.append((caller, place, text))
        if self.fail:
            raise ConnectionError("store down")
        return self.candidates


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(scope="module")
def parts() -> dict[str, object]:
    return {"lexicon": Lexicon.load(), "duties": ResponsibilityList.load(), "segmenter": Segmenter()}


async def test_open_tickets_at_the_same_place_become_merge_candidates(parts) -> None:
    lookup = FakeOpenTickets(
        [
            Candidate("T-2", "same-place-and-matter", 82.0, "幸福路路灯不亮"),
            Candidate("T-1", "same-caller", 100.0),
        ]
    )
    builder = DraftBuilder(**parts, lookup=lookup)
    draft = await builder.build("城关镇幸福路二十三号的路灯坏了", call_key="c1", caller="13800000000")
    assert lookup.asked == [("13800000000", "城关镇幸福路23号", "城关镇幸福路二十三号的路灯坏了")]
    duplicate = draft.flags["duplicate"]
    assert [c["ticket_id"] for c in duplicate.value] == ["T-1", "T-2"]  # best first
    assert duplicate.evidence[0].text == "城关镇幸福路二十三号"


async def test_a_failing_ticket_store_does_not_lose_the_draft(
    parts, caplog: pytest.LogCaptureFixture
) -> None:
    builder = DraftBuilder(**parts, lookup=FakeOpenTickets([], fail=True))
    draft = await builder.build("幸福路的路灯坏了", call_key="c1")
    assert "duplicate" not in draft.flags
    assert draft.unit is not None
    assert "open-ticket lookup failed" in caplog.text


async def test_many_similar_drafts_in_the_window_make_a_hotspot(parts) -> None:
    clock = Clock()
    alerts: list[list[str]] = []
    builder = DraftBuilder(
        **parts,
        hotspots=HotspotDetector(threshold=3, clock=clock),
        on_hotspot=lambda calls, draft: alerts.append(calls),
    )
    said = ["幸福路的路灯坏了", "我投诉一下幸福路路灯不亮", "幸福路上路灯坏了好几天了"]
    drafts = []
    for n, text in enumerate(said):
        drafts.append(await builder.build(text, call_key=f"call-{n}"))
        clock.now += timedelta(minutes=1)
    assert "hotspot" not in drafts[0].flags and "hotspot" not in drafts[1].flags
    assert drafts[2].flags["hotspot"].value["similar_calls"] == ["call-0", "call-1", "call-2"]
    assert alerts == [["call-0", "call-1", "call-2"]]


async def test_a_call_counts_once_and_old_drafts_leave_the_window(parts) -> None:
    clock = Clock()
    builder = DraftBuilder(
        **parts, hotspots=HotspotDetector(threshold=3, window=timedelta(minutes=30), clock=clock)
    )
    for _ in range(3):  # the same call's draft rebuilt as it grows
        draft = await builder.build("幸福路的路灯坏了", call_key="same-call")
    assert "hotspot" not in draft.flags
    await builder.build("幸福路路灯坏了", call_key="other")
    clock.now += timedelta(hours=1)
    draft = await builder.build("幸福路路灯坏了", call_key="late")
    assert "hotspot" not in draft.flags


async def test_different_matters_are_not_one_hotspot(parts) -> None:
    clock = Clock()
    builder = DraftBuilder(**parts, hotspots=HotspotDetector(threshold=2, clock=clock))
    await builder.build("幸福路的路灯坏了", call_key="a")
    draft = await builder.build("孩子入学需要什么材料", call_key="b")
    assert "hotspot" not in draft.flags
