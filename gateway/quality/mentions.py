"""Places, times and people in a text, by the understanding layer's own tools (LAC, the place finder
and the time parser): what the citizen said is compared with what the ticket holds by the same reading."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from gateway.quality.checks import Mentions

_WIDE = ("province", "city", "county")
# Months named relative to the call (the time parser gives them no interval): 上个月 said, 上月 written.
_MONTH_OFFSET = {"上个月": -1, "上月": -1, "这个月": 0, "这月": 0, "本月": 0, "当月": 0, "下个月": 1, "下月": 1}


def _month(word: str, call_time: datetime) -> tuple[str, str] | None:
    offset = _MONTH_OFFSET.get(word)
    if offset is None:
        return None
    index = call_time.year * 12 + call_time.month - 1 + offset
    first = call_time.replace(year=index // 12, month=index % 12 + 1, day=1, hour=0, minute=0, second=0,
                              microsecond=0)
    nxt = first.replace(year=(index + 1) // 12, month=(index + 1) % 12 + 1)
    return first.isoformat(), (nxt - timedelta(seconds=1)).isoformat()


def _most_specific(place: dict[str, object]) -> str:
    """The narrowest level the finder read well (a road read as "的路" is not one): the part of the place
    a ticket must carry — the township alone does not say which community or building."""
    levels = place.get("levels") or {}
    assert isinstance(levels, dict)
    named = [str(v) for k, v in levels.items() if k not in _WIDE and len(str(v)) >= 2 and not str(v).startswith("的")]
    return named[-1] if named else str(place["text"])


class MentionFinder:
    """Loads LAC and the gazetteer on first use (seconds), then is safe to call from worker threads.
    In the gateway ``tools`` hands over the process's one understanding pipeline's (a second LAC copy would
    cost its memory again); the CLI, alone in its process, loads its own."""

    def __init__(self, timezone: str = "Asia/Shanghai",
                 tools: Callable[[], tuple[object, object]] | None = None) -> None:
        self.zone = ZoneInfo(timezone)
        self._lock = threading.Lock()
        self._loaded: tuple[object, object] | None = None
        self._shared = tools

    def _tools(self) -> tuple[object, object]:
        if self._shared is not None:
            return self._shared()
        with self._lock:
            if self._loaded is None:
                from gateway.understanding.dispatch import ResponsibilityList
                from gateway.understanding.ner import Tagger
                from gateway.understanding.places import Gazetteer, PlaceFinder
                from gateway.understanding.taxonomy import Taxonomy

                duties = ResponsibilityList.load(None, Taxonomy.load(None))
                self._loaded = (Tagger(), PlaceFinder(Gazetteer(duties.region)))
            return self._loaded

    def __call__(self, text: str, call_time: datetime) -> Mentions:
        from gateway.understanding.places import find_times

        tagger, places = self._tools()
        tokens = tagger.tag(text)  # type: ignore[attr-defined]
        place = places.find(text, tokens)  # type: ignore[attr-defined]
        times = find_times(text, tokens, call_time, self.zone)
        people = [t.word for t in tokens if t.tag == "PER" and len(t.word) >= 2]
        return Mentions(places=[_most_specific(place.as_dict())] if place is not None else [],
                        times=[t.text for t in times], people=people,
                        intervals=[tuple(t.instant) if t.instant else _month(t.text, call_time.astimezone(self.zone))
                                   for t in times])
