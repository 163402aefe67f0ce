"""Account-servicing rules as pure functions (EZ-3, EBL-1, EBL-2, EZ-5): each boundary, no I/O."""

from __future__ import annotations

import pytest

from domain.account import FIELD, NO_BILLING_EMAIL, NOT_ON_AUTO_PAY, NOT_ON_EBILL, AccountRuleError, billing_email, \
    check_auto_pay_cancel, check_ebill_sign_out, check_ebill_sign_up
from domain.availability import SubscriptionFacts, ebill_availability


def facts(**overrides) -> SubscriptionFacts:
    return SubscriptionFacts(**{"status": "ACTIVE", "kind": "REGULAR", "digital": False, "auto_pay": False,
                                "ebill": False, **overrides})


def refused(call) -> AccountRuleError:
    with pytest.raises(AccountRuleError) as caught:
        call()
    return caught.value


@pytest.mark.parametrize("status", ["ACTIVE", "PAUSED", "IN_GRACE"])
def test_ebl_1_sign_up_allowed_when_not_stopped_not_on_auto_pay_not_on_ebill(status):
    check_ebill_sign_up(facts(status=status))


@pytest.mark.parametrize("overrides,code,rule", [
    ({"status": "STOPPED"}, "STOPPED", "EZ-3"), ({"status": "PERMANENTLY_STOPPED"}, "STOPPED", "EZ-3"),
    ({"auto_pay": True}, "ON_AUTO_PAY", "EZ-3"), ({"ebill": True}, "ALREADY_ON_EBILL", "EBL-1"),
    ({"status": "STOPPED", "auto_pay": True}, "STOPPED", "EZ-3"),
])
def test_ez_3_ebl_1_sign_up_refusals_say_which(overrides, code, rule):
    error = refused(lambda: check_ebill_sign_up(facts(**overrides)))
    assert (error.code, error.rule, error.field) == (code, rule, ["input", "subscriptionId"])


def test_ebl_1_sign_out_needs_manage_allowed():
    check_ebill_sign_out(facts(ebill=True))
    assert refused(lambda: check_ebill_sign_out(facts())).code == "NOT_ON_EBILL"
    # an eBill flag on a stopped subscription cannot be managed (EZ-3: manageAllowed is false)
    assert refused(lambda: check_ebill_sign_out(facts(ebill=True, status="STOPPED"))).code == "NOT_ON_EBILL"


def test_ebl_2_bills_go_to_the_owner_then_the_subscriber():
    assert billing_email(" owner@example.com ", "sub@example.com") == "owner@example.com"
    assert billing_email(None, "sub@example.com") == "sub@example.com"
    assert billing_email("  ", "sub@example.com") == "sub@example.com"
    assert refused(lambda: billing_email(None, "")).code == "NO_BILLING_EMAIL"


def test_ez_5_only_auto_pay_may_be_cancelled():
    check_auto_pay_cancel(facts(auto_pay=True))
    error = refused(lambda: check_auto_pay_cancel(facts()))
    assert (error.code, error.rule) == ("NOT_ON_AUTO_PAY", "EZ-5")


def test_account_refusals_name_code_rule_field_and_message():
    """EBL-1, EBL-2, EZ-5: each refusal's code, rule id, input field and the message the customer reads."""
    cases = [
        (lambda: check_ebill_sign_out(facts()), "NOT_ON_EBILL", "EBL-1", "The subscription is not on eBill."),
        (lambda: billing_email(None, None), "NO_BILLING_EMAIL", "EBL-2",
         "The subscription has no owner or subscriber e-mail to send bills to."),
        (lambda: check_auto_pay_cancel(facts()), "NOT_ON_AUTO_PAY", "EZ-5", "The subscription is not on auto-pay."),
    ]
    for call, code, rule, message in cases:
        error = refused(call)
        assert (error.code, error.rule, error.field, str(error)) == (code, rule, ["input", "subscriptionId"],
                                                                     message)
    assert (NOT_ON_EBILL, NOT_ON_AUTO_PAY, NO_BILLING_EMAIL, FIELD) == (
        "NOT_ON_EBILL", "NOT_ON_AUTO_PAY", "NO_BILLING_EMAIL", ("input", "subscriptionId"))
    assert AccountRuleError("C", "m", "R", ["input", "x"]).field == ["input", "x"]


def test_ez_3_sign_up_refusal_messages_are_the_availability_reasons():
    for overrides in ({"status": "STOPPED"}, {"auto_pay": True}, {"ebill": True}):
        reason = ebill_availability(facts(**overrides)).reason
        error = refused(lambda: check_ebill_sign_up(facts(**overrides)))
        assert (error.code, str(error)) == (reason.code.value, reason.message)


def test_ebl_2_the_billing_email_is_trimmed_and_blank_is_none():
    assert billing_email(None, "  sub@example.com\t") == "sub@example.com"
    assert billing_email("owner@example.com", None) == "owner@example.com"
    assert refused(lambda: billing_email("  ", " ")).code == "NO_BILLING_EMAIL"
    assert refused(lambda: billing_email("", None)).rule == "EBL-2"
