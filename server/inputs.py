"""Input checks every operation gets before anything runs (issue 14, items 11, 13, 15; docs/input-validation.md).

`InputPolicy` (a schema extension, after `server/limits.DocumentPolicy`) refuses, as a request error:

- a document of several operations sent without `operationName` (GraphQL spec, GetOperation): strawberry
  would run the first one; code `OPERATION_RESOLUTION_FAILURE`;
- a `String` or `ID` argument or input field, written in the document or sent in the variables, longer than
  its maximum (`max_length`: `ID` 255 characters, `String` 255, a few longer ones listed in `LONGER`), or
  containing U+0000 (NUL is never text: PostgreSQL refuses it and it would end a C string); code
  `BAD_USER_INPUT`, with `extensions.field` the argument's path and `extensions.maximum`;
- an amount that is not a plain decimal (`domain.money.parse_amount`, the `Decimal` scalar): graphql-core
  already refuses it; written in the document, its validation error becomes `BAD_USER_INPUT` naming the
  argument, like the same value sent as a variable.

Control, line-break and bidi characters in free text (names, descriptions, platforms, searches) are the
domain's to refuse, with a user error in mutations (`domain/text.py`): this module checks only what is wrong
for every string.
"""

from __future__ import annotations

from typing import Any, Iterator

from graphql import (
    ArgumentNode,
    DocumentNode,
    GraphQLError,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    ObjectFieldNode,
    OperationDefinitionNode,
    StringValueNode,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    get_named_type,
    type_from_ast,
    visit,
)
from graphql.execution import ExecutionResult as GraphQLExecutionResult
from strawberry.extensions import SchemaExtension

from domain.money import InvalidAmount, parse_amount
from server.execution import DOCUMENT_CACHE_SIZE
from server.limits import LRUCache

BAD_USER_INPUT = "BAD_USER_INPUT"
OPERATION_RESOLUTION_FAILURE = "OPERATION_RESOLUTION_FAILURE"
MAX_ID_LENGTH = 255
MAX_STRING_LENGTH = 255
# arguments and input fields (`Type.field`, `Type.field(argument)`) that may be longer than MAX_STRING_LENGTH
LONGER: dict[str, int] = {
    "CreateUserInput.password": 1024,
    "ChangePasswordInput.password": 1024,
    "FinishForgotPasswordInput.password": 1024,
    "PurchaseSubscriptionInput.password": 1024,
    "FinishForgotPasswordInput.token": 2048,
    "Query.forgotPasswordLinkValid(token)": 2048,
    "StartPaymentSessionInput.returnUrl": 2048,
}
# free text a mutation checks itself with `domain.text` and refuses with a user error (control, line-break and
# bidi characters, NUL included): the NUL check here leaves them to it
FREE_TEXT = frozenset({
    "CreateUserInput.firstName", "CreateUserInput.lastName", "UpdateUserInput.firstName", "UpdateUserInput.lastName",
    "PurchaseSubscriberInput.firstName", "PurchaseSubscriberInput.lastName", "PurchaseSubscriberInput.companyName",
    "PurchaseAddressInput.houseNumber", "PurchaseAddressInput.streetName", "PurchaseAddressInput.city",
    "PurchaseAddressInput.postalCode", "PurchaseAddressInput.country", "PurchaseSubscriptionInput.subscriptionName",
    "UpdateHouseholdLevelInput.description", "RequestAccessInput.platform",
})


# every input's `idempotencyKey`: the payment and purchase flows refuse a key over 255 characters with their own
# user error (domain/idempotency.py); the transport only stops what is far longer
MAX_IDEMPOTENCY_KEY_TEXT = 1024


def max_length(owner: str, name: str, scalar: str) -> int:
    """The most characters `owner.name` (`Query.field(argument)` or `Input.field`) may hold."""
    if name == "idempotencyKey":
        return MAX_IDEMPOTENCY_KEY_TEXT
    return LONGER.get(f"{owner}.{name}", MAX_ID_LENGTH if scalar == "ID" else MAX_STRING_LENGTH)


def _text_problem(value: str, maximum: int, where: str | set[str] = "") -> str | None:
    if len(value) > maximum:
        return f"is {len(value)} characters long, more than the maximum of {maximum}"
    free = where in FREE_TEXT if isinstance(where, str) else bool(where) and where <= FREE_TEXT
    if not free and "\x00" in value:
        return "contains a NUL character (U+0000)"
    return None


