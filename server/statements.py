"""`GET /statements/{subscriptionId}/{statementId}`: a bill statement's PDF (EBL-4), the `downloadUrl` of
`CustomerSubscription.billStatements`.

The caller authenticates as for `/graphql` (the same `Authenticate` in front, the same request context), and may
download exactly when `billStatements` would answer them: the subscription's owners and staff with read access to
subscriptions. Anyone else — a guest, another customer, a partner — and a statement the subscription does not have
(another subscription's, EBL-4) get the same 404 NOT_FOUND, so the route tells nobody what exists; an anonymous caller
gets 401. The PDF is read from the circulation system on every request and never cached (`private, no-store`)."""

from __future__ import annotations

import logging
import re
from typing import Any, Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, request_response

from auth.permissions import SUBSCRIPTIONS, Denied, arg, check, customer_owner, staff_read
from datasources.base import UpstreamError, UpstreamNotFound
from server.http import RequestError

log = logging.getLogger("papergraph.statements")
STATEMENT_PATH = "/statements/{subscription_id}/{statement_id}"
RULES = (staff_read(SUBSCRIPTIONS), customer_owner(arg("subscription_id")))  # as `billStatements`
MAX_ID = 128


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"code": code, "message": message}, status_code=status, headers=headers)


def _not_found() -> JSONResponse:
    return _error(404, "NOT_FOUND", "No such statement")


def statement_download(get_context: Callable[[Request, Any], Awaitable[Any]]):
    """The endpoint, given how a request's context is built (the GraphQL view's `get_context`)."""

    async def download(request: Request) -> Response:
        subscription_id = request.path_params["subscription_id"].strip()
        statement_id = request.path_params["statement_id"].strip()
        if not (0 < len(subscription_id) <= MAX_ID and 0 < len(statement_id) <= MAX_ID):
            return _not_found()
        try:
            context = await get_context(request, None)
        except RequestError as error:
            return _error(error.status, error.code, error.message, error.headers)
        except Exception as error:  # the view's HTTPException: an unknown tenant
            status = getattr(error, "status_code", None)
            if status is None:
                raise
            return _error(status, "BAD_REQUEST", str(getattr(error, "reason", "")) or "Bad request")
        try:
            await check(context, RULES, None, {"subscription_id": subscription_id}, "statement download")
        except Denied as denied:
            if denied.code == "UNAUTHENTICATED":
                return _error(401, "UNAUTHENTICATED", "Sign in to download a statement",
                              {"www-authenticate": 'Bearer realm="papergraph"'})
            log.info("statement download refused")
            return _not_found()
        try:
            pdf = await context.services.circulation.get_statement_pdf(context.tenant.code, subscription_id,
                                                                       statement_id)
        except UpstreamNotFound:
            return _not_found()
        except UpstreamError as error:
            log.warning("statement download: circulation failed (%s)", error.code)
            return _error(503, "UPSTREAM_UNAVAILABLE", "The circulation system cannot serve the statement now",
                          {"retry-after": "5"})
        filename = re.sub(r"[^A-Za-z0-9._-]", "_", statement_id) + ".pdf"
        return Response(pdf, media_type="application/pdf", headers={
            "content-disposition": f'attachment; filename="{filename}"', "cache-control": "private, no-store"})

    return request_response(download)


def statement_route(get_context: Callable[[Request, Any], Awaitable[Any]], authenticate: Callable[[Any], Any]) -> Route:
    """The route, behind `authenticate` (app.py wraps it as it wraps `/graphql`)."""
    return Route(STATEMENT_PATH, authenticate(statement_download(get_context)), methods=["GET"])
