"""Mail emulator: a real SMTP server (aiosmtpd) that keeps every message it accepts, and an HTTP inbox API
shaped like Mailpit's, so a test or a developer reads what papergraph really sent over SMTP.

    SMTP  any port (`MailServer.start`): EHLO, MAIL, RCPT, DATA; messages kept in memory. Like Mailpit's
          `--ignore-duplicate-ids`, a message whose Message-ID is already in the inbox is accepted (250) and
          not kept again, so a retried delivery that had in fact arrived shows once.
    GET    /api/v1/messages[?start=0&limit=50]   → {total, count, start, messages: [summary]} newest first
    GET    /api/v1/search?query=to:ADDRESS       → the same, only messages to ADDRESS (`from:`, `subject:` too;
                                                   plain words search subject and text)
    GET    /api/v1/message/{ID}                  → {ID, MessageID, From, To, Subject, Date, Text, HTML, Headers, Size}
    GET    /api/v1/message/{ID}/raw              → the message as received (text/plain)
    DELETE /api/v1/messages  {"IDs": [...]}      → deletes those (no body, or no IDs: every message)
    DELETE /api/v1/search?query=to:ADDRESS       → deletes the matching messages

A summary is `{ID, MessageID, From: {Name, Address}, To: [{Name, Address}], Subject, Created, Size, Snippet}`.

Fault injection (sandbox/faults.py's rules, posted to `/_sandbox/faults`), for SMTP: a rule's `method` is the
SMTP command it strikes (`RCPT` or `DATA`; none: both) and its `path` a regex on the recipient. `status`
refuses with that reply code (e.g. 451: try later, 550: refused), `drop` closes the connection without a reply
(with `after` at DATA: the message is kept first, so the sender cannot tell it arrived), `latency_ms` slows the
reply, `times` bounds it. Every SMTP command seen is recorded in `/_sandbox/requests` (method = command,
path = recipients). `POST /_sandbox/reset` empties the inbox and forgets the rules.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import itertools
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import getaddresses, parseaddr
from typing import Any

from aiosmtpd.smtp import SMTP
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

from sandbox.faults import FaultRule, SandboxControl

__all__ = ["MailServer", "MailStore", "create_app"]


@dataclass
class StoredMessage:
    id: str
    raw: bytes
    mail_from: str
    recipients: list[str]
    created: datetime = field(default_factory=lambda: datetime.now(timezone.utc))

    def parsed(self) -> email.message.EmailMessage:
        return email.message_from_bytes(self.raw, policy=email.policy.default)

    def summary(self) -> dict[str, Any]:
        message = self.parsed()
        text = _part(message, "plain")
        return {"ID": self.id, "MessageID": (message["Message-ID"] or "").strip("<>"),
                "From": _address(message["From"] or self.mail_from),
                "To": [_address(item) for item in _addresses(message["To"])] or
                      [_address(item) for item in self.recipients],
                "Subject": str(message["Subject"] or ""), "Created": self.created.isoformat(), "Size": len(self.raw),
                "Snippet": " ".join(text.split())[:250]}

    def full(self) -> dict[str, Any]:
        message = self.parsed()
        return {**self.summary(), "Date": str(message["Date"] or ""), "Text": _part(message, "plain"),
                "HTML": _part(message, "html"), "Headers": {k: str(v) for k, v in message.items()}}


class MailStore:
    def __init__(self, ignore_duplicate_ids: bool = True) -> None:
        self.messages: list[StoredMessage] = []
        self.ignore_duplicate_ids = ignore_duplicate_ids
        self.duplicates_ignored = 0
        self._ids = itertools.count(1)

    def add(self, raw: bytes, mail_from: str, recipients: list[str]) -> StoredMessage | None:
        message_id = (email.message_from_bytes(raw, policy=email.policy.default)["Message-ID"] or "").strip()
        if self.ignore_duplicate_ids and message_id and any(
                (m.parsed()["Message-ID"] or "").strip() == message_id for m in self.messages):
            self.duplicates_ignored += 1
            return None
        stored = StoredMessage(id=f"m{next(self._ids)}", raw=raw, mail_from=mail_from, recipients=list(recipients))
        self.messages.append(stored)
        return stored

    def get(self, message_id: str) -> StoredMessage | None:
        return next((m for m in self.messages if m.id == message_id), None)

    def search(self, query: str) -> list[StoredMessage]:
        return [m for m in reversed(self.messages) if _matches(m, query)]

    def delete(self, ids: list[str] | None) -> int:
        before = len(self.messages)
        self.messages = [] if not ids else [m for m in self.messages if m.id not in set(ids)]
        return before - len(self.messages)

    def reset(self) -> None:
        self.messages.clear()
        self.duplicates_ignored = 0


class _Handler:
    """aiosmtpd's handler: faults, then keep the message."""

    def __init__(self, store: MailStore, control: SandboxControl) -> None:
        self.store = store
        self.control = control

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = await self._fault(server, "RCPT", [address], envelope)
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        reply = await self._fault(server, "DATA", envelope.rcpt_tos, envelope)
        if reply is not None:
            return reply
        self.store.add(envelope.original_content or envelope.content, envelope.mail_from or "", envelope.rcpt_tos)
        return "250 Message accepted for delivery"

    async def _fault(self, server, command: str, recipients: list[str], envelope) -> str | None:
        self.control.total += 1
        self.control.requests.append({"method": command, "path": ",".join(recipients), "query": ""})
        rule = self._rule(command, recipients)
        if rule is None:
            return None
        if rule.times is not None:
            rule.times -= 1
        if rule.latency_ms:
            await asyncio.sleep(rule.latency_ms / 1000)
        if rule.drop:
            if rule.after and command == "DATA":
                self.store.add(envelope.original_content or envelope.content, envelope.mail_from or "",
                               envelope.rcpt_tos)
            server.transport.close()
            return "421 connection dropped"  # never reaches the client: the transport is closed
        if rule.status:
            return f"{rule.status} sandbox fault {rule.status}"
        return None

    def _rule(self, command: str, recipients: list[str]) -> FaultRule | None:
        for rule in self.control.rules:
            if rule.times is not None and rule.times <= 0:
                continue
            if rule.method and rule.method.upper() != command:
                continue
            if rule._pattern and not any(rule._pattern.search(r) for r in recipients):
                continue
            return rule
        return None


