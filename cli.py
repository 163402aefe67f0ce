"""papergraph's command line: `papergraph run | migrate | seed --scale N | export-schema | token WHO |
register-operations PATH... | reconcile | deliver | notify-expiring | rotate-signing-key`.

`run` applies the migrations, seeds the demo data into an empty database (embedded default), and
serves the app with uvicorn. `reconcile` finishes the payment attempts requests left unfinished and
tidies the idempotency keys (PAY-4), once or `--every SECONDS`; it logs as the server does (JSON lines on
stdout, redacted), its report of each run included. A missing or malformed setting stops a
command with one line naming the setting.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time

from pydantic import ValidationError

from settings import Settings, UpstreamMode, describe_error


def load_settings_or_exit() -> Settings:
    try:
        return Settings()
    except ValidationError as error:
        print(f"papergraph: {describe_error(error)}", file=sys.stderr)
        raise SystemExit(2)


def migrate(settings: Settings) -> None:
    from migrations import upgrade

    upgrade(settings.database_url)


async def seed_database(settings: Settings, scale: int, *, only_if_empty: bool,
                        reset: bool = False) -> dict[str, int] | None:
    """Seed the demo data at `scale`; None, having done nothing, when `only_if_empty` and the database holds data.
    `reset` deletes every row first."""
    from datasources.db import Database
    from sandbox.demo import generate
    from sandbox.seed import clear_database, database_is_empty, seed_database as seed

    db = Database(settings.database_url)
    try:
        if reset:
            await clear_database(db)
        if only_if_empty and not await database_is_empty(db):
            return None
        return await seed(db, generate(scale))
    finally:
        await db.dispose()


async def seed_remote_emulators(settings: Settings, scale: int, *, reset: bool = False) -> None:
    import httpx

    from sandbox.demo import generate
    from sandbox.seed import load_emulators

    async with (
        httpx.AsyncClient(base_url=settings.circulation_base_url, timeout=60) as circulation,
        httpx.AsyncClient(base_url=settings.auth0_base_url, timeout=60) as auth0,
        httpx.AsyncClient(base_url=settings.navigapay_base_url, timeout=60) as navigapay,
    ):
        if reset:
            for emulator in (circulation, auth0, navigapay):
                (await emulator.post("/_sandbox/reset")).raise_for_status()
        await load_emulators(circulation, auth0, navigapay, generate(scale))


async def register_operations(settings: Settings, paths: list[str]) -> int:
    """Safelist the named operations of a front end's `.graphql` files (server/persisted.py): each is
    validated against the schema and the operation limits first, and nothing is registered unless all are."""
    from datasources.db import Database
    from schema import build_schema
    from server.limits import OperationPolicy
    from server.persisted import OperationFileError, graphql_files, operations_from_files, register_operations

    policy = OperationPolicy.from_settings(settings)
    try:
        operations = operations_from_files(graphql_files(paths), build_schema(policy=policy)._schema, policy)
    except OperationFileError as error:
        for problem in error.problems:
            print(f"papergraph: {problem}", file=sys.stderr)
        return 1
    db = Database(settings.database_url)
    try:
        added = await register_operations(db, operations)
    finally:
        await db.dispose()
    for operation in operations:
        print(f"{operation.sha256}  {operation.name}  ({operation.origin})")
    print(f"registered {len(operations)} operations ({added} new)", file=sys.stderr)
    return 0


async def run_reconcile(settings: Settings, *, every: float | None, stale_after: float | None) -> int:
    """One run (exit status 1 when an attempt broke with an error), or one every `every` seconds until
    SIGTERM or Ctrl-C."""
    import signal
    from datetime import timedelta

    from services import build_services
    from resolvers.reconciliation import reconcile, reconcile_every

    log = logging.getLogger("papergraph.reconcile")
    services = build_services(settings)
    try:
        if every is None:
            report = await reconcile(services, stale_after=None if stale_after is None else timedelta(seconds=stale_after))
            log.info(report.line())  # the run's report, a log line like every other (JSON on stdout)
            return 1 if report.failed else 0
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await reconcile_every(services, every, stop, log.info)
        return 0
    finally:
        await services.aclose()


async def rotate_signing_key(settings: Settings) -> str:
    """SSN-3: a new signing key; every process signs with it within 30 seconds, and the retired one stays
    published at /.well-known/jwks.json for as long as the tokens it signed live."""
    from services import build_services

    services = build_services(settings)
    try:
        key = await services.own_tokens.rotate()
        return f"rotate-signing-key: new key {key.kid}"
    finally:
        await services.aclose()


async def run_deliver(settings: Settings, *, once: bool) -> int:
    """MSG-1: the delivery worker in a process of its own (the servers run with PAPERGRAPH_MAIL_WORKER=false):
    sends the outbox's due messages once, or until SIGTERM or Ctrl-C, looking every PAPERGRAPH_MAIL_POLL_INTERVAL."""
    import signal

    from services import build_services, start_messages

    services = build_services(settings)
    try:
        await start_messages(services)
        if once:
            total = 0
            while (tried := await services.delivery.deliver_due()):
                total += tried
            print(f"deliver: {total} tried, {services.delivery.sent} sent")
            return 0
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await services.delivery.run(stop)
        return 0
    finally:
        await services.aclose()


