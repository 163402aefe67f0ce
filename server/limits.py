"""Operation limits for the open internet, and the parse and validation steps that enforce them.

The defaults (settings.py) follow graphql-armor's and Apollo Router's: depth, aliases, root fields, tokens,
document size in bytes, and an estimated cost with list multipliers taken from `first`. Each rejection is
one GraphQL error with code `OPERATION_LIMIT_EXCEEDED` whose message names the limit, its value and its
setting, e.g. "Query depth 13 exceeds the maximum depth of 12 (PAPERGRAPH_MAX_DEPTH)", and whose
extensions carry `setting`, `maximum` and `actual`. Introspection and "Did you mean …?" suggestions are
switched here too (off in production unless enabled).

`DocumentPolicy` (a schema extension) replaces strawberry's ParserCache and ValidationCache with one
bounded LRU keyed by the operation text: the size check, parsing (token limit) and validation (the
specified rules plus `limit_rules`) happen once per distinct text and policy, and a cached rejection is
answered again from the cache, so limits apply to cached documents too. Keying by text rather than by
DocumentNode saves hashing the whole AST on every request (45 µs for the dashboard operation, measured
with timeit on the 2-core machines). The rules are deterministic per document and policy, which is what
makes caching them sound; the one limit that depends on the request, the cost of an operation whose
`first` comes from a variable, is checked once the variables are known (`on_execute`, before anything
runs), cached per document and values.
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from dataclasses import dataclass, field
from threading import Lock
from typing import TYPE_CHECKING, Any, AsyncIterator, Awaitable, Callable, Generic, Iterator, TypeVar

from graphql import (
    DocumentNode,
    ExecutionResult as GraphQLExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLSyntaxError,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    NullValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    ValidationRule,
    VariableNode,
    get_named_type,
    get_operation_ast,
    is_leaf_type,
    parse,
    specified_rules,
    validate,
)
from graphql import print_ast
from graphql.validation import NoSchemaIntrospectionCustomRule, OverlappingFieldsCanBeMergedRule
from strawberry.extensions import SchemaExtension
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

from server.execution import DOCUMENT_CACHE_SIZE

if TYPE_CHECKING:
    from settings import Settings

LIMIT_EXCEEDED = "OPERATION_LIMIT_EXCEEDED"
INTROSPECTION_DISABLED = "INTROSPECTION_DISABLED"
PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"

DEFAULT_PAGE_SIZE = 10  # what a connection returns without `first` (schema/pagination.py)
MUTATION_FIELD_COST = 10  # a write costs more than a read, as in Apollo Router's demand control
INTROSPECTION_FIELDS = frozenset({"__schema", "__type", "__typename"})
# strawberry's own rules, which its validate_document appends to the specified ones
STRAWBERRY_RULES = (MaybeNullValidationRule, OneOfInputValidationRule)
K = TypeVar("K")
V = TypeVar("V")


@dataclass(frozen=True)
class OperationPolicy:
    """The limits and switches one schema enforces, from the settings."""

    max_depth: int
    max_aliases: int
    max_root_fields: int
    max_tokens: int
    max_document_bytes: int
    max_cost: int
    cost_list_size: int
    max_page_size: int
    max_representations: int
    introspection: bool
    field_suggestions: bool

    @classmethod
    def from_settings(cls, settings: "Settings") -> "OperationPolicy":
        return cls(
            max_depth=settings.max_depth, max_aliases=settings.max_aliases,
            max_root_fields=settings.max_root_fields, max_tokens=settings.max_tokens,
            max_document_bytes=settings.max_document_bytes, max_cost=settings.max_cost,
            cost_list_size=settings.cost_list_size, max_page_size=settings.max_page_size,
            max_representations=settings.max_representations,
            introspection=settings.development_feature(settings.introspection),
            field_suggestions=settings.development_feature(settings.field_suggestions),
        )

    @classmethod
    def defaults(cls) -> "OperationPolicy":
        """The settings' defaults outside production, without reading the environment."""
        from settings import Settings

        return cls.from_settings(Settings.model_construct())


def limit_error(message: str, setting: str, maximum: int, actual: int | None = None, *, nodes: Any = None
                ) -> GraphQLError:
    """A rejection by one limit: the message names the limit and its value, then the setting."""
    return GraphQLError(
        f"{message} ({setting})",
        nodes=nodes,
        extensions={"code": LIMIT_EXCEEDED, "setting": setting, "maximum": maximum,
                    **({} if actual is None else {"actual": actual})},
    )


