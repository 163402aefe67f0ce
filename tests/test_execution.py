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


async def _later_leaf() -> Leaf:
    await asyncio.sleep(0)
    return Leaf(name="later leaf", size=3, colors=[Color.BLUE])


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
    # a list of objects with an awaitable item: graphql-core awaits it (a fresh coroutine per query)
    "awaitable_in_leaves": lambda: node(leaves=[Leaf(name="l1", size=1, colors=[]), _later_leaf()],
                                        maybe_leaves=[_later_leaf(), None]),
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


# -- resolver plans (issue 18 part 3): resolver fields called without strawberry's wrapper chain ----------------
#
# Fields with resolvers, guarded (papergraph's Guard: allowing, denying, deciding now or after awaiting) and not,
# taking the source and the info under every name strawberry accepts, returning values, raising, returning a
# loader's future that fails, lists with failing items and nulls in non-null lists (propagating to the nearest
# nullable parent). Errors are compared in order, whole (message, locations, path).

from auth.permissions import Rule, allow  # noqa: E402
from resolvers.dataloaders.batching import DataLoader  # noqa: E402
from strawberry.types import Info  # noqa: E402


class Principal:
    is_anonymous = False


class Context:
    """What the Guard reads (`principal`), and a per-request loader whose batch fails some keys."""

    principal = Principal()

    def __init__(self) -> None:
        self._loader: DataLoader | None = None

    @property
    def loader(self) -> DataLoader:
        if self._loader is None:
            async def items_by_key(keys):  # noqa: ANN001, ANN202
                await asyncio.sleep(0)
                return [ValueError(f"no item {key}") if key.startswith("bad") else f"item {key}" for key in keys]

            self._loader = DataLoader(items_by_key)
        return self._loader


class Open(Rule):
    description = "open things"

    def allows(self, context, source, kwargs) -> bool:  # noqa: ANN001
        return getattr(source, "open", False)


class OpenLater(Rule):
    description = "open things, after reading"

    async def allows(self, context, source, kwargs) -> bool:  # noqa: ANN001
        await asyncio.sleep(0)
        return getattr(source, "open", False)


class SourceSeen(Rule):
    """Allows only when the Guard is handed the source as the resolver's `root` parameter (strawberry's order)."""

    description = "root seen"

    def allows(self, context, source, kwargs) -> bool:  # noqa: ANN001
        return kwargs.get("root") is source


class SaysPlease(Rule):
    """Allows when the field's (converted) argument asks nicely: the Guard sees strawberry's kwargs."""

    description = "polite requests"

    def allows(self, context, source, kwargs) -> bool:  # noqa: ANN001
        return kwargs.get("text", "").startswith("please")


@strawberry.input
class Shape:
    sides: int
    name: str = "shape"


def _future(value=None, error: Exception | None = None) -> asyncio.Future:  # noqa: ANN001
    future = asyncio.get_running_loop().create_future()
    if error is None:
        asyncio.get_running_loop().call_soon(future.set_result, value)
    else:
        asyncio.get_running_loop().call_soon(future.set_exception, error)
    return future