class MailServer:
    """The SMTP side, on the running event loop: `await start(host, port)` (port 0: any free one)."""

    def __init__(self, store: MailStore, control: SandboxControl) -> None:
        self.handler = _Handler(store, control)
        self.server: asyncio.base_events.Server | None = None
        self.host = "127.0.0.1"
        self.port = 0

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> "MailServer":
        loop = asyncio.get_running_loop()
        self.server = await loop.create_server(
            lambda: SMTP(self.handler, hostname="mail.sandbox", ident="papergraph mail emulator",
                         decode_data=False, enable_SMTPUTF8=True), host=host, port=port)
        self.host, self.port = self.server.sockets[0].getsockname()[:2]
        return self

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
            self.server = None


def create_app(store: MailStore | None = None, control: SandboxControl | None = None) -> Starlette:
    """The HTTP inbox API over `store` (and the fault rules of `control`, shared with the SMTP server)."""
    store = store or MailStore()
    control = control or SandboxControl()

    def listing(messages: list[StoredMessage], request: Request) -> JSONResponse:
        start = int(request.query_params.get("start", 0))
        limit = int(request.query_params.get("limit", 50))
        page = messages[start:start + limit]
        return JSONResponse({"total": len(store.messages), "messages_count": len(messages), "count": len(page),
                             "start": start, "messages": [m.summary() for m in page]})

    async def messages(request: Request) -> JSONResponse:
        return listing(list(reversed(store.messages)), request)

    async def search(request: Request) -> JSONResponse:
        return listing(store.search(request.query_params.get("query", "")), request)

    async def message(request: Request) -> JSONResponse:
        found = store.get(request.path_params["id"])
        if found is None:
            return JSONResponse({"Error": "message not found"}, status_code=404)
        return JSONResponse(found.full())

    async def raw(request: Request) -> PlainTextResponse:
        found = store.get(request.path_params["id"])
        if found is None:
            return PlainTextResponse("message not found", status_code=404)
        return PlainTextResponse(found.raw.decode("utf-8", "replace"))

    async def delete(request: Request) -> PlainTextResponse:
        body = await request.body()
        ids = (await request.json()).get("IDs") if body.strip() else None
        store.delete(ids or None)
        return PlainTextResponse("ok")

    async def delete_search(request: Request) -> PlainTextResponse:
        store.delete([m.id for m in store.search(request.query_params.get("query", ""))] or ["-"])
        return PlainTextResponse("ok")

    async def reset(request: Request) -> JSONResponse:
        store.reset()
        control.reset()
        return JSONResponse({"messages": 0})

    async def stats(request: Request) -> JSONResponse:
        return JSONResponse({"messages": len(store.messages), "duplicatesIgnored": store.duplicates_ignored})

    app = Starlette(routes=[
        Route("/api/v1/messages", messages, methods=["GET"]),
        Route("/api/v1/messages", delete, methods=["DELETE"]),
        Route("/api/v1/search", search, methods=["GET"]),
        Route("/api/v1/search", delete_search, methods=["DELETE"]),
        Route("/api/v1/message/{id}", message, methods=["GET"]),
        Route("/api/v1/message/{id}/raw", raw, methods=["GET"]),
        Route("/_sandbox/reset", reset, methods=["POST"]),
        Route("/_sandbox/stats", stats, methods=["GET"]),
        *control.routes(),
    ])
    app.state.store = store
    app.state.control = control
    return app


def _part(message: email.message.EmailMessage, subtype: str) -> str:
    part = message.get_body(preferencelist=(subtype,))
    if part is None or part.get_content_subtype() != subtype:
        return ""
    return part.get_content()


def _addresses(header: Any) -> list[str]:
    return [formatted for formatted in (f"{n} <{a}>" if n else a for n, a in getaddresses([str(header)]) if a)] \
        if header else []


def _address(value: str) -> dict[str, str]:
    name, address = parseaddr(str(value))
    return {"Name": name, "Address": address}


def _matches(message: StoredMessage, query: str) -> bool:
    summary = None
    for term in query.split():
        key, _, value = term.partition(":")
        value = value.strip('"').lower()
        summary = summary or message.summary()
        if key == "to" and value:
            if not any(value == r.lower() for r in message.recipients) and not any(
                    value == item["Address"].lower() for item in summary["To"]):
                return False
        elif key == "from" and value:
            if value not in summary["From"]["Address"].lower():
                return False
        elif key == "subject" and value:
            if value not in summary["Subject"].lower():
                return False
        elif term and term.lower() not in (summary["Subject"] + " " + summary["Snippet"]).lower():
            return False
    return True