def representations_error(operation: OperationDefinitionNode, count: int, maximum: int) -> GraphQLError:
    return limit_error(f"_entities carries {count} representations, more than the maximum of {maximum}",
                       "PAPERGRAPH_MAX_REPRESENTATIONS", maximum, count, nodes=[operation])


def cost_error(operation: OperationDefinitionNode, cost: int, maximum: int) -> GraphQLError:
    kind = operation.operation.value.capitalize()
    return limit_error(f"{kind} cost {cost} exceeds the maximum cost of {maximum}", "PAPERGRAPH_MAX_COST", maximum,
                       cost, nodes=[operation])


# -- measuring an operation -------------------------------------------------------------------------
class _Walk:
    """Walks one operation with its fragments expanded (a fragment already on the path is not entered
    again: cycles are NoFragmentCyclesRule's to report)."""

    def __init__(self, schema: GraphQLSchema, document: DocumentNode, policy: OperationPolicy,
                 variables: dict[str, Any] | None = None) -> None:
        self.schema = schema
        self.policy = policy
        self.fragments = {definition.name.value: definition for definition in document.definitions
                          if isinstance(definition, FragmentDefinitionNode)}
        self.variables = variables  # None: not known yet (validation)
        self.first_variables: set[str] = set()  # variables giving a `first` or representations the cost depends on
        self.representations = 0  # the most representations one `_entities` of the operation carries
        self._defaults: dict[str, Any] = {}

    def operation_cost(self, operation: OperationDefinitionNode) -> int | None:
        """The operation's estimated cost; None for an operation that is not a query or a mutation."""
        root = self.schema.get_root_type(operation.operation)
        if root is None:
            return None
        self._defaults = {definition.variable.name.value: definition.default_value
                          for definition in operation.variable_definitions or ()}
        self.representations = 0
        field_cost = MUTATION_FIELD_COST if operation.operation == OperationType.MUTATION else 1
        return self.cost(operation.selection_set, root, field_cost=field_cost)

    def fields(self, selection_set: SelectionSetNode | None, parent: Any, path: frozenset[str] = frozenset()
               ) -> Iterator[tuple[FieldNode, Any, frozenset[str]]]:
        """(field, the type it is selected on, fragments on the path) for each field of a selection set,
        looking through inline fragments and fragment spreads."""
        if selection_set is None:
            return
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                yield selection, parent, path
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                yield from self.fields(selection.selection_set,
                                       self.schema.get_type(condition.name.value) if condition else parent, path)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is not None and name not in path:
                    yield from self.fields(fragment.selection_set,
                                           self.schema.get_type(fragment.type_condition.name.value),
                                           path | {name})

    def field_type(self, parent: Any, node: FieldNode) -> Any:
        if isinstance(parent, (GraphQLObjectType, GraphQLInterfaceType)):
            definition = parent.fields.get(node.name.value)
            return definition.type if definition is not None else None
        return None

    def depth(self, selection_set: SelectionSetNode | None, parent: Any, path: frozenset[str] = frozenset()) -> int:
        deepest = 0
        for node, on_type, fragments in self.fields(selection_set, parent, path):
            if node.name.value in INTROSPECTION_FIELDS:
                continue
            child_type = get_named_type(self.field_type(on_type, node))
            deepest = max(deepest, 1 + self.depth(node.selection_set, child_type, fragments))
        return deepest

    def aliases(self, selection_set: SelectionSetNode | None, parent: Any, path: frozenset[str] = frozenset()) -> int:
        count = 0
        for node, on_type, fragments in self.fields(selection_set, parent, path):
            count += (node.alias is not None) + self.aliases(
                node.selection_set, get_named_type(self.field_type(on_type, node)), fragments)
        return count

    def cost(self, selection_set: SelectionSetNode | None, parent: Any, path: frozenset[str] = frozenset(), *,
             page_size: int | None = None, field_cost: int = 1) -> int:
        """Apollo Router's static estimate: 1 per object field (`field_cost` at a mutation's root), 0 per
        leaf, times the size of every list above it. A list's size is the `first` of its own field, or of
        the connection it is the `edges`/`nodes` of (`page_size`), else `cost_list_size`."""
        total = 0
        for node, on_type, fragments in self.fields(selection_set, parent, path):
            if node.name.value in INTROSPECTION_FIELDS:
                continue
            field_type = self.field_type(on_type, node)
            if field_type is None:
                continue  # an unknown field: FieldsOnCorrectTypeRule reports it
            named = get_named_type(field_type)
            first = self._representations(node) if node.name.value == "_entities" else self._first(node)
            own = 0 if is_leaf_type(named) else field_cost
            below = self.cost(node.selection_set, named, fragments, page_size=None if _is_list(field_type) else first)
            if _is_list(field_type):
                total += (own + below) * (first or page_size or self.policy.cost_list_size)
            else:
                total += own + below
        return total

    def _representations(self, node: FieldNode) -> int:
        """How many representations `_entities` is given: a literal list's length, or the length of the
        variable's value in the request (0 while the variables are not known)."""
        argument = next((a for a in node.arguments or () if a.name.value == "representations"), None)
        value: Any = argument.value if argument is not None else None
        if isinstance(value, VariableNode):
            name = value.name.value
            self.first_variables.add(name)
            given = None if self.variables is None else self.variables.get(name)
            count = len(given) if isinstance(given, list) else int(given is not None)
        elif isinstance(value, ListValueNode):
            count = len(value.values)
        else:
            count = int(value is not None and not isinstance(value, NullValueNode))
        self.representations = max(self.representations, count)
        return count

    def _first(self, node: FieldNode) -> int | None:
        """The page size a `first` argument asks for: a literal, or a variable's value in the request (its
        default, when the request gives none); null is the default page."""
        argument = next((a for a in node.arguments or () if a.name.value == "first"), None)
        if argument is None:
            return None
        value: Any = argument.value
        if isinstance(value, VariableNode):
            name = value.name.value
            self.first_variables.add(name)
            if self.variables is None or name not in self.variables:
                value = self._defaults.get(name) or NullValueNode()
            else:
                value = self.variables[name]
                # bool is an int in Python: `true` for an Int is variable coercion's to refuse (issue 14 #10)
                is_int = isinstance(value, int) and not isinstance(value, bool)
                value = IntValueNode(value=str(value)) if is_int else NullValueNode()
        if isinstance(value, IntValueNode):
            return max(0, min(int(value.value), self.policy.max_page_size))
        if isinstance(value, NullValueNode):
            return min(DEFAULT_PAGE_SIZE, self.policy.max_page_size)
        return None


