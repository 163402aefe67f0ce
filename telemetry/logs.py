"""Structured logs: one JSON object per line on stdout, with secrets taken out before anything is written.

Every line carries `time` (UTC, ISO 8601), `level`, `logger` and `message`; a line written while a request
is served also carries its `request_id` (the X-Request-Id of API-1), `tenant` and `principal`; an exception
adds `error` (its type) and `traceback`. The access line (`papergraph.access`, one per request, from
server/observe.py) adds `method`, `path` (never the query string), `status`, `duration_ms`, `operation`,
`outcome` and `error_codes`.

`Redactor` runs over every string of every line — message, traceback, extra fields; the time, whose shape no
pattern can match, is only looked at for the secrets — and replaces with
`[REDACTED]`: the values of the settings' secrets (and the database URL's password); `Bearer …`/`Basic …`
credentials; anything shaped like a JWT; the value after a sensitive key (`password`, `newPassword`,
`client_secret`, `token`, `api_key`, `authorization`, `cvv`, `cardNumber`, …) in `key=value`, `key: value`
or JSON form; and digit runs of card-number length (13 to 19 digits, spaces or dashes allowed) that pass
the Luhn check. papergraph never logs request variables or bodies in the first place; the redactor is
the net under that rule, for an exception message or a library that would.

`logging_config(settings)` is the `logging.config.dictConfig` that `papergraph run` hands to uvicorn (and `app:app`
applies), so every worker logs the same way: papergraph's and uvicorn's loggers through `JsonFormatter`, or
through `RedactingTextFormatter` when `PAPERGRAPH_LOG_FORMAT` is `text`, or `auto` (the default) and the log stream
is a terminal outside production (`log_format_for`). JSON never carries terminal colour codes: uvicorn's
`color_message` is dropped and ANSI escapes are taken out of every string; uvicorn's own access log off (papergraph writes a richer one, switched by
`PAPERGRAPH_ACCESS_LOG`), and httpx's per-call INFO lines off (their URLs carry query strings, e.g. an
e-mail looked up in Auth0; upstream calls are counted in /metrics instead).
"""

from __future__ import annotations

import functools
import logging
import re
import sys
from datetime import datetime, timezone
from typing import IO, TYPE_CHECKING, Any, Iterable

import orjson

from domain.purchases import luhn_check_digit
from telemetry.context import current_request

if TYPE_CHECKING:
    from settings import Settings

REDACTED = "[REDACTED]"
SENSITIVE_KEY = (r"[A-Za-z_]*(?:password|passwd|secret|token|api[_-]?key|apikey|authorization|cvv2?|cvc|"
                 r"card[_-]?number|cardnumber|otp)")
_KEY_VALUE = re.compile(
    r"""(?P<key>["']?\b""" + SENSITIVE_KEY + r"""["']?\s*[:=]\s*)(?!(?:Bearer|Basic)\s)"""
    r"""(?P<value>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[^\s,;&}\])]+)""",
    re.IGNORECASE,
)
_CREDENTIALS = re.compile(r"\b(?P<scheme>Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{6,}", re.IGNORECASE)
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*")
_CARD = re.compile(r"(?<![\d.])\d(?:[ -]?\d){12,18}(?![\d.])")
SHORT_VALUE, SHORT_VALUES_CACHED = 40, 2048
# uvicorn's `color_message` extra repeats the message with ANSI colours, for its own console formatter
STANDARD_FIELDS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime",
                                                                                      "color_message"}
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
_STAMP = object()  # where a JSON line's time goes


class Redactor:
    """Takes secrets out of a string (see the module docstring for what counts as one)."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        # longest first, so a secret that contains another is replaced whole; short values would hit
        # ordinary words, and no real secret is that short
        self.secrets = sorted({secret for secret in secrets if secret and len(secret) >= 8}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        text = _CREDENTIALS.sub(lambda m: f"{m.group('scheme')} {REDACTED}", text)
        text = _JWT.sub(REDACTED, text)
        text = _KEY_VALUE.sub(_redact_value, text)
        return _CARD.sub(_redact_card, text)


def _redact_value(match: re.Match) -> str:
    value = match.group("value")
    quote = value[0] if value[0] in "\"'" else ""
    return f"{match.group('key')}{quote}{REDACTED}{quote}"


def _redact_card(match: re.Match) -> str:
    digits = re.sub(r"[ -]", "", match.group(0))
    return REDACTED if luhn_check_digit(digits[:-1]) == digits[-1] else match.group(0)


def settings_secrets(settings: "Settings") -> list[str]:
    """The values no log line may contain: the settings' secrets and the database password."""
    from sqlalchemy.engine import make_url

    secrets = [settings.secret_key, settings.auth0_client_secret, settings.navigapay_api_key]
    try:
        secrets.append(make_url(settings.database_url).password)
    except Exception:  # noqa: BLE001 - an unparsable URL fails elsewhere, with its own message
        pass
    return [secret for secret in secrets if secret]


