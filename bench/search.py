"""`python -m bench search`: staff search over 100k rows, in the circulation emulator and on PostgreSQL (SUB-2, USR-2).

1. The emulator: one paper holding `--subscriptions` records (100k by default; names, companies, phones and postal
   codes drawn like `sandbox.demo`'s). It times the first search (which builds the index, `sandbox/circulation/
   search.py`) and then each criterion — company prefix `acme`, last-name prefix, first + last name, a phone
   with and without its country code, postal code, e-mail — as the median of `--repeat` calls of
   `CirculationStore.search`, against the linear scan every search did before the index (one criterion).
2. PostgreSQL: a database `--database` created (then dropped) and migrated, one tenant with `--registrations`
   registrations (100k by default), then `users`' repository lookup (`RegistrationRepository.search_registrations`,
   the statement `users(lastName:)` runs) timed with the indexes of migration 0014 and again with them dropped,
   plus the plan PostgreSQL chose for each.

Prints a Markdown report. Needs PostgreSQL at 127.0.0.1:5432 (trust auth) for part 2; `--skip-postgres` runs part 1
alone.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from datetime import date, datetime, timezone
from typing import Any, Callable

from sandbox.circulation.store import CirculationStore
from sandbox.demo import FIRST_NAMES, LAST_NAMES

POSTGRES_ADMIN_URL = "postgresql://127.0.0.1:5432/test"
PAPER = "BENCH"


def _records(count: int, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out = []
    for j in range(count):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        out.append({
            "id": f"B-{j:07d}", "paperCode": PAPER, "accountNumber": f"{1_000_000 + j}", "status": "ACTIVE",
            "kind": "REGULAR", "deliverySchedule": "7-Day", "digital": False, "startDate": "2026-01-01",
            "endDate": "2027-01-01", "balance": "0.00", "currency": "USD", "autoPay": False, "ebill": False,
            "billingMethod": "MAIL", "householdLevelId": None, "customerReferenceNumber": "", "name": None,
            "productCode": "1",
            "subscriber": {
                "firstName": first, "lastName": last, "email": f"{first.lower()}.{last.lower()}.{j}@example.com",
                "phones": [f"+1555{(j * 7919) % 10_000_000:07d}"] if j % 6 else [],
                "companyName": "Acme Media" if j % 19 == 0 else (f"Company {j % 997}" if j % 5 == 0 else None),
                "address": {"houseNumber": str(1 + j % 200), "streetName": "Main St", "city": "Springfield",
                            "postalCode": f"{10000 + j % 5000:05d}", "country": "US"},
            },
            "billingOptions": [],
        })
    return out


def _median_us(call: Callable[[], Any], repeat: int, clock: Callable[[], float] = time.perf_counter) -> float:
    times = []
    for _ in range(repeat):
        started = clock()
        call()
        times.append((clock() - started) * 1e6)
    return statistics.median(times)


def _linear_scan(store: CirculationStore, last_prefix: str) -> list[dict[str, Any]]:
    """What a search cost before the index: every record of the paper looked at, then sorted."""
    paper = store.papers[PAPER]
    wanted = last_prefix.casefold()
    return [r for r in sorted(paper.subscriptions.values(), key=lambda r: r["id"])
            if (r["subscriber"].get("lastName") or "").casefold().startswith(wanted)]


def emulator_report(count: int, repeat: int) -> list[str]:
    store = CirculationStore()
    store.add_paper(PAPER, "NCS", "USD", "America/New_York")
    records = _records(count)
    started = time.perf_counter()
    store.add_subscriptions(records, owned=True)
    load_ms = (time.perf_counter() - started) * 1000
    paper = store.papers[PAPER]
    sample = records[min(4243, count - 5) // 6 * 6 + 1]  # one with a phone (every sixth has none)
    phone = sample["subscriber"]["phones"][0]
    started, cpu = time.perf_counter(), time.process_time()
    store.search(paper, {"companyName": "acme"})
    build_ms, build_cpu_ms = (time.perf_counter() - started) * 1000, (time.process_time() - cpu) * 1000
    last3 = sample["subscriber"]["lastName"][:3].lower()
    cases = [
        ("companyName: acme (prefix)", {"companyName": "acme"}),
        (f"lastName: {last3} (prefix)", {"lastName": last3}),
        (f"firstName + lastName", {"firstName": sample["subscriber"]["firstName"][:2],
                                   "lastName": sample["subscriber"]["lastName"]}),
        (f"phone {phone} (with country code)", {"phone": phone}),
        (f"phone {phone[2:5]}-{phone[5:8]}-{phone[8:]} (without)", {"phone": f"{phone[2:5]}-{phone[5:8]}-{phone[8:]}"}),
        ("postalCode", {"postalCode": sample["subscriber"]["address"]["postalCode"]}),
        ("email", {"email": sample["subscriber"]["email"].upper()}),
    ]
    lines = [f"### Circulation emulator: {count:,} subscriptions in one paper", "",
             f"Loading took {load_ms:.0f} ms; the first search built the index in {build_ms:.0f} ms "
             f"({build_cpu_ms:.0f} ms of CPU). Medians of {repeat} searches, wall clock and CPU (the machine is "
             "shared: CPU is the steadier figure).", "",
             "| criteria | matches | wall | CPU |", "|---|---:|---:|---:|"]
    for label, criteria in cases:
        matches = len(store.search(paper, criteria))
        median = _median_us(lambda: store.search(paper, criteria), repeat)
        cpu_median = _median_us(lambda: store.search(paper, criteria), repeat, time.process_time)
        lines.append(f"| {label} | {matches:,} | {median / 1000:.3f} ms | {cpu_median / 1000:.3f} ms |")
    scan = _median_us(lambda: _linear_scan(store, last3), max(3, repeat // 20), time.process_time)
    lines += ["", f"The linear scan every search made before the index: {scan / 1000:.1f} ms of CPU for "
                  f"`lastName: {last3}`.", ""]
    return lines


async def postgres_report(count: int, repeat: int, database: str) -> list[str]:
    import asyncpg

    from cli import migrate
    from datasources.db import Database
    from datasources.repositories.registrations import RegistrationRepository
    from settings import Settings

    admin = await asyncpg.connect(POSTGRES_ADMIN_URL)
    await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    await admin.execute(f'CREATE DATABASE "{database}"')
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
    url = f"{base}/{database}"
    try:
        await asyncio.to_thread(migrate, Settings(database_url=url.replace("postgresql://", "postgresql+asyncpg://"),
                                                  environment="test"))
        connection = await asyncpg.connect(url)
        try:
            tenant_id = await connection.fetchval(
                "INSERT INTO tenant (code, name, circulation_kind, time_zone, currency, settings_version) "
                "VALUES ('BENCH', 'Bench', 'NCS', 'America/New_York', 'USD', 0) RETURNING id")
            rng = random.Random(11)
            now = datetime.now(timezone.utc)
            rows = []
            for j in range(count):
                first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
                rows.append((tenant_id, f"auth0|bench{j}", f"{first.lower()}.{last.lower()}.{j}@example.com", first,
                             last + ("" if j % 3 else f"-{j % 1000}"), None, True, True, "{}", now, now))
            started = time.perf_counter()
            await connection.copy_records_to_table(
                "registration", records=rows, columns=["tenant_id", "crid", "email", "first_name", "last_name",
                                                       "password_hash", "has_password", "email_verified", "metadata",
                                                       "created_at", "updated_at"])
            await connection.execute("ANALYZE registration")
            load_ms = (time.perf_counter() - started) * 1000
            sample_last = rows[4242][4]
            prefix = sample_last[:4].lower()
            db = Database(url.replace("postgresql://", "postgresql+asyncpg://"))
            repository = RegistrationRepository(db)

            async def timed() -> tuple[float, int]:
                times, total = [], 0
                for _ in range(repeat):
                    started = time.perf_counter()
                    page = await repository.search_registrations(tenant_id, offset=0, limit=10, last_name=prefix)
                    times.append((time.perf_counter() - started) * 1000)
                    total = page.total or 0
                return statistics.median(times), total

            async def plan() -> str:
                # the statement `search_registrations` sends (datasources/repositories/registrations.py)
                explained = await connection.fetch(
                    'EXPLAIN SELECT registration.*, count(*) OVER () FROM registration WHERE tenant_id = $1 '
                    'AND lower(last_name) COLLATE "C" >= $2 AND lower(last_name) COLLATE "C" < $3 '
                    "ORDER BY id + 0 LIMIT 10", tenant_id, prefix, prefix + "\U0010ffff")
                scans = [r[0].strip().lstrip("-> ") for r in explained if "Scan" in r[0]]
                return " / ".join(scan.split("  (")[0] for scan in scans)

            try:
                with_index, total = await timed()
                with_plan = await plan()
                await connection.execute("DROP INDEX ix_registration_last_name_prefix")
                await connection.execute("ANALYZE registration")
                without_index, _ = await timed()
                without_plan = await plan()
            finally:
                await db.dispose()
        finally:
            await connection.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await admin.close()
    return [f"### PostgreSQL: {count:,} registrations in one tenant", "",
            f"Loading (COPY + ANALYZE) took {load_ms:.0f} ms. `users(lastName: \"{prefix}\")` matches {total:,}; "
            f"its repository lookup (page of 10 with the total), median of {repeat}:", "",
            "| | median | plan |", "|---|---:|---|",
            f"| with migration 0014's index | {with_index:.2f} ms | {with_plan} |",
            f"| index dropped | {without_index:.2f} ms | {without_plan} |", ""]


def run(subscriptions: int, registrations: int, repeat: int, database: str, skip_postgres: bool) -> int:
    lines = [f"## Staff search benchmark ({date.today().isoformat()})", ""]
    lines += emulator_report(subscriptions, repeat)
    if not skip_postgres:
        lines += asyncio.run(postgres_report(registrations, repeat, database))
    print("\n".join(lines))
    return 0