@strawberry.type
class Guarded:
    key: str
    open: strawberry.Private[bool]
    # plain lists of objects whose items' resolver fields await: gathered once per list (issue 18 part 3)
    kids: list["Guarded"] = strawberry.field(default_factory=list)
    maybe_kids: Optional[list[Optional["Guarded"]]] = None

    @strawberry.field(extensions=allow(Open()))
    def secret(self) -> Optional[str]:
        return f"secret of {self.key}"

    @strawberry.field(extensions=allow(Open()))
    def required_secret(self) -> str:
        return f"required secret of {self.key}"

    @strawberry.field(extensions=allow(OpenLater()))
    def secret_later(self, info: Info) -> Optional[str]:
        return info.context.loader.load(self.key)

    @strawberry.field(extensions=allow(OpenLater()))
    async def async_secret_later(self) -> Optional[str]:
        await asyncio.sleep(0)
        return f"async secret of {self.key}"

    @strawberry.field(extensions=allow(Open()))
    async def async_secret(self) -> str:
        return f"async required secret of {self.key}"

    @strawberry.field(extensions=allow(SourceSeen()))
    @staticmethod
    def by_root(root: "Guarded", info: Info) -> str:
        return f"{root.key} via {info.field_name}"

    @strawberry.field
    def loaded(self, info: Info) -> Optional[str]:
        return info.context.loader.load(self.key)  # a loader's future: fails for a bad key

    @strawberry.field
    def loaded_required(self, info: Info) -> str:
        return info.context.loader.load(self.key)

    @strawberry.field
    def required_when_closed(self, info: Info) -> str:
        """Answered at once for an open thing, awaited (a loader's future, failing for a bad key) for a closed
        one: the items of one list differ in whether an awaiting non-null field can null them."""
        return f"open {self.key}" if self.open else info.context.loader.load(self.key)

    @strawberry.field(extensions=allow(SaysPlease()))
    def echo(self, text: str, times: int = 1, color: Color = Color.RED, shape: Optional[Shape] = None) -> str:
        shape_text = "no shape" if shape is None else f"{shape.name} of {shape.sides}"
        return f"{self.key}: {text * times} {color.value} {shape_text}"

    @strawberry.field
    def kids_later(self, info: Info, count: int = 2) -> Optional[list["Guarded"]]:
        """A loader's future of a list of objects (graphql-core completes the list after awaiting)."""
        return _future([Guarded(key=f"{self.key}.{index}", open=index % 2 == 0) for index in range(count)]
                       + ([Guarded(key=f"bad.{self.key}", open=True)] if count > 2 else []))

    @strawberry.field
    async def async_kids(self, fail_at: int = -1) -> list[Optional["Guarded"]]:
        await asyncio.sleep(0)
        return [ValueError(f"no kid {index}") if index == fail_at else Guarded(key=f"a{index}", open=index != 1)
                for index in range(3)]

    @strawberry.field
    def strict_kids(self, with_null: bool = False) -> list["Guarded"]:
        return [Guarded(key="s0", open=True), *([None] if with_null else []), Guarded(key="bad.s1", open=False)]

    @strawberry.field
    def kid_futures(self) -> Optional[list[Optional["Guarded"]]]:
        """A list with awaitable items: graphql-core awaits each."""
        return [_future(Guarded(key="f0", open=True)), Guarded(key="f1", open=False), None]

    @strawberry.field
    def raises(self) -> Optional[str]:
        raise ValueError(f"raised for {self.key}")

    @strawberry.field
    async def raises_later(self) -> Optional[str]:
        await asyncio.sleep(0)
        raise ValueError(f"raised later for {self.key}")

    @strawberry.field
    def future_fails(self) -> Optional[int]:
        return _future(error=ValueError(f"future failed for {self.key}"))

    @strawberry.field
    def future_bad_int(self) -> Optional[int]:
        return _future("not an int")

    @strawberry.field
    def leaf(self, parent: strawberry.Parent["Guarded"]) -> Leaf:
        return Leaf(name=f"leaf of {parent.key}", size=None, colors=[Color.RED])

    @strawberry.field
    def null_leaf(self) -> Leaf:
        return None  # non-null: the error nulls the nearest nullable parent

    @strawberry.field
    def leaves(self) -> Optional[list[Optional[Leaf]]]:
        return [Leaf(name="fine", size=1, colors=[]), ValueError(f"no leaf for {self.key}"), None]

    @strawberry.field
    def strict_leaves(self) -> Optional[list[Leaf]]:
        return [Leaf(name="fine", size=1, colors=[]), None]

    @strawberry.field
    def future_leaves(self) -> list[Leaf]:
        return _future([Leaf(name=f"future leaf of {self.key}", size=2, colors=[Color.BLUE])])

    @strawberry.field(extensions=allow(Open()))
    def children(self) -> list[Optional["Guarded"]]:
        return [Guarded(key=f"{self.key}.open", open=True), Guarded(key=f"bad.{self.key}", open=False)]

    @strawberry.field
    def strict_children(self) -> Optional[list["Guarded"]]:
        return [Guarded(key=f"{self.key}.open", open=True), Guarded(key=f"{self.key}.closed", open=False)]


