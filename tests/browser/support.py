"""What the browser tests share: Debian's Chromium, and one walk of a tests/node/*_e2e.mjs script (its JSON
outcome, or a failure saying which step broke, with the browser console, the screenshot the script saved, the
requests it kept from leaving the machine and node's stderr)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.support import NODE_DIR, require_node

BROWSER_SECONDS = 120  # a bound on a hang, not a measurement


def require_chromium() -> str:
    chromium = os.environ.get("PAPERGRAPH_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).is_file():
        problem = "Chromium is not installed: `apt-get install -y chromium` (make test does it as root)"
        if os.environ.get("CI"):
            pytest.fail(problem, pytrace=False)
        pytest.skip(problem)
    return chromium


def run_walk(script: str, config: dict[str, Any], what: str, seconds: float = BROWSER_SECONDS) -> dict[str, Any]:
    """Run tests/node/`script` with `config`; its JSON outcome, or a test failure naming `what` failed and where."""
    completed = subprocess.run([require_node(), script, json.dumps(config)], cwd=NODE_DIR, capture_output=True,
                               text=True, timeout=seconds)
    lines = completed.stdout.strip().splitlines()
    outcome = json.loads(lines[-1]) if lines and lines[-1].startswith("{") else {"ok": False}
    if not outcome.get("ok"):
        console = "\n".join(outcome.get("console", []))
        pytest.fail(f"{what} failed at step {outcome.get('step')!r} ({outcome.get('url')}): {outcome.get('error')}\n"
                    f"screenshot: {outcome.get('screenshot')}\nbrowser console:\n{console}\n"
                    f"requests that would have left the machine: {outcome.get('offline')}\n"
                    f"node stderr:\n{completed.stderr[-3000:]}", pytrace=False)
    return outcome
