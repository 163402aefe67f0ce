"""Rate limits and the per-client cost budget (issue 14, item 9; docs/rate-limits.md).

Two kinds of bucket, both GCRA (the generic cell rate algorithm, i.e. a leaky bucket) from throttled-py, in
Redis when `PAPERGRAPH_REDIS_URL` is set (one bucket shared by every process and worker: the library's
atomic script runs each take in Redis) and in this process's memory otherwise:

- the **cost budget**, after Shopify's GraphQL Admin API: every client has `PAPERGRAPH_COST_BUDGET_MAXIMUM`
  points, restored at `PAPERGRAPH_COST_BUDGET_RESTORE_RATE` points a second; each operation spends its
  estimated cost (server/limits.py) before it runs, and one costing more than what is left is refused with a
  `THROTTLED` error carrying `retryAfter` (and the HTTP answer a `Retry-After` header). Every answer carries
  `extensions.cost { requestedQueryCost actualQueryCost throttleStatus { maximumAvailable currentlyAvailable
  restoreRate } }`. The client is the signed-in principal (tenant and subject), else the client address;
- **rate limits on the mutations an attacker repeats** (`SENSITIVE_MUTATIONS`: sign-up, forgot-password,
  verification codes, password and MFA attempts): per client address (`PAPERGRAPH_RATE_LIMIT_PER_ADDRESS` a
  minute, anonymous callers and customers) and per target identity, the e-mail, registration or staff member
  the mutation names (`PAPERGRAPH_RATE_LIMIT_PER_IDENTITY` an hour, whoever sends it). They are checked from the
  operation's arguments before anything runs, so a refused attempt records nothing. The refusal is the same
  whether or not the identity is registered.

The client address is the connection's peer; X-Forwarded-For counts only with `PAPERGRAPH_TRUSTED_PROXIES` > 0
(then the address that many entries from its right end, each proxy appending the peer it saw). IPv6 clients
are keyed by their /64, the block one subscriber line is usually given.

Redis unreachable: fail open. The request passes unlimited, `papergraph_rate_limit_store_errors_total` counts
it, a warning is logged (at most one every `STORE_ERROR_LOG_INTERVAL` seconds), and Redis is not asked again
for `STORE_RETRY_AFTER` seconds, so an outage costs no request a timeout.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, AsyncIterator

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationType,
    SelectionSetNode,
    get_operation_ast,
    value_from_ast_untyped,
)
from graphql import ExecutionResult as GraphQLExecutionResult
from strawberry.extensions import SchemaExtension
from throttled.asyncio import MemoryStore, RateLimiterType, RedisStore, Throttled, per_duration
from throttled.exceptions import BaseThrottledError
from datetime import timedelta

from telemetry.metrics import RATE_LIMIT_STORE_ERRORS, RATE_LIMITED, child

if TYPE_CHECKING:
    from settings import Settings

log = logging.getLogger("papergraph.throttle")

THROTTLED = "THROTTLED"
STORE_RETRY_AFTER = 2.0  # seconds Redis is left alone after a failure (requests pass meanwhile)
STORE_ERROR_LOG_INTERVAL = 10.0
REDIS_TIMEOUT = 0.25  # seconds to connect to Redis or read its answer
MEMORY_BUCKETS = 100_000  # buckets kept in process memory (least recently used forgotten first)
ADDRESSES_CACHED = 4096  # client addresses whose bucket key is remembered

# mutation → where its target identity is in its arguments (a path), or PRINCIPAL: the signed-in caller
PRINCIPAL = "principal"
SENSITIVE_MUTATIONS: dict[str, tuple[str, ...] | str | None] = {
    "createUser": ("input", "email"),
    "startForgotPassword": ("input", "email"),
    "finishForgotPassword": None,  # the link's token is the secret: per address only
    "sendVerificationCode": ("input", "email"),
    "verifyEmail": ("input", "email"),
    "changePassword": ("input", "customerRegistrationId"),
    "changeEmail": ("input", "customerRegistrationId"),
    "enrollManagerMfa": PRINCIPAL,
    "verifyManagerMfa": PRINCIPAL,
    # SSN: per address here; wrong passwords per login name are counted by signIn itself (domain/sessions.py),
    # so a customer's own successful sign-ins never lock them out
    "signIn": None,
    "refreshSession": None,
    "acceptInvitation": None,  # the link's token is the secret
    "claimPurchase": None,  # the link's token is the secret (BUY-10)
}


@dataclass(frozen=True)
class Take:
    """One bucket's answer: refused or not, what is left, and when to retry."""

    limited: bool
    remaining: int
    retry_after: float


