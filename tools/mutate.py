"""`make mutate`: mutation testing of domain/ and auth/ with mutmut (configured in pyproject's [tool.mutmut]).

    python tools/mutate.py [PATTERN ...]     e.g. 'domain.payments*' 'domain.restarts*' (default: every mutant)

Runs `mutmut run` for the mutants the patterns name, then reads every result and
`tools/mutation-equivalents.txt`, the survivors judged equivalent: one per line, the mutant's name and a
reason (`domain.money.x_round_money__mutmut_7  the context's rounding is set again two lines down`), `#`
starts a comment. Prints killed / survived / equivalent / no tests / timeout counts and each survivor not in
that file with the command that shows its diff, and fails when there is one: a survivor is either killed by
a new test or recorded there with why it cannot change behaviour. Not in CI (it takes tens of minutes).
"""

from __future__ import annotations

import fnmatch
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EQUIVALENTS = ROOT / "tools" / "mutation-equivalents.txt"
MUTMUT = [sys.executable, "-m", "mutmut"]


def equivalents() -> dict[str, str]:
    judged: dict[str, str] = {}
    for number, line in enumerate(EQUIVALENTS.read_text().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, _, reason = line.partition(" ")
        if not reason.strip():
            raise SystemExit(f"{EQUIVALENTS.name}:{number}: {name} needs a reason why it is equivalent")
        judged[name] = reason.strip()
    return judged


def results() -> dict[str, str]:
    answer = subprocess.run([*MUTMUT, "results", "--all", "true"], cwd=ROOT, capture_output=True, text=True,
                            check=True)
    statuses = {}
    for line in answer.stdout.splitlines():
        name, sep, status = line.strip().rpartition(": ")
        if sep:
            statuses[name] = status
    return statuses


def main(patterns: list[str]) -> int:
    children = os.environ.get("MUTATE_CHILDREN", "1")
    if os.environ.get("MUTATE_SKIP_RUN") != "1":
        subprocess.run([*MUTMUT, "run", "--max-children", children, *patterns], cwd=ROOT, check=True)
    judged = equivalents()
    statuses = {name: status for name, status in results().items()
                if not patterns or any(fnmatch.fnmatch(name, p) for p in patterns)}
    counts = Counter(statuses.values())
    survivors = sorted(name for name, status in statuses.items() if status == "survived")
    unjudged = [name for name in survivors if name not in judged]
    stale = sorted(name for name in judged if statuses.get(name) not in (None, "survived"))
    print(f"mutants {len(statuses)}: killed {counts['killed']}, survived {len(survivors)} "
          f"(equivalent {len(survivors) - len(unjudged)}, not judged {len(unjudged)}), "
          f"no tests {counts['no tests']}, timeout {counts['timeout']}, suspicious {counts['suspicious']}, "
          f"not checked {counts['not checked']}")
    for name in stale:
        print(f"  recorded as equivalent but now {statuses[name]}: {name} (remove its line)")
    for name in unjudged:
        print(f"  survived: {name}    (mutmut show {name})")
    return 1 if unjudged else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
