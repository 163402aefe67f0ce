"""Client idempotency keys of mutations (BUY-4, and any money-moving mutation): what binds a key to a
request. Pure; the records live in `datasources/repositories/idempotency.py`.

A key is bound to the operation and a hash of its input (the key itself excluded) on first use. The same
key with the same input replays the first success; with other input it is refused; a refused or failed
first attempt releases the key, so a corrected retry may use it again (as NavigaPay and the circulation
system do: only successes are remembered)."""

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