class Buckets:
    """GCRA buckets in Redis or in memory, failing open when Redis fails."""

    def __init__(self, settings: "Settings") -> None:
        self.redis_url = settings.redis_url
        self.kind = "redis" if settings.redis_url else "memory"
        if settings.redis_url:
            self.store: Any = RedisStore(server=settings.redis_url, options={
                "SOCKET_TIMEOUT": REDIS_TIMEOUT, "SOCKET_CONNECT_TIMEOUT": REDIS_TIMEOUT})
        else:
            self.store = MemoryStore(options={"MAX_SIZE": MEMORY_BUCKETS})
        self.prefix = settings.rate_limit_key_prefix.strip(":") or "papergraph"
        self._limiters: dict[tuple[str, int, int, int], Throttled] = {}
        self._down_until = 0.0
        self._last_logged = 0.0

    def _limiter(self, name: str, rate: int, period_seconds: int, burst: int) -> Throttled:
        key = (name, rate, period_seconds, burst)
        limiter = self._limiters.get(key)
        if limiter is None:
            limiter = self._limiters[key] = Throttled(
                using=RateLimiterType.GCRA.value, store=self.store, key_prefix=f"{self.prefix}:{name}",
                quota=per_duration(timedelta(seconds=period_seconds), rate, burst))
        return limiter

    async def take(self, name: str, key: str, *, rate: int, period_seconds: int, burst: int, cost: int
                   ) -> Take | None:
        """Spend `cost` from the bucket `name`/`key` (`rate` per `period_seconds`, holding `burst`); cost 0 only
        reads it. None: the store failed, the caller lets the request pass."""
        if time.monotonic() < self._down_until:
            self._store_failed(None)
            return None
        limiter = self._limiter(name, rate, period_seconds, burst)
        try:
            if cost <= 0:
                state = await limiter.peek(key)
                return Take(False, state.remaining, 0.0)
            result = await limiter.limit(key, cost=cost)
        except (BaseThrottledError, OSError, TimeoutError, ConnectionError) as error:
            self._store_failed(error)
            return None
        except Exception as error:  # redis-py's own errors, whatever the store lets through: still fail open
            if type(error).__module__.split(".")[0] != "redis":
                raise
            self._store_failed(error)
            return None
        state = result.state
        return Take(result.limited, max(0, state.remaining), max(0.0, state.retry_after))

    def _store_failed(self, error: BaseException | None) -> None:
        child(RATE_LIMIT_STORE_ERRORS, self.kind).inc()
        now = time.monotonic()
        if error is not None:
            self._down_until = now + STORE_RETRY_AFTER
            if now - self._last_logged >= STORE_ERROR_LOG_INTERVAL:
                self._last_logged = now
                log.warning("rate limits: the %s store failed (%s: %s); requests pass unlimited for now",
                            self.kind, type(error).__name__, error)

    async def aclose(self) -> None:
        backend = getattr(self.store, "_backend", None)
        client = getattr(backend, "_client", None)
        if client is not None and hasattr(client, "aclose"):
            try:
                await client.aclose()
            except Exception:  # noqa: BLE001 - closing a client of a store that is down
                pass


