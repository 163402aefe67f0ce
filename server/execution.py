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
- A strawberry field *with a resolver* gets a resolver plan (`_ResolverPlan`, built once per schema and
  field, so shared by every request and document) when it has no exception handler and no field extension
  but papergraph's `Guard`, and `resolve` is strawberry's own `from_resolver` resolver: the plan calls the
  Guard and the resolver directly, with the arguments strawberry's `get_arguments` would pass (graphql-core's
  argument values, coerced once per request and grouped field, converted by strawberry's
  `convert_arguments`; the source as `self`, parent or root; the strawberry `Info` by its parameter's
  name), instead of strawberry's wrapper chain (`_resolver` → `extension_resolver` → `get_arguments` →
  `reduce`/`partial` → `get_result`). graphql-core's own `GraphQLResolveInfo` (`build_resolve_info`),
  completion (`complete_value`, `complete_awaitable_value`) and error handling are kept as `execute_field`
  has them, except that a list of plain objects is completed by the fast path's list completion. Anything
  else (argument values graphql-core refuses, other extensions) keeps graphql-core's and strawberry's path.
- A list of plain objects (a basic field's or a resolver's) is gathered once: graphql-core runs a
  `get_results` coroutine and a gather per item and another gather for the items; an item whose awaiting
  fields are all nullable cannot fail (each reports its own error and answers null), so its fields'
  awaitables join the list's one gather and their results are written into the item's dict in place.
- An operation's plan (`_DocumentPlan`) is shared by every request that sends it, as graphql-jit compiles a
  query once: its selection sets' collected fields (graphql-core's `collect_subfields`, keyed by object type
  and field nodes, which the parse cache keeps the same from request to request) and their compiled field
  lists. Only for a *static* operation, whose collection cannot depend on the variables (no `@skip`/`@include`
  on a variable, no `@defer`/`@stream`, no fragment arguments); a resolver field's argument values are kept
  only when they are literal immutable scalars, and are otherwise coerced per request as before.
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
import inspect
from typing import Any, Callable
from weakref import WeakKeyDictionary

import orjson
from graphql import (
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    ListValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    VariableNode,
)
from graphql.execution.values import get_argument_values
from graphql.pyutils import Path, Undefined, gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.extensions import FieldExtension
from strawberry.types.arguments import convert_arguments
from strawberry.types.field import StrawberryField

from auth.permissions import Guard

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


class _ResolverPlan:
    """How to call one strawberry resolver field without strawberry's per-call wrapper chain (`_resolver` →
    `extension_resolver` → `get_arguments` → `reduce`/`partial` → `get_result`): what that chain computes
    from the field alone (which parameters take the source and the info, the Guard) is worked out once per
    schema, and `call` does the rest per source, in the same order and with the same arguments."""

    __slots__ = ("field_def", "return_type", "call", "list_plan")

    def __init__(self, field_def: Any, call: Callable[[Any, Any, dict[str, Any]], Any]) -> None:
        self.field_def = field_def
        self.return_type = field_def.type
        # (source, GraphQLResolveInfo, graphql-core's argument values) -> the resolver's result, as strawberry's
        # resolver returns it
        self.call = call
        # a list of plain objects is completed by the fast path's `_complete_object_list` (one gather per list)
        completion = _completion_plan(None, "", self.return_type)
        self.list_plan: _Plan | None = (completion if type(completion) is _Plan and completion.kind == _OBJECT_LIST
                                        else None)


_NO_PLAN = object()
_DECLINE = object()  # the fast path declines: graphql-core's own path resolves the field (and any error)
_plans: WeakKeyDictionary[GraphQLSchema, dict[tuple[str, str], Any]] = WeakKeyDictionary()