@strawberry.type
class GuardedQuery:
    @strawberry.field
    def things(self) -> list[Optional[Guarded]]:
        return [Guarded(key="one", open=True), Guarded(key="two", open=False), Guarded(key="bad", open=True)]

    @strawberry.field
    def thing(self) -> Optional[Guarded]:
        kids = [Guarded(key="k1", open=True), Guarded(key="bad.k2", open=False), Guarded(key="k3", open=False),
                Guarded(key="bad", open=True)]
        return Guarded(key="solo", open=True, kids=kids, maybe_kids=[*kids, None])


guarded_stock = strawberry.Schema(query=GuardedQuery)
guarded_fast = strawberry.Schema(query=GuardedQuery, execution_context_class=FastExecutionContext)

GUARDED_QUERIES = {
    "allowed and denied": "{ things { key secret secretLater asyncSecretLater byRoot } }",
    "denied non-null": "{ things { key requiredSecret } }",
    "denied non-null async": "{ things { key asyncSecret } }",
    "loader futures": "{ things { key loaded } thing { loaded } }",
    "failed loader future, non-null": "{ things { key loadedRequired } }",
    "raised": "{ things { key raises raisesLater } }",
    "failed futures": "{ things { futureFails futureBadInt } }",
    "objects from resolvers": "{ things { leaf { name later brokenLater } futureLeaves { name colors later } } }",
    "non-null object null": "{ things { key nullLeaf { name } } }",
    "lists with failing items": "{ things { leaves { name broken } } }",
    "null in non-null list": "{ things { strictLeaves { name } } }",
    "nested guarded lists": "{ thing { children { key secret requiredSecret children { key loaded } } } }",
    "non-null propagation through lists": "{ thing { strictChildren { key requiredSecret } } }",
    "list gathered once, nullable fields": "{ thing { kids { key loaded secretLater asyncSecretLater raisesLater "
                                           "futureFails futureBadInt } } }",
    "list gathered once, non-null field nulls the list": "{ thing { key kids { key loaded loadedRequired } } }",
    "list gathered once, non-null field nulls an item": "{ thing { maybeKids { key loaded loadedRequired } } }",
    "list gathered once, items differ": "{ thing { maybeKids { key requiredWhenClosed secretLater } "
                                        "kids { key secret requiredWhenClosed } } }",
    "list gathered once, nested": "{ thing { maybeKids { key loaded kids { key loaded requiredWhenClosed } } } }",
    "arguments: constants, defaults, enums, inputs": '{ thing { a: echo(text: "please") b: echo(text: "please", '
                                                     'times: 2, color: BLUE, shape: {sides: 3}) c: echo(text: "no") } }',
    "resolver lists of objects": "{ thing { kidsLater { key secret requiredWhenClosed loaded } "
                                 "many: kidsLater(count: 3) { key loadedRequired } } }",
    "resolver lists with failing items": "{ thing { a: asyncKids { key loaded } b: asyncKids(failAt: 1) { key } "
                                         "c: asyncKids(failAt: 0) { key requiredSecret } } }",
    "resolver non-null lists": "{ thing { strictKids { key secret } } }",
    "resolver non-null list with a null": "{ thing { key strictKids(withNull: true) { key } } }",
    "resolver non-null list, non-null field fails": "{ thing { key strictKids { key requiredSecret } } }",
    "resolver lists with awaitable items": "{ thing { kidFutures { key loaded secret } } }",
    "aliases and fragments": "{ thing { a: secret b: secret ... on Guarded { secret loaded } } things { ...F } } "
                             "fragment F on Guarded { key secretLater }",
}


def guarded_answer(schema: strawberry.Schema, query: str, variables: dict | None = None) -> dict:
    """data, and the errors in the order reported, whole."""
    result = asyncio.run(schema.execute(query, variable_values=variables, context_value=Context()))
    return {"data": result.data, "errors": [error.formatted for error in result.errors or []]}


@pytest.mark.parametrize("name", sorted(GUARDED_QUERIES))
def test_resolver_plans_answer_like_graphql_core(name: str) -> None:
    query = GUARDED_QUERIES[name]
    expected = guarded_answer(guarded_stock, query)
    assert expected["data"] is not None and expected["errors"], expected  # every case has data and errors to compare
    assert guarded_answer(guarded_fast, query) == expected