async def run_notify_expiring(settings: Settings, *, days: int | None, tenants: list[str]) -> int:
    """NOT-2: record this run's grouped expiry notices (the delivery worker sends them)."""
    from services import build_services
    from messages.expiry import notify_expiring

    services = build_services(settings)
    try:
        count = await notify_expiring(services, days=days, tenant_codes=tenants or None)
        print(f"notify-expiring: {count} notices recorded")
        return 0
    finally:
        await services.aclose()

def configure_logging(settings: Settings) -> None:
    """The logging `papergraph run` gives the server (telemetry/logs.py): JSON lines on stdout (or text with
    PAPERGRAPH_LOG_FORMAT=text), every string redacted, at PAPERGRAPH_LOG_LEVEL."""
    import logging.config

    from telemetry.logs import logging_config

    logging.config.dictConfig(logging_config(settings))


def share_metrics_between_workers() -> None:
    """prometheus_client's multiprocess mode (telemetry/metrics.py): each worker writes its samples to files in
    PROMETHEUS_MULTIPROC_DIR and /metrics sums them. A fresh directory per run unless one is given; the
    workers inherit the variable."""
    import os
    import tempfile

    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="papergraph-metrics-")


def serve_workers_reuse_port(config) -> None:
    """uvicorn's multiprocess supervisor with a listening socket of its own per worker (server/listen.py)."""
    from uvicorn.supervisors import Multiprocess

    from server.listen import ReusePortSocket

    listener = ReusePortSocket(config.host, config.port, config.backlog)
    try:
        listener.probe()
    except OSError as error:
        raise SystemExit(f"papergraph: cannot listen on {config.host}:{config.port}: {error.strerror or error}") from None
    try:
        Multiprocess(config, sockets=[listener]).run()
    except KeyboardInterrupt:
        pass


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="papergraph")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="migrate, seed an empty database with demo data, and serve")
    commands.add_parser("migrate", help="apply the database migrations")
    seed = commands.add_parser("seed", help="seed the database (and remote emulators) with demo data")
    seed.add_argument("--scale", type=int, default=1, help="25·N registrations and 250·N subscriptions per tenant")
    seed.add_argument("--emulators", action="store_true", help="also load the remote emulators at their base URLs")
    seed.add_argument("--reset", action="store_true",
                      help="delete every row (and the remote emulators' data, with --emulators) before seeding")
    commands.add_parser("export-schema", help="print the subgraph SDL")
    token = commands.add_parser("token", help="sign in as a demo principal and print its access token")
    token.add_argument("who", help="subscriber (the demo subscriber), customer, admin, csr, viewer, intern or partner")
    token.add_argument("--tenant", default="NCSDEMO", help="the demo tenant's paper code")
    token.add_argument("--auth0-url", default=None, help=(
        "the Auth0 (emulator) base URL; default: the running server's /sandbox/auth0 in embedded mode, "
        "PAPERGRAPH_AUTH0_BASE_URL in remote mode"))
    token.add_argument("--url", default=None, help=(
        "papergraph's base URL, where customers of own-auth (MG2) tenants sign in (default: http://HOST:PORT)"))
    commands.add_parser("rotate-signing-key", help=(
        "a new key for the access tokens papergraph issues to MG2 customers (SSN-3); the old one stays published "
        "until its tokens expire"))
    register = commands.add_parser(
        "register-operations", help="safelist the operations of a front end's .graphql files (PAPERGRAPH_OPERATION_SAFELIST)")
    register.add_argument("paths", nargs="+", help=".graphql files, or directories searched for them")
    reconcile = commands.add_parser("reconcile", help="finish unfinished payment attempts (PAY-4), tidy idempotency keys")
    reconcile.add_argument("--every", type=float, default=None, metavar="SECONDS",
                           help="run again every SECONDS until stopped (default: once)")
    reconcile.add_argument("--stale-after", type=float, default=None, metavar="SECONDS",
                           help="take over attempts older than this (default: PAPERGRAPH_RECONCILE_STALE_AFTER_SECONDS)")
    deliver = commands.add_parser("deliver", help="send the message outbox over SMTP (MSG-1), beside the servers")
    deliver.add_argument("--once", action="store_true", help="send what is due, then exit")
    expiring = commands.add_parser("notify-expiring", help="record the grouped expiry notices due today (NOT-2)")
    expiring.add_argument("--days", type=int, default=None,
                          help="days ahead (default: PAPERGRAPH_EXPIRY_NOTICE_DAYS)")
    expiring.add_argument("--tenant", action="append", default=[], help="only this paper code (repeatable)")
    args = parser.parse_args(argv)

    if args.command == "export-schema":
        from schema import build_schema

        print(build_schema().as_str())
        return

    settings = load_settings_or_exit()
    if args.command == "token":
        import httpx

        from sandbox.signin import SignInError, sign_in

        url = args.auth0_url or (settings.auth0_base_url if settings.upstreams == UpstreamMode.REMOTE
                                 else f"http://{settings.host}:{settings.port}/sandbox/auth0")
        try:
            access_token = sign_in(url, args.who, args.tenant,
                                   papergraph_url=args.url or f"http://{settings.host}:{settings.port}",
                                   on_behalf=lambda name: print(f"signed in as {name}", file=sys.stderr))
        except (SignInError, httpx.HTTPError) as error:
            sys.exit(f"papergraph token: {error}")
        print(access_token)
        print(f'GraphiQL headers: {{"Authorization": "Bearer {access_token}"}}', file=sys.stderr)
    elif args.command == "migrate":
        migrate(settings)
    elif args.command == "rotate-signing-key":
        migrate(settings)
        print(asyncio.run(rotate_signing_key(settings)))
    elif args.command == "seed":
        migrate(settings)
        started = time.monotonic()
        counts = asyncio.run(seed_database(settings, args.scale, only_if_empty=True, reset=args.reset))
        if counts is None:
            print("papergraph seed: the database already holds data; `papergraph seed --reset --scale N` deletes "
                  "every row and seeds again", file=sys.stderr)
            raise SystemExit(1)
        if args.emulators:
            asyncio.run(seed_remote_emulators(settings, args.scale, reset=args.reset))
        print(f"seeded scale {args.scale} in {time.monotonic() - started:.1f}s: {counts}")
    elif args.command == "register-operations":
        migrate(settings)
        raise SystemExit(asyncio.run(register_operations(settings, args.paths)))
    elif args.command == "reconcile":
        configure_logging(settings)
        if settings.upstreams == UpstreamMode.EMBEDDED:
            print("papergraph: reconcile calls NavigaPay and the circulation system at their base URLs: set "
                  "PAPERGRAPH_UPSTREAMS=remote (embedded emulators live inside the server process)", file=sys.stderr)
            raise SystemExit(2)
        if args.every is not None and args.every <= 0:
            parser.error("--every must be greater than zero")
        raise SystemExit(asyncio.run(run_reconcile(settings, every=args.every, stale_after=args.stale_after)))
    elif args.command in ("deliver", "notify-expiring"):
        if settings.upstreams == UpstreamMode.EMBEDDED:
            print(f"papergraph: {args.command} runs beside the servers, against the SMTP server and the circulation "
                  "system at their configured addresses: set PAPERGRAPH_UPSTREAMS=remote (in embedded mode the "
                  "server itself delivers, and PAPERGRAPH_EXPIRY_NOTICE_EVERY schedules the notices)", file=sys.stderr)
            raise SystemExit(2)
        migrate(settings)
        if args.command == "deliver":
            raise SystemExit(asyncio.run(run_deliver(settings, once=args.once)))
        raise SystemExit(asyncio.run(run_notify_expiring(settings, days=args.days, tenants=args.tenant)))
    elif args.command == "run":
        import uvicorn

        migrate(settings)
        if settings.seed_demo_data:
            counts = asyncio.run(seed_database(settings, settings.sandbox_scale, only_if_empty=True))
            if counts:
                print(f"papergraph: seeded demo data {counts}", file=sys.stderr)
        from server.listen import reuse_port_available
        from telemetry.logs import logging_config

        embedded = settings.upstreams == UpstreamMode.EMBEDDED
        workers = 1 if embedded else settings.workers
        if workers > 1:
            share_metrics_between_workers()
        print(f"papergraph: GraphiQL at http://{settings.host}:{settings.port}/graphql", file=sys.stderr)
        # proxy_headers off: X-Forwarded-For is read by papergraph alone, as PAPERGRAPH_TRUSTED_PROXIES says
        # (server/throttle.py); uvicorn's own handling trusted it from any loopback peer and replaced the client
        # address before papergraph saw the connection's peer
        options = dict(factory=True, host=settings.host, port=settings.port, workers=workers,
                       log_config=logging_config(settings), log_level=settings.log_level.lower(), access_log=False,
                       proxy_headers=False, lifespan="on", timeout_graceful_shutdown=settings.shutdown_timeout)
        if workers > 1 and settings.reuse_port and reuse_port_available():
            serve_workers_reuse_port(uvicorn.Config("app:create_app", **options))
        else:
            uvicorn.run("app:create_app", **options)


if __name__ == "__main__":
    main()
