"""What the execution fast path (server/execution.py) relies on in graphql-core and strawberry, checked one by
one so that an upgrade which changes any of it fails here, naming the internal, instead of turning the fast
path into a silent slowdown (a plan never built, a value always declined) or a wrong answer (issue 18 §2).

graphql-core and strawberry are pinned exactly in pyproject.toml (uv.lock): these are the versions the fast
path was proven on by tests/test_execution.py. Upgrading either means re-running both files."""

from __future__ import annotations

import asyncio
import inspect
import re
import tomllib
from importlib.metadata import version
from pathlib import Path

import graphql
import pytest
import strawberry
from graphql.execution.executor import Executor as ExecutionContext  # graphql-core 3.3: the executor is the context
from graphql.execution.collect_fields import CollectedFields
from graphql.execution.middleware import MiddlewareManager
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField

from server import execution

ROOT = Path(__file__).resolve().parent.parent


def parameters(function) -> list[str]:
    return [name for name in inspect.signature(function).parameters if name != "self"]


@pytest.mark.parametrize("distribution", ["graphql-core", "strawberry-graphql"])
def test_the_installed_versions_are_the_pinned_ones(distribution: str) -> None:
    """The fast path was proven on exactly the versions pyproject.toml pins."""
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    pins = [d for d in dependencies if re.match(rf"{re.escape(distribution)}\s*==", d)]
    assert len(pins) == 1, f"{distribution} is no longer pinned exactly in pyproject.toml: re-prove the fast path"
    pinned = pins[0].split("==", 1)[1].strip()
    assert version(distribution) == pinned, f"{distribution} {version(distribution)} is installed, {pinned} pinned"


# (internal, check): each names what server/execution.py uses and how
EXECUTION_CONTEXT_METHODS = {
    "execute_fields": ["parent_type", "source_value", "path", "grouped_field_set", "position_context"],
    "execute_field": ["parent_type", "source", "field_details_list", "path", "position_context"],
    "collect_subfields": ["return_type", "field_details_list"],
    "collect_and_execute_subfields": ["return_type", "field_details_list", "path", "result", "position_context"],
    "handle_field_error": ["raw_error", "return_type", "field_details_list", "path"],
    "settle_in_background": ["awaitables"],
    "build_resolve_info": ["field_def", "field_nodes", "parent_type", "path"],
    # resolver plans complete the resolver's result with graphql-core's own completion
    "complete_value": ["return_type", "field_details_list", "info", "path", "result", "position_context"],
    "complete_awaitable_value": ["return_type", "field_details_list", "info", "path", "result", "position_context"],
    "with_abort_signal": ["awaitable"],
}


def test_resolver_plans_coerce_arguments_as_execute_field_does() -> None:
    """Resolver plans take graphql-core's argument values as `execute_field` computes them
    (`get_argument_values(field_def, node, self.variable_values, details.fragment_variable_values,
    self.hide_suggestions)`), and convert them with strawberry's `convert_arguments`."""
    from graphql.execution.collect_fields import FieldDetails
    from graphql.execution.values import get_argument_values
    from strawberry.types.arguments import convert_arguments

    assert parameters(get_argument_values) == ["type_def", "node", "variable_values", "fragment_variable_values",
                                               "hide_suggestions"], "graphql-core's get_argument_values changed"
    assert "fragment_variable_values" in FieldDetails._fields, "graphql-core's FieldDetails changed"
    source = inspect.getsource(ExecutionContext.execute_field)
    assert "get_argument_values(" in source and "first_field_details.fragment_variable_values" in source and (
        "self.hide_suggestions" in source), "graphql-core's execute_field computes its arguments otherwise"
    assert parameters(convert_arguments) == ["value", "arguments", "scalar_registry", "config", "info"], (
        "strawberry's convert_arguments changed")
    assert "convert_arguments(" in inspect.getsource(
        __import__("strawberry.schema.schema_converter", fromlist=["get_arguments"]).get_arguments), (
        "strawberry's get_arguments no longer converts with convert_arguments")


