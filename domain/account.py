"""Account servicing rules: eBill sign-up and sign-out (EZ-3, EBL-1, EBL-2) and auto-pay cancel (EZ-5). Pure
functions of a subscription's facts, no I/O; each refusal raises `AccountRuleError` with a stable code, the rule id
and the input field at fault."""

from __future__ import annotations

from typing import Optional, Sequence

from domain.availability import ReasonCode, SubscriptionFacts, ebill_availability

NOT_ON_EBILL = "NOT_ON_EBILL"
NOT_ON_AUTO_PAY = "NOT_ON_AUTO_PAY"
NO_BILLING_EMAIL = "NO_BILLING_EMAIL"
FIELD = ("input", "subscriptionId")


class AccountRuleError(ValueError):
    def __init__(self, code: str, message: str, rule: str, field: Sequence[str] = FIELD) -> None:
        super().__init__(message)
        self.code = code
        self.rule = rule
        self.field = list(field)


def check_ebill_sign_up(facts: SubscriptionFacts) -> None:
    """EBL-1 with EZ-3: sign-up needs `signUpAllowed`. A stopped or auto-pay subscription is refused saying which
    (STOPPED, ON_AUTO_PAY); one on eBill already is refused ALREADY_ON_EBILL, and nothing is recorded."""
    availability = ebill_availability(facts)
    if not availability.sign_up_allowed:
        reason = availability.reason
        assert reason is not None  # sign-up not allowed always says why
        raise AccountRuleError(reason.code.value, reason.message, "EBL-1" if reason.code is
                               ReasonCode.ALREADY_ON_EBILL else "EZ-3")


def check_ebill_sign_out(facts: SubscriptionFacts) -> None:
    """EBL-1: sign-out needs `manageAllowed`, i.e. the subscription is on eBill (EZ-3); else NOT_ON_EBILL."""
    if not ebill_availability(facts).manage_allowed:
        raise AccountRuleError(NOT_ON_EBILL, "The subscription is not on eBill.", "EBL-1")


def billing_email(owner_email: Optional[str], subscriber_email: Optional[str]) -> str:
    """EBL-2 (decision): bills go to the owner's e-mail (the owner's registration); a subscription without an
    owner bills the subscriber's e-mail the circulation system holds; with neither, sign-up is refused."""
    for email in (owner_email, subscriber_email):
        if email and email.strip():
            return email.strip()
    raise AccountRuleError(NO_BILLING_EMAIL, "The subscription has no owner or subscriber e-mail to send bills to.",
                           "EBL-2")


def check_auto_pay_cancel(facts: SubscriptionFacts) -> None:
    """EZ-5: only a subscription on auto-pay may cancel it (every circulation system)."""
    if not facts.auto_pay:
        raise AccountRuleError(NOT_ON_AUTO_PAY, "The subscription is not on auto-pay.", "EZ-5")
