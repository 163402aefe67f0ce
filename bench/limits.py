"""`python -m bench limits`: the CPU one request can take at the default operation limits (issue 14, item 8).

For each limit (depth, aliases, root fields, tokens, document bytes, cost, `_entities` representations, batch)
it sends the largest request the limit accepts and the smallest it refuses, and reports papergraph's CPU per
request. Set up as `bench profile` is: PostgreSQL with the demo data at scale 1, the emulators in their own
processes on loopback, papergraph in this process with production settings and the default limits, driven
through `httpx.ASGITransport` one request at a time, CPU read with `time.process_time` (this process: papergraph
plus the in-process client's small share). Every request's text is new (a numbered comment), so parsing and
validation are never answered from the document cache: the figures are the uncached worst case. The goal is
that no single request holds the event loop for more than ~100 ms of CPU (`--budget-ms`).
"""

from __future__ import annotations

import asyncio
import gc
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx

from bench.runner import Processes, drop_database, mint_tokens, prepare_database, production_env, seed, start_emulators
from bench.scenarios import TENANT

SUBSCRIPTION = "NCS-0000001"


@dataclass
class Case:
    limit: str
    name: str
    body: Any  # a JSON body (an object, or a list for a batch); "@@N@@" is replaced by the request's number
    principal: str = "staff"  # staff or anonymous
    refused: bool = False  # the limit must refuse it


def _depth(links: int, tail: tuple[str, ...] = ("subscriber", "address", "houseNumber")) -> str:
    """`subscription { links { subscription { links … } } }` with `links` levels of links, then `tail`: depth
    1 + 2 × links + len(tail). Every path that deep goes through lists of links (10 items each for the cost)."""
    fields = ["links", "subscription"] * links + list(tail)
    return (f'query Depth {{ subscription(id: "{SUBSCRIPTION}")' + "".join(" { " + f for f in fields)
            + " }" * len(fields) + " }")


HEAVY_FIELD = "householdLevels { id levelId description active label }"
HOUSEHOLD_LIST_COST = 10  # a list without `first`: PAPERGRAPH_COST_LIST_SIZE items of cost 1


def _aliases(count: int) -> str:
    return "query Aliases { " + " ".join(f"a{i}: {HEAVY_FIELD}" for i in range(count)) + " }"


def _root_fields(count: int) -> str:
    distinct = ["householdLevels { id }", f'subscription(id: "{SUBSCRIPTION}") {{ id status }}', "viewer { kind }",
                "offers(first: 10) { edges { node { id name } } }", "catalog(first: 10) { totalCount }"]
    aliased = [f"r{i}: {HEAVY_FIELD}" for i in range(count - len(distinct))]
    return "query RootFields { " + " ".join(distinct + aliased) + " }"


def _tokens(count: int) -> str:
    """`{ householdLevels { id id … } }`: the same field over and over, the overlapping-fields rule's worst case
    (each selection compared with the others); 6 tokens around the ids."""
    return "query Tokens { householdLevels { " + " ".join(["id"] * (count - 7)) + " } }"


def _document_bytes(size: int) -> str:
    head = 'query Bytes { householdLevels(search: "'
    tail = '") { id } }'
    return head + "x" * (size - len(head) - len(tail) - len(_comment(0))) + tail


COST_QUERY = """query Cost { subscriptions(search: {lastName: "Garcia"}, first: @@FIRST@@) { totalCount edges { node {
  id accountNumber status balance { amount currency } householdLevel { id label } offer { id name }
  subscriber { firstName lastName email } paymentMethod { type } links { crid role }
} } } }"""


def _cost(first: int) -> str:
    return COST_QUERY.replace("@@FIRST@@", str(first))


ENTITIES = """query Entities($representations: [_Any!]!) {
  _entities(representations: $representations) { ... on HouseholdLevel { id levelId description label } } }"""


def _entities(count: int) -> dict:
    return {"query": ENTITIES, "variables": {"representations": [
        {"__typename": "HouseholdLevel", "id": str(1 + i % 5)} for i in range(count)]}}


