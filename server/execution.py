"""The execution fast path: what papergraph does per request and per field, made cheap without giving up
strawberry's schema.

Measured on this project's 2-core machines (`python -m bench profile`, `python -m bench run`, README
"Benchmarks"): per-field execution is what a Python GraphQL server spends its CPU on. A dashboard answer has
~900 fields in ~240 objects, and for each field graphql-core builds a `Path` and a `GraphQLResolveInfo`,
strawberry wraps the default attribute resolver, and the result goes through the generic `complete_value`.
Most of those fields are plain attributes of objects papergraph already built (`from_record`/`from_row`):
they need none of it.

- `FastExecutionContext` (a graphql-core `ExecutionContext`, passed to strawberry's Schema as
  `execution_context_class`) overrides `execute_fields`: each object type's grouped field set (memoized by
  graphql-core per request) is compiled once into (response name, fields, plan), so every item of a list
  shares it. A *basic* strawberry field — no resolver, no field extension, no permission, no exception
  handler — is resolved inline with one `getattr`; leaves (scalars, enums, lists of them) are serialized
  in place, plain objects and lists of plain objects run their own compiled field sets, with graphql-core's
  per-item and per-field error handling. Anything else (resolvers, abstract types, nulls and errors) takes
  graphql-core's own path, so behaviour and error messages are unchanged: on any doubt (an Exception as a
  value or a list item, an iterable other than a list or tuple, a value a scalar refuses) the fast path hands
  the field back to `execute_field`. tests/test_execution.py compares both paths answer for answer, on a
  small schema of every shape and on papergraph's own over bench/, the demo's, the tests' and
  hypothesis-graphql's queries; tests/test_execution_internals.py fails, naming it, when a graphql-core or
  strawberry internal relied on here changes (both are pinned exactly in pyproject.toml).
  `PAPERGRAPH_EXECUTION=stock` runs strawberry's own execution context instead, to measure what this buys.
- parsing and validation are cached per operation text (bounded LRU, `server/limits.py`, which also
  enforces the operation limits): front ends send a few fixed operations, so both happen once per process
  instead of on every request.
- `tune_gc()` freezes start-up objects out of the collector's reach and raises the gen-0 threshold: GraphQL
  responses allocate many short-lived objects, and full young-generation scans over the import-time heap
  were a quarter of the CPU in performance.md's measurements.
- `encode_json`/`decode_json` use orjson for request and response bodies.

Elsewhere on the same path: permission rules decided without awaiting (`auth/permissions.Guard`), loaders'
reads compiled once and run on a raw asyncpg pool (`datasources/reads.py`), remote upstreams called with
aiohttp directly, without httpx's client layer (`datasources/transport.py`), verified tokens remembered
(`auth/tokens.py`).
"""

from __future__ import annotations

import gc
from typing import Any, Callable
from weakref import WeakKeyDictionary

import orjson
from graphql import (
    GraphQLEnumType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
)
from graphql.pyutils import Path, Undefined, gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField

DOCUMENT_CACHE_SIZE = 512  # distinct operation texts kept parsed and validated per process
GC_GEN0_THRESHOLD = 50_000  # CPython's default is 700 (2000 from 3.13)

# plan kinds
_LEAF, _LEAF_LIST, _OBJECT, _OBJECT_LIST = 1, 2, 3, 4


class _Plan:
    """How to resolve one basic field of one parent type: the attribute and how to complete its value."""

    __slots__ = ("getter", "name", "kind", "return_type", "non_null", "leaf", "coerce", "item_non_null",
                 "object_type", "item_type")

    def __init__(self, getter: Callable[[Any, str], Any], name: str, kind: int, return_type: Any,
                 leaf: Any = None, item_non_null: bool = False, object_type: GraphQLObjectType | None = None,
                 item_type: Any = None) -> None:
        self.getter = getter
        self.name = name
        self.kind = kind
        self.return_type = return_type
        self.non_null = isinstance(return_type, GraphQLNonNull)
        self.leaf = leaf
        # graphql-core 3.3's `coerce_output_value` (`serialize` is deprecated), bound once per plan
        self.coerce = None if leaf is None else leaf.coerce_output_value
        self.item_non_null = item_non_null
        self.object_type = object_type
        self.item_type = item_type  # a list's item type, non-null wrapper included