def _refusal(path: list[str | int], problem: str, maximum: int, nodes: Any = None) -> GraphQLError:
    shown = ".".join(str(part) for part in path)
    return GraphQLError(f"`{shown}` {problem}", nodes=nodes,
                        extensions={"code": BAD_USER_INPUT, "field": [str(p) for p in path], "maximum": maximum})


class _LiteralTexts(Visitor):
    """The strings written in a document, checked against the type each one is given (TypeInfo); and, for
    each variable, the arguments and input fields it is used for (their maxima apply to its value)."""

    def __init__(self, type_info: TypeInfo) -> None:
        super().__init__()
        self.type_info = type_info
        self.errors: list[GraphQLError] = []
        self.variable_owners: dict[str, set[str]] = {}
        self.path: list[str] = []
        self.owners: list[str] = []
        self.fields: list[str] = []

    def enter_field(self, node: Any, *_args: Any) -> None:
        self.fields.append(node.name.value)

    def leave_field(self, *_args: Any) -> None:
        self.fields.pop()

    def enter_argument(self, node: ArgumentNode, *_args: Any) -> None:
        parent = self.type_info.get_parent_type()
        field = self.fields[-1] if self.fields else "?"
        self.path.append(node.name.value)
        self.owners.append(f"{parent.name if parent is not None else '?'}.{field}({node.name.value})")

    def leave_argument(self, *_args: Any) -> None:
        self.path.pop()
        self.owners.pop()

    def enter_object_field(self, node: ObjectFieldNode, *_args: Any) -> None:
        parent = get_named_type(self.type_info.get_parent_input_type())
        self.path.append(node.name.value)
        self.owners.append(f"{parent.name if parent is not None else '?'}.{node.name.value}")

    def leave_object_field(self, *_args: Any) -> None:
        self.path.pop()
        self.owners.pop()

    def enter_variable(self, node: Any, *_args: Any) -> None:
        if self.owners:
            self.variable_owners.setdefault(node.name.value, set()).add(self.owners[-1])

    def enter_string_value(self, node: StringValueNode, *_args: Any) -> None:
        scalar = get_named_type(self.type_info.get_input_type())
        if not isinstance(scalar, GraphQLScalarType) or scalar.name not in ("String", "ID") or not self.owners:
            return
        owner, _, name = self.owners[-1].partition(".")
        maximum = max_length(owner, name, scalar.name)
        problem = _text_problem(node.value, maximum, self.owners[-1])
        if problem is not None:
            self.errors.append(_refusal(list(self.path), problem, maximum, nodes=[node]))


def _variable_texts(schema: Any, operation: OperationDefinitionNode, variables: dict[str, Any],
                    owners: dict[str, set[str]]) -> list[GraphQLError]:
    """The strings sent in the variables, checked against the types the operation declares for them."""
    errors: list[GraphQLError] = []
    for definition in operation.variable_definitions or ():
        name = definition.variable.name.value
        if name in variables:
            _walk_variable(variables[name], type_from_ast(schema, definition.type), [f"${name}"],
                           owners.get(name) or {"?.?"}, errors)
    return errors


def _walk_variable(value: Any, type_: Any, path: list[str | int], owner: set[str], errors: list[GraphQLError]
                   ) -> None:
    """`_variable_texts` for one value (a module function: a nested one calling itself is a reference cycle,
    left to the garbage collector on every request with variables)."""
    if value is None:
        return
    if isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    if isinstance(type_, GraphQLList):
        for index, item in enumerate(value if isinstance(value, list) else [value]):
            _walk_variable(item, type_.of_type, [*path, index], owner, errors)
    elif isinstance(type_, GraphQLInputObjectType) and isinstance(value, dict):
        for name, item in value.items():
            field = type_.fields.get(name)
            if field is not None:
                _walk_variable(item, field.type, [*path, name], {f"{type_.name}.{name}"}, errors)
    elif isinstance(type_, GraphQLScalarType) and type_.name in ("String", "ID") and isinstance(value, str):
        maximum = max(max_length(*where.partition(".")[::2], type_.name) for where in owner)
        problem = _text_problem(value, maximum, owner)
        if problem is not None and len(errors) < 10:
            errors.append(_refusal(path, problem, maximum))


