"""Prometheus metrics: one registry per application, served at /metrics.

Besides the app's own counters, /metrics carries prometheus_client's default registry: the standard
process metrics (process_*, python_gc_*, python_info) and the speech capability's counters, which are
registered there (gateway/speech/metrics.py). The gauges an operator pages on are computed at scrape
time by gateway/gauges.py. ``*_created`` series (one per counter and histogram, the time it was made)
are switched off: nobody alerts on them and they double the size of every scrape.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from aiohttp import web
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, disable_created_metrics, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from gateway.bus import DomainEvent
from gateway.gauges import OPERATOR_GAUGES
from gateway.http.api import authorize
from gateway.http.errors import Handler


class ProcessWide(Collector):
    """What the process-wide default registry holds, served through the app's registry."""

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        disable_created_metrics()  # process-wide switch of prometheus_client; idempotent
        self.registry = registry or CollectorRegistry()
        self.registry.register(ProcessWide())
        self.http_requests = Counter("hotline_http_requests_total", "HTTP requests by route and status",
                                     ["method", "route", "status"], registry=self.registry)
        self.http_latency = Histogram("hotline_http_request_seconds", "HTTP request latency", ["method", "route"],
                                      registry=self.registry,
                                      buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5))
        self.ticket_events = Counter("hotline_ticket_events_total", "Ticket lifecycle events by kind", ["kind"],
                                     registry=self.registry)

    def on_event(self, event: DomainEvent) -> None:
        self.ticket_events.labels(event.kind).inc()


METRICS = web.AppKey("metrics", Metrics)


UNCOUNTED = frozenset({"/healthz"})  # liveness probes: frequent, uninteresting, and meant to cost nothing


@web.middleware
async def metrics_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path in UNCOUNTED:
        return await handler(request)
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    finally:
        resource = request.match_info.route.resource
        route = resource.canonical if resource is not None else "unmatched"
        metrics = request.app[METRICS]
        metrics.http_requests.labels(request.method, route, str(status)).inc()
        metrics.http_latency.labels(request.method, route).observe(time.perf_counter() - started)


async def metrics_handler(request: web.Request) -> web.Response:
    """Prometheus scrape: an admin token with the "ops" scope (Prometheus ``authorization:
    credentials_file``)."""
    authorize(request, ("admin",), "ops")
    gauges = request.app.get(OPERATOR_GAUGES)
    if gauges is not None:
        await gauges.refresh()
    body = generate_latest(request.app[METRICS].registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
