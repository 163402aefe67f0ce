"""`python -m bench profile`: papergraph's own CPU per request, in one process, without a load generator.

The emulators run in their own processes on loopback (as in `bench run`, with `--latency-ms`), PostgreSQL
holds the seeded data, and papergraph runs in this process with production settings, driven through
`httpx.ASGITransport` one request at a time. What this process spends is then papergraph's work (plus the
in-process client's small share), measured with `time.process_time` — steadier than a loaded machine's
wall clock — and, with `--cprofile`, where it goes. It is the loop for trying one change to the fast path:
`bench run` gives the figures that count.
"""

from __future__ import annotations

import asyncio
import cProfile
import gc
import os
import pstats
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.runner import (Processes, drop_database, mint_tokens, prepare_database, production_env, seed,
                          start_emulators)
from bench.scenarios import TENANT, scenarios


async def _drive(names: list[str], scale: int, tokens: dict[str, str], requests: int, warmup: int,
                 profile_out: Path | None) -> dict[str, Any]:
    from app import create_app
    from settings import Settings

    app = create_app(Settings())
    results: dict[str, Any] = {}
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://papergraph") as client:
            for scenario in (s for s in scenarios(scale) if s.name in names):
                bodies = []
                for i in range(requests + warmup):
                    crid = scenario.crids[(i * 7919) % len(scenario.crids)] if scenario.crids else None
                    body = scenario.body(crid)
                    text = httpx.Request("POST", "/", json=body).content.decode()
                    if scenario.subscription_ids:
                        text = text.replace("@@SUB@@", scenario.subscription_ids[i % len(scenario.subscription_ids)])
                    text = text.replace("@@KEY@@", f"profile-{secrets.token_hex(6)}-{i}")
                    headers = {"content-type": "application/json", "x-tenant": TENANT}
                    token = tokens.get(crid) if crid else tokens.get("staff") if scenario.principal == "staff" else None
                    if token:
                        headers["authorization"] = f"Bearer {token}"
                    bodies.append((text, headers))

                async def send(text: str, headers: dict[str, str]) -> None:
                    answer = await client.post("/graphql", content=text, headers=headers)
                    payload = answer.json()
                    if answer.status_code != 200 or payload.get("errors"):
                        raise RuntimeError(f"{scenario.name}: {answer.status_code} {str(payload)[:300]}")

                for text, headers in bodies[:warmup]:
                    await send(text, headers)
                gc.collect()
                profiler = cProfile.Profile() if profile_out else None
                cpu, wall = time.process_time(), time.perf_counter()
                if profiler:
                    profiler.enable()
                for text, headers in bodies[warmup:]:
                    await send(text, headers)
                if profiler:
                    profiler.disable()
                cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
                results[scenario.name] = {"cpu_ms_per_request": round(cpu * 1000 / requests, 3),
                                          "wall_ms_per_request": round(wall * 1000 / requests, 3)}
                if profiler and profile_out:
                    path = profile_out / f"{scenario.name}.prof"
                    profiler.dump_stats(path)
                    results[scenario.name]["profile"] = str(path)
    return results


def _loop_factory():
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvicorn[standard] brings it
        return None
    return uvloop.new_event_loop


def run(args) -> dict[str, Any]:
    names = [n.strip() for n in args.scenarios.split(",") if n.strip()]
    work = Path(tempfile.mkdtemp(prefix="papergraph-profile-"))
    processes = Processes(work)
    database = args.database
    try:
        database_url = prepare_database(database)
        emulator_urls = start_emulators(processes, args.latency_ms)
        seed(database_url, args.scale, emulator_urls)
        tokens = mint_tokens(emulator_urls["auth0"], "https://api.papergraph.dev",
                             [s for s in scenarios(args.scale) if s.name in names])
        os.environ.update(production_env(database_url, emulator_urls))
        out = Path(args.cprofile) if args.cprofile else None
        if out:
            out.mkdir(parents=True, exist_ok=True)
        # production's event loop (uvicorn --loop uvloop): asyncio's own loop would inflate task costs
        with asyncio.Runner(loop_factory=_loop_factory()) as runner:
            results = runner.run(_drive(names, args.scale, tokens, args.requests, args.warmup, out))
        for name, figures in results.items():
            print(f"profile: {name:14} CPU {figures['cpu_ms_per_request']:7.3f} ms/req  "
                  f"wall {figures['wall_ms_per_request']:7.3f} ms/req")
            if "profile" in figures:
                stats = pstats.Stats(figures["profile"], stream=sys.stdout)
                stats.sort_stats(args.sort).print_stats(args.top)
        return results
    finally:
        processes.stop_all()
        asyncio.run(drop_database(database))
        shutil.rmtree(work, ignore_errors=True)