@pytest.mark.parametrize("method", sorted(EXECUTION_CONTEXT_METHODS))
def test_graphql_core_execution_context_methods_keep_their_signatures(method: str) -> None:
    function = getattr(ExecutionContext, method, None)
    assert function is not None, f"graphql-core's ExecutionContext.{method} is gone (server/execution.py calls it)"
    assert parameters(function) == EXECUTION_CONTEXT_METHODS[method], (
        f"graphql-core's ExecutionContext.{method} changed its parameters to {parameters(function)}")


def test_gather_with_cancel_is_graphql_cores_public_gather() -> None:
    assert "gather_with_cancel" in graphql.pyutils.__all__, "graphql.pyutils.gather_with_cancel is no longer public"
    assert inspect.iscoroutinefunction(graphql.pyutils.gather_with_cancel), "gather_with_cancel is no coroutine"

    async def gathered() -> list:
        async def one(value: int) -> int:
            await asyncio.sleep(0)
            return value

        return await graphql.pyutils.gather_with_cancel(one(1), one(2))

    assert asyncio.run(gathered()) == [1, 2], "gather_with_cancel no longer returns the results in order"


def test_collect_subfields_answers_collected_fields_by_name() -> None:
    """The fast path reads `grouped_field_set` and `new_defer_usages` of what `collect_subfields` returns (once
    a 3-tuple unpacked by position)."""
    fields = CollectedFields._fields
    assert "grouped_field_set" in fields and "new_defer_usages" in fields, (
        f"graphql-core's CollectedFields changed: {fields}")
    assert inspect.signature(ExecutionContext.collect_subfields).return_annotation in ("CollectedFields",
                                                                                       CollectedFields), (
        "graphql-core's ExecutionContext.collect_subfields no longer returns CollectedFields")


def test_middleware_manager_keeps_middleware_resolvers() -> None:
    """The fast path is off when a field middleware is installed: it reads MiddlewareManager._middleware_resolvers."""
    class Middleware:
        def resolve(self, next_, root, info, **kwargs):  # noqa: ANN001, ANN201
            return next_(root, info, **kwargs)

    assert MiddlewareManager()._middleware_resolvers is None, "MiddlewareManager._middleware_resolvers changed"
    assert MiddlewareManager(Middleware())._middleware_resolvers, "MiddlewareManager._middleware_resolvers changed"


@pytest.mark.parametrize("leaf", [graphql.GraphQLString, graphql.GraphQLEnumType("E", {"A": "a"})])
def test_leaf_types_coerce_output_values(leaf) -> None:
    """`coerce_output_value` (graphql-core 3.3), not the deprecated `serialize`."""
    assert callable(getattr(leaf, "coerce_output_value", None)), f"{type(leaf).__name__}.coerce_output_value is gone"


@strawberry.type
class Thing:
    name: str

    @strawberry.field
    def shout(self) -> str:
        return self.name.upper()


@strawberry.type
class Query:
    thing: Thing = strawberry.field(default_factory=lambda: Thing(name="x"))


