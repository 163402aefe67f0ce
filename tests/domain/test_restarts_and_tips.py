"""RST-1..RST-4 (restarts) and TIP-1, TIP-2, FEE-4 (tips)."""

from __future__ import annotations

import re

from datetime import date, timedelta
from decimal import Decimal

import pytest

from domain.availability import PaymentMethodKind
from domain.fees import ProcessingFeeSettings
from domain.payments import Account, BillingOptionFacts, ErrorCode, PaymentRuleError, PaymentSettings
from domain.restarts import Restart, restart_date, restart_quote
from domain.tips import Tip, check_tip_amount, tip_quote

D = Decimal
CC, BANK = PaymentMethodKind.CREDIT_CARD, PaymentMethodKind.BANK
TODAY = date(2026, 11, 24)
MONTH = BillingOptionFacts(term="1M", length=1, amount=D("10.79"), tax=D("0.80"))
FEES = ProcessingFeeSettings(enabled=True, percentage=D("3.5"), tax_enabled=True, tax_percentage=D("7"))
CREDIT_ON = PaymentSettings(fees=FEES, apply_credit_balance=True, activation_fee=D("5.00"))
CREDIT_OFF = PaymentSettings(fees=FEES, activation_fee=D("5.00"))


def stopped(**overrides) -> Account:
    values = dict(status="STOPPED", kind="REGULAR", digital=False, auto_pay=False, balance=D("0.00"), options=(MONTH,))
    return Account(**{**values, **overrides})


def restart(**overrides) -> Restart:
    values = dict(option_term="1M", option_amount=D("10.79"), tip=D("0.00"), donation=D("0.00"), payment_type=CC)
    return Restart(**{**values, **overrides})


INPUT_FIELDS = {"subscriptionId", "paymentType", "optionTerm", "optionAmount", "tip", "donation", "total", "amount",
                "recurring", "term", "length", "restartDate", "processingFee", "processingFeeTax"}  # the API's names


def refused(call) -> PaymentRuleError:
    """The rule error `call` raises; every one names its rule (a domain.md id), the input field at fault and
    why, since the API answers them as userErrors { code field message }."""
    with pytest.raises(PaymentRuleError) as caught:
        call()
    error = caught.value
    assert re.fullmatch(r"[A-Z]+-\d+", error.rule), error.rule
    assert error.field and error.field[-1] in INPUT_FIELDS, error.field
    assert str(error) and str(error) != "None"
    return error


# -- RST-1 ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("facts,kind", [
    ({"status": "ACTIVE"}, "NCS"),
    ({"kind": "TRIAL"}, "NCS"),
    ({"restart_scheduled": True}, "NCS"),
    ({}, "CIRCPRO"),
])
def test_rst1_restart_not_available(facts, kind):
    error = refused(lambda: restart_quote(stopped(**facts), restart(), kind, CREDIT_OFF, TODAY))

    assert (error.code, error.rule) == (ErrorCode.RESTART_NOT_AVAILABLE, "RST-1")


def test_rst1_a_permanently_stopped_subscription_may_restart():
    quote, _ = restart_quote(stopped(status="PERMANENTLY_STOPPED"), restart(), "NCS", CREDIT_OFF, TODAY)

    # RST-3: 10.79, fee round(10.79 × 3.5 %) = 0.38, fee tax round(0.38 × 7 %) = 0.03; no activation fee
    assert (quote.option_amount, quote.processing_fee, quote.fee_tax, quote.activation_fee, quote.total) == (
        D("10.79"), D("0.38"), D("0.03"), D("0.00"), D("11.20"))


# -- RST-2 ----------------------------------------------------------------------------------------------
def test_rst2_the_date_defaults_to_today():
    _, chosen = restart_quote(stopped(), restart(), "NCS", CREDIT_OFF, TODAY)

    assert chosen == TODAY


@pytest.mark.parametrize("kind", ["MATRIX", "NCS", "SAXO"])
def test_rst2_a_date_before_today_is_refused_everywhere(kind):
    error = refused(lambda: restart_date(TODAY - timedelta(days=1), TODAY, kind, ["input", "restartDate"]))

    assert (error.code, error.field, error.rule) == (ErrorCode.INVALID_RESTART_DATE, ["input", "restartDate"], "RST-2")


@pytest.mark.parametrize("kind", ["MATRIX", "CIRCPRO"])
def test_rst2_a_future_date_is_accepted_for_matrix_and_circpro(kind):
    assert restart_date(TODAY + timedelta(days=1), TODAY, kind, ["d"]) == TODAY + timedelta(days=1)