VARIABLE_QUERY = """query ($text: String!, $times: Int, $color: Color!, $shape: Shape, $fail: Int!) {
  thing { echo(text: $text, times: $times, color: $color, shape: $shape) asyncKids(failAt: $fail) { key secret } }
}"""


@pytest.mark.parametrize("variables", [
    {"text": "please ", "times": 3, "color": "BLUE", "shape": {"sides": 4, "name": "square"}, "fail": 2},
    {"text": "please", "times": None, "color": "RED", "shape": None, "fail": -1},
    {"text": "rude", "color": "RED", "fail": 0},
    {"text": "please", "times": "many", "color": "RED", "fail": 0},  # refused before execution
])
def test_resolver_plans_take_arguments_from_variables_like_graphql_core(variables: dict) -> None:
    expected = guarded_answer(guarded_stock, VARIABLE_QUERY, variables)
    assert guarded_answer(guarded_fast, VARIABLE_QUERY, variables) == expected


# -- an operation's plan, shared by the requests that send it (issue 18 part 3) ----------------------------------
#
# With the parsed document cached (as papergraph's own parse cache does), the same operation runs again with
# other variables: each answer must still be graphql-core's, whether the operation's collection is static
# (shared across requests) or depends on a variable (`@include(if: $flag)`: collected per request).

from strawberry.extensions import ParserCache  # noqa: E402

cached_stock = strawberry.Schema(query=GuardedQuery, extensions=[ParserCache()])
cached_fast = strawberry.Schema(query=GuardedQuery, execution_context_class=FastExecutionContext,
                                extensions=[ParserCache()])

SKIPPING_QUERY = """query ($flag: Boolean!, $text: String!) {
  thing { key echo(text: $text) @include(if: $flag) kids { key secret @skip(if: $flag) loaded } }
  things { ... on Guarded @include(if: $flag) { secretLater } key }
}"""

REQUESTS_OF_ONE_OPERATION = [
    (VARIABLE_QUERY, {"text": "please ", "times": 3, "color": "BLUE", "shape": {"sides": 4, "name": "sq"}, "fail": 2}),
    (VARIABLE_QUERY, {"text": "rude", "color": "RED", "fail": 0}),
    (VARIABLE_QUERY, {"text": "please", "times": 2, "color": "RED", "shape": None, "fail": -1}),
    (SKIPPING_QUERY, {"flag": True, "text": "please"}),
    (SKIPPING_QUERY, {"flag": False, "text": "please"}),
    (SKIPPING_QUERY, {"flag": True, "text": "rude"}),
    (GUARDED_QUERIES["arguments: constants, defaults, enums, inputs"], None),
    (GUARDED_QUERIES["arguments: constants, defaults, enums, inputs"], None),
    (GUARDED_QUERIES["list gathered once, items differ"], None),
    (GUARDED_QUERIES["list gathered once, items differ"], None),
]


def test_an_operation_sent_again_answers_like_graphql_core_every_time() -> None:
    """Variables at every level (the dashboard's shape: a static selection, arguments from variables below the
    root), `@skip`/`@include` on variables, literal arguments, and the same operations again in turn."""
    for query, variables in [*REQUESTS_OF_ONE_OPERATION, *REQUESTS_OF_ONE_OPERATION]:
        expected = guarded_answer(cached_stock, query, variables)
        assert guarded_answer(cached_fast, query, variables) == expected, (query, variables)
    # the cases are not alike: the variables do change the answers
    answers = [guarded_answer(cached_stock, q, v)["data"] for q, v in REQUESTS_OF_ONE_OPERATION[:6]]
    assert answers[0] != answers[1] != answers[2] and answers[3] != answers[4] != answers[5]