def _argument_path(document: DocumentNode, target: Any) -> list[str] | None:
    """The argument and input-field names leading to `target` (a value node) in `document`."""
    found: list[list[str]] = []

    class Find(Visitor):
        def enter(self, node: Any, key: Any, parent: Any, path: Any, ancestors: Any) -> Any:
            if node is target:
                found.append([a.name.value for a in (*ancestors, node)
                              if isinstance(a, (ArgumentNode, ObjectFieldNode))])
                return Visitor.BREAK
            return None

    visit(document, Find())
    return found[0] if found else None


CHECKED_DOCUMENTS = 2 * DOCUMENT_CACHE_SIZE  # documents whose texts are remembered (the parse cache holds 512)


class InputPolicy(SchemaExtension):
    """See the module docstring. The checks of a document's own text run once per parsed document."""

    # per parsed document (server/limits.py keeps one per operation text): its literal errors, variable owners.
    # Keyed by the document's identity: graphql-core 3.3's AST nodes are dataclasses whose hash walks the whole
    # tree on every call (46 µs for the catalog's document, 81 µs for the dashboard's), and a WeakKeyDictionary
    # hashed it twice per request. The entry holds the document, so its id cannot be reused while it is cached.
    _checked: LRUCache[int, tuple[DocumentNode, _LiteralTexts]] = LRUCache(CHECKED_DOCUMENTS)

    def on_validate(self) -> Iterator[None]:
        self._check_document()  # after DocumentPolicy's validation (an earlier extension), before the answer
        yield

    def _check_document(self) -> None:
        context = self.execution_context
        document = context.graphql_document
        if document is None or context.pre_execution_errors is None:
            return
        errors = context.pre_execution_errors
        if errors:
            if any(_amount_refused(error) for error in errors):
                context.pre_execution_errors = [self._amount_error(document, error) for error in errors]
            return
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        if len(operations) > 1 and context._provided_operation_name is None:  # noqa: SLF001 - strawberry's own
            context.pre_execution_errors = [GraphQLError(
                "The document holds several operations: name the one to run in `operationName`",
                extensions={"code": OPERATION_RESOLUTION_FAILURE})]
            return
        texts = self._texts(document)
        if texts.errors:
            context.pre_execution_errors = list(texts.errors)

    def _texts(self, document: DocumentNode) -> _LiteralTexts:
        entry = self._checked.get(id(document))
        if entry is not None and entry[0] is document:
            return entry[1]
        type_info = TypeInfo(self.execution_context.schema._schema)
        texts = _LiteralTexts(type_info)
        visit(document, TypeInfoVisitor(type_info, texts))
        self._checked.put(id(document), (document, texts))
        return texts

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        if context.result is None and not context.pre_execution_errors and context.variables:
            operation = self._operation()
            if operation is not None and operation.variable_definitions:
                errors = _variable_texts(context.schema._schema, operation, context.variables,
                                         self._texts(context.graphql_document).variable_owners)
                if errors:
                    context.result = GraphQLExecutionResult(data=None, errors=errors)
        yield

    def _operation(self) -> OperationDefinitionNode | None:
        context = self.execution_context
        name = context.operation_name
        for definition in context.graphql_document.definitions if context.graphql_document else ():
            if isinstance(definition, OperationDefinitionNode) and (
                    name is None or (definition.name is not None and definition.name.value == name)):
                return definition
        return None

    @staticmethod
    def _amount_error(document: DocumentNode, error: GraphQLError) -> GraphQLError:
        reason = _amount_refused(error)
        if reason is None:
            return error
        path = _argument_path(document, error.nodes[0]) if error.nodes else None
        shown = ".".join(path) if path else "amount"
        return GraphQLError(f"`{shown}`: {reason}", nodes=error.nodes,
                            extensions={"code": BAD_USER_INPUT, "field": path or []})


def _amount_refused(error: GraphQLError) -> str | None:
    """Why `parse_amount` refused the literal of a validation error about a `Decimal` (server/limits.py
    rebuilds validation errors without their original error, so the value is read again)."""
    if not error.message.startswith("Expected value of type 'Decimal") or not error.nodes:
        return None
    value = getattr(error.nodes[0], "value", None)
    try:
        parse_amount(value)
    except InvalidAmount as refused:
        return str(refused)
    return None