@pytest.mark.parametrize("kind", ["NCS", "SAXO"])
def test_rst2_a_future_date_is_refused_for_ncs_and_saxo(kind):
    error = refused(lambda: restart_date(TODAY + timedelta(days=1), TODAY, kind, ["input", "restartDate"]))

    assert (error.code, error.field, error.rule) == (ErrorCode.INVALID_RESTART_DATE, ["input", "restartDate"], "RST-2")


# -- RST-3, RST-4 -----------------------------------------------------------------------------------------
def test_rst3_no_activation_fee_and_fee_on_what_is_paid():
    quote, _ = restart_quote(stopped(), restart(), "NCS", CREDIT_OFF, TODAY)

    assert quote.activation_fee == D("0.00")
    assert (quote.processing_fee, quote.fee_tax, quote.total) == (D("0.38"), D("0.03"), D("11.20"))


def test_rst3_a_debt_is_added_to_the_restart_whatever_the_setting():
    for settings in (CREDIT_ON, CREDIT_OFF):
        quote, _ = restart_quote(stopped(balance=D("-4.21")), restart(payment_type=BANK), "NCS", settings, TODAY)
        assert (quote.balance_applied, quote.total) == (D("-4.21"), D("15.00"))


def test_rst3_a_credit_is_used_only_with_the_setting():
    with_credit, _ = restart_quote(stopped(balance=D("4.00")), restart(payment_type=BANK), "NCS", CREDIT_ON, TODAY)
    without, _ = restart_quote(stopped(balance=D("4.00")), restart(payment_type=BANK), "NCS", CREDIT_OFF, TODAY)

    assert (with_credit.balance_applied, with_credit.total) == (D("4.00"), D("6.79"))
    assert (without.balance_applied, without.total) == (D("0.00"), D("10.79"))


def test_rst3_the_fee_is_on_the_amount_left_after_the_credit():
    quote, _ = restart_quote(stopped(balance=D("4.00")), restart(), "NCS", CREDIT_ON, TODAY)

    # 6.79 × 3.5 % = 0.23765 → 0.24; 0.24 × 7 % = 0.0168 → 0.02
    assert (quote.fee_base, quote.processing_fee, quote.fee_tax, quote.total) == (
        D("6.79"), D("0.24"), D("0.02"), D("7.05"))


def test_rst3_a_permanently_stopped_subscription_has_no_usable_credit():
    quote, _ = restart_quote(stopped(status="PERMANENTLY_STOPPED", balance=D("50.00")), restart(payment_type=BANK),
                             "NCS", CREDIT_ON, TODAY)

    assert (quote.balance_applied, quote.total) == (D("0.00"), D("10.79"))


def test_rst4_a_credit_that_exactly_covers_the_restart_charges_nothing_and_needs_no_payment_method():
    account = stopped(balance=D("12.79"))

    quote, _ = restart_quote(account, restart(tip=D("2.00"), payment_type=None), "NCS", CREDIT_ON, TODAY)

    assert (quote.balance_applied, quote.total, quote.charges) == (D("12.79"), D("0.00"), False)
    assert (quote.processing_fee, quote.payment_type) == (D("0.00"), None)


def test_rst4_a_larger_credit_is_used_only_up_to_the_cost():
    quote, _ = restart_quote(stopped(balance=D("50.00")), restart(payment_type=CC), "NCS", CREDIT_ON, TODAY)

    # the payment method given is not used: nothing is charged
    assert (quote.balance_applied, quote.total, quote.payment_type) == (D("10.79"), D("0.00"), None)


def test_rst4_one_cent_short_of_the_credit_needs_a_payment_method():
    error = refused(lambda: restart_quote(stopped(balance=D("10.78")), restart(payment_type=None), "NCS", CREDIT_ON,
                                          TODAY))

    assert (error.code, error.field) == (ErrorCode.PAYMENT_METHOD_REQUIRED, ["input", "paymentType"])


def test_pm1_matrix_restart_by_bank_is_refused():
    error = refused(lambda: restart_quote(stopped(), restart(payment_type=BANK), "MATRIX", CREDIT_OFF, TODAY))

    assert error.code is ErrorCode.PAYMENT_METHOD_NOT_ALLOWED