def test_a_static_operation_is_collected_once_for_all_its_requests(monkeypatch) -> None:
    """Below the root, a static operation's selection sets are collected by its first request only (by the fast
    path and by graphql-core's own completion of a resolver's object alike); one whose collection reads a
    variable (`@include(if: $flag)`) is collected in every request."""
    from graphql.execution import executor

    collected = []
    original = executor.collect_subfields

    def counting(schema, fragments, variable_values, operation, return_type, *args):  # noqa: ANN001, ANN002
        collected.append(return_type.name)
        return original(schema, fragments, variable_values, operation, return_type, *args)

    monkeypatch.setattr(executor, "collect_subfields", counting)
    schema = strawberry.Schema(query=GuardedQuery, execution_context_class=FastExecutionContext,
                               extensions=[ParserCache()])
    per_request = []
    for variables in ({"text": "please", "times": 1, "color": "RED", "fail": 0},
                      {"text": "please", "times": 2, "color": "BLUE", "fail": 1}):
        expected = guarded_answer(guarded_stock, VARIABLE_QUERY, variables)
        collected.clear()
        assert guarded_answer(schema, VARIABLE_QUERY, variables) == expected
        per_request.append(collected[:])
    assert per_request[0] == ["Guarded", "Guarded"] and per_request[1] == []  # `thing`, `asyncKids`
    from server import execution

    walks = []
    is_static = execution._is_static
    monkeypatch.setattr(execution, "_is_static", lambda *args: walks.append(1) or is_static(*args))
    for flag in (True, False, True):
        collected.clear()
        assert guarded_answer(schema, SKIPPING_QUERY, {"flag": flag, "text": "please"})["data"]
        assert "Guarded" in collected, flag
    assert walks == [1]  # the document is found not static once, not on every request


def test_the_guard_denies_on_the_resolver_plan_path() -> None:
    """A closed thing's secret is refused with the Guard's own error, in the order graphql-core reports it."""
    answer_ = guarded_answer(guarded_fast, "{ things { key secret } }")
    assert [thing["secret"] for thing in answer_["data"]["things"]] == ["secret of one", None, "secret of bad"]
    assert [(error["path"], error["message"]) for error in answer_["errors"]] == [
        (["things", 1, "secret"], "Not allowed: `secret` is for open things")]


def test_resolver_plans_skip_strawberrys_wrapper_chain() -> None:
    """A planned field's resolver is called without strawberry's `from_resolver` resolver (the field's
    `resolve`); a field whose `resolve` is not strawberry's own gets no plan, and `resolve` is called."""
    from server import execution

    schema = guarded_fast._schema
    field_def = schema.type_map["Guarded"].fields["secret"]
    original = field_def.resolve
    calls = []

    def counting(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        calls.append(1)
        return original(*args, **kwargs)

    try:
        field_def.resolve = counting
        for qualname, expected_calls in ((original.__qualname__, []), ("someone_elses_resolver", [1])):
            execution._plans.pop(schema, None)
            counting.__qualname__ = qualname
            calls.clear()
            answer_ = guarded_answer(guarded_fast, "{ thing { secret } }")
            assert answer_["data"] == {"thing": {"secret": "secret of solo"}}
            assert calls == expected_calls, qualname
    finally:
        field_def.resolve = original
        execution._plans.pop(schema, None)


# -- papergraph's real schema: stock and fast execution answer alike over a corpus (issue 18 §2) --------------
#
# Two `/graphql` views over the same embedded services and database, one per `PAPERGRAPH_EXECUTION`; every
# document of the corpus is sent to both as each principal, and the bodies (data, and each error whole:
# message, path, locations, extensions) must be identical. Queries only: a mutation run twice would see the
# first run's effects.

import ast  # noqa: E402
import pathlib  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
from decimal import Decimal  # noqa: E402

import graphql  # noqa: E402
import httpx  # noqa: E402
from hypothesis import HealthCheck, given, settings as hypothesis_settings, strategies as st  # noqa: E402
from hypothesis_graphql import Mode, from_schema, nodes  # noqa: E402
from starlette.applications import Starlette  # noqa: E402
from starlette.routing import Route  # noqa: E402

from settings import Settings  # noqa: E402
from tests.conftest import Tokens, _prepare, bearer  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent
PRINCIPALS = ("anonymous", "customer", "staff")
GENERATED_EXAMPLES = 40  # per principal: derandomized, so the same documents every run


def _is_query(text: str) -> bool:
    try:
        document = graphql.parse(text)
    except graphql.GraphQLError:
        return False
    operations = [d for d in document.definitions if isinstance(d, graphql.OperationDefinitionNode)]
    return bool(operations) and all(o.operation == graphql.OperationType.QUERY for o in operations)


def bench_documents() -> list[tuple[str, str, dict]]:
    """(name, document, variables) of every query of bench/scenarios.py, with the variables it sends."""
    from bench.scenarios import scenarios

    return [(f"bench:{s.name}", s.query, s.check_body()["variables"]) for s in scenarios(1) if _is_query(s.query)]


def demo_documents() -> list[tuple[str, str, dict]]:
    """The queries of the demo front end (demo/app.js), those without template interpolation."""
    source = (ROOT / "demo" / "app.js").read_text()
    found = re.findall(r"const ([A-Z_]+) = `([^`]*)`;", source)
    return [(f"demo:{name}", text, {}) for name, text in found if "${" not in text and _is_query(text)]


def test_documents(every: int = 3) -> list[tuple[str, str, dict]]:
    """A sample (every third, in a stable order) of the queries the tests keep as module constants."""
    found = []
    for path in sorted((ROOT / "tests").rglob("test_*.py")):
        if path.name == "test_execution.py":
            continue
        tree = ast.parse(path.read_text())
        for node in tree.body:
            if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
                    and isinstance(node.value.value, str) and _is_query(node.value.value)
                    and all(isinstance(t, ast.Name) and t.id.isupper() for t in node.targets)):
                found.append((f"{path.relative_to(ROOT)}:{node.targets[0].id}", node.value.value, {}))
    return found[::every]


