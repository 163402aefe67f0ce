"""GraphQL over HTTP: the transport of `/graphql`, after the GraphQL-over-HTTP specification.

`GraphQLHTTPView` (strawberry's ASGI view, its HTTP path replaced; WebSockets stay strawberry's) answers:

- media types: `application/graphql-response+json` when the client's Accept prefers it, `application/json`
  for `application/json`, `*/*` or no Accept (legacy clients); 406 when Accept allows neither;
- GET runs queries only (cache-friendly; a mutation by GET is 405 with `Allow: POST`); POST takes
  `application/json` only, else 415. A browser cannot send that content type cross-site without a CORS
  preflight, and GET cannot mutate, so a form or an image tag cannot forge a mutation (CSRF);
- request errors (the request is not a well-formed GraphQL-over-HTTP request): 400 for unreadable JSON,
  bad parameters or a missing query, 413 past `PAPERGRAPH_MAX_REQUEST_BYTES`;
- with `application/graphql-response+json`: 200 whenever `data` is present; without it 400 for a document
  that does not parse or validate or whose variables do not coerce, 422 for a valid document refused by
  papergraph's policy (an operation limit, the safelist, introspection switched off), 404 for an unknown
  persisted query, 429 (with `Retry-After`) for an operation refused THROTTLED (server/throttle.py), 500 for an
  unexpected failure; a response without `data` carries no `data` entry.
  With `application/json`, 200 for every well-formed request, as the specification asks;
- a JSON array of operations (a batch, at most `PAPERGRAPH_MAX_BATCH_OPERATIONS`) is answered by an
  array, in order;
- automatic persisted queries and the safelist (`server/persisted.py`) before execution.

Every error carries `extensions.code`. The codes of a request refused outright: `BAD_REQUEST`,
`METHOD_NOT_ALLOWED`, `NOT_ACCEPTABLE`, `UNSUPPORTED_MEDIA_TYPE`, `PAYLOAD_TOO_LARGE`,
`OPERATION_LIMIT_EXCEEDED` (batch size); and of a request that failed before execution (its context or its
persisted query could not be read): 503 `DATABASE_UNAVAILABLE` (with `Retry-After`) or 500
`INTERNAL_SERVER_ERROR`, never a bare error page, so the request id and the connection survive.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from cross_web import HTTPException
from graphql import GraphQLError
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, Response
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.exceptions import MissingQueryError
from strawberry.http import process_result
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from datasources.db import database_unavailable
from server import limits, persisted, throttle
from server.graphiql import GraphiQLAssets
from server.persisted import PersistedOperations, PersistedQueryError
from telemetry.context import operation as observed_operation

if TYPE_CHECKING:
    from datasources.db import Database
    from settings import Settings

log = logging.getLogger("papergraph.http")
GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
JSON = "application/json"

BAD_REQUEST = "BAD_REQUEST"
BAD_USER_INPUT = "BAD_USER_INPUT"
INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
DATABASE_UNAVAILABLE = "DATABASE_UNAVAILABLE"
OPERATION_RESOLUTION_FAILURE = "OPERATION_RESOLUTION_FAILURE"

# valid GraphQL that papergraph's policy refuses: 422 Unprocessable Content
POLICY_CODES = frozenset({limits.LIMIT_EXCEEDED, limits.INTROSPECTION_DISABLED, persisted.NOT_IN_SAFELIST})
NO_CACHE = {"cache-control": "private, no-cache, must-revalidate"}


class RequestError(Exception):
    """The whole HTTP request is refused before any operation runs."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None,
                 extensions: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}
        self.extensions = extensions or {}


@dataclass
class Operation:
    """One GraphQL-over-HTTP request's parameters."""

    query: str | None
    operation_name: str | None = None
    variables: dict[str, Any] | None = None
    extensions: dict[str, Any] | None = None


@dataclass
class Answer:
    """One operation's result, and whether it is a request error (no `data` entry)."""

    result: ExecutionResult
    request_error: bool = False
    headers: dict[str, str] = field(default_factory=dict)


