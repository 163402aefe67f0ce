"""Integer ids given as text (domain/ids.py)."""

import pytest

from domain.ids import MAX_INTEGER_ID, integer_id


@pytest.mark.parametrize("value, expected", [
    ("7", 7), (" 7 ", 7), (7, 7), ("0", 0), ("007", 7), (str(MAX_INTEGER_ID), MAX_INTEGER_ID),
])
def test_ascii_digits_within_the_column_are_ids(value, expected):
    assert integer_id(value) == expected


@pytest.mark.parametrize("value", [
    None, "", " ", "-7", "+7", "7.0", "1e3", "abc", "²", "١٢", "７", str(MAX_INTEGER_ID + 1), "9" * 40,
])
def test_anything_else_names_no_row(value):
    assert integer_id(value) is None
