"""Recent voice-entry calls per number, in memory, for the repeat-caller rule.

The rule used to count earlier calls with a SELECT on ``ivr_sessions`` while the caller waited. On
SQLite there is one pooled connection, so under a burst that read queued behind hundreds of session
writes (p99 ≈ 1 s in ``hotline bench ivr``). The count now comes from this index: rebuilt from the
table at start-up and updated as every call ends, so the rule costs a dictionary lookup.

Several gateway instances: each instance counts the calls it answered itself (plus what was in the
table when it started). Behind a load balancer spreading one number's calls over N instances the rule
is N times more lenient; it never limits a caller wrongly.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

SWEEP_EVERY = 1000  # calls between sweeps dropping numbers that have not called within the window


class RecentCalls:
    def __init__(self, window: timedelta, clock: Callable[[], datetime]) -> None:
        self.window = window
        self.clock = clock
        self._calls: dict[str, deque[datetime]] = {}
        self._added = 0

    def __len__(self) -> int:
        return len(self._calls)

    def load(self, calls: Iterable[tuple[str, datetime]]) -> None:
        """Start-up: the (caller, started_at) rows of the window, in any order."""
        for caller, at in sorted(calls, key=lambda row: row[1]):
            self._calls.setdefault(caller, deque()).append(at)

    def add(self, caller: str, at: datetime) -> None:
        calls = self._calls.setdefault(caller, deque())
        calls.append(at)
        if len(calls) > 1 and calls[-2] > at:  # rare: a long call ending after a later short one
            self._calls[caller] = deque(sorted(calls))
        self._added += 1
        if self._added % SWEEP_EVERY == 0:
            self._sweep()

    def count(self, caller: str, since: datetime) -> int:
        """Calls from ``caller`` that started at or after ``since``."""
        calls = self._calls.get(caller)
        if not calls:
            return 0
        self._prune(caller, calls)
        return sum(1 for at in calls if at >= since)

    def _prune(self, caller: str, calls: deque[datetime]) -> None:
        oldest = self.clock() - self.window
        while calls and calls[0] < oldest:
            calls.popleft()
        if not calls:
            del self._calls[caller]

    def _sweep(self) -> None:
        for caller, calls in list(self._calls.items()):
            self._prune(caller, calls)