class _DocumentPlan:
    """What one operation of one document compiles to, shared by every request that sends it (the parsed
    document is cached per operation text, so its nodes are the same objects from request to request): each
    selection set's grouped field set by (object type, field nodes), and the compiled field list of each of
    those grouped field sets. Only for a *static* operation: one whose field collection cannot depend on the
    request's variables (`_is_static`), so graphql-core would collect exactly the same fields every time.

    The field lists keep the argument values of a resolver field only when the field's arguments are literals
    of immutable scalars (`_static_values`); a field whose arguments use variables (the dashboard's
    `registration(crid: $crid)`) has its values coerced per request, as before."""

    __slots__ = ("operation", "static", "subfields", "owned", "compiled")

    def __init__(self, operation: OperationDefinitionNode, static: bool) -> None:
        self.operation = operation  # held: the ids below are of this document's nodes and sets
        self.static = static  # False: remembered only so that the document is not walked again
        # (object type, id of each field node) -> graphql-core's `CollectedFields`
        self.subfields: dict[tuple[Any, ...], Any] = {}
        self.owned: dict[int, Any] = {}  # id -> grouped field set, for each set held in `subfields`
        self.compiled: dict[int, list[tuple[str, Any, Any, Any, bool]]] = {}  # id of an owned set -> field list


DOCUMENT_PLANS = 2 * DOCUMENT_CACHE_SIZE  # operations whose plans are kept per schema before starting over
_documents: WeakKeyDictionary[GraphQLSchema, dict[int, _DocumentPlan]] = WeakKeyDictionary()
_COLLECTION_DIRECTIVES = frozenset({"skip", "include"})  # field collection evaluates their arguments


def _is_static(operation: OperationDefinitionNode, fragments: dict[str, Any]) -> bool:
    """Whether collecting the operation's fields depends on nothing but the document: no `@skip`/`@include`
    whose arguments hold a variable, no `@defer`/`@stream` (incremental delivery keeps graphql-core's own path)
    and no fragment with variables of its own (graphql-core 3.3's experimental fragment arguments)."""
    if any(getattr(details, "variable_signatures", None) for details in fragments.values()):
        return False
    stack = [operation.selection_set, *(details.definition.selection_set for details in fragments.values())]
    while stack:
        selection_set = stack.pop()
        if selection_set is None:
            continue
        for selection in selection_set.selections:
            for directive in selection.directives or ():
                name = directive.name.value
                if name in ("defer", "stream"):
                    return False
                if name in _COLLECTION_DIRECTIVES and any(_uses_variables(argument.value)
                                                             for argument in directive.arguments or ()):
                    return False
            if getattr(selection, "arguments", None) and isinstance(selection, FragmentSpreadNode):
                return False
            stack.append(getattr(selection, "selection_set", None))
    return True


def _uses_variables(value: Any) -> bool:
    if isinstance(value, VariableNode):
        return True
    if isinstance(value, ListValueNode):
        return any(_uses_variables(item) for item in value.values)
    if isinstance(value, ObjectValueNode):
        return any(_uses_variables(item.value) for item in value.fields)
    return False


_IMMUTABLE = (str, int, float, bool, type(None))


def _static_values(field_nodes: list[Any], values: dict[str, Any]) -> bool:
    """Whether a resolver field's coerced argument values may be kept for every request: its arguments are
    literals (no variable) and every value is an immutable scalar (a resolver given a list or an input object
    could change it, and the next request must not see that)."""
    return (all(not any(_uses_variables(argument.value) for argument in node.arguments or ()) for node in field_nodes)
            and all(type(value) in _IMMUTABLE for value in values.values()))


def _document_plan(schema: GraphQLSchema, operation: OperationDefinitionNode, fragments: dict[str, Any]
                   ) -> _DocumentPlan | None:
    """The operation's plan, made on its first request; None for an operation that is not static."""
    per_schema = _documents.get(schema)
    if per_schema is None:
        per_schema = _documents[schema] = {}
    plan = per_schema.get(id(operation))
    if plan is None or plan.operation is not operation:
        if len(per_schema) >= DOCUMENT_PLANS:  # a bound, not a policy: front ends send a few fixed operations
            per_schema.clear()
        plan = per_schema[id(operation)] = _DocumentPlan(operation, _is_static(operation, fragments))
    return plan if plan.static else None


def _plans_of(schema: GraphQLSchema) -> dict[tuple[str, str], Any]:
    """The schema's plans by (type name, field name): looked up once per request, not per field."""
    per_schema = _plans.get(schema)
    if per_schema is None:
        per_schema = _plans[schema] = {}
    return per_schema


def _plan_for(schema: GraphQLSchema, parent_type: GraphQLObjectType, field_name: str,
              per_schema: dict[tuple[str, str], Any] | None = None) -> Any:
    if per_schema is None:
        per_schema = _plans_of(schema)
    key = (parent_type.name, field_name)
    plan = per_schema.get(key)
    if plan is None:
        plan = per_schema[key] = _build_plan(schema, parent_type, field_name)
    return plan


