"""Client idempotency keys of mutations (BUY-4, PAY-4): what binds a key to a request, and the keys
papergraph derives from it for its upstreams. Pure; the records live in
`datasources/repositories/idempotency.py`.

A key is bound to the operation and a hash of its input (the key itself excluded) on first use. The same
key with the same input replays the first answer; with other input it is refused. Purchase releases the
key when its first attempt fails (only successes are remembered); the payment mutations remember
failures too, so a key names one attempt and its outcome, whatever it was."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from enum import Enum
from typing import Any

MAX_KEY_LENGTH = 255


def request_hash(operation: str, request: Any) -> str:
    """A stable hash of the request's meaning: key order and number formatting do not matter."""
    canonical = json.dumps([operation, request], sort_keys=True, separators=(",", ":"), default=_plain)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        if not value.is_finite():  # NaN, sNaN (comparing it raises), Infinity: the Decimal scalar refuses them
            return str(value)
        return str(value.normalize()) if value == value.to_integral() else str(value)
    if isinstance(value, Enum):
        return value.value
    if hasattr(value, "__dict__"):
        return {k: v for k, v in vars(value).items() if not k.startswith("_")}
    return str(value)


def validate_key(key: str | None) -> str:
    key = (key or "").strip()
    if not key:
        raise ValueError("idempotencyKey must not be blank")
    if len(key) > MAX_KEY_LENGTH:
        raise ValueError(f"idempotencyKey must be at most {MAX_KEY_LENGTH} characters")
    return key


UPSTREAM_KEY_MAX = 100  # what NavigaPay's reference and every upstream's key comfortably hold


def upstream_key(kind: str, tenant_code: str, key: str) -> str:
    """The key papergraph sends upstream for one client key (`pay:NCSDEMO:<key>`): the same on every
    retry of the request, of the call and of reconciliation, so the upstream replays instead of charging
    or applying twice; one per tenant, so two tenants' equal keys never meet. A long client key is
    replaced by its SHA-256."""
    text = f"{kind}:{tenant_code}:{key}"
    if len(text) <= UPSTREAM_KEY_MAX:
        return text
    return f"{kind}:{tenant_code}:sha256:{hashlib.sha256(key.encode()).hexdigest()}"
