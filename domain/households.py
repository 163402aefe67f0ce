"""Household-level administration (HHL-1, HHL-4), as pure functions."""

from __future__ import annotations

from typing import Sequence

from domain.money import RuleError
from domain.text import free_text

MAX_DESCRIPTION = 50


def validate_description(description: str, field: Sequence[str] = ("input", "description")) -> str:
    """HHL-1/HHL-4: at most 50 characters; blank is allowed (the level then shows no description).
    Surrounding spaces are not kept."""
    description = free_text((description or "").strip(), field, rule="HHL-1") or ""
    if len(description) > MAX_DESCRIPTION:
        raise RuleError(f"The description must be at most {MAX_DESCRIPTION} characters", field, "HHL-1")
    return description


def level_label(level_id: int, description: str | None) -> str:
    """HHL-3: where a level is shown for choosing, its label is "<id> - <description>"; with a blank description
    (HHL-1 allows one) the label is the id alone (decision: no dangling " - ")."""
    text = (description or "").strip()
    return f"{level_id} - {text}" if text else str(level_id)
