"""`python -m bench run [--duration 20 --connections 8,64 --latency-ms 5 --scale 100]`.

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
    run.add_argument("--rounds", type=int, default=1, help="measurements per cell; the median by req/s is reported")
    run.add_argument("--targets", default="papergraph,apollo", help="servers to measure")
    run.add_argument("--scenarios", default="", help="comma-separated scenario names (default: all)")
    run.add_argument("--uvicorn-args", default="--loop uvloop --http httptools",
                     help="extra uvicorn options for papergraph (e.g. '--loop asyncio --http h11' to compare)")
    run.add_argument("--database", default="papergraph_bench", help="PostgreSQL database created (and dropped) for the run")
    run.add_argument("--keep-database", action="store_true", help="leave the database in place after the run")
    run.add_argument("--output", default="", help="directory for the JSON and Markdown reports (default bench/results)")
    args = parser.parse_args(argv)

    from bench.runner import markdown, run as run_bench

    try:
        report = run_bench(args)
    except (RuntimeError, OSError) as error:
        print(f"bench: {error}", file=sys.stderr)
        return 1
    print(markdown(report))
    print(f"JSON: {report['paths']['json']}\nMarkdown: {report['paths']['markdown']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
