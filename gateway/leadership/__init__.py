"""Active/standby gateway instances per Asterisk (README.md here): the lease, the fence, forwarding.

``setup(app)`` (composition root, before the database context): on PostgreSQL builds the ``Leadership``
(``app[LEADERSHIP]``) whose lease loop ``leadership_ctx`` starts once everything else is wired; on SQLite
installs the single-instance lock instead. ``bind_ami`` (called by gateway/calls) hands the AMI client
and call model to it: connect on election, fence every action, disconnect on deposition.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING

import aiohttp
from aiohttp import web
from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from gateway.appkeys import READINESS, SESSIONS, SETTINGS
from gateway.config import Settings
from gateway.errors import ConfigError
from gateway.leadership.forward import CLIENT
from gateway.leadership.keys import LEADERSHIP
from gateway.leadership.lease import LeaseStore
from gateway.leadership.service import Leadership, new_instance_id
from gateway.leadership.single_instance import single_instance_ctx, sqlite_file

if TYPE_CHECKING:  # gateway/calls imports this package: no import back at run time
    from gateway.bus import EventBus
    from gateway.calls.ami import AmiClient
    from gateway.calls.model import CallModel

__all__ = ["LEADERSHIP", "Leadership", "bind_ami", "setup"]

log = logging.getLogger(__name__)


def enabled(settings: Settings) -> bool:
    on_postgres = settings.database_url.startswith("postgresql")
    wanted = settings.leadership.enabled
    if wanted and not on_postgres:
        raise ConfigError("leadership.enabled needs PostgreSQL (db.url): a SQLite deployment is single-instance")
    return on_postgres if wanted is None else wanted


def scope_of(settings: Settings) -> str:
    return settings.leadership.scope or f"ami:{settings.ami.host}:{settings.ami.port}"


def advertised_url(settings: Settings) -> str:
    if settings.leadership.advertise_url:
        return settings.leadership.advertise_url
    host = settings.http.host
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else "[::1]" if host == "::" else host
    return f"http://{shown}:{settings.http.port}"


def setup(app: web.Application, registry: CollectorRegistry) -> None:
    settings = app[SETTINGS]
    if sqlite_file(settings.database_url) is not None:
        app.cleanup_ctx.append(single_instance_ctx)
    leadership = None
    if enabled(settings):
        conf = settings.leadership
        leadership = app[LEADERSHIP] = Leadership(
            scope_of(settings),
            new_instance_id(),
            advertised_url(settings),
            lease_seconds=conf.lease_seconds,
            renew_interval=conf.renew_interval,
        )
    registry.register(LeadershipGauges(scope_of(settings), leadership))


async def leadership_ctx(app: web.Application) -> AsyncIterator[None]:
    """Starts the lease loop last (every capability has registered its callbacks); stops it first."""
    leadership = app.get(LEADERSHIP)
    if leadership is None:
        yield
        return
    conf = app[SETTINGS].leadership
    app[CLIENT] = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=conf.forward_timeout))

    async def probe() -> str | None:
        return None  # role is information, not a fault: /readyz shows it beside the checks

    app[READINESS]["leadership"] = probe
    leadership.start(LeaseStore(app[SESSIONS], conf.lease_seconds))
    log.info(
        "leadership: instance %s (%s) competes for %s; lease %.1f s renewed every %.1f s",
        leadership.instance,
        leadership.url,
        leadership.scope,
        conf.lease_seconds,
        conf.renew_interval,
    )
    yield
    await leadership.stop()
    await app[CLIENT].close()


def bind_ami(leadership: Leadership, ami: AmiClient, model: CallModel, bus: EventBus) -> None:
    """The leader alone talks to Asterisk: connect on election (LINK_UP → the pipeline's resync), refuse
    every action once the lease may have lapsed, disconnect on deposition and forget the call picture."""
    ami.fence = leadership.check
    leadership.needs_sync = True

    def caught_up(_event: object) -> None:
        leadership.synced = True

    bus.subscribe("pbx.resynced", caught_up)

    async def elected(term: int) -> None:
        while not ami.events.empty():  # events of an earlier term must not reach the new picture
            ami.events.get_nowait()
        model.forget()
        ami.action_tag = f"{leadership.instance}/t{term}"
        ami.start()

    async def deposed() -> None:
        await ami.close()
        model.forget()

    leadership.on_elected(elected)
    leadership.on_deposed(deposed)


class LeadershipGauges(Collector):
    """Live (not cached): role and term matter most exactly when they change. A single instance (SQLite,
    or leadership switched off) leads by definition: ``hotline_leader`` 1 and no term."""

    def __init__(self, scope: str, leadership: Leadership | None) -> None:
        self.scope = scope
        self.leadership = leadership

    def collect(self) -> Iterator[Metric]:
        leadership = self.leadership
        leader = GaugeMetricFamily(
            "hotline_leader", "1 on the instance that drives Asterisk, 0 on a standby", labels=["scope"]
        )
        leader.add_metric([self.scope], 1.0 if leadership is None else float(leadership.is_leader))
        yield leader
        if leadership is None:
            return
        term = leadership.describe()["term"]
        if isinstance(term, int):
            family = GaugeMetricFamily(
                "hotline_leader_term",
                "The leadership term (fencing token) this instance leads, or the last it saw a leader hold",
                labels=["scope"],
            )
            family.add_metric([self.scope], float(term))
            yield family
        elections = GaugeMetricFamily(
            "hotline_leader_elections", "Times this instance became the leader", labels=["scope"]
        )
        elections.add_metric([self.scope], float(leadership.elections))
        yield elections