def test_rst3_rst4_a_credit_covering_the_option_but_not_the_donation_leaves_the_donation_to_pay():
    quote, _ = restart_quote(stopped(balance=D("10.79")), restart(donation=D("5.00"), payment_type=BANK), "NCS",
                             CREDIT_ON, TODAY)

    # 10.79 + 5.00 − 10.79 = 5.00, by bank: no processing fee
    assert (quote.donation, quote.balance_applied, quote.total, quote.charges) == (D("5.00"), D("10.79"), D("5.00"),
                                                                                   True)
    assert quote.payment_type is BANK  # RST-4 does not apply: something is due


def test_rst4_a_credit_short_of_the_donation_needs_a_payment_method():
    error = refused(lambda: restart_quote(stopped(balance=D("12.00")), restart(donation=D("5.00"), payment_type=None),
                                          "NCS", CREDIT_ON, TODAY))

    assert (error.code, error.field, error.rule) == (ErrorCode.PAYMENT_METHOD_REQUIRED, ["input", "paymentType"],
                                                     "RST-3")
    assert "3.79" in str(error)


@pytest.mark.parametrize("extra", [{"tip": D("1.00")}, {"donation": D("1.00")}], ids=["tip", "donation"])
def test_pm2_a_matrix_restart_takes_no_tip_or_donation(extra):
    error = refused(lambda: restart_quote(stopped(), restart(**extra), "MATRIX", CREDIT_OFF, TODAY))

    assert (error.code, error.field, error.rule) == (ErrorCode.TIP_NOT_SUPPORTED, ["input", *extra], "PM-2")


def test_pm2_a_saxo_restart_takes_a_tip_and_a_donation():
    quote, _ = restart_quote(stopped(), restart(tip=D("1.00"), donation=D("2.00"), payment_type=BANK), "SAXO",
                             CREDIT_OFF, TODAY)

    assert (quote.tip, quote.donation, quote.total) == (D("1.00"), D("2.00"), D("13.79"))


# -- TIP-1, TIP-2, FEE-4 ----------------------------------------------------------------------------------
def active(**overrides) -> Account:
    values = dict(status="ACTIVE", kind="REGULAR", digital=False, auto_pay=False, balance=D("0.00"))
    return Account(**{**values, **overrides})


def test_tip2_the_maximum_is_allowed_and_a_cent_more_is_refused():
    check_tip_amount(D("100.00"), D("100.00"), ["input", "amount"])

    error = refused(lambda: check_tip_amount(D("100.01"), D("100.00"), ["input", "amount"]))
    assert (error.code, error.rule) == (ErrorCode.TIP_TOO_LARGE, "TIP-2")


def test_tip2_a_tip_is_greater_than_zero():
    error = refused(lambda: check_tip_amount(D("0.00"), D("100.00"), ["input", "amount"]))

    assert error.code is ErrorCode.INVALID_AMOUNT


def test_tip2_the_tenants_maximum_applies():
    settings = PaymentSettings(maximum_tip=D("50.00"))

    error = refused(lambda: tip_quote(active(), Tip(D("50.01"), False, CC), "NCS", settings))

    assert error.code is ErrorCode.TIP_TOO_LARGE


def test_tip1_a_recurring_tip_without_auto_pay_is_refused():
    error = refused(lambda: tip_quote(active(auto_pay=False), Tip(D("2.00"), True, CC), "NCS", CREDIT_OFF))

    assert (error.code, error.rule) == (ErrorCode.TIP_NOT_ALLOWED, "TIP-1")


@pytest.mark.parametrize("facts", [{"digital": True}, {"status": "STOPPED"}])
def test_tip1_no_one_time_tip_for_digital_or_stopped_subscriptions(facts):
    error = refused(lambda: tip_quote(active(**facts), Tip(D("2.00"), False, CC), "NCS", CREDIT_OFF))

    assert error.code is ErrorCode.TIP_NOT_ALLOWED


@pytest.mark.parametrize("status", ["ACTIVE", "PAUSED", "IN_GRACE"])
def test_tip1_one_time_tips_for_active_paused_and_in_grace(status):
    quote = tip_quote(active(status=status), Tip(D("2.00"), False, BANK), "NCS", CREDIT_OFF)

    assert quote.total == D("2.00")


def test_fee4_a_one_time_credit_card_tip_carries_the_fee():
    quote = tip_quote(active(), Tip(D("10.10"), False, CC), "NCS", CREDIT_OFF)

    # 10.10 × 3.5 % = 0.3535 → 0.35; 0.35 × 7 % = 0.0245 → 0.02
    assert (quote.tip, quote.processing_fee, quote.fee_tax, quote.total) == (D("10.10"), D("0.35"), D("0.02"),
                                                                              D("10.47"))


