"""CPU per app start: `python -m bench.app_start [DATABASE_URL]` builds `create_app(settings)` and runs its lifespan
six times after a warm-up, on a migrated database, and prints the median `time.process_time` (docs/ci.md: every
database-backed test starts an app, so this is the suite's fixed cost per test)."""

from __future__ import annotations

import asyncio
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    logging.disable(logging.CRITICAL)
    from app import create_app
    from migrations import upgrade
    from settings import Settings

    url = sys.argv[1] if len(sys.argv) > 1 else f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'start.db'}"
    upgrade(url)
    settings = Settings(environment="test", database_url=url, seed_demo_data=False)

    async def start_and_stop(app) -> None:
        async with app.router.lifespan_context(app):
            pass

    asyncio.run(start_and_stop(create_app(settings)))  # warm-up: imports, first schema
    times = []
    for _ in range(6):
        started = time.process_time()
        asyncio.run(start_and_stop(create_app(settings)))
        times.append(time.process_time() - started)
    print(f"CPU s per app start: median {statistics.median(times):.3f} ({', '.join(f'{t:.3f}' for t in times)})")


if __name__ == "__main__":
    main()
