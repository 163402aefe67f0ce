"""Messages (MSG): which events send one, the links they carry, and how a delivery is retried. Pure rules, no
I/O; the outbox, the rendering and the SMTP delivery live in datasources/outbox.py and messages/.

Decisions where the documents are silent:
- An event sends a message only when its type is one of `MESSAGE_EVENTS` *and* the tenant has a template for
  that type (MSG-1); the message is written to the outbox in the event's own transaction (NOT-1) and sent
  after commit, so a failed delivery never undoes the change.
- A delivery refused for now (SMTP 4xx) or cut off (connection lost, timeout) is retried with exponential
  backoff (`retry_delay`), at most `max_attempts` times; a permanent refusal (5xx) is not retried.
- Every attempt of one message carries the same Message-ID (`message_id`), derived from its outbox id, and the
  same rendered bytes: a delivery that may have happened is never sent again as a different message.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

# MSG-1/MSG-2/MSG-3/MSG-5, NOT-2, INV, BUY-10: the event types that send a message, and what it is
MESSAGE_EVENTS: dict[str, str] = {
    "PWDREQ": "forgot-password link (USR-7, MSG-2)",
    "VERIFYCODE": "verification link and code (MSG-2)",
    "CREATELOGIN": "welcome, with the change-password link of a generated password (USR-3, MSG-2)",
    "STARTSTD": "purchase confirmation and receipt with fee lines, change-password link when generated (BUY-4, MSG-3)",
    "PAYMENT": "credit-card receipt with fee lines (MSG-3)",
    "RESTARTSUBSCRIPTION": "restart receipt with fee lines (MSG-3)",
    "EXPIRENOTICE": "grouped expiry notice of one account (NOT-2, MSG-5)",
    "MGRMFAENABLE": "second factor enabled notice to the manager (MSG-5)",
    "MGRMFADISABLE": "second factor disabled notice to the manager (MSG-5)",
    "INVITEGUEST": "invitation to join a subscription (INV-4)",
    "CLAIMPURCHASE": "sign in and claim a purchase made with this e-mail (BUY-10)",
    "DOWNGRADESUBSCRIPTION": "StopSaver downgrade notice to the subscriber (STP-4, MSG-4)",
    "CANCELSUBSCRIPTION": "cancel notice to the subscriber, from self-service or staff alike (STP-4, MSG-4)",
}

# messages whose link is a secret for the recipient alone (a password, a verification, an invitation, a claim):
# staff resend them only to their own recipient (MSG-1, decision)
SECRET_LINK_MESSAGES = frozenset({"PWDREQ", "VERIFYCODE", "CREATELOGIN", "INVITEGUEST", "CLAIMPURCHASE"})

PENDING = "PENDING"
SENT = "SENT"
FAILED = "FAILED"

FRONT_END_SETTING = "Site.FrontEndUrl"


def sends_message(event_type: str) -> bool:
    return event_type in MESSAGE_EVENTS


def may_resend_elsewhere(event_type: str, data: dict) -> bool:
    """MSG-1 (decision): staff may resend a message to another address unless it carries a link that is a secret
    of its recipient (SECRET_LINK_MESSAGES, or a purchase confirmation with a password link)."""
    return event_type not in SECRET_LINK_MESSAGES and not data.get("changePasswordUrl") and \
        not data.get("setPasswordLink")


def retry_delay(attempt: int, base_seconds: float, cap_seconds: float = 3600.0) -> timedelta:
    """The wait before attempt `attempt + 1` after `attempt` failed ones: base · 2^(attempt − 1), capped."""
    attempt = max(1, attempt)
    return timedelta(seconds=min(cap_seconds, base_seconds * (2 ** min(attempt - 1, 30))))


def is_permanent_refusal(smtp_code: int | None) -> bool:
    """An SMTP 5xx reply refuses for good; 4xx (and no reply at all) may succeed later."""
    return smtp_code is not None and 500 <= smtp_code < 600


def message_id(outbox_id: int, tenant_code: str, domain: str) -> str:
    """The Message-ID of an outbox message: the same for every attempt (idempotent per message)."""
    return f"<outbox-{outbox_id}.{tenant_code.lower()}@{domain}>"


def front_end_link(base_url: str, path: str, **params: str) -> str:
    """A link into the tenant's front end (`Site.FrontEndUrl`), never into papergraph's own host."""
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return f"{base_url.rstrip('/')}/{path.lstrip('/')}" + (f"?{query}" if query else "")


def receipt_lines(*, option_amount, tip, donation, activation_fee, processing_fee, fee_tax,
                  balance_applied=None) -> list[dict[str, str]]:
    """MSG-3: the lines of a receipt: the option, then each extra that was charged (tip, donation, activation
    fee, and the credit-card processing fee and its tax when charged). Amounts are the ledger's, already
    rounded (MNY-2); zero extras are left out."""
    from decimal import Decimal

    lines = [{"label": "Subscription", "amount": f"{Decimal(option_amount):.2f}"}]
    for label, amount in (("Tip", tip), ("Donation", donation), ("Activation fee", activation_fee),
                          ("Credit-card processing fee", processing_fee), ("Processing fee tax", fee_tax)):
        if amount is not None and Decimal(amount) != 0:
            lines.append({"label": label, "amount": f"{Decimal(amount):.2f}"})
    if balance_applied is not None and Decimal(balance_applied) != 0:
        lines.append({"label": "Account balance", "amount": f"{-Decimal(balance_applied):.2f}"})
    return lines
