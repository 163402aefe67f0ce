"""HHL-3 labels, as a pure rule."""

from __future__ import annotations

import pytest

from domain.households import level_label


@pytest.mark.parametrize("description, label", [
    ("Premium", "8 - Premium"), ("", "8"), ("   ", "8"), (None, "8"), (" Print ", "8 - Print")])
def test_hhl3_label_is_id_dash_description_or_the_id_alone_when_blank(description, label):
    assert level_label(8, description) == label
