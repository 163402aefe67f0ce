"""RST-1, TIP-1 (what each availability says), SUB-2 and SUB-3 (subscription search) as plain functions: each
reason's code and message and each refusal's field, rule and message, for `make mutate`."""

from __future__ import annotations

import pytest

from domain.availability import (
    Reason,
    ReasonCode,
    SubscriptionFacts,
    SubscriptionRuleError,
    postal_code_matches_mask,
    restart_availability,
    tip_availability,
    validate_subscription_search,
)


def facts(**overrides) -> SubscriptionFacts:
    values = dict(status="ACTIVE", kind="REGULAR", digital=False, auto_pay=False, ebill=False)
    return SubscriptionFacts(**{**values, **overrides})


NOT_STOPPED = Reason(ReasonCode.NOT_STOPPED, "Only a stopped subscription can be restarted.")
STOPPED_TIP = Reason(ReasonCode.STOPPED, "A stopped subscription cannot receive a tip.")


def test_rst1_every_reason_a_restart_is_not_available():
    answer = restart_availability(facts(kind="TRIAL", restart_scheduled=True), "CIRCPRO")

    assert answer.available is False
    assert answer.reasons == (
        Reason(ReasonCode.NOT_SUPPORTED_BY_CIRCULATION_SYSTEM, "The CIRCPRO circulation system does not support "
                                                               "restarts."),
        NOT_STOPPED,
        Reason(ReasonCode.TRIAL, "A trial subscription cannot be restarted."),
        Reason(ReasonCode.RESTART_SCHEDULED, "A restart is already scheduled."))
    assert restart_availability(facts(status="STOPPED"), "NCS").available is True


def test_tip1_every_reason_a_tip_is_not_available():
    answer = tip_availability(facts(status="STOPPED", digital=True), "SAXO")
    unsupported = Reason(ReasonCode.NOT_SUPPORTED_BY_CIRCULATION_SYSTEM,
                         "The SAXO circulation system does not support tips.")

    assert answer.one_time.reasons == (
        unsupported, Reason(ReasonCode.DIGITAL, "A one-time tip is not available for a digital subscription."),
        STOPPED_TIP)
    assert answer.recurring.reasons == (
        unsupported, STOPPED_TIP,
        Reason(ReasonCode.NOT_ON_AUTO_PAY, "A recurring tip needs the subscription to be on auto-pay."))
    ncs = tip_availability(facts(auto_pay=True), "NCS")
    assert (ncs.one_time.available, ncs.recurring.available) == (True, True)


# -- SUB-2, SUB-3 -----------------------------------------------------------------------------------------------------
def refusal(criteria, mask=None) -> tuple[str, list[str], str]:
    with pytest.raises(SubscriptionRuleError) as caught:
        validate_subscription_search(criteria, mask)
    return str(caught.value), caught.value.field, caught.value.rule


def test_sub2_criteria_are_trimmed_blanks_dropped():
    assert validate_subscription_search({"lastName": "  Lee ", "email": " ", "phone": None, "companyName": "x" * 100},
                                        None) == {"lastName": "Lee", "companyName": "x" * 100}


def test_sub2_refusals():
    assert refusal({"zzz": "1", "aaa": "2"}) == ("`aaa` is not a search criterion", ["search", "aaa"], "SUB-2")
    assert refusal({"lastName": "x" * 101}) == (
        "`lastName` must be at most 100 characters", ["search", "lastName"], "SUB-2")
    assert refusal({"lastName": " "}) == ("Please enter a value in at least one of the input fields.", ["search"],
                                          "SUB-2")
    assert refusal({"phone": "(--)"}) == ("`phone` must contain at least one digit", ["search", "phone"], "SUB-2")
    assert refusal({"phone": "XX"}) == ("`phone` must contain at least one digit", ["search", "phone"], "SUB-2")
    assert validate_subscription_search({"phone": "(555)"}, None) == {"phone": "(555)"}


def test_sub3_a_postal_code_matches_the_tenants_mask():
    assert validate_subscription_search({"postalCode": "12345"}, " ") == {"postalCode": "12345"}  # the default
    assert refusal({"postalCode": "1234X"}, None) == (
        "`postalCode` must match the postal code format 99999 (9 a digit, A a letter, * any character)",
        ["search", "postalCode"], "SUB-3")
    assert validate_subscription_search({"postalCode": "K1A 0B1"}, "A9A 9A9") == {"postalCode": "K1A 0B1"}


@pytest.mark.parametrize("code,mask,matches", [
    ("12345", "99999", True), ("1234X", "99999", False), ("1234", "99999", False),
    ("K1A 0B1", "A9A 9A9", True), ("K1A-0B1", "A9A 9A9", False), ("é1A 0B1", "A9A 9A9", False),
    ("11A 0B1", "A9A 9A9", False), ("X", "*", True), ("X", "9", False),
])
def test_sub3_mask_slots(code, mask, matches):
    assert postal_code_matches_mask(code, mask) is matches