def _is_list(type_: Any) -> bool:
    return isinstance(type_.of_type if isinstance(type_, GraphQLNonNull) else type_, GraphQLList)


@functools.lru_cache(maxsize=16)
def limit_rules(policy: OperationPolicy) -> tuple[type[ValidationRule], ...]:
    """The validation rules of `policy`: one pass over each operation, after the document is known. Built once
    per policy (the rule classes hold nothing but `policy`), and asked for only when a new operation text is
    validated: `DocumentPolicy`, made for every request, used to build the class each time (17 µs, timeit, and a
    reference cycle left to the collector)."""

    class OperationLimitsRule(ValidationRule):
        def enter_document(self, document: DocumentNode, *_args: Any) -> None:
            walk = _Walk(self.context.schema, document, policy)
            for definition in document.definitions:
                if isinstance(definition, OperationDefinitionNode):
                    self._check(walk, definition)

        def _check(self, walk: _Walk, operation: OperationDefinitionNode) -> None:
            root = self.context.schema.get_root_type(operation.operation)
            if root is None:
                return  # e.g. a subscription: KnownOperationTypesRule reports it
            kind = operation.operation.value.capitalize()
            selection = operation.selection_set
            limits = policy
            depth = walk.depth(selection, root)
            if depth > limits.max_depth:
                self._reject(operation, f"{kind} depth {depth} exceeds the maximum depth of {limits.max_depth}",
                             "PAPERGRAPH_MAX_DEPTH", limits.max_depth, depth)
            aliases = walk.aliases(selection, root)
            if aliases > limits.max_aliases:
                self._reject(operation, f"{kind} uses {aliases} aliases, more than the maximum of "
                             f"{limits.max_aliases}", "PAPERGRAPH_MAX_ALIASES", limits.max_aliases, aliases)
            root_fields = sum(1 for _ in walk.fields(selection, root))
            if root_fields > limits.max_root_fields:
                self._reject(operation, f"{kind} selects {root_fields} root fields, more than the maximum of "
                             f"{limits.max_root_fields}", "PAPERGRAPH_MAX_ROOT_FIELDS", limits.max_root_fields,
                             root_fields)
            walk.first_variables.clear()
            cost = walk.operation_cost(operation)
            if walk.representations > limits.max_representations:  # the cost it implies goes unsaid
                self.report_error(representations_error(operation, walk.representations, limits.max_representations))
            elif not walk.first_variables and cost is not None and cost > limits.max_cost:
                self.report_error(cost_error(operation, cost, limits.max_cost))
            # a cost that depends on variables is checked once they are known (DocumentPolicy.on_execute)

        def _reject(self, operation: OperationDefinitionNode, message: str, setting: str, maximum: int,
                    actual: int) -> None:
            self.report_error(limit_error(message, setting, maximum, actual, nodes=[operation]))

    rules: list[type[ValidationRule]] = [OperationLimitsRule]
    if not policy.introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    return tuple(rules)


