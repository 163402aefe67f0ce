"""`make test`'s last line counts what was deselected even under xdist, which leaves deselection (done in each
worker) out of the controller's summary (issue 19 item 17); skips are counted there already, with their reasons
listed by `-ra`."""

import subprocess
import sys

import pytest

from tests.support import ROOT

pytestmark = pytest.mark.sqlite_only("pytest's summary line, not the database")


def test_the_summary_line_under_xdist_counts_deselected_tests():
    # given: two workers, and a -k that deselects one test of tests/test_docs.py
    command = [sys.executable, "-m", "pytest", "-n", "2", "-p", "no:cacheprovider", "tests/test_docs.py",
               "-k", "not index"]

    # when
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)

    # then
    last = done.stdout.strip().splitlines()[-1]
    assert done.returncode == 0, done.stdout[-2000:]
    assert "passed" in last and "1 deselected" in last, last
