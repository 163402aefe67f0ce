"""`python -m bench run [--duration 20 --connections 8,64 --latency-ms 5 --scale 100]`, and
`python -m bench soak [--minutes 3]` (bench/soak.py), `python -m bench scaleout [--throughput-seconds 10]`
(bench/scaleout.py),
`python -m bench profile [--scenarios dashboard,catalog --cprofile DIR]` (bench/profile.py),
`python -m bench served [--scenario dashboard --repeat 3 --py-spy PREFIX]` (bench/served.py), and
`python -m bench limits [--requests 20 --limits cost,representations]` (bench/limits.py), and
`python -m bench search [--subscriptions 100000 --registrations 100000]` (bench/search.py).

Prints the Markdown report and where the JSON and Markdown files were written (bench/results/, ignored by
git). Exit status 1 when the run could not complete, with the reason on stderr.
"""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="seed, start everything, drive every operation with wrk, report")
    run.add_argument("--duration", type=float, default=20, help="seconds measured per operation and connection count")
    run.add_argument("--warmup", type=float, default=3, help="seconds of load before each measurement (0: none)")
    run.add_argument("--connections", default="8,64", help="comma-separated connection counts")
    run.add_argument("--latency-ms", type=float, default=5, help="latency the emulators add to every upstream call")
    run.add_argument("--scale", type=int, default=100, help="sandbox.demo scale: 100·N registrations and 1,000·N subscriptions "
                                                            "over 4 tenants (100: 10k / 100k)")
    run.add_argument("--workers", type=int, default=0, help="papergraph workers and Apollo processes (0: nproc)")
    run.add_argument("--rounds", type=int, default=3, help="measurements per cell, the servers' order rotating each "
                                                          "round; the median and the spread are reported")
    run.add_argument("--targets", default="papergraph,papergraph-stock,apollo",
                     help="servers to measure: papergraph (fast execution), papergraph-stock "
                          "(PAPERGRAPH_EXECUTION=stock), apollo (the peer)")
    run.add_argument("--db-pool", type=int, default=5,
                     help="PostgreSQL pool size per process, the same for every server (PAPERGRAPH_DATABASE_POOL_SIZE: "
                          "papergraph's read pool and its ORM pool, which may overflow as much again; the peer's "
                          "pg pool): three servers of two processes must fit in PostgreSQL's max_connections (100 "
                          "by default) beside whatever else uses it")
    run.add_argument("--compare-min", type=int, default=20,
                     help="warm-up requests at least, each answer compared with the other servers' (0 and "
                          "--warmup 0: none)")
    run.add_argument("--scenarios", default="", help="comma-separated scenario names (default: all)")
    run.add_argument("--database", default="papergraph_bench", help="PostgreSQL database created (and dropped) for the run")
    run.add_argument("--keep-database", action="store_true", help="leave the database in place after the run")
    run.add_argument("--output", default="", help="directory for the JSON and Markdown reports (default bench/results)")
    soak = commands.add_parser("soak", help="two servers, PostgreSQL, faulty emulators, queries and payments for "
                                             "minutes; then the three ledgers must agree (bench/soak.py)")
    soak.add_argument("--minutes", type=float, default=3, help="how long the load runs")
    soak.add_argument("--seconds", type=float, default=0, help="the same in seconds (a short smoke run); wins over --minutes")
    soak.add_argument("--clients", type=int, default=8, help="concurrent clients, alternating between the two servers")
    soak.add_argument("--scale", type=int, default=8, help="sandbox.demo scale (enough subscriptions to pay each once)")
    soak.add_argument("--fault-rate", type=float, default=0.03, help="probability per upstream call of each fault rule")
    soak.add_argument("--latency-ms", type=float, default=5, help="latency the emulators add to every call")
    soak.add_argument("--restart-every", type=float, default=60, help="SIGTERM and restart server b this often (0: never)")
    soak.add_argument("--drain-seconds", type=float, default=1.0, help="PAPERGRAPH_SHUTDOWN_TIMEOUT of the servers")
    soak.add_argument("--hang-seconds", type=float, default=60, help="a request without an answer this long has hung")
    soak.add_argument("--rss-growth-mb", type=float, default=64, help="allowed RSS growth of server a after the warm-up")
    soak.add_argument("--seed", type=int, default=1, help="seed of the clients' choices")
    soak.add_argument("--database", default="papergraph_soak", help="PostgreSQL database created and dropped")
    soak.add_argument("--output", default="", help="directory for the JSON and Markdown reports (default bench/results)")
    scaleout = commands.add_parser("scaleout", help="HAProxy in front of two papergraph processes on one PostgreSQL: "
                                                    "spread, one killed mid-payments, ledgers; throughput of 1 vs 2 "
                                                    "(bench/scaleout.py)")
    scaleout.add_argument("--payments", type=int, default=24, help="payments started (process a dies after a third)")
    scaleout.add_argument("--clients", type=int, default=4, help="concurrent paying clients")
    scaleout.add_argument("--throughput-seconds", type=float, default=0,
                          help="also measure the dashboard with one process and with two, this long each (wrk)")
    scaleout.add_argument("--connections", type=int, default=32, help="wrk connections for the throughput runs")
    scaleout.add_argument("--database", default="papergraph_scaleout", help="PostgreSQL database created and dropped")
    profile = commands.add_parser("profile", help="papergraph's CPU per request in one process, optionally with "
                                                  "cProfile (bench/profile.py)")
    profile.add_argument("--scenarios", default="dashboard,catalog", help="comma-separated scenario names")
    profile.add_argument("--requests", type=int, default=300, help="measured requests per scenario")
    profile.add_argument("--warmup", type=int, default=50, help="requests sent before measuring")
    profile.add_argument("--scale", type=int, default=1, help="sandbox.demo scale")
    profile.add_argument("--latency-ms", type=float, default=0, help="latency the emulators add to every call")
    profile.add_argument("--database", default="papergraph_profile",
                         help="PostgreSQL database created (and dropped) for the run: a name of its own per engineer "
                              "when several profile at once on one server")
    profile.add_argument("--cprofile", default="", help="directory for cProfile dumps (printed, sorted by --sort)")
    profile.add_argument("--sort", default="tottime", help="pstats sort key")
    profile.add_argument("--top", type=int, default=40, help="functions printed per profile")
    served = commands.add_parser("served", help="papergraph run under wrk, one scenario: CPU per request, the "
                                                "split between workers, optionally py-spy (bench/served.py)")
    served.add_argument("--scenario", default="dashboard", help="scenario name (bench/scenarios.py)")
    served.add_argument("--seconds", type=float, default=15, help="seconds per measurement")
    served.add_argument("--warmup", type=float, default=5, help="seconds of load before the first measurement")
    served.add_argument("--repeat", type=int, default=3, help="measurements, one line each")
    served.add_argument("--connections", type=int, default=8, help="wrk connections")
    served.add_argument("--workers", type=int, default=2, help="papergraph workers (PAPERGRAPH_WORKERS)")
    served.add_argument("--execution", default="fast", choices=["fast", "stock"], help="PAPERGRAPH_EXECUTION")
    served.add_argument("--scale", type=int, default=10, help="sandbox.demo scale")
    served.add_argument("--latency-ms", type=float, default=5, help="latency the emulators add to every call")
    served.add_argument("--db-pool", type=int, default=5, help="PostgreSQL pool size per process")
    served.add_argument("--database", default="papergraph_served", help="PostgreSQL database created and dropped")
    served.add_argument("--py-spy", default="", help="also sample each worker with py-spy into PREFIX-r<round>-w<worker>.txt")
    limits = commands.add_parser("limits", help="CPU per request of the worst request each operation limit "
                                                "accepts, and of the first it refuses (bench/limits.py)")
    limits.add_argument("--requests", type=int, default=20, help="measured requests per case")
    limits.add_argument("--warmup", type=int, default=3, help="requests sent before measuring each case")
    limits.add_argument("--scale", type=int, default=1, help="sandbox.demo scale")
    limits.add_argument("--latency-ms", type=float, default=0, help="latency the emulators add to every call")
    limits.add_argument("--limits", default="", help="comma-separated limits to measure (default: all)")
    limits.add_argument("--budget-ms", type=float, default=100, help="CPU a single request may take")
    search = commands.add_parser("search", help="staff search over 100k subscriptions (emulator index) and 100k "
                                                "registrations (PostgreSQL, migration 0014) (bench/search.py)")
    search.add_argument("--subscriptions", type=int, default=100_000, help="subscriptions in the emulator's paper")
    search.add_argument("--registrations", type=int, default=100_000, help="registrations in the PostgreSQL tenant")
    search.add_argument("--repeat", type=int, default=200, help="searches timed per criterion (the median is shown)")
    search.add_argument("--database", default="papergraph_bench_search", help="PostgreSQL database created and dropped")
    search.add_argument("--skip-postgres", action="store_true", help="the emulator part only")
    args = parser.parse_args(argv)

    if args.command == "search":
        from bench.search import run as run_search

        return run_search(args.subscriptions, args.registrations, args.repeat, args.database, args.skip_postgres)

    if args.command == "limits":
        from bench.limits import run as run_limits

        try:
            rows = run_limits(args)
        except (RuntimeError, OSError) as error:
            print(f"limits: {error}", file=sys.stderr)
            return 1
        return 0 if max(row["cpu_ms_per_request"] for row in rows) <= args.budget_ms else 1

    if args.command in ("served", "profile"):  # they print as they go; success is having run
        import importlib

        try:
            importlib.import_module(f"bench.{args.command}").run(args)
        except (RuntimeError, OSError) as error:
            print(f"{args.command}: {error}", file=sys.stderr)
            return 1
        return 0

    if args.command == "scaleout":
        from bench.scaleout import main as scaleout_main

        try:
            return scaleout_main(args)
        except (RuntimeError, OSError) as error:
            print(f"scaleout: {error}", file=sys.stderr)
            return 1

    if args.command == "soak":
        from bench.soak import markdown, run
    else:
        from bench.runner import markdown, run
    try:
        report = run(args)
    except (RuntimeError, OSError) as error:
        print(f"{'soak' if args.command == 'soak' else 'bench'}: {error}", file=sys.stderr)
        return 1
    print(markdown(report))
    print(f"JSON: {report['paths']['json']}\nMarkdown: {report['paths']['markdown']}")
    return 0 if report.get("ok", True) else 1  # the soak's verdict; a benchmark that completed is a success


if __name__ == "__main__":
    sys.exit(main())
