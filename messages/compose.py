"""What each message says and to whom: the recipient and the template context of an outbox message, built
from the event that caused it (domain/messages.py lists them). Links point at the tenant's front end
(`Site.FrontEndUrl`, else the `frontend_url` setting), never at papergraph's own host."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import select

from datasources.models import Event, MessageOutbox, Payment, Registration
from domain.messages import FRONT_END_SETTING, front_end_link, receipt_lines
from domain.tenants import TenantContext
from domain.users import FORGOT_PASSWORD, VERIFY_EMAIL, link_token


class NoRecipient(Exception):
    """The message has nobody to go to (the registration is gone, the manager has no e-mail)."""


@dataclass
class Composed:
    recipient: str
    context: dict[str, Any]


def front_end_url(tenant: TenantContext, default: str) -> str:
    return (tenant.settings.get(FRONT_END_SETTING) or "").strip() or default


async def compose(services, tenant: TenantContext, outbox: MessageOutbox, event: Event,
                  data: dict[str, Any], db=None) -> Composed:
    db = db or services.db
    settings = services.settings
    base = front_end_url(tenant, settings.frontend_base_url)
    details = event.details or {}
    context: dict[str, Any] = {"tenant": {"name": tenant.name, "code": tenant.code}, "currency": tenant.currency,
                               "front_end_url": base, "event_type": event.type_code}
    registration = await _registration(db, tenant.id, event.crid) if event.crid else None
    recipient = registration.email if registration is not None else None
    kind = event.type_code
    if kind == "PWDREQ":
        token = link_token(settings.secret_key, FORGOT_PASSWORD, event.id, _expiry(details))
        context.update(reset_url=front_end_link(base, "reset-password", token=token),
                       expires_at=details.get("expiresAt"))
    elif kind == "VERIFYCODE":
        recipient = details.get("email") or recipient
        token = link_token(settings.secret_key, VERIFY_EMAIL, event.id, _expiry(details))
        context.update(verify_url=front_end_link(base, "verify-email", email=recipient, code=token), code=token,
                       expires_at=details.get("expiresAt"))
    elif kind == "CREATELOGIN":
        context.update(change_password_url=data.get("changePasswordUrl"),
                       sign_in_url=front_end_link(base, "sign-in"))
    elif kind in ("STARTSTD", "PAYMENT", "RESTARTSUBSCRIPTION"):
        payment = await _payment(db, event.payment_id) if event.payment_id else None
        if payment is not None:
            lines = receipt_lines(option_amount=payment.option_amount, tip=payment.tip, donation=payment.donation,
                                  activation_fee=payment.activation_fee, processing_fee=payment.processing_fee,
                                  fee_tax=payment.fee_tax, balance_applied=payment.balance_applied)
            total = f"{payment.total:.2f}"
        else:  # nothing charged (a free start, or credit covered a restart, RST-4)
            lines, total = [], f"{event.amount or 0:.2f}"
        change_password_url = data.get("changePasswordUrl")
        if not change_password_url and data.get("setPasswordLink") and event.crid:  # MG2 generated password
            change_password_url = await _set_password_link(db, settings, base, tenant.id, event.crid)
        context.update(subscription_id=event.subscription_id, lines=lines, total=total,
                       change_password_url=change_password_url,
                       account_url=front_end_link(base, "account", subscription=event.subscription_id))
    elif kind == "EXPIRENOTICE":
        recipient = details.get("email") or recipient
        context.update(account_number=details.get("accountNumber"), expires_on=details.get("expiresOn"),
                       subscriptions=[{**item, "url": front_end_link(base, "account", subscription=item["id"])}
                                      for item in details.get("subscriptions", [])])
    elif kind in ("MGRMFAENABLE", "MGRMFADISABLE"):
        subject = details.get("managerSubject")
        recipient = details.get("managerEmail") or await _manager_email(services, subject)
        context.update(manager=recipient, console_url=front_end_link(base, "console"))
    elif kind == "INVITEGUEST":
        recipient = details.get("email")
        from domain.invitations import invitation_token

        token = invitation_token(settings.secret_key, details["invitationId"], _expiry(details))
        context.update(host_name=details.get("hostName") or "A subscriber", expires_at=details.get("expiresAt"),
                       accept_url=front_end_link(base, "invitation", token=token))
    elif kind == "CLAIMPURCHASE":
        recipient = details.get("email")
        from domain.claims import claim_token

        if details.get("claimId") is None or not details.get("expiresAt"):
            raise NoRecipient(f"{kind} event {event.id} names no claim")
        token = claim_token(settings.secret_key, details["claimId"], _expiry(details))
        context.update(claim_url=front_end_link(base, "sign-in", claim=token),
                       expires_at=details.get("expiresAt"))
    elif kind in ("DOWNGRADESUBSCRIPTION", "CANCELSUBSCRIPTION"):
        # MSG-4: to the subscriber's e-mail the event recorded (STP-4), else the owner's (the event's CRID)
        recipient = details.get("subscriberEmail") or recipient
        context.update(subscription_id=event.subscription_id, reason=event.reason,
                       offer_name=details.get("offerName"), term=details.get("term"), rate=details.get("rate"),
                       effective_date=details.get("effectiveDate"),
                       account_url=front_end_link(base, "account", subscription=event.subscription_id))
    recipient = data.get("resendTo") or recipient  # MSG-1: staff resent it elsewhere (resendMessage)
    if not recipient:
        raise NoRecipient(f"{kind} event {event.id} has no recipient")
    return Composed(recipient=recipient, context=context)


def _expiry(details: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(details["expiresAt"])


async def _registration(db, tenant_id: int, crid: str) -> Registration | None:
    async with db.session() as session:
        return (await session.execute(select(Registration).where(
            Registration.tenant_id == tenant_id, Registration.crid == crid))).scalar_one_or_none()


async def _set_password_link(db, settings, base: str, tenant_id: int, crid: str) -> str | None:
    """USR-3 on MG2: the reset link of the registration's newest PWDREQ, the one its creation recorded (USR-7)."""
    async with db.session() as session:
        event = (await session.execute(select(Event).where(
            Event.tenant_id == tenant_id, Event.crid == crid, Event.type_code == "PWDREQ")
            .order_by(Event.id.desc()).limit(1))).scalar_one_or_none()
    if event is None:
        return None
    token = link_token(settings.secret_key, FORGOT_PASSWORD, event.id, _expiry(event.details or {}))
    return front_end_link(base, "reset-password", token=token)


async def _payment(db, payment_id: int) -> Payment | None:
    async with db.session() as session:
        return await session.get(Payment, payment_id)


async def _manager_email(services, subject: str | None) -> str | None:
    if not subject:
        return None
    try:
        user = await services.auth0.get_user(subject)
    except Exception:  # noqa: BLE001 - no e-mail to be found: the message fails as having no recipient
        return None
    return (user or {}).get("email")