test_documents.__test__ = False  # a corpus, not a test


def corpus() -> list[tuple[str, str, dict]]:
    return [*bench_documents(), *demo_documents(), *test_documents()]


@pytest.fixture(scope="module")
def both_executions(tmp_path_factory):
    """`/stock` and `/fast`: app.build_view with `execution` stock and fast, behind authentication and the
    Observe middleware, over one set of embedded services, on an event loop of the module's own (hypothesis
    drives a synchronous test). Yields (send, values): send(path, body, headers) -> the JSON answer."""
    from app import build_view, create_app
    from auth.middleware import Authenticate
    from sandbox.demo import generate
    from server.observe import InFlight, Observe

    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('execution') / 'papergraph.db'}"
    _prepare(url)
    test_settings = Settings(environment="test", database_url=url, upstreams="embedded", seed_demo_data=False,
                             upstream_timeout=2.0, upstream_read_retries=0, cost_budget_maximum=100_000_000,
                             cost_budget_restore_rate=10_000_000)
    with asyncio.Runner() as runner:
        application = create_app(test_settings)
        lifespan = application.router.lifespan_context(application)
        runner.run(lifespan.__aenter__())
        services = application.state.services
        routes = [Route(f"/{execution}", Authenticate(build_view(
            test_settings.model_copy(update={"execution": execution}), lambda: services), lambda: services.tokens),
            methods=["POST"]) for execution in ("stock", "fast")]
        asgi = Observe(Starlette(routes=routes), request_timeout=test_settings.request_timeout, in_flight=InFlight(),
                       default_tenant=test_settings.default_tenant, access_log=False)
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=asgi), base_url="http://papergraph.test")
        tokens = Tokens(application.state.sandboxes["auth0"].state.store, test_settings.auth0_audience)
        data = generate(1)
        crid = next(link["crid"] for link in data.links if link["tenant"] == "NCSDEMO" and link["role"] == "OWNER")
        subscription = next(link["subscription_id"] for link in data.links if link["crid"] == crid)
        headers = {"anonymous": {}, "customer": bearer(tokens.customer(crid)), "staff": bearer(tokens.staff("NCSDEMO"))}
        values = {"crid": crid, "subscriptionId": subscription, "id": subscription, "first": 5,
                  "search": {"lastName": "Garcia"}}

        def send(path: str, body: dict, principal: str) -> dict:
            response = runner.run(client.post(path, json=body, headers=headers[principal]))
            assert response.status_code < 500, response.text
            return response.json()

        try:
            yield send, values
        finally:
            runner.run(client.aclose())
            runner.run(lifespan.__aexit__(None, None, None))


def assert_same_answer(send, query: str, variables: dict, principal: str) -> dict:
    body = {"query": query, "variables": variables}
    stock_answer = send("/stock", body, principal)
    fast_answer = send("/fast", body, principal)
    assert fast_answer == stock_answer, f"\n{query}\nvariables: {variables}\nas {principal}"
    return stock_answer