def test_fee4_a_recurring_tip_has_no_fee_and_charges_nothing_now():
    quote = tip_quote(active(auto_pay=True), Tip(D("10.10"), True, CC), "NCS", CREDIT_OFF)

    assert (quote.total, quote.processing_fee, quote.recurring_tip) == (D("0.00"), D("0.00"), D("10.10"))


@pytest.mark.parametrize("kind", ["SAXO", "MATRIX", "CIRCPRO"])
def test_pm1_tips_exist_on_ncs_only(kind):
    error = refused(lambda: tip_quote(active(), Tip(D("2.00"), False, CC), kind, CREDIT_OFF))

    assert error.code is ErrorCode.FLOW_NOT_SUPPORTED


# -- found by `make mutate` (docs/testing.md) ---------------------------------------------------------------
def test_tip2_a_tip_under_one_is_fine_and_zero_is_refused_with_its_rule():
    assert check_tip_amount(D("0.50"), D("100.00"), ["input", "amount"]) is None

    error = refused(lambda: check_tip_amount(D("0.00"), D("100.00"), ["input", "amount"]))

    assert (error.code, error.field, error.rule, str(error)) == (
        ErrorCode.INVALID_AMOUNT, ["input", "amount"], "TIP-2", "A tip must be greater than zero")


def test_tip2_a_tip_above_the_maximum_names_the_maximum():
    error = refused(lambda: check_tip_amount(D("100.01"), D("100.00"), ["input", "amount"]))

    assert (error.code, error.field, error.rule, str(error)) == (
        ErrorCode.TIP_TOO_LARGE, ["input", "amount"], "TIP-2", "A tip may be at most 100.00")


def test_rst2_the_requested_later_date_is_the_restart_date_on_matrix():
    later = TODAY + timedelta(days=10)

    _, chosen = restart_quote(stopped(), restart(restart_date=later), "MATRIX", CREDIT_OFF, TODAY)

    assert chosen == later


def test_rst2_a_later_date_is_refused_on_ncs_with_its_field():
    error = refused(lambda: restart_quote(stopped(), restart(restart_date=TODAY + timedelta(days=1)), "NCS",
                                          CREDIT_OFF, TODAY))

    assert (error.code, error.field) == (ErrorCode.INVALID_RESTART_DATE, ["input", "restartDate"])


def test_rst1_an_unavailable_restart_names_the_subscription_field():
    error = refused(lambda: restart_quote(stopped(status="ACTIVE"), restart(), "NCS", CREDIT_OFF, TODAY))

    assert error.field == ["input", "subscriptionId"]


def test_rst3_a_credit_under_one_is_used_with_the_setting_and_ignored_without():
    with_credit, _ = restart_quote(stopped(balance=D("0.50")), restart(payment_type=BANK), "NCS", CREDIT_ON, TODAY)
    without, _ = restart_quote(stopped(balance=D("0.50")), restart(payment_type=BANK), "NCS", CREDIT_OFF, TODAY)

    assert (with_credit.balance_applied, with_credit.total) == (D("0.50"), D("10.29"))
    assert (without.balance_applied, without.total) == (D("0.00"), D("10.79"))


def test_fee4_a_recurring_tip_keeps_its_payment_type_and_charges_nothing_now():
    quote = tip_quote(stopped(status="ACTIVE", auto_pay=True), Tip(amount=D("3.00"), recurring=True, payment_type=BANK),
                      "NCS", CREDIT_OFF)

    assert (quote.payment_type, quote.recurring_tip, quote.total) == (BANK, D("3.00"), D("0.00"))


@pytest.mark.parametrize("recurring, facts, field", [
    (True, {"status": "ACTIVE", "auto_pay": False}, "recurring"),  # TIP-1: a recurring tip needs auto-pay
    (False, {"status": "STOPPED"}, "subscriptionId"),  # TIP-1: no one-time tip for a stopped subscription
])
def test_tip1_a_refused_tip_names_the_field_at_fault(recurring, facts, field):
    error = refused(lambda: tip_quote(stopped(**facts), Tip(amount=D("1.00"), recurring=recurring, payment_type=CC),
                                      "NCS", CREDIT_OFF))

    assert (error.code, error.field, error.rule) == (ErrorCode.TIP_NOT_ALLOWED, ["input", field], "TIP-1")


def test_pay3_a_restart_with_an_unknown_term_names_the_term_field():
    error = refused(lambda: restart_quote(stopped(), restart(option_term="6M"), "NCS", CREDIT_OFF, TODAY))

    assert (error.code, error.field) == (ErrorCode.INVALID_OPTION, ["input", "optionTerm"])


