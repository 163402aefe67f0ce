"""What a resolver may read of its own selection: cheap, conservative questions about `info`'s field nodes."""

from __future__ import annotations

from typing import Any

from graphql import FieldNode


def selects_plainly(info: Any, name: str) -> bool:
    """Whether the field being resolved selects the child field `name` directly (not through a fragment) and
    unconditionally (no directive on it). False whenever that cannot be told from the nodes alone: a caller
    uses it to do early what the selection will certainly ask for, never to skip what it might ask for."""
    raw = getattr(info, "_raw_info", info)  # strawberry's Info wraps graphql-core's (tests/test_execution_internals.py)
    for node in raw.field_nodes:
        selection_set = node.selection_set
        if selection_set is None:
            continue
        for selection in selection_set.selections:
            if (isinstance(selection, FieldNode) and selection.name.value == name and not selection.directives):
                return True
    return False
