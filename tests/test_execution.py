"""The execution fast path (server/execution.py) answers exactly what graphql-core's own path answers.

A differential test: one small strawberry schema with every shape the fast path handles (leaves, enums,
lists of leaves, plain objects, lists of objects, async resolvers below them) and every way a value can be
wrong (null for a non-null field, a null item in a list of non-null items, a value a scalar refuses, a
resolver that raises, synchronously or after awaiting). Each query runs under strawberry's stock execution
context and under `FastExecutionContext`; data and errors (message, path) must be identical.
"""

from __future__ import annotations

import asyncio
import enum
from typing import Optional

import pytest
import strawberry
from strawberry.schema.config import StrawberryConfig
from strawberry.scalars import JSON

from server.execution import FastExecutionContext


@strawberry.enum
class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


@strawberry.type
class Leaf:
    name: str
    size: Optional[int]
    colors: list[Color]

    @strawberry.field
    async def later(self) -> str:
        await asyncio.sleep(0)
        return self.name.upper()

    @strawberry.field
    async def broken_later(self) -> Optional[str]:
        await asyncio.sleep(0)
        raise ValueError(f"no later for {self.name}")

    @strawberry.field
    def broken(self) -> str:
        raise ValueError(f"broken {self.name}")


@strawberry.type
class Node:
    title: str
    maybe: Optional[str]
    required: str
    count: int
    tags: list[str]
    maybe_tags: Optional[list[Optional[str]]]
    child: Optional[Leaf]
    leaves: list[Leaf]
    maybe_leaves: Optional[list[Optional[Leaf]]]
    maybe_child: Optional[Leaf] = None
    blob: Optional[JSON] = None
    blobs: Optional[list[JSON]] = None


def node(**overrides) -> Node:
    values = dict(title="n", maybe=None, required="r", count=3, tags=["a", "b"], maybe_tags=["x", None],
                  child=Leaf(name="c", size=None, colors=[Color.RED]),
                  leaves=[Leaf(name="l1", size=1, colors=[Color.BLUE]), Leaf(name="l2", size=2, colors=[])],
                  maybe_leaves=[Leaf(name="m1", size=None, colors=[]), None])
    values.update(overrides)
    return Node(**values)


NODES = {
    "good": node(),
    "null_required": node(required=None),
    "bad_int": node(count="three"),
    "null_in_tags": node(tags=["a", None]),
    "null_in_leaves": node(leaves=[Leaf(name="l1", size=1, colors=[]), None]),
    "not_a_list": node(leaves="oops"),
    "bad_nested": node(leaves=[Leaf(name=None, size=1, colors=[])]),
    "bad_enum": node(child=Leaf(name="c", size=1, colors=["green"])),
    # the four differences the fast path once had from graphql-core (issue 18, section 2): an Exception as an
    # object's value, as an item of a list of objects, a generator of leaves with a null item, an Exception as
    # a JSON scalar's value (and as an item of a list of JSON values)
    "exception_child": node(child=ValueError("no child here"), maybe_child=ValueError("no maybe child")),
    "exception_in_leaves": node(leaves=[Leaf(name="l1", size=1, colors=[]), ValueError("no second leaf")],
                                maybe_leaves=[ValueError("no first maybe leaf"), None]),
    # a generator is consumed once: a fresh node per query
    "generator_with_null": lambda: node(tags=(tag for tag in ["a", None, "c"]),
                                        maybe_tags=(tag for tag in ["x", {"no": "string"}, None, "z"])),
    "exception_json": node(blob=ValueError("no blob"), blobs=[{"a": 1}, ValueError("no second blob")]),
}


@strawberry.type
class Query:
    @strawberry.field
    def node(self, key: str) -> Optional[Node]:
        value = NODES[key]
        return value() if callable(value) else value

    @strawberry.field
    async def nodes(self) -> list[Node]:
        await asyncio.sleep(0)
        return [NODES["good"], NODES["good"]]


stock = strawberry.Schema(query=Query)
fast = strawberry.Schema(query=Query, execution_context_class=FastExecutionContext)

SELECTION = """
  title maybe required count tags maybeTags
  child { name size colors later }
  leaves { name size colors later }
  maybeLeaves { name size }
"""

QUERIES = [
    *[f'{{ node(key: "{key}") {{ {SELECTION} }} }}' for key in NODES],
    '{ node(key: "good") { leaves { name brokenLater } child { brokenLater } } }',
    '{ node(key: "good") { leaves { name broken } } }',
    '{ node(key: "good") { maybeLeaves { name broken } } }',
    '{ node(key: "good") { child { broken } } }',
    "{ nodes { title leaves { later name } child { later } } }",
    '{ a: node(key: "good") { t: title, again: title, child { n: name } } b: node(key: "bad_int") { count } }',
    '{ node(key: "good") { ... on Node { title leaves { ... L } } } } fragment L on Leaf { name size }',
]


def answer(schema: strawberry.Schema, query: str) -> dict:
    result = asyncio.run(schema.execute(query))
    errors = sorted(({"message": e.message, "path": e.path} for e in result.errors or []),
                    key=lambda e: (str(e["path"]), e["message"]))
    return {"data": result.data, "errors": errors}


@pytest.mark.parametrize("query", QUERIES)
def test_fast_path_answers_like_graphql_core(query: str) -> None:
    expected = answer(stock, query)
    assert answer(fast, query) == expected


REGRESSIONS = {
    "exception_child": {"node"},  # child is non-null: its error nulls node; reported at node.child
    "exception_in_leaves": {"node"},
    "generator_with_null": {"node"},
    "exception_json": {"node"},
}


@pytest.mark.parametrize("key", sorted(REGRESSIONS))
def test_a_regression_of_the_fast_path_answers_like_graphql_core(key: str) -> None:
    """Issue 18 §2: each of the four differences, queried field by field so that every error is visible."""
    selections = {
        "exception_child": ["child { name }", "maybeChild { name size }"],
        "exception_in_leaves": ["leaves { name }", "maybeLeaves { name size }"],
        "generator_with_null": ["tags", "maybeTags"],  # maybeTags: a dict is no String
        "exception_json": ["blob", "blobs"],
    }[key]
    for selection in selections:
        query = f'{{ node(key: "{key}") {{ title {selection} }} }}'
        expected = answer(stock, query)
        assert expected["errors"], query  # graphql-core does report something for each
        assert answer(fast, query) == expected, query


def test_the_differential_cases_do_fail_somewhere() -> None:
    """The cases above are not all happy paths: the stock path reports errors for the broken values."""
    failing = [q for q in QUERIES if answer(stock, q)["errors"]]
    assert len(failing) >= 8


def test_the_fast_path_is_taken_for_plain_fields() -> None:
    """graphql-core builds a ResolveInfo for every field its own path executes: with the fast path, only
    for the fields with resolvers."""
    calls = []

    class Counting(FastExecutionContext):
        def build_resolve_info(self, field_def, field_nodes, parent_type, path):  # noqa: ANN001
            calls.append(field_nodes[0].name.value)
            return super().build_resolve_info(field_def, field_nodes, parent_type, path)

    schema = strawberry.Schema(query=Query, execution_context_class=Counting, config=StrawberryConfig())
    result = asyncio.run(schema.execute('{ node(key: "good") { title tags child { name later } } }'))
    assert result.errors is None
    assert calls == ["node", "later"]
