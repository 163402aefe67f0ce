"""The README documents every setting, each in its own table with its own default.

Rows for the logging, shutdown, metrics and readiness settings once landed inside the 'Operation limits' table
(the depth row named PAPERGRAPH_LOG_LEVEL) while a substring check over the whole README still passed. These tests
read the tables themselves: a row in the wrong table, under the wrong limit or with a stale default fails.
"""

import dataclasses
import re
from enum import Enum
from pathlib import Path

from server.limits import OperationPolicy
from settings import Settings

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()

# the README's name for each operation limit → the setting that holds it
LIMIT_SETTINGS = {
    "depth": "max_depth",
    "aliases": "max_aliases",
    "root fields": "max_root_fields",
    "tokens": "max_tokens",
    "document size": "max_document_bytes",
    "cost": "max_cost",
    "list size": "cost_list_size",
    "representations": "max_representations",
    "batch": "max_batch_operations",
    "request size": "max_request_bytes",
}
# enforced by the HTTP layer (server/http.py) rather than by OperationPolicy
TRANSPORT_LIMITS = {"max_batch_operations", "max_request_bytes"}
# in OperationPolicy but not a refusal: `first` is clamped to it
NOT_A_REFUSAL = {"max_page_size"}


def env_name(field: str) -> str:
    return "DATABASE_URL" if field == "database_url" else f"PAPERGRAPH_{field.upper()}"


def table_after(heading: str) -> list[list[str]]:
    """The rows (header first, separator dropped) of the first table under a heading, as lists of cells."""
    lines = README.split("\n")
    start = lines.index(heading)
    rows: list[list[str]] = []
    for line in lines[start + 1:]:
        if line.startswith("|"):
            rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
        elif rows or line.startswith("#"):
            break
    assert rows, f"no table under {heading!r}"
    return [row for row in rows if not all(re.fullmatch(r":?-+:?", cell) for cell in row)]


def shown_default(field: str) -> str:
    default = Settings.model_fields[field].default
    return str(default.value if isinstance(default, Enum) else default)


def test_every_readme_table_row_has_as_many_cells_as_its_header():
    # given
    ragged: list[str] = []
    header: list[str] | None = None

    # when
    for line in README.split("\n"):
        if not line.startswith("|"):
            header = None
            continue
        cells = line.strip().strip("|").split("|")
        if header is None:
            header = cells
        elif len(cells) != len(header):
            ragged.append(line)

    # then
    assert ragged == []


def test_readme_names_each_operation_limit_with_its_setting_and_default():
    # given
    policy_limits = {f.name for f in dataclasses.fields(OperationPolicy) if f.type in (int, "int")} - NOT_A_REFUSAL

    # when
    header, *rows = table_after("### Operation limits")

    # then
    assert set(LIMIT_SETTINGS.values()) == policy_limits | TRANSPORT_LIMITS, "a limit without its README row"
    assert header == ["limit", "setting", "default", "counts"]
    assert [row[:3] for row in rows] == [
        [limit, f"`{env_name(field)}`", shown_default(field)] for limit, field in LIMIT_SETTINGS.items()
    ]


def test_readme_configuration_table_lists_every_setting_once_with_its_default():
    # given
    header, *rows = table_after("## Configuration")

    # when
    documented = [row[0].strip("`") for row in rows]
    defaults = {row[0].strip("`"): row[1] for row in rows}

    # then
    assert header == ["variable", "default", "meaning"]
    assert all(len(row) == 3 for row in rows)
    expected = [env_name(field) for field in Settings.model_fields]
    assert [name for name in expected if name not in documented] == [], "settings missing from the table"
    assert [name for name in documented if name not in expected] == [], "rows naming no setting"
    assert len(documented) == len(set(documented)), "a setting documented twice"
    wrong_defaults = {
        env_name(field): defaults[env_name(field)]
        for field, info in Settings.model_fields.items()
        # None and "" have no literal to show: the README says what they mean instead
        if info.default not in (None, "") and defaults[env_name(field)] != f"`{shown_default(field)}`"
    }
    assert wrong_defaults == {}
