"""`python -m bench search` (SUB-2, USR-2): the emulator part at a small size answers every criterion with a match."""

from __future__ import annotations

from bench.search import emulator_report


def test_emulator_search_report_finds_every_criterion():
    lines = emulator_report(3000, repeat=3)

    rows = [line for line in lines if line.startswith("| ") and not line.startswith("| criteria")]
    assert len(rows) == 7
    assert all(int(row.split("|")[2].strip().replace(",", "")) > 0 for row in rows), rows