def test_strawberry_marks_basic_fields_as_the_fast_path_expects() -> None:
    """A plan is built only for a field whose definition (DEFINITION_BACKREF) is a StrawberryField with
    `is_basic_field`, resolved by strawberry's `_get_basic_result` through its `default_resolver`."""
    schema = strawberry.Schema(query=Query)._schema
    thing = schema.type_map["Thing"]
    basic, resolved = thing.fields["name"], thing.fields["shout"]
    definition = (basic.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    assert isinstance(definition, StrawberryField), "strawberry's DEFINITION_BACKREF no longer holds the field"
    assert definition.is_basic_field is True, "StrawberryField.is_basic_field changed"
    assert definition.default_resolver is getattr, "StrawberryField.default_resolver changed"
    assert definition.python_name == "name", "StrawberryField.python_name changed"
    assert basic.resolve.__name__ == "_get_basic_result", "strawberry's basic resolver is no longer _get_basic_result"
    assert resolved.resolve.__name__ != "_get_basic_result"
    assert isinstance(execution._plan_for(schema, thing, "name"), execution._Plan), "no plan for a basic field"
    assert not isinstance(execution._plan_for(schema, thing, "shout"), execution._Plan)


def test_strawberry_resolves_resolver_fields_as_resolver_plans_expect() -> None:
    """A resolver plan replaces strawberry's `from_resolver` resolver (`_resolver`, `_async_resolver`) for a
    field with no arguments, no exception handler (`GraphQLCoreConverter._get_field_exception_handlers`) and
    no extension but the Guard: it reaches the converter as the GraphQLSchema's DEFINITION_BACKREF's
    `schema_converter`, builds `config.info_class(_raw_info=, _field=)` and calls the resolver's
    `wrapped_func` with the source as `self`/parent/root parameter and the info by `info_parameter`, as
    strawberry's `get_arguments` does."""
    import inspect as inspect_

    from strawberry.schema.schema_converter import get_arguments
    from strawberry.types.fields.resolver import StrawberryResolver

    strawberry_schema = strawberry.Schema(query=Query)
    schema = strawberry_schema._schema
    assert schema.extensions[GraphQLCoreConverter.DEFINITION_BACKREF] is strawberry_schema, (
        "strawberry's GraphQLSchema no longer links back to its strawberry Schema")
    converter = strawberry_schema.schema_converter
    assert isinstance(converter, GraphQLCoreConverter), "strawberry's Schema.schema_converter changed"
    resolved = schema.type_map["Thing"].fields["shout"]
    definition = resolved.extensions[GraphQLCoreConverter.DEFINITION_BACKREF]
    assert resolved.resolve.__qualname__ in execution._STRAWBERRY_RESOLVERS, (
        f"strawberry's resolver is now {resolved.resolve.__qualname__}")
    assert converter._get_field_exception_handlers(definition) == (), "_get_field_exception_handlers changed"
    assert parameters(StrawberryField.get_result) == ["source", "info", "args", "kwargs"]
    assert parameters(get_arguments) == ["field", "source", "info", "kwargs", "config", "scalar_registry"]
    resolver = definition.base_resolver
    assert isinstance(resolver, StrawberryResolver) and callable(resolver.wrapped_func)
    for name in ("self_parameter", "parent_parameter", "root_parameter", "info_parameter"):
        assert hasattr(resolver, name), f"StrawberryResolver.{name} is gone"
    assert parameters(converter.config.info_class) [:2] == ["_raw_info", "_field"], "strawberry's Info changed"
    from strawberry.extensions import FieldExtension
    from auth.permissions import Guard

    assert Guard.map_arguments is FieldExtension.map_arguments, "the Guard reshapes arguments: plans must not skip it"
    assert "info" in inspect_.getsource(get_arguments), "strawberry's get_arguments changed"
    plan = execution._plan_for(schema, schema.type_map["Thing"], "shout")
    assert isinstance(plan, execution._ResolverPlan), "no resolver plan for a plain resolver field"


def test_the_fast_path_builds_plans_on_papergraphs_schema() -> None:
    """Drift that made every field decline would be silent: the real schema's plain fields get plans."""
    from schema import build_schema

    schema = build_schema()._schema
    subscription = schema.type_map["CustomerSubscription"]
    planned = [name for name in subscription.fields
               if execution._plan_for(schema, subscription, name) is not execution._NO_PLAN]
    assert {"id", "accountNumber", "status"} <= set(planned), planned
    resolver_planned = {name for name in subscription.fields
                        if isinstance(execution._plan_for(schema, subscription, name), execution._ResolverPlan)}
    assert {"householdLevel", "offer", "paymentMethod", "billingOptions"} <= resolver_planned, resolver_planned


def test_the_fast_context_is_strawberrys_context() -> None:
    assert issubclass(execution.FastExecutionContext, StrawberryGraphQLCoreExecutionContext)
    assert issubclass(StrawberryGraphQLCoreExecutionContext, ExecutionContext)
