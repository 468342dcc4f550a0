"""One understanding pipeline per process (LAC, the gazetteer, the classifier: ~250 MiB), shared by the
live drafts, hot issues and 并案 candidates — a second copy would cost its memory again.

Loaded on first need, in a worker thread (seconds; the first run ever also trains the model).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from gateway.understanding.pipeline import Understander


def load_understander(data_dir: Path, timezone: str) -> Understander:
    from gateway.understanding.pipeline import Understander

    return Understander.load(data_dir=data_dir, timezone=timezone)


class SharedUnderstanding:
    def __init__(self, loader: Callable[[], Understander]) -> None:
        self._loader = loader
        self._lock = threading.Lock()  # the speech text thread and the default executor may both ask
        self._loaded: Understander | None = None

    @classmethod
    def for_deployment(cls, data_dir: Path, timezone: str) -> SharedUnderstanding:
        return cls(partial(load_understander, data_dir, timezone))

    def load(self) -> Understander:
        """Blocking: call from a worker thread."""
        with self._lock:
            if self._loaded is None:
                self._loaded = self._loader()
            return self._loaded

    async def get(self) -> Understander:
        if self._loaded is not None:
            return self._loaded
        return await asyncio.get_running_loop().run_in_executor(None, self.load)

    @property
    def loaded(self) -> Understander | None:
        return self._loaded


UNDERSTANDING = web.AppKey("understanding", SharedUnderstanding)