def media_type(value: str) -> tuple[str, dict[str, str]]:
    """`type/subtype` (lower case) and its parameters, from a Content-Type or one Accept item."""
    kind, *params = value.split(";")
    parsed = {}
    for param in params:
        name, _, raw = param.partition("=")
        parsed[name.strip().lower()] = raw.strip().strip('"')
    return kind.strip().lower(), parsed


def negotiate(accept: str | None) -> str:
    """The response media type for an Accept header (the highest q; the first listed on a tie)."""
    if accept is None or not accept.strip():
        return JSON
    best, best_q = None, 0.0
    for item in accept.split(","):
        kind, params = media_type(item)
        if params.get("charset", "utf-8").lower() != "utf-8":
            continue
        if kind == GRAPHQL_RESPONSE_JSON:
            candidate = GRAPHQL_RESPONSE_JSON
        elif kind in (JSON, "application/*", "*/*"):
            candidate = JSON
        else:
            continue
        try:
            q = float(params.get("q", "1"))
        except ValueError:
            continue
        if q > best_q:
            best, best_q = candidate, q
    if best is None:
        raise RequestError(406, "NOT_ACCEPTABLE",
                           f"Accept names no media type this endpoint serves: {GRAPHQL_RESPONSE_JSON} or {JSON}")
    return best


