"""Opening a listening port: a port that is taken or not allowed stops start-up with one plain line."""

from __future__ import annotations

import contextlib
import errno
from collections.abc import Iterator

from gateway.errors import ConfigError

_WHY = {errno.EADDRINUSE: "the port is already in use (another gateway on this host?)",
        errno.EACCES: "not allowed to listen there (ports below 1024 need privileges)",
        errno.EADDRNOTAVAIL: "that address is not one of this host's"}


@contextlib.contextmanager
def bind_errors(what: str, host: str, port: int, setting: str, hint: str = "") -> Iterator[None]:
    """``setting`` is the key to change (``ivr.port``); its environment name is derived from it."""
    try:
        yield
    except OSError as exc:
        if exc.errno not in _WHY:
            raise
        env = "HOTLINE_" + setting.upper().replace(".", "__")
        raise ConfigError(f"cannot listen on {host}:{port} for {what}: {_WHY[exc.errno]}; "
                          f"change {setting} in the config file or {env}{hint}") from None