def cases(settings) -> list[Case]:
    """The worst accepted and the first refused request of each limit, at `settings`' limits."""
    from schema import build_schema
    from server.limits import OperationPolicy, _Walk
    from graphql import get_operation_ast, parse

    policy = OperationPolicy.from_settings(settings)
    schema = build_schema(policy=policy)._schema

    def cost(text: str) -> int:
        document = parse(text)
        return _Walk(schema, document, policy).operation_cost(get_operation_ast(document)) or 0

    first = max(n for n in range(1, policy.max_page_size + 1) if cost(_cost(n)) <= policy.max_cost)
    # the deepest request the cost limit lets through, and one past the depth limit
    deepest = next(links for links in range(policy.max_depth // 2, 0, -1) if cost(_depth(links)) <= policy.max_cost)
    too_deep = _depth((policy.max_depth - 4) // 2, ("tipAvailability", "oneTime", "reasons", "code"))
    refused_first = first + 1 if first < policy.max_page_size else None
    batch = [{"query": _cost(first) + " # @@N@@"} for _ in range(settings.max_batch_operations)]
    listing = [
        Case("depth", f"depth {1 + 2 * deepest + 3}, cost {cost(_depth(deepest))} (deeper costs more than the "
             f"cost limit)", {"query": _depth(deepest)}),
        Case("depth", f"depth {1 + 2 * ((policy.max_depth - 4) // 2) + 4}", {"query": too_deep}, refused=True),
        Case("aliases", f"{policy.max_aliases} aliases", {"query": _aliases(policy.max_aliases)}),
        Case("aliases", f"{policy.max_aliases + 1} aliases", {"query": _aliases(policy.max_aliases + 1)}, refused=True),
        Case("root fields", f"{policy.max_root_fields} root fields",
             {"query": _root_fields(policy.max_root_fields)}),
        Case("tokens", f"{policy.max_tokens} tokens", {"query": _tokens(policy.max_tokens)}),
        Case("tokens", f"{policy.max_tokens + 1} tokens", {"query": _tokens(policy.max_tokens + 1)}, refused=True),
        Case("document bytes", f"{policy.max_document_bytes} bytes",
             {"query": _document_bytes(policy.max_document_bytes)}),
        Case("document bytes", f"{policy.max_document_bytes + 1} bytes",
             {"query": _document_bytes(policy.max_document_bytes + 1)}, refused=True),
        Case("cost", f"cost {cost(_cost(first))} (first: {first})", {"query": _cost(first)}),
        Case("representations", f"{policy.max_representations}, staff", _entities(policy.max_representations)),
        Case("representations", f"{policy.max_representations}, anonymous", _entities(policy.max_representations),
             principal="anonymous"),
        Case("representations", f"{policy.max_representations + 1}, anonymous",
             _entities(policy.max_representations + 1), principal="anonymous", refused=True),
        Case("representations", "5000, anonymous (the flood)", _entities(5000), principal="anonymous", refused=True),
        Case("batch", f"{settings.max_batch_operations} × cost {cost(_cost(first))}", batch),
        Case("batch", f"{settings.max_batch_operations + 1} operations",
             batch + batch[:1], refused=True),
    ]
    if refused_first is not None:
        listing.insert(10, Case("cost", f"cost {cost(_cost(refused_first))} (first: {refused_first})",
                                {"query": _cost(refused_first)}, refused=True))
    return listing


def _comment(number: int) -> str:
    return f"\n# request {number:07d}"


def _numbered(body: Any, number: int) -> Any:
    """The body with a fresh comment, so no request is answered from the document cache."""
    if isinstance(body, list):
        return [_numbered(item, number) for item in body]
    query = body["query"].replace("@@N@@", str(number))
    return {**body, "query": query + _comment(number)}


def _refused(status: int, payload: Any) -> bool:
    items = payload if isinstance(payload, list) else [payload]
    return status in (413, 422) or any(
        error.get("extensions", {}).get("code") == "OPERATION_LIMIT_EXCEEDED"
        for item in items for error in item.get("errors", ()))


async def _drive(listing: list[Case], tokens: dict[str, str], requests: int, warmup: int) -> list[dict[str, Any]]:
    from app import create_app
    from settings import Settings

    app = create_app(Settings())
    rows = []
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://papergraph",
                                     timeout=60) as client:
            number = 0
            for case in listing:
                headers = {"x-tenant": TENANT, "accept": "application/graphql-response+json"}
                if case.principal == "staff":
                    headers["authorization"] = f"Bearer {tokens['staff']}"
                bodies = []
                for _ in range(requests + warmup):
                    number += 1
                    bodies.append(httpx.Request("POST", "/", json=_numbered(case.body, number)).content)
                statuses, worst = set(), 0.0
                for i, content in enumerate(bodies):
                    if i == warmup:
                        gc.collect()
                        started = time.process_time()
                    before = time.process_time()
                    answer = await client.post("/graphql", content=content,
                                               headers={**headers, "content-type": "application/json"})
                    spent = time.process_time() - before
                    if i >= warmup:
                        worst = max(worst, spent)
                    statuses.add(answer.status_code)
                    if answer.status_code >= 500:
                        raise RuntimeError(f"{case.name}: {answer.status_code} {answer.text[:300]}")
                    refused = _refused(answer.status_code, answer.json())
                    if refused != case.refused:
                        raise RuntimeError(f"{case.name}: expected {'a refusal' if case.refused else 'an answer'}, "
                                           f"got {answer.status_code} {answer.text[:300]}")
                cpu = time.process_time() - started
                rows.append({"limit": case.limit, "request": case.name, "refused": case.refused,
                             "status": sorted(statuses), "bytes": len(bodies[-1]),
                             "cpu_ms_per_request": round(cpu * 1000 / requests, 2),
                             "worst_cpu_ms": round(worst * 1000, 2)})
    return rows


def _loop_factory():
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvicorn[standard] brings it
        return None
    return uvloop.new_event_loop


def markdown(rows: list[dict[str, Any]], budget_ms: float) -> str:
    lines = ["| limit | request | answer | body bytes | CPU ms / request (mean) | worst |", "| --- | --- | --- | ---: | ---: | ---: |"]
    for row in rows:
        answer = ("refused " if row["refused"] else "answered ") + "/".join(map(str, row["status"]))
        lines.append(f"| {row['limit']} | {row['request']} | {answer} | {row['bytes']} | "
                     f"{row['cpu_ms_per_request']} | {row['worst_cpu_ms']} |")
    worst = max(rows, key=lambda row: row["cpu_ms_per_request"])
    verdict = "within" if worst["cpu_ms_per_request"] <= budget_ms else "OVER"
    lines.append("")
    lines.append(f"Worst mean: {worst['cpu_ms_per_request']} ms ({worst['limit']}: {worst['request']}), {verdict} "
                 f"the {budget_ms:g} ms budget.")
    return "\n".join(lines)


def run(args) -> list[dict[str, Any]]:
    from settings import Settings

    work = Path(tempfile.mkdtemp(prefix="papergraph-limits-"))
    processes = Processes(work)
    database = "papergraph_limits"
    try:
        database_url = prepare_database(database)
        emulator_urls = start_emulators(processes, args.latency_ms)
        seed(database_url, args.scale, emulator_urls)
        tokens = mint_tokens(emulator_urls["auth0"], "https://api.papergraph.dev",
                             [SimpleNamespace(principal="staff", crids=[])])
        os.environ.update(production_env(database_url, emulator_urls))
        listing = [case for case in cases(Settings())
                   if not args.limits or case.limit in {name.strip() for name in args.limits.split(",")}]
        with asyncio.Runner(loop_factory=_loop_factory()) as runner:
            rows = runner.run(_drive(listing, tokens, args.requests, args.warmup))
        print(markdown(rows, args.budget_ms))
        return rows
    finally:
        processes.stop_all()
        asyncio.run(drop_database(database))
        shutil.rmtree(work, ignore_errors=True)
