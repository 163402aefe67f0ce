"""docs/input-validation.md documents the limits server/inputs.py and domain/money.py enforce (issue 14 #11)."""

from __future__ import annotations

from pathlib import Path

from domain.money import MAX_FRACTION_DIGITS, MAX_INTEGER_DIGITS
from server.inputs import FREE_TEXT, LONGER, MAX_ID_LENGTH, MAX_IDEMPOTENCY_KEY_TEXT, MAX_STRING_LENGTH

PAGE = (Path(__file__).resolve().parent.parent / "docs" / "input-validation.md").read_text()


def test_the_page_gives_the_default_maximum_of_every_id_and_string():
    assert f"| every `ID` | {MAX_ID_LENGTH} |" in PAGE
    assert f"| every `String` not listed below | {MAX_STRING_LENGTH} |" in PAGE
    assert f"| `idempotencyKey` of every input | {MAX_IDEMPOTENCY_KEY_TEXT} " in PAGE


def test_the_page_lists_every_longer_argument_with_its_maximum():
    rows = [line for line in PAGE.splitlines() if line.startswith("| `")]
    for name, maximum in LONGER.items():
        owner, _, field = name.partition(".")
        shown = f"`{name}`" if "(" not in field else f"`Query.{field}`"
        assert any(shown in row and row.rstrip().endswith(f"| {maximum} |") for row in rows), name


def test_the_page_names_every_free_text_field_and_the_amount_bounds():
    for name in FREE_TEXT:
        assert f"`{name}`" in PAGE, name
    assert f"**{MAX_INTEGER_DIGITS} digits**" in PAGE and f"**{MAX_FRACTION_DIGITS}" in PAGE
