"""Per-token request budgets: a token bucket per key, in memory, per instance.

Listing and searching tickets is how personal data would be scraped or guessed at (one filter value
per request), so those endpoints spend from a budget per API token. In memory is enough: the point is to
make thousands of requests take minutes, not to count exactly across instances.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from gateway.errors import TooManyRequests

MAX_KEYS = 10_000  # tokens remembered; the fullest buckets are dropped first (they are back to burst anyway)


class TokenBuckets:
    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.burst, self.clock = rate, burst, clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key → (tokens, at)

    def take(self, key: str) -> None:
        """Spend one request of ``key``'s budget, or raise 429 saying when the next one is allowed."""
        now = self.clock()
        tokens, at = self._buckets.get(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - at) * self.rate)
        if tokens < 1:
            wait = (1 - tokens) / self.rate
            self._buckets[key] = (tokens, now)
            raise TooManyRequests(f"too many requests with this token; try again in {math.ceil(wait)} s",
                                  error_id="rate-limited", retry_after=math.ceil(wait))
        self._buckets[key] = (tokens - 1, now)
        if len(self._buckets) > MAX_KEYS:
            self._forget_full(now)

    def _forget_full(self, now: float) -> None:
        for key, (tokens, at) in list(self._buckets.items()):
            if tokens + (now - at) * self.rate >= self.burst:
                del self._buckets[key]
