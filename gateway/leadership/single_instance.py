"""SQLite deployments are single-instance: a second gateway on the same database file is refused.

SQLite has one writer and no way for two processes to share a lease safely over it, so there is no
standby on SQLite: run PostgreSQL for two instances. The refusal is an exclusive ``flock`` on a file
beside the database, which the kernel releases when the process dies (kill -9 included).
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

from aiohttp import web

from gateway.appkeys import SETTINGS
from gateway.errors import ConfigError

log = logging.getLogger(__name__)


def sqlite_file(database_url: str) -> Path | None:
    prefix = "sqlite+aiosqlite:///"
    if not database_url.startswith(prefix) or ":memory:" in database_url:
        return None
    return Path(database_url.removeprefix(prefix).split("?", 1)[0])


@contextlib.contextmanager
def exclusive(database: Path) -> Iterator[None]:
    lock_path = database.with_name(database.name + ".instance.lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ConfigError(
                f"another gateway instance is already serving the SQLite database {database}: a SQLite "
                "deployment runs exactly one instance (for an active/standby pair use PostgreSQL, db.url)"
            ) from None
        yield
    finally:
        os.close(fd)  # closing the descriptor drops the lock


async def single_instance_ctx(app: web.Application) -> AsyncIterator[None]:
    database = sqlite_file(app[SETTINGS].database_url)
    if database is None:
        yield
        return
    with exclusive(database):
        log.info("SQLite database: single instance (no standby; run PostgreSQL for an active/standby pair)")
        yield
