"""PM-1, PM-2, RST-1, TIP-1, EZ-3, SUB-2, SUB-3, NOT-2: availability, search and expiry rules."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from domain.availability import (
    EMPTY_SEARCH_MESSAGE,
    PaymentFlow,
    PaymentMethodKind,
    ReasonCode,
    SubscriptionFacts,
    SubscriptionRuleError,
    allowed_payment_methods,
    ebill_availability,
    expiry_window,
    flow_supported,
    group_expiring,
    postal_code_matches_mask,
    restart_availability,
    tip_availability,
    tips_and_donations_accepted,
    validate_subscription_search,
)

CC, BANK = PaymentMethodKind.CREDIT_CARD, PaymentMethodKind.BANK
ACTIVE = SubscriptionFacts(status="ACTIVE", kind="REGULAR", digital=False, auto_pay=False, ebill=False)
STOPPED = replace(ACTIVE, status="STOPPED")
KINDS = ["NCS", "MATRIX", "CIRCPRO", "SAXO"]


def codes(availability) -> list[ReasonCode]:
    return [reason.code for reason in availability.reasons]


# -- PM-1, PM-2 ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(("flow", "expected"), [
    (PaymentFlow.ONE_TIME_PAYMENT, {"NCS": {CC, BANK}, "SAXO": {CC, BANK}, "CIRCPRO": {CC}, "MATRIX": {CC}}),
    (PaymentFlow.AUTO_PAY_SIGN_UP, {"NCS": {CC, BANK}, "SAXO": {CC, BANK}, "CIRCPRO": {CC, BANK}, "MATRIX": {CC}}),
    (PaymentFlow.AUTO_PAY_UPDATE, {"NCS": {CC, BANK}, "SAXO": {CC, BANK}, "CIRCPRO": {CC, BANK}, "MATRIX": {CC}}),
    (PaymentFlow.RESTART, {"NCS": {CC, BANK}, "SAXO": {CC, BANK}, "CIRCPRO": set(), "MATRIX": {CC}}),
    (PaymentFlow.TIP, {"NCS": {CC, BANK}, "SAXO": set(), "CIRCPRO": set(), "MATRIX": set()}),
])
def test_pm1_allowed_payment_methods_table(flow, expected):
    for kind, methods in expected.items():
        assert allowed_payment_methods(flow, kind) == methods
        assert flow_supported(flow, kind) == bool(methods)


def test_pm1_unknown_circulation_kind_accepts_nothing():
    assert allowed_payment_methods(PaymentFlow.ONE_TIME_PAYMENT, "UNKNOWN") == set()


def test_pm2_tips_and_donations_only_on_ncs_and_saxo():
    assert [tips_and_donations_accepted(kind) for kind in KINDS] == [True, False, False, True]


# -- RST-1 --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("status", ["STOPPED", "PERMANENTLY_STOPPED"])
def test_rst1_stopped_regular_subscription_can_restart(status):
    availability = restart_availability(replace(STOPPED, status=status), "NCS")

    assert availability.available and availability.reasons == ()


@pytest.mark.parametrize("status", ["ACTIVE", "PAUSED", "IN_GRACE"])
def test_rst1_not_stopped_cannot_restart(status):
    availability = restart_availability(replace(ACTIVE, status=status), "NCS")

    assert not availability.available
    assert codes(availability) == [ReasonCode.NOT_STOPPED]


def test_rst1_trial_cannot_restart():
    assert codes(restart_availability(replace(STOPPED, kind="TRIAL"), "NCS")) == [ReasonCode.TRIAL]


def test_rst1_restart_already_scheduled():
    assert codes(restart_availability(replace(STOPPED, restart_scheduled=True), "SAXO")) == [
        ReasonCode.RESTART_SCHEDULED]


def test_rst1_circpro_does_not_support_restarts():
    availability = restart_availability(STOPPED, "CIRCPRO")

    assert codes(availability) == [ReasonCode.NOT_SUPPORTED_BY_CIRCULATION_SYSTEM]
    assert "CIRCPRO" in availability.reasons[0].message


def test_rst1_lists_every_reason_that_applies():
    facts = replace(ACTIVE, kind="TRIAL", restart_scheduled=True)

    assert codes(restart_availability(facts, "CIRCPRO")) == [
        ReasonCode.NOT_SUPPORTED_BY_CIRCULATION_SYSTEM, ReasonCode.NOT_STOPPED, ReasonCode.TRIAL,
        ReasonCode.RESTART_SCHEDULED,
    ]


@pytest.mark.parametrize("kind", ["NCS", "MATRIX", "SAXO"])
def test_rst1_systems_that_restart(kind):
    assert restart_availability(STOPPED, kind).available


# -- TIP-1 --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("status", ["ACTIVE", "PAUSED", "IN_GRACE"])
def test_tip1_one_time_tip_allowed_for_active_paused_and_in_grace_print(status):
    assert tip_availability(replace(ACTIVE, status=status), "NCS").one_time.available


def test_tip1_one_time_tip_refused_for_digital():
    tips = tip_availability(replace(ACTIVE, digital=True), "NCS")

    assert codes(tips.one_time) == [ReasonCode.DIGITAL]


@pytest.mark.parametrize("status", ["STOPPED", "PERMANENTLY_STOPPED"])
def test_tip1_one_time_tip_refused_for_stopped(status):
    assert codes(tip_availability(replace(ACTIVE, status=status), "NCS").one_time) == [ReasonCode.STOPPED]


def test_tip1_recurring_tip_needs_auto_pay():
    assert codes(tip_availability(ACTIVE, "NCS").recurring) == [ReasonCode.NOT_ON_AUTO_PAY]
    assert tip_availability(replace(ACTIVE, auto_pay=True), "NCS").recurring.available


def test_tip1_recurring_tip_allowed_for_digital_on_auto_pay():
    tips = tip_availability(replace(ACTIVE, digital=True, auto_pay=True), "NCS")

    assert tips.recurring.available and not tips.one_time.available


@pytest.mark.parametrize("kind", ["MATRIX", "CIRCPRO", "SAXO"])
def test_tip1_pm1_tips_not_supported_outside_ncs(kind):
    tips = tip_availability(replace(ACTIVE, auto_pay=True), kind)

    assert codes(tips.one_time) == [ReasonCode.NOT_SUPPORTED_BY_CIRCULATION_SYSTEM]
    assert codes(tips.recurring) == [ReasonCode.NOT_SUPPORTED_BY_CIRCULATION_SYSTEM]


# -- EZ-3 ---------------------------------------------------------------------------------------------
def test_ez3_sign_up_allowed_when_not_stopped_not_on_auto_pay_not_on_ebill():
    ebill = ebill_availability(ACTIVE)

    assert (ebill.sign_up_allowed, ebill.manage_allowed, ebill.reason) == (True, False, None)


def test_ez3_on_ebill_may_manage_not_sign_up_again():
    ebill = ebill_availability(replace(ACTIVE, ebill=True))

    assert (ebill.sign_up_allowed, ebill.manage_allowed) == (False, True)
    assert ebill.reason.code == ReasonCode.ALREADY_ON_EBILL


@pytest.mark.parametrize("status", ["STOPPED", "PERMANENTLY_STOPPED"])
def test_ez3_stopped_gets_stopped_reason(status):
    ebill = ebill_availability(replace(ACTIVE, status=status, ebill=True))

    assert (ebill.sign_up_allowed, ebill.manage_allowed) == (False, False)
    assert ebill.reason.code == ReasonCode.STOPPED and "stopped" in ebill.reason.message


def test_ez3_auto_pay_gets_on_auto_pay_reason():
    ebill = ebill_availability(replace(ACTIVE, auto_pay=True))

    assert (ebill.sign_up_allowed, ebill.manage_allowed) == (False, False)
    assert ebill.reason.code == ReasonCode.ON_AUTO_PAY and "auto-pay" in ebill.reason.message


# -- SUB-3 --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("postal_code", "mask", "matches"), [
    ("10001", "99999", True),
    ("1000", "99999", False),
    ("100011", "99999", False),
    ("1000A", "99999", False),
    ("0301", "9999", True),
    ("K1A 0B1", "A9A 9A9", True),
    ("K1A-0B1", "A9A 9A9", False),
    ("k1a 0b1", "A9A 9A9", True),
    ("SW1A", "AA9*", True),
    ("SW1-", "AA9*", True),
    ("١٢٣٤٥", "99999", False),  # Arabic-Indic digits are not 0-9
    ("", "99999", False),
])
def test_sub3_postal_code_mask(postal_code, mask, matches):
    assert postal_code_matches_mask(postal_code, mask) is matches


# -- SUB-2 --------------------------------------------------------------------------------------------
def test_sub2_empty_search_is_refused_with_the_exact_message():
    with pytest.raises(SubscriptionRuleError) as raised:
        validate_subscription_search({}, "99999")

    assert str(raised.value) == EMPTY_SEARCH_MESSAGE == "Please enter a value in at least one of the input fields."
    assert raised.value.field == ["search"] and raised.value.rule == "SUB-2"


def test_sub2_blank_criteria_count_as_empty():
    with pytest.raises(SubscriptionRuleError, match="at least one"):
        validate_subscription_search({"firstName": "  ", "email": "", "phone": None}, "99999")


def test_sub2_criteria_are_trimmed_and_blanks_dropped():
    assert validate_subscription_search({"lastName": "  Brown ", "email": " "}, "99999") == {"lastName": "Brown"}


def test_sub2_each_criterion_alone_is_enough():
    for name, value in [("firstName", "Ada"), ("lastName", "Brown"), ("accountNumber", "0100001"),
                        ("email", "a@b.c"), ("phone", "+1 555"), ("postalCode", "10001"), ("companyName", "Acme")]:
        assert validate_subscription_search({name: value}, "99999") == {name: value}


def test_sub2_phone_without_digits_names_the_field():
    with pytest.raises(SubscriptionRuleError) as raised:
        validate_subscription_search({"phone": "call me"}, "99999")

    assert raised.value.field == ["search", "phone"]


def test_sub2_overlong_criterion_names_the_field():
    with pytest.raises(SubscriptionRuleError) as raised:
        validate_subscription_search({"email": "x" * 101}, "99999")

    assert raised.value.field == ["search", "email"]


def test_sub3_postal_code_not_matching_the_tenant_mask_names_the_field():
    with pytest.raises(SubscriptionRuleError) as raised:
        validate_subscription_search({"postalCode": "10001"}, "9999")

    assert raised.value.field == ["search", "postalCode"] and raised.value.rule == "SUB-3"
    assert "9999" in str(raised.value)


def test_sub3_missing_mask_falls_back_to_the_default():
    assert validate_subscription_search({"postalCode": "10001"}, None) == {"postalCode": "10001"}
    with pytest.raises(SubscriptionRuleError):
        validate_subscription_search({"postalCode": "1000"}, "")


# -- NOT-2 --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("days", [1, 30, 90])
def test_not2_expiry_window_is_today_to_days_ahead(days):
    start, end = expiry_window(date(2026, 12, 30), days)

    assert start == date(2026, 12, 30) and (end - start).days == days


@pytest.mark.parametrize("days", [0, -1, 91, 10_000])
def test_not2_days_ahead_out_of_bounds_names_the_field(days):
    with pytest.raises(SubscriptionRuleError) as raised:
        expiry_window(date(2026, 1, 1), days)

    assert raised.value.field == ["daysAhead"] and "between 1 and 90" in str(raised.value)


def test_not2_groups_one_per_account_and_end_date():
    items = [("A1", date(2026, 2, 1), "s1"), ("A2", date(2026, 1, 1), "s2"), ("A1", date(2026, 2, 1), "s3"),
             ("A1", date(2026, 1, 1), "s4")]

    groups = group_expiring(items, account_number=lambda i: i[0], end_date=lambda i: i[1])

    assert [(g.end_date, g.account_number, [i[2] for i in g.items]) for g in groups] == [
        (date(2026, 1, 1), "A1", ["s4"]),
        (date(2026, 1, 1), "A2", ["s2"]),
        (date(2026, 2, 1), "A1", ["s1", "s3"]),
    ]
