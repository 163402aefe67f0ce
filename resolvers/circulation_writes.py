"""What the servicing mutations that write to the circulation system share (temporary stops, complaints, StopSaver,
eBill, auto-pay cancel, subscriber details and moves): their `<Mutation>ErrorCode` / `<Mutation>Error` types, every
value and field described, and the write itself under an idempotency key, asked once more with the same key when
the answer is lost, so a retry never changes anything twice."""

from __future__ import annotations

import uuid
from enum import Enum
from typing import Any, Awaitable, Callable, Mapping, Optional, Sequence

import strawberry

from datasources.base import UpstreamNotFound, UpstreamRejected, UpstreamTimeout, UpstreamUnavailable
from resolvers.mutation_support import Refusal

SUBSCRIPTION_FIELD = ("input", "subscriptionId")
REFUSED = "CIRCULATION_REFUSED"


def error_codes(mutation: str, codes: Sequence[str], descriptions: Mapping[str, str]) -> type[Enum]:
    """`<Mutation>ErrorCode`, each value described by when it happens (`descriptions[code]`)."""
    members = {code: strawberry.enum_value(code, description=descriptions[code]) for code in codes}
    return strawberry.enum(Enum(f"{mutation}ErrorCode", members),
                           description=f"Why `{mutation[0].lower()}{mutation[1:]}` refused its input.")


def error_type(mutation: str, codes: type[Enum]) -> type:
    """`<Mutation>Error { code field message }`, every field described."""
    namespace = {
        "__annotations__": {"code": codes, "field": Optional[list[str]], "message": str},
        "__module__": __name__,
        "code": strawberry.field(description="What kind of refusal this is."),
        "field": strawberry.field(description="The path of the input field at fault, when one is."),
        "message": strawberry.field(description="A human-readable explanation."),
    }
    return strawberry.type(type(f"{mutation}Error", (), namespace),
                           description=f"A reason `{mutation[0].lower()}{mutation[1:]}` refused its input.")


async def call_circulation(call: Callable[[str], Awaitable[dict[str, Any]]], key_prefix: str, codes: type[Enum],
                           upstream_codes: Mapping[str, str],
                           field: Callable[[str], Sequence[str]] = lambda code: SUBSCRIPTION_FIELD) -> dict[str, Any]:
    """`call(idempotency_key)`, asked once more with the same key after a timeout or a 5xx: the circulation system
    either makes the change now or answers the one it made, never a second. Its refusals become a `Refusal` with
    the mutation's code for the upstream code (`upstream_codes`), else CIRCULATION_REFUSED, on `field(code)`."""
    key = f"{key_prefix}:{uuid.uuid4().hex}"
    try:
        try:
            return await call(key)
        except (UpstreamTimeout, UpstreamUnavailable):
            return await call(key)
    except (UpstreamRejected, UpstreamNotFound) as error:
        body = error.body if isinstance(error.body, dict) else {}
        code = upstream_codes.get(str(body.get("code")), REFUSED)
        if code not in codes.__members__:
            code = REFUSED
        raise Refusal(codes[code], str(body.get("message") or "The circulation system refused it"),
                      list(field(code))) from error
