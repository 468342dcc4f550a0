"""Which lower-level errors mean "the database is unreachable" (JSON 503 ``database-unavailable``, retry later)
and which are bugs (500): found by stopping PostgreSQL under load (tests/api/test_kill_under_load.py)."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import DBAPIError

from gateway.http.errors import as_hotline_error

asyncpg = pytest.importorskip("asyncpg")


class AdapterError(Exception):
    """Stands in for SQLAlchemy's asyncpg adapter error, which the driver's error is raised from."""


def wrapped(driver_error: BaseException) -> DBAPIError:
    try:
        try:
            raise driver_error
        except Exception as exc:
            raise AdapterError(str(exc)) from exc
    except AdapterError as adapter:
        return DBAPIError("SELECT 1", {}, adapter)


@pytest.mark.parametrize("driver_error", [
    asyncpg.CannotConnectNowError("the database system is shutting down"),
    asyncpg.AdminShutdownError("terminating connection due to administrator command"),
    asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
])
def test_a_connection_refused_or_cut_by_a_stopping_server_is_a_503(driver_error: BaseException) -> None:
    error = as_hotline_error(wrapped(driver_error))
    assert error is not None and (error.status, error.error_id) == (503, "database-unavailable")


def test_a_wrong_statement_is_not_mistaken_for_an_outage() -> None:
    assert as_hotline_error(wrapped(asyncpg.UndefinedColumnError("column x does not exist"))) is None