def _build_plan(schema: GraphQLSchema, parent_type: GraphQLObjectType, field_name: str) -> Any:
    """A plan only for fields strawberry itself treats as basic (`is_basic_field` and its
    `_get_basic_result` resolver, i.e. no exception handlers), of a type the fast path can complete."""
    field_def = schema.get_field(parent_type, field_name)
    if field_def is None:
        return _NO_PLAN
    definition = (field_def.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    resolve = field_def.resolve
    if isinstance(definition, StrawberryField) and definition.base_resolver is not None and resolve is not None:
        return _build_resolver_plan(schema, field_def, definition)
    if field_def.args:
        return _NO_PLAN
    # strawberry's own test for a basic field (schema_converter.from_resolver): `is_basic_field` and no
    # exception handler, which is when it resolves with `_get_basic_result` (tests/test_execution_internals.py)
    if (not isinstance(definition, StrawberryField) or not definition.is_basic_field or resolve is None
            or resolve.__name__ != "_get_basic_result"):
        return _NO_PLAN
    # `default_resolver`: what strawberry's `get_result` calls for a basic field
    return _completion_plan(definition.default_resolver, definition.python_name, field_def.type)


def _completion_plan(getter: Any, name: str, field_type: Any) -> Any:
    """How the fast path completes a value of `field_type` (a leaf, a list of leaves, a plain object or a list of
    plain objects: an object type without `is_type_of`), with `getter(source, name)` reading it; `_NO_PLAN` for
    any other type (graphql-core completes it)."""
    inner = field_type.of_type if isinstance(field_type, GraphQLNonNull) else field_type
    if isinstance(inner, (GraphQLScalarType, GraphQLEnumType)):
        return _Plan(getter, name, _LEAF, field_type, leaf=inner)
    if isinstance(inner, GraphQLList):
        item = item_type = inner.of_type
        item_non_null = isinstance(item, GraphQLNonNull)
        item = item.of_type if item_non_null else item
        if isinstance(item, (GraphQLScalarType, GraphQLEnumType)):
            return _Plan(getter, name, _LEAF_LIST, field_type, leaf=item, item_non_null=item_non_null)
        if isinstance(item, GraphQLObjectType) and item.is_type_of is None:
            return _Plan(getter, name, _OBJECT_LIST, field_type, object_type=item, item_non_null=item_non_null,
                         item_type=item_type)
        return _NO_PLAN
    if isinstance(inner, GraphQLObjectType) and inner.is_type_of is None:
        return _Plan(getter, name, _OBJECT, field_type, object_type=inner)
    return _NO_PLAN


_STRAWBERRY_RESOLVERS = {"GraphQLCoreConverter.from_resolver.<locals>._resolver": False,
                         "GraphQLCoreConverter.from_resolver.<locals>._async_resolver": True}


def _build_resolver_plan(schema: GraphQLSchema, field_def: Any, definition: StrawberryField) -> Any:
    """A plan for a strawberry field with a resolver, resolved by strawberry's own `from_resolver` resolver,
    with no exception handler and no field extension but papergraph's `Guard` (whose `map_arguments` is
    strawberry's identity). Everything else keeps strawberry's resolver. Arguments are converted per call
    with strawberry's `convert_arguments`, from graphql-core's values (coerced once per request and field)."""
    resolve = field_def.resolve
    is_async = _STRAWBERRY_RESOLVERS.get(getattr(resolve, "__qualname__", None))
    strawberry_schema = (schema.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    converter = getattr(strawberry_schema, "schema_converter", None)
    resolver = definition.base_resolver
    extensions = list(definition.extensions)
    if (is_async is None or not isinstance(converter, GraphQLCoreConverter)
            or converter._get_field_exception_handlers(definition) or len(extensions) > 1
            or any(type(extension) is not Guard or type(extension).map_arguments is not FieldExtension.map_arguments
                   for extension in extensions)
            or not callable(resolver.wrapped_func)):
        return _NO_PLAN
    func = resolver.wrapped_func
    info_class, field = converter.config.info_class, definition
    takes_self = resolver.self_parameter is not None
    # strawberry's `get_arguments`: the source as `self`, as the parent and root parameters, the info by name
    source_names = tuple(parameter.name for parameter in (resolver.parent_parameter, resolver.root_parameter)
                         if parameter is not None)
    info_parameter = resolver.info_parameter
    info_name = info_parameter.name if info_parameter is not None else None
    guard = extensions[0] if extensions else None
    field_arguments = definition.arguments
    scalar_registry, config = converter.scalar_registry, converter.config

    def arguments(source: Any, info: Any, values: dict[str, Any]) -> dict[str, Any]:
        # strawberry's `get_arguments`: `convert_arguments` (an empty dict when the field has no arguments)
        kwargs: dict[str, Any] = (convert_arguments(values, field_arguments, scalar_registry=scalar_registry,
                                                    config=config, info=info) if field_arguments else {})
        for name in source_names:
            kwargs[name] = source
        if info_name is not None:
            kwargs[info_name] = info
        return kwargs

    if guard is None:

        def call(source: Any, raw_info: Any, values: dict[str, Any]) -> Any:
            kwargs = arguments(source, info_class(_raw_info=raw_info, _field=field), values)
            return func(source, **kwargs) if takes_self else func(**kwargs)

    else:
        guard_resolve = guard.resolve

        def call(source: Any, raw_info: Any, values: dict[str, Any]) -> Any:
            info = info_class(_raw_info=raw_info, _field=field)
            kwargs = arguments(source, info, values)
            # strawberry's `extension_resolver` hands `info` to the extensions apart (under that name only)
            requested_info = "info" in kwargs
            if requested_info:
                del kwargs["info"]

            def next_(_source: Any, info: Any, **kwargs: Any) -> Any:
                if requested_info:
                    kwargs["info"] = info
                return func(source, **kwargs) if takes_self else func(**kwargs)

            return guard_resolve(next_, source, info, **kwargs)

    if is_async:
        sync_call = call

        async def call(source: Any, raw_info: Any, values: dict[str, Any]) -> Any:  # noqa: F811 - `_async_resolver`
            result = sync_call(source, raw_info, values)
            return await result if inspect.isawaitable(result) else result

    return _ResolverPlan(field_def, call)


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
        self._compiled_sets: dict[int, tuple[Any, GraphQLObjectType, list[tuple[str, Any, Any, Any, bool]]]] = {}
        self._subfield_sets: dict[int, tuple[Any, GraphQLObjectType, Any]] = {}
        self._plans = _plans_of(self.schema)  # the schema's plans, held for the request (no weak lookup per field)
        # the operation's plan, shared across requests (None when collection depends on the variables)
        self._document = _document_plan(self.schema, self.operation, self.fragments) if self._fast else None

    def _compiled(self, parent_type: GraphQLObjectType, grouped_field_set: Any) -> list[tuple[str, Any, Any, Any, bool]]:
        """The grouped field set as (response name, field details, plan, resolver nodes and argument values,
        non-null) per field: from the operation's plan when the set is one of its own (the same for every
        request), else once per request."""
        document = self._document
        if document is not None:
            fields = document.compiled.get(id(grouped_field_set))
            if fields is not None:
                return fields
        entry = self._compiled_sets.get(id(grouped_field_set))
        if entry is None or entry[0] is not grouped_field_set or entry[1] is not parent_type:
            schema, plans, type_name = self.schema, self._plans, parent_type.name
            fields = []
            shared = document is not None and document.owned.get(id(grouped_field_set)) is grouped_field_set
            for name, details in grouped_field_set.items():
                node = details[0].node
                plan = plans.get((type_name, node.name.value)) or _plan_for(schema, parent_type, node.name.value, plans)
                resolver = None
                if type(plan) is _ResolverPlan:
                    # graphql-core's argument values, as `execute_field` computes them: the same for every
                    # source in this request (variables do not change); graphql-core's path reports any error
                    values: Any = {}
                    if plan.field_def.args or node.arguments:
                        try:
                            values = get_argument_values(plan.field_def, node, self.variable_values,
                                                         details[0].fragment_variable_values, self.hide_suggestions)
                        except Exception:  # noqa: BLE001
                            plan = _NO_PLAN
                    if plan is not _NO_PLAN:
                        nodes = [field_details.node for field_details in details]  # `to_nodes`
                        resolver = (nodes, values)
                        shared = shared and _static_values(nodes, values)
                # only a non-null field's awaitable can raise (a nullable one reports its error and answers null)
                if plan is _NO_PLAN:
                    field_def = schema.get_field(parent_type, node.name.value)
                    non_null = field_def is None or isinstance(field_def.type, GraphQLNonNull)
                else:
                    non_null = isinstance(plan.return_type, GraphQLNonNull)
                fields.append((name, details, plan, resolver, non_null))
            if shared:  # every request compiles this set alike: the operation's plan keeps it
                document.compiled[id(grouped_field_set)] = fields  # type: ignore[union-attr]
                return fields
            entry = self._compiled_sets[id(grouped_field_set)] = (grouped_field_set, parent_type, fields)
        return entry[2]

    def _execute_subfields(self, object_type: GraphQLObjectType, field_details_list, path, value,  # noqa: ANN001
                           position_context) -> Any:  # noqa: ANN001
        """graphql-core's `collect_and_execute_subfields` for the fast path's objects: the grouped field set
        is looked up once per (type, fields) and request and executed directly. A selection with `@defer`
        takes graphql-core's own path (its incremental executor handles it)."""
        grouped_field_set = self._subfield_set(object_type, field_details_list)
        if grouped_field_set is None:
            return self.collect_and_execute_subfields(object_type, field_details_list, path, value, position_context)
        return self.execute_fields(object_type, value, path, grouped_field_set, None)

    def _subfield_set(self, object_type: GraphQLObjectType, field_details_list) -> Any:  # noqa: ANN001
        """The grouped field set of `object_type` under `field_details_list`, once per request; None when the
        selection has `@defer` (graphql-core's own path then)."""
        entry = self._subfield_sets.get(id(field_details_list))
        if entry is None or entry[0] is not field_details_list or entry[1] is not object_type:
            # graphql-core's `CollectedFields` by name, not by position (tests/test_execution_internals.py)
            collected = self.collect_subfields(object_type, field_details_list)
            entry = (field_details_list, object_type,
                     None if collected.new_defer_usages else collected.grouped_field_set)
            self._subfield_sets[id(field_details_list)] = entry
        return entry[2]

    def collect_subfields(self, return_type: GraphQLObjectType, field_details_list) -> Any:  # noqa: ANN001
        """graphql-core's `collect_subfields` (memoized per request), memoized for a static operation across
        requests too: the same field nodes under the same type collect the same fields every time. Both the
        fast path and graphql-core's own `collect_and_execute_subfields` (an object a resolver returns) ask here."""
        document = self._document
        if document is None:
            return super().collect_subfields(return_type, field_details_list)
        key = (return_type, *[id(details.node) for details in field_details_list])
        collected = document.subfields.get(key)
        if collected is None:
            collected = super().collect_subfields(return_type, field_details_list)
            document.subfields[key] = collected
            document.owned[id(collected.grouped_field_set)] = collected.grouped_field_set
        return collected

    def execute_fields(self, parent_type, source_value, path, grouped_field_set, position_context):  # noqa: ANN001
        """graphql-core's `execute_fields`, with each planned field resolved inline: one getattr, leaves
        serialized in place, and no `Path` unless the field has children or an error to report. A field
        without a plan, or whose value the fast path declines, goes through `execute_field` as before."""
        if not self._fast:
            return super().execute_fields(parent_type, source_value, path, grouped_field_set, position_context)
        results, awaitable_fields, _ = self._fields(parent_type, source_value, path, grouped_field_set,
                                                    position_context)
        if not awaitable_fields:
            return results
        return self._await_fields(results, awaitable_fields)

    def _fields(self, parent_type, source_value, path, grouped_field_set, position_context  # noqa: ANN001
                ) -> tuple[dict[str, Any], list[str], bool]:
        """The body of `execute_fields`: the results (awaitables where a field awaits), the names of the
        awaitable ones, and whether one of those may raise (a non-null field's error propagating)."""
        results: dict[str, Any] = {}
        is_awaitable = self.is_awaitable
        awaitable_fields: list[str] = []
        may_raise = False
        type_name = parent_type.name
        try:
            for response_name, details, plan, resolver, non_null in self._compiled(parent_type, grouped_field_set):
                if resolver is not None:  # a resolver plan
                    result = self._execute_resolver(plan, parent_type, source_value, details, resolver,
                                                    Path(path, response_name, type_name), position_context)
                    results[response_name] = result
                    if is_awaitable(result):
                        awaitable_fields.append(response_name)
                        may_raise = may_raise or non_null
                    continue
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
                                    may_raise = may_raise or non_null
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
                        may_raise = may_raise or non_null
        except Exception:
            if awaitable_fields:
                self.settle_in_background([results[name] for name in awaitable_fields])
            raise
        return results, awaitable_fields, may_raise

    def _execute_resolver(self, plan: _ResolverPlan, parent_type: GraphQLObjectType, source: Any,  # noqa: ANN001
                          field_details_list, resolver: tuple[list[Any], dict[str, Any]], path: Path,
                          position_context) -> Any:  # noqa: ANN001
        """graphql-core's `execute_field` for a field with a resolver plan: the same resolve info and argument
        values, the resolver called through `plan.call` instead of strawberry's wrapper chain, and graphql-core's
        completion and error handling of whatever it returns (a list of plain objects completed as the fast
        path completes one, `_complete_resolved`)."""
        return_type = plan.return_type
        nodes, values = resolver
        info = self.build_resolve_info(plan.field_def, nodes, parent_type, path)
        try:
            result = plan.call(source, info, values)
            if self.is_awaitable(result):
                if plan.list_plan is not None:
                    return self._complete_awaitable_resolved(plan, field_details_list, info, path, result,
                                                             position_context)
                return self.complete_awaitable_value(return_type, field_details_list, info, path, result,
                                                     position_context)
            if plan.list_plan is not None:
                completed = self._complete_resolved(plan, field_details_list, info, path, result, position_context)
            else:
                completed = self.complete_value(return_type, field_details_list, info, path, result,
                                                position_context)
            if self.is_awaitable(completed):
                return self._awaited(completed, return_type, field_details_list, path)
        except Exception as raw_error:  # noqa: BLE001
            self.handle_field_error(raw_error, return_type, field_details_list, path)
            return None
        return completed

    def _complete_resolved(self, plan: _ResolverPlan, field_details_list, info, path: Path, result: Any,  # noqa: ANN001
                           position_context) -> Any:  # noqa: ANN001
        """graphql-core's `complete_value` of a resolver's list of plain objects: `_complete_object_list`, which
        handles the list's errors as `execute_field` would (and raises for a non-null list, as `complete_value`
        would); graphql-core's own for a null, an Exception, or whatever the fast path declines."""
        if result is not None and not isinstance(result, Exception):
            completed = self._complete_object_list(plan.list_plan, result, field_details_list, path, position_context)
            if completed is not _DECLINE:
                return completed
        return self.complete_value(plan.return_type, field_details_list, info, path, result, position_context)

    async def _complete_awaitable_resolved(self, plan: _ResolverPlan, field_details_list, info, path: Path,  # noqa: ANN001
                                           result: Any, position_context) -> Any:  # noqa: ANN001
        """graphql-core's `complete_awaitable_value`, completing with `_complete_resolved`."""
        try:
            resolved = await self.with_abort_signal(result)
            completed = self._complete_resolved(plan, field_details_list, info, path, resolved, position_context)
            if self.is_awaitable(completed):
                completed = await completed
        except Exception as raw_error:  # noqa: BLE001
            self.handle_field_error(raw_error, plan.return_type, field_details_list, path)
            completed = None
        return completed

    def _complete_object(self, plan: _Plan, value: Any, field_details_list, path, position_context) -> Any:  # noqa: ANN001
        """graphql-core's `complete_object_value` for a type without `is_type_of`, with the same error
        handling as its `execute_field` (errors of subfields propagate and are reported once)."""
        try:
            completed = self._execute_subfields(plan.object_type, field_details_list, path, value, position_context)
            if self.is_awaitable(completed):
                return self._awaited(completed, plan.return_type, field_details_list, path)
            return completed
        except Exception as raw_error:  # noqa: BLE001
            self.handle_field_error(raw_error, plan.return_type, field_details_list, path)
            return None

    def _complete_object_list(self, plan: _Plan, value: Any, field_details_list, path, position_context) -> Any:  # noqa: ANN001
        """graphql-core's `complete_list_value` for a list of plain objects: each item's selection set runs
        at once, what awaits is gathered once for the whole list, and errors are handled per item and then
        per field as graphql-core does. `_DECLINE` (before anything runs) for a non-list or a null in a list
        of non-null items, or a list with an awaitable item: graphql-core's path reports or awaits those.

        One gather per list (issue 18 part 3): graphql-core gathers each item's awaiting fields in a
        coroutine of the item's own (`get_results`), and the items in another. An item whose awaiting fields
        are all nullable cannot fail (each such field reports its own error and answers null), so nothing of
        its gather's cancelling or error handling can happen: its fields' awaitables join the list's gather
        directly and their results are written into the item's dict. An item with an awaiting non-null field
        (whose error nulls the item) keeps its own coroutine, with graphql-core's handling of its error."""
        if not isinstance(value, (list, tuple)):
            return _DECLINE
        is_awaitable = self.is_awaitable
        item_non_null = plan.item_non_null
        for item in value:  # graphql-core awaits an awaitable item, and reports a null in non-null items
            if (item is None and item_non_null) or (item is not None and is_awaitable(item)):
                return _DECLINE
        object_type, item_type = plan.object_type, plan.item_type
        grouped_field_set = self._subfield_set(object_type, field_details_list)
        out: list[Any] = []
        waits: list[Any] = []  # in item order: the awaitables gathered once for the list
        places: list[Any] = []  # where each result goes: (index in `out`, item path) or (an item's results, field)
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
                    if grouped_field_set is None:
                        completed = self.collect_and_execute_subfields(object_type, field_details_list, item_path,
                                                                       item, position_context)
                    else:
                        completed, awaitable_fields, may_raise = self._fields(object_type, item, item_path,
                                                                              grouped_field_set, None)
                        if awaitable_fields and not may_raise:
                            for name in awaitable_fields:
                                waits.append(completed[name])
                                places.append((completed, name))
                            out.append(completed)
                            continue
                        if awaitable_fields:
                            completed = self._await_fields(completed, awaitable_fields)
                except Exception as raw_error:  # noqa: BLE001
                    self.handle_field_error(raw_error, item_type, field_details_list, item_path)  # raises if non-null
                    completed = None
                if is_awaitable(completed):
                    waits.append(completed)
                    places.append((index, item_path))
                out.append(completed)
        except Exception as raw_error:  # noqa: BLE001
            if waits:
                self.settle_in_background(waits)
            self.handle_field_error(raw_error, plan.return_type, field_details_list, path)
            return None
        if not waits:
            return out

        async def await_items() -> Any:
            try:
                awaited = await gather_with_cancel(*(
                    self._awaited(awaitable, item_type, field_details_list, place[1]) if type(place[0]) is int
                    else awaitable for awaitable, place in zip(waits, places, strict=True)))
            except Exception as raw_error:  # noqa: BLE001
                self.handle_field_error(raw_error, plan.return_type, field_details_list, path)
                return None
            for (where, key), completed in zip(places, awaited, strict=True):
                if type(where) is int:
                    out[where] = completed
                else:
                    where[key] = completed
            return out

        return await_items()

    async def _await_fields(self, results: dict[str, Any], awaitable_fields: list[str]) -> dict[str, Any]:
        """graphql-core's `get_results` of `execute_fields`: the awaitable fields' values written into place (for
        an object, and for a list item that keeps its own coroutine)."""
        if len(awaitable_fields) == 1:
            name = awaitable_fields[0]
            results[name] = await results[name]
        else:
            awaited = await gather_with_cancel(*(results[name] for name in awaitable_fields))
            results.update(zip(awaitable_fields, awaited, strict=True))
        return results

    async def _awaited(self, awaitable: Any, return_type: Any, field_details_list, path: Path) -> Any:  # noqa: ANN001
        """`awaitable`'s value, or None with its error handled as graphql-core's `execute_field` handles a field's
        (raised on for a non-null `return_type`): for a field, an object's fields, or an item of a list."""
        try:
            return await awaitable
        except Exception as raw_error:  # noqa: BLE001
            self.handle_field_error(raw_error, return_type, field_details_list, path)
            return None


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