_NO_PLAN = object()
_DECLINE = object()  # the fast path declines: graphql-core's own path resolves the field (and any error)
_plans: WeakKeyDictionary[GraphQLSchema, dict[tuple[str, str], Any]] = WeakKeyDictionary()


def _plan_for(schema: GraphQLSchema, parent_type: GraphQLObjectType, field_name: str) -> Any:
    per_schema = _plans.get(schema)
    if per_schema is None:
        per_schema = _plans[schema] = {}
    key = (parent_type.name, field_name)
    plan = per_schema.get(key)
    if plan is None:
        plan = per_schema[key] = _build_plan(schema, parent_type, field_name)
    return plan


def _build_plan(schema: GraphQLSchema, parent_type: GraphQLObjectType, field_name: str) -> Any:
    """A plan only for fields strawberry itself treats as basic (`is_basic_field` and its
    `_get_basic_result` resolver, i.e. no exception handlers), of a type the fast path can complete."""
    field_def = schema.get_field(parent_type, field_name)
    if field_def is None or field_def.args:
        return _NO_PLAN
    definition = (field_def.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    resolve = field_def.resolve
    # strawberry's own test for a basic field (schema_converter.from_resolver): `is_basic_field` and no
    # exception handler, which is when it resolves with `_get_basic_result` (tests/test_execution_internals.py)
    if (not isinstance(definition, StrawberryField) or not definition.is_basic_field or resolve is None
            or resolve.__name__ != "_get_basic_result"):
        return _NO_PLAN
    getter = definition.default_resolver  # what strawberry's `get_result` calls for a basic field
    field_type = field_def.type
    inner = field_type.of_type if isinstance(field_type, GraphQLNonNull) else field_type
    if isinstance(inner, (GraphQLScalarType, GraphQLEnumType)):
        return _Plan(getter, definition.python_name, _LEAF, field_type, leaf=inner)
    if isinstance(inner, GraphQLList):
        item = item_type = inner.of_type
        item_non_null = isinstance(item, GraphQLNonNull)
        item = item.of_type if item_non_null else item
        if isinstance(item, (GraphQLScalarType, GraphQLEnumType)):
            return _Plan(getter, definition.python_name, _LEAF_LIST, field_type, leaf=item, item_non_null=item_non_null)
        if isinstance(item, GraphQLObjectType) and item.is_type_of is None:
            return _Plan(getter, definition.python_name, _OBJECT_LIST, field_type, object_type=item,
                         item_non_null=item_non_null, item_type=item_type)
        return _NO_PLAN
    if isinstance(inner, GraphQLObjectType) and inner.is_type_of is None:
        return _Plan(getter, definition.python_name, _OBJECT, field_type, object_type=inner)
    return _NO_PLAN


def _complete_leaves(plan: _Plan, value: Any) -> Any:
    """The coerced leaf or list of leaves; `_DECLINE` for anything graphql-core must report on. `value` is
    neither None nor an Exception (the caller declines those).

    Only a list or tuple is iterated here: any other iterable (a generator) may be consumed once only, so
    graphql-core's path, which resolves the field again, must see it whole. An item that is an Exception
    is graphql-core's error to report at the item, even for a scalar that would accept it (JSON)."""
    coerce = plan.coerce
    if plan.kind == _LEAF:
        try:
            coerced = coerce(value)
        except Exception:  # noqa: BLE001 - a scalar's own coercion may raise anything; graphql-core reports it
            return _DECLINE
        return _DECLINE if coerced is None or coerced is Undefined else coerced
    if not isinstance(value, (list, tuple)):
        return _DECLINE
    item_non_null, out = plan.item_non_null, []
    for item in value:
        if item is None:
            if item_non_null:
                return _DECLINE
            out.append(None)
            continue
        if isinstance(item, Exception):
            return _DECLINE
        try:
            coerced = coerce(item)
        except Exception:  # noqa: BLE001 - as above: the scalar's code, reported by graphql-core's path
            return _DECLINE
        if coerced is None or coerced is Undefined:
            return _DECLINE
        out.append(coerced)
    return out


class FastExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """graphql-core execution with a fast path for strawberry's basic fields (see the module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        manager = self.middleware_manager
        # field middleware (an extension with a `resolve` hook) must see every field: no fast path then
        # (graphql-core's MiddlewareManager internal, read directly so that a change fails loudly)
        self._fast = manager is None or not manager._middleware_resolvers
        # selection sets compiled for this request: graphql-core memoizes each object type's grouped field
        # set per request, so every item of a list reuses one compiled set (kept alive with its key)
        self._compiled_sets: dict[int, tuple[Any, GraphQLObjectType, list[tuple[str, Any, Any]]]] = {}
        self._subfield_sets: dict[int, tuple[Any, GraphQLObjectType, Any]] = {}

    def _compiled(self, parent_type: GraphQLObjectType, grouped_field_set: Any) -> list[tuple[str, Any, Any]]:
        entry = self._compiled_sets.get(id(grouped_field_set))
        if entry is None or entry[0] is not grouped_field_set or entry[1] is not parent_type:
            schema = self.schema
            fields = [(name, details, _plan_for(schema, parent_type, details[0].node.name.value))
                      for name, details in grouped_field_set.items()]
            entry = self._compiled_sets[id(grouped_field_set)] = (grouped_field_set, parent_type, fields)
        return entry[2]

    def _execute_subfields(self, object_type: GraphQLObjectType, field_details_list, path, value,  # noqa: ANN001
                           position_context) -> Any:  # noqa: ANN001
        """graphql-core's `collect_and_execute_subfields` for the fast path's objects: the grouped field set
        is looked up once per (type, fields) and request and executed directly. A selection with `@defer`
        takes graphql-core's own path (its incremental executor handles it)."""
        entry = self._subfield_sets.get(id(field_details_list))
        if entry is None or entry[0] is not field_details_list or entry[1] is not object_type:
            # graphql-core's `CollectedFields` by name, not by position (tests/test_execution_internals.py)
            collected = self.collect_subfields(object_type, field_details_list)
            entry = (field_details_list, object_type,
                     None if collected.new_defer_usages else collected.grouped_field_set)
            self._subfield_sets[id(field_details_list)] = entry
        if entry[2] is None:
            return self.collect_and_execute_subfields(object_type, field_details_list, path, value, position_context)
        return self.execute_fields(object_type, value, path, entry[2], None)

    def execute_fields(self, parent_type, source_value, path, grouped_field_set, position_context):  # noqa: ANN001
        """graphql-core's `execute_fields`, with each planned field resolved inline: one getattr, leaves
        serialized in place, and no `Path` unless the field has children or an error to report. A field
        without a plan, or whose value the fast path declines, goes through `execute_field` as before."""
        if not self._fast:
            return super().execute_fields(parent_type, source_value, path, grouped_field_set, position_context)
        results: dict[str, Any] = {}
        is_awaitable = self.is_awaitable
        awaitable_fields: list[str] = []
        type_name = parent_type.name
        try:
            for response_name, details, plan in self._compiled(parent_type, grouped_field_set):
                if plan is not _NO_PLAN:
                    try:
                        value = plan.getter(source_value, plan.name)
                    except Exception:  # noqa: BLE001 - a property's own error: graphql-core's path reports it
                        value = _DECLINE
                    if value is None:
                        if not plan.non_null:
                            results[response_name] = None
                            continue
                    # an Exception as the value is the field's error (graphql-core's `complete_value`)
                    elif value is not _DECLINE and not isinstance(value, Exception):
                        kind = plan.kind
                        if kind == _OBJECT or kind == _OBJECT_LIST:
                            field_path = Path(path, response_name, type_name)
                            if kind == _OBJECT:
                                result = self._complete_object(plan, value, details, field_path, position_context)
                            else:
                                result = self._complete_object_list(plan, value, details, field_path,
                                                                    position_context)
                            if result is not _DECLINE:
                                results[response_name] = result
                                if is_awaitable(result):
                                    awaitable_fields.append(response_name)
                                continue
                        else:
                            completed = _complete_leaves(plan, value)
                            if completed is not _DECLINE:
                                results[response_name] = completed
                                continue
                result = self.execute_field(parent_type, source_value, details, Path(path, response_name, type_name),
                                            position_context)
                if result is not Undefined:
                    results[response_name] = result
                    if is_awaitable(result):
                        awaitable_fields.append(response_name)
        except Exception:
            if awaitable_fields:
                self.settle_in_background([results[name] for name in awaitable_fields])
            raise
        if not awaitable_fields:
            return results

        async def get_results() -> dict[str, Any]:
            if len(awaitable_fields) == 1:
                name = awaitable_fields[0]
                results[name] = await results[name]
            else:
                awaited = await gather_with_cancel(*(results[name] for name in awaitable_fields))
                results.update(zip(awaitable_fields, awaited, strict=True))
            return results

        return get_results()

    def _complete_object(self, plan: _Plan, value: Any, field_details_list, path, position_context) -> Any:  # noqa: ANN001
        """graphql-core's `complete_object_value` for a type without `is_type_of`, with the same error
        handling as its `execute_field` (errors of subfields propagate and are reported once)."""
        try:
            completed = self._execute_subfields(plan.object_type, field_details_list, path, value, position_context)
            if self.is_awaitable(completed):

                async def await_completed() -> Any:
                    try:
                        return await completed
                    except Exception as raw_error:  # noqa: BLE001
                        self.handle_field_error(raw_error, plan.return_type, field_details_list, path)
                        return None

                return await_completed()
            return completed
        except Exception as raw_error:  # noqa: BLE001
            self.handle_field_error(raw_error, plan.return_type, field_details_list, path)
            return None

    def _complete_object_list(self, plan: _Plan, value: Any, field_details_list, path, position_context) -> Any:  # noqa: ANN001
        """graphql-core's `complete_list_value` for a list of plain objects: each item's selection set runs
        at once, the items that await are gathered, and errors are handled per item and then per field as
        graphql-core does. `_DECLINE` (before anything runs) for a non-list or a null in a list of non-null
        items: graphql-core's path reports those."""
        if not isinstance(value, (list, tuple)) or (plan.item_non_null and any(item is None for item in value)):
            return _DECLINE
        object_type, item_type, is_awaitable = plan.object_type, plan.item_type, self.is_awaitable
        out: list[Any] = []
        pending: list[tuple[int, Path, Any]] = []
        try:
            for index, item in enumerate(value):
                if item is None:
                    out.append(None)
                    continue
                item_path = Path(path, index, None)
                if isinstance(item, Exception):  # the item's error, as graphql-core's `complete_list_item_value`
                    self.handle_field_error(item, item_type, field_details_list, item_path)  # raises if non-null
                    out.append(None)
                    continue
                try:
                    completed = self._execute_subfields(object_type, field_details_list, item_path, item,
                                                        position_context)
                except Exception as raw_error:  # noqa: BLE001
                    self.handle_field_error(raw_error, item_type, field_details_list, item_path)  # raises if non-null
                    completed = None
                if is_awaitable(completed):
                    pending.append((index, item_path, completed))
                out.append(completed)
        except Exception as raw_error:  # noqa: BLE001
            if pending:
                self.settle_in_background([awaitable for _, _, awaitable in pending])
            self.handle_field_error(raw_error, plan.return_type, field_details_list, path)
            return None
        if not pending:
            return out

        async def item(item_path: Path, awaitable: Any) -> Any:
            try:
                return await awaitable
            except Exception as raw_error:  # noqa: BLE001
                self.handle_field_error(raw_error, item_type, field_details_list, item_path)
                return None

        async def await_items() -> Any:
            try:
                awaited = await gather_with_cancel(*(item(item_path, awaitable) for _, item_path, awaitable in pending))
            except Exception as raw_error:  # noqa: BLE001
                self.handle_field_error(raw_error, plan.return_type, field_details_list, path)
                return None
            for (index, _, _), completed in zip(pending, awaited, strict=True):
                out[index] = completed
            return out

        return await_items()


def tune_gc() -> None:
    """Call once per worker after start-up: what exists now (modules, schema, pools) lives for the process,
    so the collector need not scan it again; a higher gen-0 threshold trades a little memory for far fewer
    young collections on allocation-heavy responses."""
    gc.collect()
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(GC_GEN0_THRESHOLD, gen1, gen2)


def encode_json(data: object) -> bytes:
    return orjson.dumps(data)


def decode_json(data: str | bytes) -> object:
    return orjson.loads(data)