# -- who the client is ---------------------------------------------------------------------------------------
def client_address(request: Any, trusted_proxies: int) -> str:
    """The client's address: the peer, or with `trusted_proxies` the X-Forwarded-For entry that many from the
    right (the peer when the header has fewer entries); IPv6 as its /64."""
    peer = request.client.host if request is not None and request.client is not None else "unknown"
    address = peer
    if trusted_proxies and request is not None:
        entries = [entry.strip() for entry in ",".join(request.headers.getlist("x-forwarded-for")).split(",")
                   if entry.strip()]
        if len(entries) >= trusted_proxies:
            address = entries[-trusted_proxies]
    return _normalised_address(address)


@functools.lru_cache(maxsize=ADDRESSES_CACHED)
def _normalised_address(address: str) -> str:
    """`address` as a bucket key: an IPv4 address itself, IPv6 as its /64 (an IPv4-mapped one as its IPv4), anything
    else cut to 64 characters. Remembered: every operation's budget asks for it, and parsing costs ~6 µs."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


def client_key(context: Any, trusted_proxies: int) -> str:
    """The budget's owner: the signed-in principal (tenant and subject), else the client address."""
    principal = getattr(context, "principal", None)
    if principal is not None and not principal.is_anonymous and principal.subject:
        tenant = principal.tenant or getattr(getattr(context, "tenant", None), "code", "")
        return f"principal:{tenant}:{principal.subject}"
    return f"address:{client_address(getattr(context, 'request', None), trusted_proxies)}"


def throttled_error(message: str, retry_after: float, **extensions: Any) -> GraphQLError:
    return GraphQLError(message, extensions={"code": THROTTLED, "retryAfter": round(retry_after, 3), **extensions})


def retry_after_header(errors: Any) -> str | None:
    """The `Retry-After` (whole seconds, rounded up) of a result refused THROTTLED, if any."""
    waits = [(error.extensions or {}).get("retryAfter") for error in errors or ()
             if (error.extensions or {}).get("code") == THROTTLED]
    waits = [wait for wait in waits if isinstance(wait, (int, float))]
    return str(max(1, math.ceil(max(waits)))) if waits else None


# -- the cost budget ---------------------------------------------------------------------------------------
class Throttle:
    """The buckets of one app, its settings' rates, and the two checks."""

    def __init__(self, settings: "Settings") -> None:
        self.buckets = Buckets(settings)
        self.trusted_proxies = settings.trusted_proxies
        self.budget_maximum = settings.cost_budget_maximum
        self.restore_rate = settings.cost_budget_restore_rate
        self.per_address = settings.rate_limit_per_address
        self.per_identity = settings.rate_limit_per_identity

    async def spend(self, execution_context: Any, cost: int | None) -> GraphQLError | None:
        """limits.Budget: spend `cost` from the caller's budget and put `extensions.cost` on the answer; None
        reports the budget without spending (the operation was refused before it could run)."""
        key = client_key(execution_context.context, self.trusted_proxies)
        take = await self.buckets.take("budget", key, rate=self.restore_rate, period_seconds=1,
                                       burst=self.budget_maximum, cost=cost or 0)
        refused = take is not None and take.limited
        status = None if take is None else {"maximumAvailable": self.budget_maximum,
                                            "currentlyAvailable": take.remaining, "restoreRate": self.restore_rate}
        execution_context.extensions_results["cost"] = {
            "requestedQueryCost": cost, "actualQueryCost": None if refused or cost is None else cost,
            "throttleStatus": status}
        if not refused:
            return None
        child(RATE_LIMITED, "cost_budget").inc()
        return throttled_error(
            f"Throttled: this operation costs {cost} points and {take.remaining} are available; the budget gets "
            f"{self.restore_rate} points back a second (PAPERGRAPH_COST_BUDGET_MAXIMUM, "
            f"PAPERGRAPH_COST_BUDGET_RESTORE_RATE)", take.retry_after)

    async def check_mutations(self, execution_context: Any) -> GraphQLError | None:
        """The per-address and per-identity limits of the sensitive mutations an operation selects, one take per
        selection, before anything runs."""
        document = execution_context.graphql_document
        operation = get_operation_ast(document, execution_context.operation_name) if document else None
        if operation is None or operation.operation != OperationType.MUTATION:
            return None
        fragments = {d.name.value: d for d in document.definitions if getattr(d, "kind", "") == "fragment_definition"}
        selected = [node for node in _root_fields(operation.selection_set, fragments)
                    if node.name.value in SENSITIVE_MUTATIONS]
        if not selected:
            return None
        context = execution_context.context
        variables = execution_context.variables or {}
        principal = getattr(context, "principal", None)
        by_address = principal is None or principal.kind.value in ("anonymous", "customer")
        address = client_address(getattr(context, "request", None), self.trusted_proxies)
        for node in selected:
            name = node.name.value
            if by_address:
                take = await self.buckets.take(f"address:{name}", address, rate=self.per_address, period_seconds=60,
                                               burst=self.per_address, cost=1)
                if take is not None and take.limited:
                    child(RATE_LIMITED, "per_address").inc()
                    return throttled_error(
                        f"Too many {name} requests from this address: at most {self.per_address} a minute "
                        f"(PAPERGRAPH_RATE_LIMIT_PER_ADDRESS)", take.retry_after,
                        setting="PAPERGRAPH_RATE_LIMIT_PER_ADDRESS")
            identity = _identity(node, SENSITIVE_MUTATIONS[name], variables, principal)
            if identity:
                take = await self.buckets.take(f"identity:{name}", identity, rate=self.per_identity,
                                               period_seconds=3600, burst=self.per_identity, cost=1)
                if take is not None and take.limited:
                    child(RATE_LIMITED, "per_identity").inc()
                    return throttled_error(
                        f"Too many {name} requests for this identity: at most {self.per_identity} an hour "
                        f"(PAPERGRAPH_RATE_LIMIT_PER_IDENTITY)", take.retry_after,
                        setting="PAPERGRAPH_RATE_LIMIT_PER_IDENTITY")
        return None

    async def aclose(self) -> None:
        await self.buckets.aclose()


