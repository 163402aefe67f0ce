"""`python -m bench served`: papergraph as production runs it, under load, one scenario: CPU per request and,
optionally, where a worker spends it (py-spy).

`bench profile` measures papergraph in-process (no HTTP server, no worker processes, no logging configuration
or multiprocess metrics); `bench run` measures everything against the peer but takes a quarter of an hour. This
is the loop between the two, for one change to the serving path: PostgreSQL seeded at `--scale`, the emulators
in their own processes (`--latency-ms`), papergraph started with `papergraph run` and `--workers` workers (the
bench's `production_env`), a warm-up, then `--repeat` measurements of `--seconds` each with wrk at
`--connections`. Each measurement prints one line: requests/s, CPU ms per request of the whole server (master and
workers, from /proc), p50, and the CPU seconds each worker spent (a worker near zero means the connections
all landed on the other one: server/listen.py). Compare two builds by alternating runs from two checkouts.

`--py-spy PREFIX` also samples each worker with py-spy during every measurement (`PREFIX-r<round>-w<worker>.txt`,
py-spy's raw collapsed stacks) and prints the modules and functions with the most samples. py-spy is not a
dependency of the project: it is looked for on PATH and in the venv (`pip install py-spy`). Read its figures
with care: py-spy samples a thread that is runnable but not running (preempted by PostgreSQL or an emulator on a
busy 2-core machine) as busy, so the lines that wait on a socket are over-counted; CPU per request is the
figure that counts.
"""

from __future__ import annotations

import asyncio
import collections
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import psutil

from bench.runner import (Processes, drop_database, ensure_wrk, mint_tokens, prepare_database, process_cpu_seconds,
                          run_wrk, seed, start_emulators, start_papergraph)
from bench.scenarios import scenarios

AUDIENCE = "https://api.papergraph.dev"
SAMPLE_RATE = 200  # py-spy samples per second


def py_spy() -> str | None:
    found = shutil.which("py-spy") or shutil.which("py-spy", path=str(Path(sys.executable).parent))
    return found


def summarise(path: Path, top: int = 15) -> dict[str, list[tuple[str, float]]]:
    """The modules (by the file of each sample's innermost frame) and functions with the most samples, as shares
    of all samples, from py-spy's raw output (`frame;frame;... count` per line)."""
    by_function: collections.Counter[str] = collections.Counter()
    by_module: collections.Counter[str] = collections.Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples = int(count)
        total += samples
        leaf = stack.split(";")[-1]
        by_function[leaf] += samples
        match = re.search(r"\(([^:)]*)", leaf)
        module = re.sub(r".*site-packages/", "", match.group(1)) if match else leaf
        by_module[module.split("/")[0]] += samples
    if not total:
        return {"modules": [], "functions": []}
    return {"modules": [(name, round(100 * n / total, 1)) for name, n in by_module.most_common(top)],
            "functions": [(name, round(100 * n / total, 1)) for name, n in by_function.most_common(top)]}


def run(args) -> list[dict[str, Any]]:
    wanted = [s for s in scenarios(args.scale) if s.name == args.scenario]
    if not wanted:
        raise RuntimeError(f"unknown scenario {args.scenario!r}: {', '.join(s.name for s in scenarios(args.scale))}")
    scenario = wanted[0]
    spy = py_spy() if args.py_spy else None
    if args.py_spy and spy is None:
        raise RuntimeError("py-spy not found on PATH or in the venv: pip install py-spy")
    work = Path(tempfile.mkdtemp(prefix="papergraph-served-"))
    processes = Processes(work)
    results: list[dict[str, Any]] = []
    try:
        database_url = prepare_database(args.database)
        emulator_urls = start_emulators(processes, args.latency_ms)
        seed(database_url, args.scale, emulator_urls)
        target = start_papergraph(processes, "papergraph", args.execution, database_url, emulator_urls,
                                  args.workers, args.db_pool)
        tokens = mint_tokens(emulator_urls["auth0"], AUDIENCE, [scenario])
        script = work / f"{scenario.name}.lua"
        script.write_text(scenario.lua(tokens=tokens))
        wrk = ensure_wrk()
        threads = min(2, args.connections)
        run_wrk(wrk, script, target.url, args.connections, args.warmup, threads)
        master = psutil.Process(target.process.pid)
        workers = [child for child in master.children(recursive=True)
                   if "spawn_main" in " ".join(child.cmdline()) and "resource_tracker" not in " ".join(child.cmdline())]
        for round_index in range(args.repeat):
            before = target.cpu_seconds()
            per_worker = {w.pid: process_cpu_seconds(w) for w in workers}
            spies = []
            if spy:
                for index, worker in enumerate(workers):
                    out = Path(f"{args.py_spy}-r{round_index}-w{index}.txt")
                    out.parent.mkdir(parents=True, exist_ok=True)
                    spies.append((out, subprocess.Popen(
                        [spy, "record", "-p", str(worker.pid), "-d", str(round(args.seconds)), "-r", str(SAMPLE_RATE),
                         "-f", "raw", "-o", str(out), "--nonblocking"],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)))
            measured = run_wrk(wrk, script, target.url, args.connections, args.seconds, threads)
            after = target.cpu_seconds()
            for _, process in spies:
                process.wait(timeout=args.seconds + 60)
            requests = int(measured["requests"])
            row = {
                "round": round_index, "requests": requests,
                "rps": round(requests / (measured["duration_us"] / 1e6), 1),
                "cpu_ms_per_request": round((after - before) * 1000 / requests, 3) if requests else None,
                "p50_ms": round(measured["p50_us"] / 1000, 2),
                "worker_cpu_s": [round(process_cpu_seconds(w) - per_worker[w.pid], 2) for w in workers],
            }
            print(json.dumps(row), flush=True)
            for out, _ in spies:
                if out.exists():
                    summary = summarise(out)
                    row.setdefault("py_spy", {})[str(out)] = summary
                    print(f"py-spy {out}:", file=sys.stderr)
                    for kind in ("modules", "functions"):
                        for name, share in summary[kind]:
                            print(f"  {share:5.1f} %  {name[:150]}", file=sys.stderr)
            results.append(row)
        return results
    finally:
        processes.stop_all()
        try:
            asyncio.run(drop_database(args.database))
        except Exception as error:  # noqa: BLE001 - cleanup must not hide the run's own error
            print(f"bench: could not drop {args.database}: {error}", file=sys.stderr)
        shutil.rmtree(work, ignore_errors=True)
