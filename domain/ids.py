"""Ids of papergraph's own rows given as text (a GraphQL `ID`), as pure functions."""

from __future__ import annotations

from typing import Any, Optional

MAX_INTEGER_ID = 2**31 - 1  # the id columns are 32-bit integers on both backends


def integer_id(value: Any) -> Optional[int]:
    """The row id `value` names, or None when it names none: ASCII digits only (`str.isdigit` also accepts
    '²' and '١٢', which `int` refuses or reads as another number), within an integer column's range (a
    larger number sent to PostgreSQL is an error, not a miss)."""
    text = str(value).strip() if value is not None else ""
    if not (text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if number <= MAX_INTEGER_ID else None