def with_variables(query: str, given_variables: dict, values: dict) -> dict:
    """The document's variables: the ones given, else a known value by name (a CRID, a subscription...)."""
    document = graphql.parse(query)
    names = {d.variable.name.value for o in document.definitions if isinstance(o, graphql.OperationDefinitionNode)
             for d in o.variable_definitions or ()}
    return {**{name: values[name] for name in names if name in values}, **given_variables}


@pytest.mark.sqlite_only("it compares two executions over one database of its own; the database is not what differs")
@pytest.mark.parametrize("principal", PRINCIPALS)
def test_the_corpus_answers_alike_under_stock_and_fast_execution(both_executions, principal: str) -> None:
    """Every query of bench/, the demo's, and a sample of the tests': identical answers, and the corpus is
    not all refusals (the data the fast path builds is compared, not only errors)."""
    send, values = both_executions
    documents = corpus()
    assert any(name.startswith("bench:") for name, _, _ in documents)
    assert any(name.startswith("demo:") for name, _, _ in documents)
    assert sum(name.startswith("tests/") for name, _, _ in documents) >= 20
    with_data = 0
    for _name, query, given_variables in documents:
        answer_ = assert_same_answer(send, query, with_variables(query, given_variables, values), principal)
        with_data += any(value is not None for value in (answer_.get("data") or {}).values())
    if principal != "anonymous":  # an anonymous visitor is refused nearly everything
        assert with_data >= len(documents) // 4


class Vary(graphql.Visitor):
    """Rewrites a generated query the ways clients write them, at random (a seeded `random.Random`):
    `__typename` in selection sets, fields repeated under an alias, `@skip`/`@include` with a variable or a
    literal, selections wrapped in an inline fragment (`... on Type` or bare), arguments hoisted into
    variables. AST nodes are immutable: each rewrite returns a new node."""

    def __init__(self, type_info: graphql.TypeInfo, rnd: random.Random) -> None:
        super().__init__()
        self.type_info, self.rnd = type_info, rnd
        self.definitions: list[graphql.VariableDefinitionNode] = []
        self.variables: dict = {}
        self.aliases = 0

    def _variable(self, type_text: str, value) -> graphql.VariableNode:
        name = f"v{len(self.definitions)}"
        self.variables[name] = value
        variable = graphql.VariableNode(name=graphql.NameNode(value=name))
        self.definitions.append(graphql.VariableDefinitionNode(variable=variable, type=graphql.parse_type(type_text)))
        return variable

    def enter_argument(self, node: graphql.ArgumentNode, *_args):
        argument = self.type_info.get_argument()
        if argument is None or isinstance(node.value, graphql.VariableNode) or self.rnd.random() < 0.5:
            return None
        return graphql.ArgumentNode(name=node.name, value=self._variable(
            str(argument.type), graphql.value_from_ast_untyped(node.value)))

    def _directive(self) -> graphql.DirectiveNode:
        name = self.rnd.choice(["skip", "include"])
        condition = self.rnd.random() < 0.5
        value = (self._variable("Boolean!", condition) if self.rnd.random() < 0.7
                 else graphql.BooleanValueNode(value=condition))
        return graphql.DirectiveNode(name=graphql.NameNode(value=name), arguments=(
            graphql.ArgumentNode(name=graphql.NameNode(value="if"), value=value),))

    def leave_selection_set(self, node: graphql.SelectionSetNode, *_args):
        parent = self.type_info.get_parent_type()
        selections = []
        for selection in node.selections:
            if isinstance(selection, graphql.FieldNode) and selection.name.value != "__typename":
                roll = self.rnd.random()
                if roll < 0.15:  # the same field again, under an alias
                    self.aliases += 1
                    selections.append(graphql.FieldNode(
                        alias=graphql.NameNode(value=f"a{self.aliases}"), name=selection.name,
                        arguments=selection.arguments, directives=selection.directives,
                        selection_set=selection.selection_set))
                elif roll < 0.3:
                    selection = graphql.FieldNode(alias=selection.alias, name=selection.name,
                                                  arguments=selection.arguments, directives=(self._directive(),),
                                                  selection_set=selection.selection_set)
            selections.append(selection)
        if self.rnd.random() < 0.3:
            selections.append(graphql.FieldNode(name=graphql.NameNode(value="__typename")))
        if self.rnd.random() < 0.2 and parent is not None:  # wrapped in an inline fragment
            condition = (graphql.NamedTypeNode(name=graphql.NameNode(value=parent.name))
                         if self.rnd.random() < 0.5 else None)
            directives = (self._directive(),) if self.rnd.random() < 0.3 else ()
            selections = [graphql.InlineFragmentNode(type_condition=condition, directives=directives,
                                                     selection_set=graphql.SelectionSetNode(selections=tuple(selections)))]
        return graphql.SelectionSetNode(selections=tuple(selections))

    def leave_operation_definition(self, node: graphql.OperationDefinitionNode, *_args):
        return graphql.OperationDefinitionNode(operation=node.operation, name=node.name, directives=node.directives,
                                               variable_definitions=tuple(self.definitions),
                                               selection_set=node.selection_set)


