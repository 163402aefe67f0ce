"""Account-servicing rules as pure functions (EZ-3, EBL-1, EBL-2, EZ-5): each boundary, no I/O."""

from __future__ import annotations

import pytest

from domain.account import AccountRuleError, billing_email, check_auto_pay_cancel, check_ebill_sign_out, \
    check_ebill_sign_up
from domain.availability import SubscriptionFacts


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