def _root_fields(selection_set: SelectionSetNode, fragments: dict[str, Any], seen: frozenset[str] = frozenset()
                 ) -> list[FieldNode]:
    fields: list[FieldNode] = []
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            fields.append(selection)
        elif isinstance(selection, InlineFragmentNode):
            fields += _root_fields(selection.selection_set, fragments, seen)
        elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in seen:
            fragment = fragments.get(selection.name.value)
            if fragment is not None:
                fields += _root_fields(fragment.selection_set, fragments, seen | {selection.name.value})
    return fields


def _identity(node: FieldNode, where: tuple[str, ...] | str | None, variables: dict[str, Any], principal: Any
              ) -> str | None:
    """The identity a sensitive mutation targets, normalised (e-mails are compared without case)."""
    if where is None:
        return None
    if where == PRINCIPAL:
        return f"{principal.tenant}:{principal.subject}" if principal is not None and principal.subject else None
    argument = next((a for a in node.arguments or () if a.name.value == where[0]), None)
    if argument is None:
        return None
    value: Any = value_from_ast_untyped(argument.value, variables)
    for step in where[1:]:
        value = value.get(step) if isinstance(value, dict) else None
    return value.strip().lower()[:320] if isinstance(value, str) and value.strip() else None


async def spend_from_context(execution_context: Any, cost: int | None) -> GraphQLError | None:
    """The schema's budget (server/limits.py's `Budget`): spends from the throttle the request's context carries,
    so one schema serves apps with budgets of their own; a context without one is unlimited."""
    throttle = getattr(execution_context.context, "throttle", None)
    return None if throttle is None else await throttle.spend(execution_context, cost)


class SensitiveMutationLimits(SchemaExtension):
    """Refuses, before it runs, an operation selecting a sensitive mutation past the rate limits of the throttle
    the request's context carries (none: unlimited)."""

    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context
        throttle = getattr(context.context, "throttle", None)
        if throttle is not None and context.result is None and not context.pre_execution_errors:
            error = await throttle.check_mutations(context)
            if error is not None:
                context.result = GraphQLExecutionResult(data=None, errors=[error])  # not executed
        yield