class JsonFormatter(logging.Formatter):
    """One JSON object per line; every string redacted."""

    def __init__(self, secrets: Iterable[str | None] = (), redactor: Redactor | None = None) -> None:
        super().__init__()
        self.redact = redactor or Redactor(secrets)
        # the access line's short values repeat (tenant, principal, method, path, operation, outcome): remembering
        # their redaction cuts the cost of a line from 54 to 17 µs (timeit, unique request ids)
        self._redact_short = functools.lru_cache(maxsize=SHORT_VALUES_CACHED)(self.redact)

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": _STAMP,  # set below, unredacted (see _stamp), unless an extra field named `time` replaced it
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request = current_request()
        if request is not None:
            entry["request_id"] = request.request_id
            if request.tenant:
                entry["tenant"] = request.tenant
            if request.principal:
                entry["principal"] = request.principal
        for key, value in vars(record).items():
            if key not in STANDARD_FIELDS and not key.startswith("_"):
                entry[key] = value
        if record.exc_info and record.exc_info[0] is not None:
            entry["error"] = record.exc_info[0].__name__
            entry["traceback"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["traceback"] = record.exc_text
        redacted = self._redacted(entry)
        if redacted["time"] is _STAMP:
            redacted["time"] = self._stamp(record.created)
        return orjson.dumps(redacted, default=str).decode()

    def _stamp(self, created: float) -> str:
        """The line's time. Its shape (`2026-12-07T05:38:27.123+00:00`: digits in runs of at most 8 between
        `-`, `T`, `:`, `.` and `+`) matches none of `Redactor`'s patterns, so only a configured secret could
        be in it; it differs on every line, so redacting it missed the cache each time (~15 µs a line,
        timeit)."""
        stamp = datetime.fromtimestamp(created, timezone.utc).isoformat(timespec="milliseconds")
        if type(self.redact) is Redactor and not any(secret in stamp for secret in self.redact.secrets):
            return stamp
        return self._redacted(stamp)

    def _redacted(self, value: Any) -> Any:
        if isinstance(value, str):
            if "\x1b" in value:
                value = _ANSI.sub("", value)
            return self._redact_short(value) if len(value) <= SHORT_VALUE else self.redact(value)
        if isinstance(value, dict):
            return {key: self._redacted(item) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return [self._redacted(item) for item in value]
        return value


class RedactingTextFormatter(logging.Formatter):
    """`PAPERGRAPH_LOG_FORMAT=text` (or `auto` on a terminal): the classic one-line format, redacted all the same."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self.redact = Redactor(secrets)

    def format(self, record: logging.LogRecord) -> str:
        return self.redact(super().format(record))


def log_format_for(settings: "Settings", stream: IO[str] | None = None) -> str:
    """`json` or `text`: the setting when it names one; for `auto`, text when `stream` (stdout, where the logs
    go) is a terminal and the environment is not production, JSON otherwise (a collector, a file, a pipe)."""
    if settings.log_format != "auto":
        return str(settings.log_format)
    stream = stream or sys.stdout
    try:
        terminal = stream.isatty()
    except (AttributeError, ValueError):  # closed or not a real stream
        terminal = False
    return "text" if terminal and not settings.is_production else "json"


def logging_config(settings: "Settings", stream: IO[str] | None = None) -> dict[str, Any]:
    """The dictConfig for `papergraph run` (passed to uvicorn as `log_config`); `stream` is what `auto` looks at
    (stdout by default)."""
    formatter = log_format_for(settings, stream)
    secrets = settings_secrets(settings)
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "json": {"()": "telemetry.logs.JsonFormatter", "secrets": secrets},
            "text": {"()": "telemetry.logs.RedactingTextFormatter", "secrets": secrets},
        },
        "handlers": {"stdout": {"class": "logging.StreamHandler", "formatter": formatter,
                                "stream": "ext://sys.stdout"}},
        "root": {"handlers": ["stdout"], "level": settings.log_level},
        "loggers": {
            "uvicorn": {"handlers": [], "propagate": True},
            "uvicorn.error": {"handlers": [], "propagate": True},
            "uvicorn.access": {"handlers": [], "propagate": False, "level": "WARNING"},
            "httpx": {"level": "WARNING"},
            "httpcore": {"level": "WARNING"},
            "alembic": {"level": "WARNING"},  # the revision check at start-up is not news
        },
    }
