"""The endpoints for the platform rather than for clients: `/metrics` (Prometheus) and `/ready` (readiness).

`/ping` (app.py, API-2) says the process answers: a liveness check, no I/O. `/ready` says whether it can serve:
it runs `SELECT 1` on the database (bounded by `PAPERGRAPH_READINESS_TIMEOUT`) and reports each upstream's
circuit breaker; 200 when the database answers, 503 otherwise. An open breaker does not make the process
unready: it still answers everything that does not need that upstream, and taking every replica out of the
load balancer because one upstream is down would turn a partial outage into a full one.

`/metrics` is outside `/graphql` and its authentication; `PAPERGRAPH_METRICS_ALLOWED_NETWORKS` may restrict
it to the scraper's networks, and `PAPERGRAPH_METRICS=false` removes it. Before rendering it awaits the scrape
hooks, among them `database_hook`: the pending payment attempts are counted in the ledger at each scrape, so the
gauge is right whichever process answers and whoever (a request, `papergraph reconcile` in its own process) moved
the attempts since; a count kept per process could not see the other processes' transitions. The same query says
whether the database answers (`papergraph_database_up`); when it does not, the counts are NaN, not the last ones.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from typing import TYPE_CHECKING, Awaitable, Callable

import sqlalchemy as sa
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from datasources.db import database_unavailable
from datasources.repositories.payments import PaymentRepository
from telemetry import metrics

if TYPE_CHECKING:
    from app import Services
    from datasources.db import Database

log = logging.getLogger("papergraph.probes")
# below the scrape's own bound for a hook (metrics.SCRAPE_HOOK_TIMEOUT), so a hanging database is reported down
DATABASE_PROBE_TIMEOUT = 1.5


def allowed_networks(setting: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """`10.0.0.0/8, 127.0.0.1` → networks; an empty setting allows every client."""
    return [ipaddress.ip_network(item.strip(), strict=False) for item in setting.split(",") if item.strip()]


def metrics_endpoint(services_getter: Callable[[], "Services"], networks: list) -> Callable:
    async def metrics_page(request: Request) -> Response:
        if networks and not _client_in(request, networks):
            return PlainTextResponse("Forbidden", status_code=403)
        for hook in list(services_getter().scrape_hooks):
            try:
                async with asyncio.timeout(metrics.SCRAPE_HOOK_TIMEOUT):
                    await hook()
            except Exception:  # noqa: BLE001 - a failing hook must not hide every other metric
                log.exception("metrics scrape hook %s failed", getattr(hook, "__name__", hook))
        body, content_type = metrics.render()
        return Response(body, media_type=content_type)

    return metrics_page


def database_hook(db: "Database") -> Callable[[], Awaitable[None]]:
    """A scrape hook reading the database's state at each scrape: `papergraph_pending_payment_attempts` set to
    the ledger's unfinished attempts per state (every tenant's; 0 for a state none is in), by one indexed
    GROUP BY, and `papergraph_database_up` to 1 when it answered. When the database cannot be reached or does
    not answer within `DATABASE_PROBE_TIMEOUT`, `papergraph_database_up` is 0 and the pending counts are NaN
    (unknown), never the last count seen."""
    ledger = PaymentRepository(db)

    async def probe_database() -> None:
        try:
            async with asyncio.timeout(DATABASE_PROBE_TIMEOUT):
                counts = await ledger.unfinished_counts()
        except Exception as error:
            metrics.forget_pending_payment_attempts()
            if not (isinstance(error, TimeoutError) or database_unavailable(error)):
                raise  # a bug rather than an outage: the scrape logs it with its traceback
            metrics.set_database_up(False)
            log.warning("metrics: the database did not answer: %s", type(error).__name__)
            return
        metrics.set_database_up(True)
        metrics.set_pending_payment_attempts(counts)

    return probe_database


def ready_endpoint(services_getter: Callable[[], "Services"], timeout: float) -> Callable:
    async def ready(request: Request) -> Response:
        services = services_getter()
        database = "ok"
        try:
            async with asyncio.timeout(timeout):
                async with services.db.session() as session:
                    await session.execute(sa.text("SELECT 1"))
        except Exception as error:  # noqa: BLE001 - any failure means not ready; the reason goes to the log
            log.warning("readiness: the database did not answer: %s", type(error).__name__)
            database = "unavailable"
        upstreams = {ds.service: {"breaker": ds.breaker.state.value, "consecutiveFailures": ds.breaker.consecutive_failures}
                     for ds in services.datasources}
        ready_now = database == "ok"
        return JSONResponse({"status": "ready" if ready_now else "unavailable", "database": database,
                             "upstreams": upstreams}, status_code=200 if ready_now else 503,
                            headers={"cache-control": "no-store"})

    return ready


def _client_in(request: Request, networks: list) -> bool:
    if request.client is None:
        return False
    try:
        address = ipaddress.ip_address(request.client.host)
    except ValueError:
        return False
    return any(address in network for network in networks)
