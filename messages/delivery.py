"""The delivery worker (MSG-1): sends the outbox's due messages over SMTP, after the transactions that wrote
them committed. In-process by default (started by the app's lifespan and woken by each commit that wrote a
message), or in a process of its own (`papergraph deliver`, with `PAPERGRAPH_MAIL_WORKER=off` on the servers).

Several workers may run at once: a message is taken with a lease (a conditional UPDATE), so only one sends
it at a time. Its subject and parts are rendered at its first attempt and kept with its Message-ID; every
retry sends those same bytes under the same Message-ID (domain/messages.py). Failures wait
`retry_delay(attempt)`; a permanent refusal (5xx), a missing template or recipient ends the message FAILED.
A delivery never changes anything but its outbox row.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from typing import Any

import sqlalchemy as sa
from sqlmodel import select

from datasources.models import Event, MessageOutbox, MessageTemplate, Tenant, utcnow
from datasources.outbox import unseal_data
from datasources.smtp import DeliveryFailed
from domain.messages import FAILED, PENDING, SENT, is_permanent_refusal, message_id, retry_delay
from messages.compose import NoRecipient, compose
from messages.render import render

log = logging.getLogger("papergraph.messages")
LEASE = timedelta(seconds=60)
BATCH = 50


class DeliveryWorker:
    def __init__(self, services, sender, db=None) -> None:
        self.services = services
        self.sender = sender
        # its own engine by default (app.py): the worker's statements neither take the requests' pooled
        # connections nor show in their statement counts
        self.db = db or services.db
        settings = services.settings
        self.retry_base = settings.mail_retry_base_seconds
        self.max_attempts = settings.mail_max_attempts
        self.poll_interval = settings.mail_poll_interval
        self._wake = asyncio.Event()
        self.sent = 0

    def wake(self) -> None:
        """Called after a commit that wrote a message (any thread of this loop)."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set: at once when woken, else every `poll_interval` seconds."""
        while not stop.is_set():
            try:
                while await self.deliver_due():
                    pass
            except Exception:  # noqa: BLE001 - a database hiccup must not end the worker; next round retries
                log.exception("message delivery round failed")
            self._wake.clear()
            waiters = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())]
            done, pending = await asyncio.wait(waiters, timeout=self.poll_interval,
                                               return_when=asyncio.FIRST_COMPLETED)
            for waiter in pending:
                waiter.cancel()

    async def deliver_due(self) -> int:
        """One round: every due message (at most BATCH) this worker can lease. Returns how many it tried."""
        now = utcnow()
        async with self.db.session() as session:
            ids = list((await session.execute(select(MessageOutbox.id).where(
                MessageOutbox.state == PENDING, MessageOutbox.next_attempt_at <= now,
                sa.or_(MessageOutbox.leased_until.is_(None), MessageOutbox.leased_until < now))
                .order_by(MessageOutbox.id).limit(BATCH))).scalars())
        tried = 0
        for outbox_id in ids:
            if await self._lease(outbox_id):
                tried += 1
                await self._deliver(outbox_id)
        return tried

    async def _lease(self, outbox_id: int) -> bool:
        now = utcnow()
        async with self.db.session() as session:
            result = await session.execute(sa.update(MessageOutbox).where(
                MessageOutbox.id == outbox_id, MessageOutbox.state == PENDING,
                sa.or_(MessageOutbox.leased_until.is_(None), MessageOutbox.leased_until < now))
                .values(leased_until=now + LEASE))
            await session.commit()
            return result.rowcount == 1

    async def _deliver(self, outbox_id: int) -> None:
        async with self.db.session() as session:
            row = await session.get(MessageOutbox, outbox_id)
            tenant = await session.get(Tenant, row.tenant_id)
        try:
            if row.message_id is None:
                await self._render(row, tenant)
            message = self._message(row, tenant)
        except (NoRecipient, LookupError, ValueError) as error:
            await self._finish(outbox_id, FAILED, row.attempts, f"cannot compose: {error}")
            return
        try:
            await self.sender.send(message)
        except DeliveryFailed as error:
            attempts = row.attempts + 1
            if is_permanent_refusal(error.code) or attempts >= self.max_attempts:
                await self._finish(outbox_id, FAILED, attempts, str(error))
            else:
                await self._retry_later(outbox_id, attempts, str(error))
            return
        await self._finish(outbox_id, SENT, row.attempts + 1, None)
        self.sent += 1

    async def _render(self, row: MessageOutbox, tenant: Tenant) -> None:
        self.db.forget_tenants()  # a message is rendered once: with the tenant's settings of now (SET-3)
        tenant_context = await self.db.tenant_by_code(tenant.code)
        async with self.db.session() as session:
            event = await session.get(Event, row.event_id) if row.event_id else None
            template = (await session.execute(select(MessageTemplate).where(
                MessageTemplate.tenant_id == row.tenant_id, MessageTemplate.event_type == row.event_type))
            ).scalar_one_or_none()
        if event is None or template is None:
            raise LookupError("the event or the tenant's template is gone")
        data = unseal_data(self.services.settings.secret_key, row.sealed_data)
        composed = await compose(self.services, tenant_context, row, event, data, db=self.db)
        rendered = render(template.subject, template.text_body, template.html_body, composed.context)
        values: dict[str, Any] = {
            "recipient": composed.recipient, "subject": rendered.subject, "text_body": rendered.text,
            "html_body": rendered.html,
            "message_id": message_id(row.id, tenant.code, self.services.settings.mail_domain)}
        async with self.db.session() as session:
            await session.execute(sa.update(MessageOutbox).where(MessageOutbox.id == row.id).values(**values))
            await session.commit()
        for name, value in values.items():
            setattr(row, name, value)

    def _message(self, row: MessageOutbox, tenant: Tenant) -> EmailMessage:
        message = EmailMessage()
        message["From"] = formataddr((tenant.name, self.services.settings.mail_from))
        message["To"] = row.recipient
        message["Subject"] = row.subject
        message["Message-ID"] = row.message_id
        message["Date"] = format_datetime(_aware(row.created_at))
        message["X-Papergraph-Tenant"] = tenant.code
        message["X-Papergraph-Event"] = row.event_type
        message.set_content(row.text_body or "")
        message.add_alternative(row.html_body or "", subtype="html")
        return message

    async def _retry_later(self, outbox_id: int, attempts: int, error: str) -> None:
        async with self.db.session() as session:
            await session.execute(sa.update(MessageOutbox).where(MessageOutbox.id == outbox_id).values(
                attempts=attempts, last_error=error[:1000], leased_until=None,
                next_attempt_at=utcnow() + retry_delay(attempts, self.retry_base)))
            await session.commit()

    async def _finish(self, outbox_id: int, state: str, attempts: int, error: str | None) -> None:
        async with self.db.session() as session:
            await session.execute(sa.update(MessageOutbox).where(MessageOutbox.id == outbox_id).values(
                state=state, attempts=attempts, leased_until=None, last_error=error[:1000] if error else None,
                sent_at=utcnow() if state == SENT else None))
            await session.commit()


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)