# -- parsing and validation, cached per operation text --------------------------------------------------
@dataclass
class _Checked:
    document: DocumentNode
    rules: tuple = ()
    errors: list[GraphQLError] | None = None
    # per operation name: the variables its cost depends on; per (name, their values): the cost
    first_variables: dict[str | None, tuple[str, ...]] = field(default_factory=dict)
    costs: dict[tuple, tuple[int | None, int]] = field(default_factory=dict)  # (cost, representations)


# spends an operation's estimated cost from the caller's budget once the limits passed (server/throttle.py),
# answering the refusal, if any; a cost of None reports the budget without spending (nothing ran)
Budget = Callable[[Any, "int | None"], Awaitable["GraphQLError | None"]]

VARIABLE_COSTS_KEPT = 64  # per document: distinct `first` values of its requests whose cost is remembered


class LRUCache(Generic[K, V]):
    """A bounded mapping that forgets the least recently used entry first (shared by the requests of a
    process: the lock keeps it consistent should a server run requests in threads)."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._entries: OrderedDict[K, V] = OrderedDict()
        self._lock = Lock()

    def __contains__(self, key: K) -> bool:
        return key in self._entries

    def get(self, key: K) -> V | None:
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
            return value

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)


class DocumentPolicy(SchemaExtension):
    """Checks size, parses (token limit) and validates (limits, introspection switch, suggestions), once
    per distinct operation text. Pass it as a factory: `lambda: DocumentPolicy(policy, cache)`."""

    def __init__(self, policy: OperationPolicy, cache: LRUCache[str, _Checked], budget: Budget | None = None
                 ) -> None:
        self.policy = policy
        self.cache = cache
        self.budget = budget
        self._entry: _Checked | None = None
        self._budgeted = False

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        text = context.query
        if text is not None and context.graphql_document is None:
            entry = self.cache.get(text)
            if entry is None:
                entry = _Checked(document=self._parse(text))
                self.cache.put(text, entry)
            self._entry = entry
            context.graphql_document = entry.document
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        entry = self._entry
        if entry is not None and context.pre_execution_errors is None:
            rules = tuple(context.validation_rules)
            if entry.errors is None or entry.rules != rules:
                entry.errors = self._validate(context.schema._schema, entry.document, rules)
                entry.rules = rules
            context.pre_execution_errors = entry.errors
        yield

    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context
        entry = self._entry
        if entry is not None and context.result is None and not context.pre_execution_errors:
            error = None
            measured = self._measure(entry, context.operation_name, context.variables or {})
            if measured is not None:
                operation, cost, representations, variable = measured
                if variable and representations > self.policy.max_representations:
                    error = representations_error(operation, representations, self.policy.max_representations)
                elif variable and cost is not None and cost > self.policy.max_cost:
                    error = cost_error(operation, cost, self.policy.max_cost)
                elif self.budget is not None:
                    self._budgeted = True
                    error = await self.budget(context, cost)
            if error is not None:
                context.result = GraphQLExecutionResult(data=None, errors=[error])  # not executed
        yield

    async def get_results(self) -> dict[str, Any]:
        if self.budget is not None and not self._budgeted:
            await self.budget(self.execution_context, None)  # refused before execution: the state, nothing spent
        return {}

    def _measure(self, entry: _Checked, name: str | None, variables: dict[str, Any]
                 ) -> tuple[OperationDefinitionNode, int | None, int, bool] | None:
        """The operation's cost and representations with the request's variables, and whether they depend on
        them (then validation could not check them), cached per document, operation and values."""
        operation = get_operation_ast(entry.document, name)
        if operation is None:
            return None
        schema = self.execution_context.schema._schema
        if name not in entry.first_variables:
            walk = _Walk(schema, entry.document, self.policy)
            walk.operation_cost(operation)
            entry.first_variables[name] = tuple(sorted(walk.first_variables))
        names = entry.first_variables[name]
        values = tuple(variables.get(n) for n in names)
        if not all(v is None or isinstance(v, (list, dict)) or (isinstance(v, int) and not isinstance(v, bool))
                   for v in values):
            return None  # variable coercion refuses them
        key = (name, tuple(len(v) if isinstance(v, list) else 1 if isinstance(v, dict) else v for v in values))
        if key not in entry.costs:
            if len(entry.costs) >= VARIABLE_COSTS_KEPT:
                entry.costs.clear()
            walk = _Walk(schema, entry.document, self.policy, variables)
            entry.costs[key] = (walk.operation_cost(operation), walk.representations)
        cost, representations = entry.costs[key]
        return operation, cost, representations, bool(names)

    def _parse(self, text: str) -> DocumentNode:
        """Raises a coded GraphQLError (strawberry answers it as the operation's only error)."""
        policy = self.policy
        size = len(text.encode("utf-8"))
        if size > policy.max_document_bytes:
            raise limit_error(f"Document size {size} bytes exceeds the maximum of {policy.max_document_bytes} bytes",
                              "PAPERGRAPH_MAX_DOCUMENT_BYTES", policy.max_document_bytes, size)
        try:
            return parse(text, max_lexical_tokens=policy.max_tokens)
        except GraphQLSyntaxError as error:
            if error.description.startswith("Document contains more than"):
                raise limit_error(f"Document exceeds the maximum of {policy.max_tokens} tokens",
                                  "PAPERGRAPH_MAX_TOKENS", policy.max_tokens) from None
            raise GraphQLError(error.message, source=error.source, positions=error.positions,
                               extensions={"code": PARSE_FAILED}) from None

    def _validate(self, schema: GraphQLSchema, document: DocumentNode, rules: tuple) -> list[GraphQLError]:
        return validate_with_policy(schema, document, self.policy, rules, policy_rules=limit_rules(self.policy))


class DistinctOverlappingFieldsRule(OverlappingFieldsCanBeMergedRule):
    """The specified rule, comparing each distinct selection once. It compares every pair of fields with one
    response name, so `{ householdLevels { id id … } }` within the token limit made ~500,000 comparisons (213 ms
    of CPU, then 'Validation aborted'; `python -m bench limits`). An exact repeat of a selection (same text)
    cannot conflict with its twin and conflicts with others exactly as its twin does, so dropping repeats
    before comparing changes no verdict."""

    def enter_selection_set(self, selection_set: SelectionSetNode, key: Any, parent: Any, *args: Any) -> None:
        super().enter_selection_set(_distinct(selection_set), key, parent, *args)


def _distinct(selection_set: SelectionSetNode) -> SelectionSetNode:
    seen: set[str] = set()
    kept = []
    changed = False
    for selection in selection_set.selections:
        if isinstance(selection, InlineFragmentNode) and selection.selection_set is not None:
            inner = _distinct(selection.selection_set)
            if inner is not selection.selection_set:
                selection = InlineFragmentNode(type_condition=selection.type_condition,
                                               directives=selection.directives, selection_set=inner)
                changed = True
        text = print_ast(selection)
        if text in seen:
            changed = True
            continue
        seen.add(text)
        kept.append(selection)
    return SelectionSetNode(selections=tuple(kept)) if changed else selection_set


def _rules_for_limits(rules: tuple) -> tuple:
    return tuple(DistinctOverlappingFieldsRule if rule is OverlappingFieldsCanBeMergedRule else rule for rule in rules)


def validate_with_policy(schema: GraphQLSchema, document: DocumentNode, policy: OperationPolicy,
                         rules: tuple = tuple(specified_rules), *, policy_rules: tuple | None = None
                         ) -> list[GraphQLError]:
    """Validation as a request gets it: `rules`, strawberry's own rules and the policy's, each error coded."""
    errors = validate(schema, document,
                      (*_rules_for_limits(rules), *STRAWBERRY_RULES, *(policy_rules or limit_rules(policy))),
                      hide_suggestions=not policy.field_suggestions)
    return [_coded(error) for error in errors]


def _coded(error: GraphQLError) -> GraphQLError:
    if error.extensions and error.extensions.get("code"):
        return error
    code = INTROSPECTION_DISABLED if "introspection has been disabled" in error.message else VALIDATION_FAILED
    return GraphQLError(error.message, nodes=error.nodes, source=error.source, positions=error.positions,
                        extensions={**(error.extensions or {}), "code": code})


def policy_extensions(policy: OperationPolicy, budget: Budget | None = None) -> list[Any]:
    """The schema extensions enforcing `policy` (and spending each operation's cost from `budget`), sharing
    one document cache."""
    cache: LRUCache[str, _Checked] = LRUCache(DOCUMENT_CACHE_SIZE)
    return [lambda: DocumentPolicy(policy, cache, budget)]