class GraphQLHTTPView(GraphQL):
    """strawberry's ASGI view with the transport described in the module docstring."""

    def __init__(self, schema: Any, *, settings: "Settings", database: Callable[[], "Database"]) -> None:
        super().__init__(schema, graphql_ide="graphiql" if settings.development_feature(settings.graphiql) else None)
        # GraphiQL's page and its assets, served by papergraph itself (server/graphiql.py)
        self.graphiql = GraphiQLAssets() if self.graphql_ide else None
        self._graphiql_page = self.graphiql.page() if self.graphiql else ""
        self.max_batch_operations = settings.max_batch_operations
        self.max_request_bytes = settings.max_request_bytes
        self.mask_errors = settings.is_production
        self.persisted = PersistedOperations(database, safelist=settings.operation_safelist,
                                             max_tokens=settings.max_tokens)

    @property
    def graphql_ide_html(self) -> str:
        return self._graphiql_page

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        response = await self.respond(Request(scope, receive))
        await response(scope, receive, send)

    async def respond(self, request: Request) -> Response:
        answer_type = JSON
        try:
            if request.method not in ("GET", "POST"):
                raise RequestError(405, "METHOD_NOT_ALLOWED", "GraphQL is served by GET (queries) and POST",
                                   headers={"allow": "GET, POST"})
            if self.graphql_ide and self._wants_ide(request):
                return HTMLResponse(self.graphql_ide_html)
            answer_type = negotiate(request.headers.get("accept"))
            operations, batched = await self._read(request)
            sub_response = await self.get_sub_response(request)
            try:
                context = await self.get_context(request, response=sub_response)
            except HTTPException as error:
                raise RequestError(error.status_code, BAD_REQUEST, error.reason) from error
            root_value = await self.get_root_value(request)
            if batched:
                answers = list(await asyncio.gather(*(
                    self._answer(request, operation, context, root_value) for operation in operations)))
            else:
                answers = [await self._answer(request, operations[0], context, root_value)]
        except RequestError as error:
            return self._refused(error, answer_type)
        except Exception as error:  # noqa: BLE001 - before or around execution (context, persisted queries)
            return self._refused(self._fault(error), answer_type)
        if batched:
            body: Any = [self._body(answer) for answer in answers]
            status = 200
        else:
            body, status = self._body(answers[0]), self._status(answers[0], answer_type)
        headers = {name: value for answer in answers for name, value in answer.headers.items()}
        response = self._response(body, status, answer_type, headers)
        response.headers.raw.extend(sub_response.headers.raw)
        if sub_response.status_code:
            response.status_code = sub_response.status_code
        if sub_response.background:
            response.background = sub_response.background
        return response

    def _refused(self, error: RequestError, answer_type: str) -> Response:
        body = {"errors": [{"message": error.message, "extensions": {"code": error.code, **error.extensions}}]}
        return self._response(body, error.status, answer_type, error.headers)

    def _fault(self, error: Exception) -> RequestError:
        """An exception outside the resolvers (the context's database reads, persisted queries) answered as a
        GraphQL error, so the client gets a code and the request id, and the connection stays open: 503
        DATABASE_UNAVAILABLE when the database cannot be reached, else 500 INTERNAL_SERVER_ERROR."""
        if database_unavailable(error):
            log.warning("the database is unavailable: %s", type(error).__name__)
            return RequestError(503, DATABASE_UNAVAILABLE, "The database is unavailable; try again shortly",
                                headers={"retry-after": "5"})
        log.error("unexpected error before execution", exc_info=error)
        message = "Internal server error" if self.mask_errors else f"Internal server error: {error}"
        return RequestError(500, INTERNAL_SERVER_ERROR, message)

    # -- reading the request ---------------------------------------------------------------------------
    def _wants_ide(self, request: Request) -> bool:
        return (request.method == "GET" and "query" not in request.query_params
                and "text/html" in request.headers.get("accept", ""))

    async def _read(self, request: Request) -> tuple[list[Operation], bool]:
        if request.method == "GET":
            params = request.query_params
            data: Any = {"query": params.get("query"), "operationName": params.get("operationName"),
                         "variables": self._json_parameter(params.get("variables"), "variables"),
                         "extensions": self._json_parameter(params.get("extensions"), "extensions")}
        else:
            kind, params = media_type(request.headers.get("content-type", ""))
            if kind != JSON or params.get("charset", "utf-8").lower() != "utf-8":
                raise RequestError(415, "UNSUPPORTED_MEDIA_TYPE",
                                   "POST requests must be application/json (UTF-8): other content types could "
                                   "be sent cross-site by a browser form")
            body = await self._body_bytes(request)
            if not body.strip():
                raise RequestError(400, BAD_REQUEST, "The request body is empty: send a GraphQL request as JSON")
            try:
                data = self.decode_json(body)
            except ValueError:
                raise RequestError(400, BAD_REQUEST, "Unable to parse the request body as JSON") from None
        if isinstance(data, list):
            if not data:
                raise RequestError(400, BAD_REQUEST, "A batch must hold at least one operation")
            if len(data) > self.max_batch_operations:
                raise RequestError(
                    422, limits.LIMIT_EXCEEDED,
                    f"Batch of {len(data)} operations exceeds the maximum of {self.max_batch_operations} "
                    f"operations (PAPERGRAPH_MAX_BATCH_OPERATIONS)",
                    extensions={"setting": "PAPERGRAPH_MAX_BATCH_OPERATIONS", "maximum": self.max_batch_operations,
                                "actual": len(data)})
            return [self._operation(item) for item in data], True
        return [self._operation(data)], False

    async def _body_bytes(self, request: Request) -> bytes:
        limit = self.max_request_bytes
        too_large = RequestError(413, "PAYLOAD_TOO_LARGE",
                                 f"Request body exceeds the maximum of {limit} bytes (PAPERGRAPH_MAX_REQUEST_BYTES)")
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise too_large
        chunks, size = [], 0
        try:
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise too_large
                chunks.append(chunk)
        except ClientDisconnect:
            raise RequestError(400, BAD_REQUEST, "The client closed the request") from None
        return b"".join(chunks)

    def _json_parameter(self, value: str | None, name: str) -> Any:
        if not value:
            return None
        try:
            return self.decode_json(value)
        except ValueError:
            raise RequestError(400, BAD_REQUEST, f"The `{name}` parameter is not valid JSON") from None

    @staticmethod
    def _operation(data: Any) -> Operation:
        if not isinstance(data, dict):
            raise RequestError(400, BAD_REQUEST, "A GraphQL request must be a JSON object")
        operation = Operation(query=data.get("query"), operation_name=data.get("operationName"),
                              variables=data.get("variables"), extensions=data.get("extensions"))
        for name, value, kind in (("query", operation.query, str), ("operationName", operation.operation_name, str),
                                  ("variables", operation.variables, dict), ("extensions", operation.extensions, dict)):
            if value is not None and not isinstance(value, kind):
                expected = "a string" if kind is str else "an object"
                raise RequestError(400, BAD_REQUEST, f"The `{name}` parameter must be {expected} or null")
        if not operation.query and not (operation.extensions or {}).get("persistedQuery"):
            raise RequestError(400, BAD_REQUEST,
                               "A GraphQL request must carry a non-empty `query` or a `persistedQuery` extension")
        return operation

    # -- executing ---------------------------------------------------------------------------------------
    async def _answer(self, request: Request, operation: Operation, context: Any, root_value: Any) -> Answer:
        with observed_operation(operation.operation_name) as observed:
            answer = await self._execute(request, operation, context, root_value)
            observed.answered(answer.result.data, answer.result.errors)
        return answer

    async def _execute(self, request: Request, operation: Operation, context: Any, root_value: Any) -> Answer:
        try:
            resolved = await self.persisted.resolve(operation.query, operation.extensions)
        except PersistedQueryError as error:
            return _refusal(error.code, error.message, NO_CACHE if error.code == persisted.NOT_FOUND else None)
        allowed = {OperationType.QUERY} if request.method == "GET" else {OperationType.QUERY, OperationType.MUTATION}
        try:
            result = await self.schema.execute(
                resolved.query, variable_values=operation.variables, context_value=context, root_value=root_value,
                operation_name=operation.operation_name, allowed_operation_types=allowed,
                operation_extensions=operation.extensions,
            )
        except InvalidOperationTypeError as error:
            kind = error.operation_type.value
            raise RequestError(405, "METHOD_NOT_ALLOWED", f"A {kind} must be sent by POST, not {request.method}",
                               headers={"allow": "POST"}) from error
        except CannotGetOperationTypeError as error:
            return _refusal(OPERATION_RESOLUTION_FAILURE, error.as_http_error_reason())
        except MissingQueryError:
            return _refusal(BAD_REQUEST, "A GraphQL request must carry a non-empty `query`")
        answer = self._classify(result)
        retry_after = throttle.retry_after_header(answer.result.errors)
        if retry_after is not None:
            answer.headers["retry-after"] = retry_after
        if resolved.register and not answer.request_error:
            await self.persisted.register(resolved.register, resolved.query)
        return answer

    def _classify(self, result: ExecutionResult) -> Answer:
        """A result without data whose errors have no path failed before execution (parse, validation,
        limits, variable coercion): a request error. Give each error a code, and mask the unexpected."""
        errors = result.errors or []
        if result.data is not None or not errors or any(error.path is not None for error in errors):
            return Answer(result)
        coded = []
        for error in errors:
            if (error.extensions or {}).get("code"):
                coded.append(error)
            elif error.original_error is not None and not isinstance(error.original_error, GraphQLError):
                message = "Internal server error" if self.mask_errors else f"Internal server error: {error.message}"
                coded.append(GraphQLError(message, extensions={"code": INTERNAL_SERVER_ERROR}))
            else:  # variable values that do not coerce to their types
                coded.append(GraphQLError(error.message, nodes=error.nodes, source=error.source,
                                          positions=error.positions, extensions={"code": BAD_USER_INPUT}))
        return Answer(ExecutionResult(data=None, errors=coded, extensions=result.extensions), request_error=True)

    # -- answering -----------------------------------------------------------------------------------------
    @staticmethod
    def _body(answer: Answer) -> dict[str, Any]:
        body = dict(process_result(answer.result))
        if answer.request_error:
            body.pop("data", None)
        return body

    @staticmethod
    def _status(answer: Answer, answer_type: str) -> int:
        if answer_type == JSON or not answer.request_error:
            return 200
        codes = {(error.extensions or {}).get("code") for error in answer.result.errors or ()}
        if INTERNAL_SERVER_ERROR in codes:
            return 500
        if codes <= POLICY_CODES:
            return 422
        if codes == {persisted.NOT_FOUND}:
            return 404
        if codes == {throttle.THROTTLED}:
            return 429
        return 400

    def _response(self, body: Any, status: int, answer_type: str, headers: dict[str, str] | None = None) -> Response:
        return Response(self.encode_json(body), status_code=status,
                        headers={"content-type": f"{answer_type}; charset=utf-8", "vary": "Accept",
                                 **(headers or {})})


def _refusal(code: str, message: str, headers: dict[str, str] | None = None) -> Answer:
    return Answer(ExecutionResult(data=None, errors=[GraphQLError(message, extensions={"code": code})]),
                  request_error=True, headers=headers or {})
