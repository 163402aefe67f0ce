"""The message outbox (NOT-1, MSG-1): every session of papergraph's database is an `OutboxSession`, which
writes a `message_outbox` row for each new event whose type sends a message *and* for which the tenant has a
template, in the same flush, hence the same transaction, as the event. After the transaction commits, the
database's `outbox_listeners` are called (the in-process delivery worker wakes up at once); a rolled-back
change leaves no message behind.

Secret data a message needs but the event log must not keep (an Auth0 change-password ticket) travels on
the event instance itself, in `message_data(event)` (SQLAlchemy's per-instance `info`, never persisted), and
is sealed into the outbox row.
"""

from __future__ import annotations

import json
from typing import Any, Callable

import sqlalchemy as sa
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from datasources.models import Event, MessageOutbox, MessageTemplate, utcnow
from domain.messages import PENDING, sends_message

PURPOSE = "message-data"


class OutboxSession(Session):
    """A session that writes the outbox rows of the events it flushes (see the module docstring)."""

    secret_key: str | None = None  # set per Database (sessionmaker binds a subclass with it)
    outbox_listeners: list[Callable[[], None]] = []


def message_data(event: Event) -> dict[str, Any]:
    """Extra data for the message `event` sends, kept out of the event log (sealed in the outbox)."""
    return sa.inspect(event).info.setdefault("message_data", {})


def without_message(event: Event) -> Event:
    """Marks an event whose message another event's message carries (the set-password link of a registration
    created by a purchase rides in the purchase confirmation): it writes no outbox row of its own."""
    sa.inspect(event).info["without_message"] = True
    return event


def session_class(secret_key: str, listeners: list[Callable[[], None]]) -> type[OutboxSession]:
    return type("BoundOutboxSession", (OutboxSession,), {"secret_key": secret_key, "outbox_listeners": listeners})


@sa_event.listens_for(OutboxSession, "after_flush")
def _collect(session: Session, _flush_context) -> None:
    events = [obj for obj in session.new if isinstance(obj, Event) and sends_message(obj.type_code)
              and not sa.inspect(obj).info.get("without_message")]
    if not events:
        return
    wanted = {(e.tenant_id, e.type_code) for e in events}
    with session.no_autoflush:
        rows = session.execute(sa.select(MessageTemplate.tenant_id, MessageTemplate.event_type).where(
            MessageTemplate.tenant_id.in_({t for t, _ in wanted}),
            MessageTemplate.event_type.in_({c for _, c in wanted}))).all()
    templated = {(row[0], row[1]) for row in rows}
    queued = session.info.setdefault("outbox_queue", [])
    for item in events:
        if (item.tenant_id, item.type_code) in templated:  # MSG-1: no template, no message
            queued.append(MessageOutbox(tenant_id=item.tenant_id, event_id=item.id, event_type=item.type_code,
                                        state=PENDING, sealed_data=_seal(session, sa.inspect(item).info),
                                        next_attempt_at=utcnow(), created_at=utcnow()))


@sa_event.listens_for(OutboxSession, "after_flush_postexec")
def _add(session: Session, _flush_context) -> None:
    queued = session.info.pop("outbox_queue", None)
    if queued:
        session.add_all(queued)  # flushed by the same commit (its flush loop runs until the session is clean)
        session.info["outbox_written"] = True


@sa_event.listens_for(OutboxSession, "after_commit")
def _notify(session: Session) -> None:
    if session.info.pop("outbox_written", False):
        for listener in list(type(session).outbox_listeners):
            listener()


@sa_event.listens_for(OutboxSession, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop("outbox_queue", None)
    session.info.pop("outbox_written", None)


def _seal(session: Session, info: dict[str, Any]) -> str | None:
    data = info.get("message_data")
    if not data:
        return None
    from domain.crypto import seal

    return seal(type(session).secret_key or "", PURPOSE, json.dumps(data))


def unseal_data(secret_key: str, sealed: str | None) -> dict[str, Any]:
    if not sealed:
        return {}
    from domain.crypto import unseal

    return json.loads(unseal(secret_key, PURPOSE, sealed, max_length=1 << 20))


def seal_data(secret_key: str, data: dict[str, Any]) -> str | None:
    if not data:
        return None
    from domain.crypto import seal

    return seal(secret_key, PURPOSE, json.dumps(data))


async def resend(db, secret_key: str, event: Event, to: str | None, record: Event,
                 allowed: Callable[[dict[str, Any]], bool]) -> MessageOutbox | None:
    """MSG-1: a new outbox message for `event`, with its first message's data (and `to`, when given), and the
    `record` event, in one transaction; the worker is woken after commit. None when the tenant has no template for
    the event's type (no template, no message). `allowed(data)` is asked first: False raises PermissionError."""
    async with db.session() as session:
        templated = (await session.execute(sa.select(MessageTemplate.id).where(
            MessageTemplate.tenant_id == event.tenant_id, MessageTemplate.event_type == event.type_code))).first()
        if templated is None:
            return None
        first = (await session.execute(sa.select(MessageOutbox.sealed_data).where(
            MessageOutbox.event_id == event.id).order_by(MessageOutbox.id).limit(1))).first()
        data = unseal_data(secret_key, first[0] if first else None)
        if to is not None and not allowed(data):
            raise PermissionError(event.type_code)
        if to is not None:
            data["resendTo"] = to
        row = MessageOutbox(tenant_id=event.tenant_id, event_id=event.id, event_type=event.type_code, state=PENDING,
                            sealed_data=seal_data(secret_key, data), next_attempt_at=utcnow(), created_at=utcnow())
        session.add(row)
        session.add(record)
        session.info["outbox_written"] = True  # wakes the delivery worker after commit
        await session.commit()
        await session.refresh(row)
        return row