# -- TIP-3: TIP-2's bound on every tip and donation in every flow ---------------------------------------------
def _restart_with(extra, settings):
    return restart_quote(stopped(), restart(**extra), "NCS", settings, TODAY)


@pytest.mark.parametrize("name", ["tip", "donation"])
def test_tip3_a_restarts_tip_or_donation_is_at_most_the_maximum(name):
    settings = PaymentSettings(maximum_tip=D("25.00"))

    quote, _ = _restart_with({name: D("25.00")}, settings)
    error = refused(lambda: _restart_with({name: D("25.01")}, settings))

    assert getattr(quote, name) == D("25.00")
    assert (error.code, error.field, error.rule, str(error)) == (
        ErrorCode.TIP_TOO_LARGE, ["input", name], "TIP-3", f"A {name} may be at most 25.00")


# -- what each refusal says: the userError's message, shown to the customer as it is -------------------------
@pytest.mark.parametrize("call,code,field,rule,message", [
    (lambda: restart_quote(stopped(status="ACTIVE", kind="TRIAL", restart_scheduled=True), restart(), "NCS",
                           CREDIT_OFF, TODAY),
     ErrorCode.RESTART_NOT_AVAILABLE, ["input", "subscriptionId"], "RST-1",
     "Only a stopped subscription can be restarted. A trial subscription cannot be restarted. A restart is already "
     "scheduled."),
    (lambda: restart_quote(stopped(), restart(restart_date=TODAY - timedelta(days=1)), "MATRIX", CREDIT_OFF, TODAY),
     ErrorCode.INVALID_RESTART_DATE, ["input", "restartDate"], "RST-2",
     "The restart date may not be before today (2026-11-24)"),
    (lambda: restart_quote(stopped(), restart(restart_date=TODAY + timedelta(days=1)), "NCS", CREDIT_OFF, TODAY),
     ErrorCode.INVALID_RESTART_DATE, ["input", "restartDate"], "RST-2",
     "The NCS circulation system restarts today only (2026-11-24)"),
    (lambda: restart_quote(stopped(), restart(payment_type=None), "NCS", CREDIT_OFF, TODAY),
     ErrorCode.PAYMENT_METHOD_REQUIRED, ["input", "paymentType"], "RST-3", "10.79 is due: a payment method is needed"),
    (lambda: check_tip_amount(D("0.00"), D("100.00"), ["input", "amount"]),
     ErrorCode.INVALID_AMOUNT, ["input", "amount"], "TIP-2", "A tip must be greater than zero"),
    (lambda: check_tip_amount(D("100.01"), D("100.00"), ["input", "amount"]),
     ErrorCode.TIP_TOO_LARGE, ["input", "amount"], "TIP-2", "A tip may be at most 100.00"),
    (lambda: tip_quote(active(auto_pay=False), Tip(D("2.00"), True, CC), "NCS", CREDIT_OFF),
     ErrorCode.TIP_NOT_ALLOWED, ["input", "recurring"], "TIP-1",
     "A recurring tip needs the subscription to be on auto-pay."),
    (lambda: tip_quote(active(digital=True), Tip(D("2.00"), False, CC), "NCS", CREDIT_OFF),
     ErrorCode.TIP_NOT_ALLOWED, ["input", "subscriptionId"], "TIP-1",
     "A one-time tip is not available for a digital subscription."),
], ids=["rst1", "rst2-past", "rst2-future", "rst3", "tip2-zero", "tip2-max", "tip1-recurring", "tip1-digital"])
def test_each_refusal_names_its_code_field_rule_and_says_why(call, code, field, rule, message):
    error = refused(call)

    assert (error.code, error.field, error.rule, str(error)) == (code, field, rule, message)


def test_rst1_restart_availability_does_not_depend_on_ebill_or_auto_pay():
    for facts in ({"auto_pay": True}, {"digital": True}):
        quote, _ = restart_quote(stopped(**facts), restart(), "NCS", CREDIT_OFF, TODAY)
        assert quote.option_amount == D("10.79")


def test_tip1_every_reason_is_said_one_after_the_other():
    error = refused(lambda: tip_quote(active(status="STOPPED", digital=True), Tip(D("2.00"), False, CC), "NCS",
                                      CREDIT_OFF))

    assert str(error) == ("A one-time tip is not available for a digital subscription. A stopped subscription cannot "
                          "receive a tip.")