def vary(document: graphql.DocumentNode, schema: graphql.GraphQLSchema, seed: int) -> tuple[str, dict]:
    type_info = graphql.TypeInfo(schema)
    visitor = Vary(type_info, random.Random(seed))
    rewritten = graphql.visit(document, graphql.TypeInfoVisitor(type_info, visitor))
    return graphql.print_ast(rewritten), visitor.variables


def generated_queries() -> st.SearchStrategy:
    """(document, seed of its variations): a valid query of one root field at a time (so the operation limits
    do not refuse it), from hypothesis-graphql with the fuzz tests' custom scalars; its abstract types get
    inline fragments per possible type, aliased where their fields' types differ."""
    from tests.test_fuzz import CUSTOM_SCALARS, graphql_schema

    schema = graphql_schema()
    # valid amounts only: the fuzz tests' hostile ones (NaN, 1e999, …) make a document invalid, not a comparison
    scalars = {**CUSTOM_SCALARS, "Decimal": st.decimals(min_value=Decimal("-1e12"), max_value=Decimal("1e12"), places=2,
                                                        allow_nan=False, allow_infinity=False).map(
        lambda d: nodes.String(str(d)))}
    roots = sorted(name for name in schema.query_type.fields if not name.startswith("_"))
    documents = st.sampled_from(roots).flatmap(lambda root: from_schema(
        schema, fields=[root], mode=Mode.POSITIVE, custom_scalars=scalars, allow_x00=False,
        print_ast=lambda document: document))
    return st.tuples(documents, st.integers(0, 2**32))


@pytest.mark.sqlite_only("it compares two executions over one database of its own; the database is not what differs")
@pytest.mark.parametrize("principal", PRINCIPALS)
def test_generated_queries_answer_alike_under_stock_and_fast_execution(both_executions, principal: str) -> None:
    """hypothesis-graphql's queries, varied with @skip/@include, variables, aliases, inline fragments and
    __typename: identical answers. Their arguments are arbitrary, so many are refused somewhere below the
    root, which exercises graphql-core's null propagation through non-null fields."""
    from tests.test_fuzz import graphql_schema

    send, _ = both_executions
    schema = graphql_schema()

    @hypothesis_settings(max_examples=GENERATED_EXAMPLES, derandomize=True, deadline=None, database=None,
                         suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                HealthCheck.filter_too_much])
    @given(generated_queries())
    def run(generated) -> None:
        document, seed = generated
        query, variables = vary(document, schema, seed)
        assert not graphql.validate(schema, graphql.parse(query)), query  # the variations keep it valid
        assert_same_answer(send, query, variables, principal)

    run()


def test_the_execution_setting_chooses_the_execution_context() -> None:
    """PAPERGRAPH_EXECUTION (issue 18 §1): `fast` by default, `stock` is strawberry's own context, and
    app.build_view passes the setting to build_schema."""
    from pydantic import ValidationError
    from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

    from app import build_view

    assert Settings(environment="test").execution == "fast"
    with pytest.raises(ValidationError):
        Settings(environment="test", execution="jit")
    for execution, context in (("fast", FastExecutionContext), ("stock", StrawberryGraphQLCoreExecutionContext)):
        view = build_view(Settings(environment="test", execution=execution), lambda: None)
        assert view.schema.execution_context_class is context
