"""PAY-1..3, FEE-1..4, PM-1..3, PM-5, EZ-1, EZ-2, MNY-2: one-time payments, auto-pay and the shared rules."""

from __future__ import annotations

import re

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from domain.availability import PaymentFlow, PaymentMethodKind, allowed_payment_methods
from domain.fees import ProcessingFeeSettings
from domain.payments import (
    Account,
    AutoPayPlan,
    BillingOptionFacts,
    ErrorCode,
    OneTimePayment,
    PaymentRuleError,
    PaymentSettings,
    auto_pay_quote,
    charge_quote,
    check_card_brand,
    check_debt_payment_type,
    check_client_fees,
    check_client_total,
    check_method_change_window,
    check_payment_method_accepted,
    check_payment_type,
    check_tip_and_donation,
    method_change_window_start,
    money_input,
    one_time_payment_quote,
    payment_window_start,
    statement_descriptor,
)
from domain.tenants import TenantSettings

D = Decimal
CC, BANK = PaymentMethodKind.CREDIT_CARD, PaymentMethodKind.BANK
MONTH = BillingOptionFacts(term="1M", length=1, amount=D("10.79"), tax=D("0.80"))
YEAR = BillingOptionFacts(term="12M", length=12, amount=D("106.92"), tax=D("7.92"))
FEES = ProcessingFeeSettings(enabled=True, percentage=D("3.5"), tax_enabled=True, tax_percentage=D("7"))
NCS_SETTINGS = PaymentSettings(fees=FEES, activation_fee=D("5.00"))
NO_FEES = PaymentSettings()


def account(**overrides) -> Account:
    values = dict(status="ACTIVE", kind="REGULAR", digital=False, auto_pay=False, balance=D("0.00"),
                  options=(MONTH, YEAR))
    return Account(**{**values, **overrides})


def payment(**overrides) -> OneTimePayment:
    values = dict(option_term="1M", option_amount=D("10.79"), tip=D("0.00"), donation=D("0.00"), payment_type=CC)
    return OneTimePayment(**{**values, **overrides})


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


# -- PAY-1, PAY-2, FEE-1, FEE-2 ------------------------------------------------------------------------
def test_pay1_pay2_ncs_credit_card_total_adds_activation_fee_fee_and_fee_tax():
    quote = one_time_payment_quote(account(), payment(tip=D("2.00"), donation=D("1.00")), "NCS", NCS_SETTINGS)

    # base 10.79 + 2.00 + 1.00 + 5.00 = 18.79; fee round(0.65765) = 0.66; fee tax round(0.0462) = 0.05
    assert (quote.fee_base, quote.processing_fee, quote.fee_tax) == (D("18.79"), D("0.66"), D("0.05"))
    assert quote.activation_fee == D("5.00")
    assert quote.total == D("19.50")
    assert quote.total == quote.option_amount + quote.tip + quote.donation + quote.activation_fee \
        + quote.processing_fee + quote.fee_tax - quote.balance_applied


def test_pay2_ignore_activation_fee_leaves_it_out():
    quote = one_time_payment_quote(account(), payment(ignore_activation_fee=True), "NCS", NCS_SETTINGS)

    # fee round(10.79 × 3.5 % = 0.37765) = 0.38, fee tax round(0.0266) = 0.03
    assert quote.activation_fee == D("0.00")
    assert (quote.processing_fee, quote.fee_tax, quote.total) == (D("0.38"), D("0.03"), D("11.20"))


@pytest.mark.parametrize("kind", ["SAXO", "MATRIX", "CIRCPRO"])
def test_pay2_activation_fee_is_for_ncs_only(kind):
    settings = PaymentSettings(activation_fee=D("5.00"))

    quote = one_time_payment_quote(account(), payment(), kind, settings)

    assert quote.activation_fee == D("0.00") and quote.total == D("10.79")


def test_pay2_activation_fee_only_for_a_credit_card():
    settings = PaymentSettings(activation_fee=D("5.00"))

    quote = one_time_payment_quote(account(), payment(payment_type=BANK), "NCS", settings)

    assert quote.activation_fee == D("0.00") and quote.total == D("10.79")


def test_fee1_no_fee_for_bank_payments():
    quote = one_time_payment_quote(account(), payment(payment_type=BANK), "NCS", NCS_SETTINGS)

    assert (quote.processing_fee, quote.fee_tax, quote.total) == (D("0.00"), D("0.00"), D("10.79"))


def test_mny2_fee_of_x_xx5_rounds_half_up_and_the_fee_tax_is_on_the_rounded_fee():
    # 2.30 × 5 % = 0.115 → 0.12 (half up, not 0.11 banker's); fee tax 0.12 × 12.5 % = 0.015 → 0.02
    fees = ProcessingFeeSettings(enabled=True, percentage=D("5"), tax_enabled=True, tax_percentage=D("12.5"))
    option = BillingOptionFacts(term="W", length=1, amount=D("2.30"))

    quote = charge_quote(CC, fees, option=option)

    assert (quote.processing_fee, quote.fee_tax, quote.total) == (D("0.12"), D("0.02"), D("2.44"))


def test_fee2_no_fee_tax_when_the_tax_is_disabled():
    fees = ProcessingFeeSettings(enabled=True, percentage=D("3.5"))

    quote = charge_quote(CC, fees, option=MONTH)

    assert (quote.processing_fee, quote.fee_tax, quote.total) == (D("0.38"), D("0.00"), D("11.17"))


# -- PAY-3 ---------------------------------------------------------------------------------------------
def test_pay3_the_option_must_be_a_current_billing_option():
    error = refused(lambda: one_time_payment_quote(account(), payment(option_term="6M"), "NCS", NO_FEES))

    assert (error.code, error.field, error.rule) == (ErrorCode.INVALID_OPTION, ["input", "optionTerm"], "PAY-3")


def test_pay3_the_option_amount_must_be_the_options_amount_to_the_cent():
    error = refused(lambda: one_time_payment_quote(account(), payment(option_amount=D("10.78")), "NCS", NO_FEES))

    assert (error.code, error.field) == (ErrorCode.INVALID_OPTION, ["input", "optionAmount"])


def test_a_stopped_subscription_is_paid_through_a_restart():
    error = refused(lambda: one_time_payment_quote(account(status="STOPPED"), payment(), "NCS", NO_FEES))

    assert error.code is ErrorCode.SUBSCRIPTION_STOPPED


# -- PAY-1: the client's total -------------------------------------------------------------------------
def test_pay1_a_client_total_one_cent_off_is_refused():
    quote = one_time_payment_quote(account(), payment(), "NCS", NCS_SETTINGS)

    for off in (quote.total - D("0.01"), quote.total + D("0.01")):
        error = refused(lambda: check_client_total(quote, off, ["input", "total"]))
        assert (error.code, error.rule) == (ErrorCode.TOTAL_MISMATCH, "PAY-1")
    check_client_total(quote, quote.total, ["input", "total"])  # the exact total passes


# -- FEE-3 ----------------------------------------------------------------------------------------------
def test_fee3_a_processing_fee_sent_with_a_bank_payment_is_refused():
    quote = one_time_payment_quote(account(), payment(payment_type=BANK), "NCS", NCS_SETTINGS)

    error = refused(lambda: check_client_fees(quote, D("0.38"), None, ["input"]))

    assert (error.code, error.field, error.rule) == (ErrorCode.PROCESSING_FEE_NOT_ALLOWED,
                                                     ["input", "processingFee"], "FEE-3")
    check_client_fees(quote, D("0.00"), D("0"), ["input"])  # zero is fine


def test_fee3_a_fee_tax_sent_with_a_bank_payment_is_refused():
    quote = one_time_payment_quote(account(), payment(payment_type=BANK), "NCS", NCS_SETTINGS)

    error = refused(lambda: check_client_fees(quote, None, D("0.03"), ["input"]))

    assert error.field == ["input", "processingFeeTax"]


def test_fee3_with_a_bank_payment_absent_fees_pass_and_two_sent_fees_name_the_first():
    quote = one_time_payment_quote(account(), payment(payment_type=BANK), "NCS", NCS_SETTINGS)

    check_client_fees(quote, None, None, ["input"])  # absent is fine
    error = refused(lambda: check_client_fees(quote, D("1"), D("1"), ["input"]))
    assert (error.code, error.field, error.rule) == (ErrorCode.PROCESSING_FEE_NOT_ALLOWED,
                                                     ["input", "processingFee"], "FEE-3")


def test_fee1_a_credit_card_fee_the_client_sends_must_be_the_servers():
    quote = one_time_payment_quote(account(), payment(), "NCS", NCS_SETTINGS)

    check_client_fees(quote, quote.processing_fee, quote.fee_tax, ["input"])
    error = refused(lambda: check_client_fees(quote, quote.processing_fee + D("0.01"), None, ["input"]))
    assert error.code is ErrorCode.TOTAL_MISMATCH


# -- PM-1, PM-2, PM-3 -----------------------------------------------------------------------------------
@pytest.mark.parametrize("flow,kind,payment_type,code", [
    (PaymentFlow.ONE_TIME_PAYMENT, "MATRIX", BANK, ErrorCode.PAYMENT_METHOD_NOT_ALLOWED),
    (PaymentFlow.ONE_TIME_PAYMENT, "CIRCPRO", BANK, ErrorCode.PAYMENT_METHOD_NOT_ALLOWED),
    (PaymentFlow.AUTO_PAY_SIGN_UP, "MATRIX", BANK, ErrorCode.PAYMENT_METHOD_NOT_ALLOWED),
    (PaymentFlow.AUTO_PAY_UPDATE, "MATRIX", BANK, ErrorCode.PAYMENT_METHOD_NOT_ALLOWED),
    (PaymentFlow.RESTART, "CIRCPRO", CC, ErrorCode.FLOW_NOT_SUPPORTED),
    (PaymentFlow.TIP, "SAXO", CC, ErrorCode.FLOW_NOT_SUPPORTED),
])
def test_pm1_refused_payment_methods(flow, kind, payment_type, code):
    error = refused(lambda: check_payment_type(flow, kind, payment_type, ["input", "paymentType"]))

    assert (error.code, error.rule) == (code, "PM-1")


PM1_TABLE = {  # domain.md PM-1, row by row: NCS, SAXO, CIRCPRO, MATRIX
    PaymentFlow.ONE_TIME_PAYMENT: ({CC, BANK}, {CC, BANK}, {CC}, {CC}),
    PaymentFlow.AUTO_PAY_SIGN_UP: ({CC, BANK}, {CC, BANK}, {CC, BANK}, {CC}),
    PaymentFlow.AUTO_PAY_UPDATE: ({CC, BANK}, {CC, BANK}, {CC, BANK}, {CC}),
    PaymentFlow.RESTART: ({CC, BANK}, {CC, BANK}, set(), {CC}),
    PaymentFlow.TIP: ({CC, BANK}, set(), set(), set()),
}


@pytest.mark.parametrize("flow,kind,expected", [
    (flow, kind, expected) for flow, row in PM1_TABLE.items()
    for kind, expected in zip(("NCS", "SAXO", "CIRCPRO", "MATRIX"), row)
])
def test_pm1_accepted_payment_methods(flow, kind, expected):
    assert allowed_payment_methods(flow, kind) == expected
    for payment_type in expected:  # each accepted method passes the check the mutations call
        assert check_payment_type(flow, kind, payment_type, ["input", "paymentType"]) is None


@pytest.mark.parametrize("kind", ["MATRIX", "CIRCPRO"])
def test_pm2_tips_and_donations_are_refused_outside_ncs_and_saxo(kind):
    for extra in ({"tip": D("1.00")}, {"donation": D("1.00")}):
        error = refused(lambda: one_time_payment_quote(account(), payment(**extra), kind, NO_FEES))
        assert (error.code, error.field[-1], error.rule) == (ErrorCode.TIP_NOT_SUPPORTED, next(iter(extra)), "PM-2")


def test_pm2_saxo_accepts_a_tip_and_a_donation():
    quote = one_time_payment_quote(account(), payment(tip=D("1.00"), donation=D("2.00")), "SAXO", NO_FEES)

    assert quote.total == D("13.79")


@pytest.mark.parametrize("brand", ["DINERS", "Diners Club", "diners_club"])
def test_pm3_diners_is_refused_however_it_is_spelt(brand):
    error = refused(lambda: check_card_brand(brand, ["input", "paymentType"]))

    assert (error.code, error.rule) == (ErrorCode.PAYMENT_METHOD_NOT_ALLOWED, "PM-3")


@pytest.mark.parametrize("brand", ["VISA", "MASTERCARD", "AMEX", "DISCOVER", None])
def test_pm3_other_brands_pass(brand):
    assert check_card_brand(brand, ["input"]) is None  # accepted: no PaymentRuleError


# -- PM-5 -------------------------------------------------------------------------------------------------
def test_pm5_payment_window_is_24_hours():
    now = datetime(2026, 11, 24, 12, 0, tzinfo=timezone.utc)

    assert payment_window_start(now) == now - timedelta(hours=24)


def test_pm5_payment_method_change_window():
    now = datetime(2026, 11, 24, 12, 0, tzinfo=timezone.utc)

    error = refused(lambda: check_method_change_window(now - timedelta(hours=23, minutes=59), now, ["input", "subscriptionId"]))
    assert (error.code, error.rule) == (ErrorCode.PAYMENT_METHOD_CHANGE_WINDOW, "PM-5")
    check_method_change_window(now - timedelta(hours=24), now, ["input"])  # exactly 24 hours later: open
    check_method_change_window(None, now, ["input"])  # the first payment method


# -- MNY-1 input ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("value,code", [("-0.01", ErrorCode.INVALID_AMOUNT), ("1.005", ErrorCode.INVALID_AMOUNT)])
def test_mny1_client_amounts_are_not_negative_and_have_two_places(value, code):
    error = refused(lambda: money_input(D(value), ["input", "tip"]))

    assert (error.code, error.field) == (code, ["input", "tip"])


def test_mny1_client_amounts_keep_every_cent_above_int32():
    assert money_input(D("2147483648.10"), ["input", "total"]) == D("2147483648.10")
    assert money_input(None, ["input", "tip"]) == D("0.00")


def test_mny1_a_float_is_refused():
    error = refused(lambda: money_input(0.1, ["input", "tip"]))  # type: ignore[arg-type]

    assert error.code is ErrorCode.INVALID_AMOUNT


# -- EZ-1, EZ-2, FEE-4 ------------------------------------------------------------------------------------
def plan(**overrides) -> AutoPayPlan:
    values = dict(term="1M", length=1, tip=D("0.00"), donation=D("0.00"), payment_type=CC)
    return AutoPayPlan(**{**values, **overrides})


def test_ez1_fee4_sign_up_with_a_debt_charges_the_debt_and_the_fee_on_the_debt_only():
    quote = auto_pay_quote(account(balance=D("-20.45")), plan(tip=D("3.00")), "NCS", NCS_SETTINGS, sign_up=True)

    # debt 20.45: fee round(0.71575) = 0.72, fee tax round(0.0504) = 0.05; the recurring tip is not charged
    assert (quote.balance_applied, quote.fee_base) == (D("-20.45"), D("20.45"))
    assert (quote.processing_fee, quote.fee_tax, quote.total) == (D("0.72"), D("0.05"), D("21.22"))
    assert (quote.tip, quote.recurring_tip) == (D("0.00"), D("3.00"))
    assert quote.activation_fee == D("0.00")


def test_fee4_sign_up_without_a_debt_charges_nothing():
    for balance in (D("0.00"), D("12.10")):
        quote = auto_pay_quote(account(balance=balance), plan(), "NCS", NCS_SETTINGS, sign_up=True)
        assert (quote.total, quote.processing_fee, quote.charges) == (D("0.00"), D("0.00"), False)


def test_ez1_an_update_never_charges_the_debt():
    quote = auto_pay_quote(account(auto_pay=True, balance=D("-20.45")), plan(), "NCS", NCS_SETTINGS, sign_up=False)

    assert quote.total == D("0.00")


def test_ez2_term_and_length_must_match_a_billing_option():
    error = refused(lambda: auto_pay_quote(account(), plan(length=3), "NCS", NO_FEES, sign_up=True))

    assert (error.code, error.rule) == (ErrorCode.INVALID_OPTION, "EZ-2")


@pytest.mark.parametrize("facts,sign_up,code", [
    ({"auto_pay": True}, True, ErrorCode.ALREADY_ON_AUTO_PAY),
    ({"auto_pay": False}, False, ErrorCode.NOT_ON_AUTO_PAY),
    ({"status": "STOPPED"}, True, ErrorCode.SUBSCRIPTION_STOPPED),
])
def test_ez_auto_pay_state_checks(facts, sign_up, code):
    error = refused(lambda: auto_pay_quote(account(**facts), plan(), "NCS", NO_FEES, sign_up=sign_up))

    assert error.code is code


def test_ez2_recurring_tips_follow_pm2():
    error = refused(lambda: auto_pay_quote(account(), plan(tip=D("1.00")), "MATRIX", NO_FEES, sign_up=True))

    assert error.code is ErrorCode.TIP_NOT_SUPPORTED


def test_pm1_matrix_auto_pay_by_bank_is_refused():
    error = refused(lambda: auto_pay_quote(account(), plan(payment_type=BANK), "MATRIX", NO_FEES, sign_up=True))

    assert error.code is ErrorCode.PAYMENT_METHOD_NOT_ALLOWED


@pytest.mark.parametrize("kind,payment_type,debt,accepted", [
    ("CIRCPRO", BANK, D("-20.45"), False),  # the debt is a one-time payment: CIRCPRO takes a card only
    ("CIRCPRO", BANK, D("-0.01"), False),
    ("CIRCPRO", BANK, D("0.00"), True),  # no debt, nothing paid now: PM-1's auto-pay column alone
    ("CIRCPRO", CC, D("-20.45"), True),
    ("NCS", BANK, D("-20.45"), True),
    ("SAXO", BANK, D("-20.45"), True),
])
def test_ez1_pm1_a_sign_ups_debt_is_paid_by_a_type_the_one_time_payment_accepts(kind, payment_type, debt, accepted):
    def quote():
        return auto_pay_quote(account(balance=debt), plan(payment_type=payment_type), kind, NO_FEES, sign_up=True)

    if accepted:
        assert quote().total == -debt
        return
    error = refused(quote)
    assert (error.code, error.rule, error.field) == (
        ErrorCode.PAYMENT_METHOD_NOT_ALLOWED, "PM-1", ["input", "paymentType"])
    assert str(error) == ("The CIRCPRO circulation system accepts CREDIT_CARD for paying the outstanding debt: pay "
                          "it first, then sign up for auto-pay")


def test_ez1_pm1_an_update_by_bank_on_circpro_with_a_debt_is_accepted():
    quote = auto_pay_quote(account(auto_pay=True, balance=D("-20.45")), plan(payment_type=BANK), "CIRCPRO", NO_FEES,
                           sign_up=False)

    assert quote.total == D("0.00")


# -- TIP-3: TIP-2's bound on every tip and donation in every flow ---------------------------------------------
MAXIMUM_25 = PaymentSettings(maximum_tip=D("25.00"))


@pytest.mark.parametrize("name", ["tip", "donation"])
@pytest.mark.parametrize("flow", ["one-time payment", "auto-pay sign-up", "auto-pay update"])
def test_tip3_a_tip_or_donation_is_at_most_the_tenants_maximum_in_every_flow(flow, name):
    def quote(amount: Decimal):
        if flow == "one-time payment":
            return one_time_payment_quote(account(), payment(**{name: amount}), "NCS", MAXIMUM_25)
        return auto_pay_quote(account(auto_pay=flow == "auto-pay update"), plan(**{name: amount}), "SAXO",
                              MAXIMUM_25, sign_up=flow == "auto-pay sign-up")

    quote(D("25.00"))  # the maximum itself is allowed
    error = refused(lambda: quote(D("25.01")))

    assert (error.code, error.field, error.rule, str(error)) == (
        ErrorCode.TIP_TOO_LARGE, ["input", name], "TIP-3", f"A {name} may be at most 25.00")


def test_tip3_the_default_maximum_is_100():
    assert PaymentSettings().maximum_tip == D("100.00")
    one_time_payment_quote(account(), payment(tip=D("100.00")), "NCS", NO_FEES)
    error = refused(lambda: one_time_payment_quote(account(), payment(tip=D("100.01")), "NCS", NO_FEES))
    assert error.code is ErrorCode.TIP_TOO_LARGE


def test_tip3_without_a_maximum_no_bound_is_checked_and_pm2_still_is():
    check_tip_and_donation("NCS", D("1000000.00"), D("1000000.00"), ["input"])
    check_tip_and_donation("NCS", D("1000000.00"), D("1000000.00"), ["input"], None)
    error = refused(lambda: check_tip_and_donation("CIRCPRO", D("0.00"), D("1.00"), ["input"]))
    assert (error.code, error.field, error.rule) == (ErrorCode.TIP_NOT_SUPPORTED, ["input", "donation"], "PM-2")


def test_tip3_the_bound_is_checked_on_the_tip_first_then_the_donation():
    error = refused(lambda: check_tip_and_donation("NCS", D("30.00"), D("40.00"), ["input"], D("25.00")))
    assert error.field == ["input", "tip"]
    error = refused(lambda: check_tip_and_donation("NCS", D("25.00"), D("40.00"), ["input"], D("25.00")))
    assert error.field == ["input", "donation"]


# -- PM-1 for a payment method (GW-1), PM-5's method window, facts from circulation records -------------------
@pytest.mark.parametrize("kind,payment_type,accepted", [
    ("NCS", CC, True), ("NCS", BANK, True), ("SAXO", BANK, True), ("CIRCPRO", BANK, True),  # auto-pay by bank
    ("MATRIX", CC, True), ("MATRIX", BANK, False), ("UNKNOWN", CC, False),
])
def test_pm1_a_payment_method_must_serve_some_flow_of_the_circulation_system(kind, payment_type, accepted):
    if accepted:
        check_payment_method_accepted(kind, payment_type, ["input", "paymentType"])
        return
    error = refused(lambda: check_payment_method_accepted(kind, payment_type, ["input", "paymentType"]))
    assert (error.code, error.field, error.rule, str(error)) == (
        ErrorCode.PAYMENT_METHOD_NOT_ALLOWED, ["input", "paymentType"], "PM-1",
        f"The {kind} circulation system accepts no {payment_type.value} payments")


def test_pm5_the_method_change_window_starts_24_hours_back():
    now = datetime(2026, 11, 24, 12, 0, tzinfo=timezone.utc)

    assert method_change_window_start(now) == datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)


def test_pay3_a_billing_option_from_its_circulation_record():
    option = BillingOptionFacts.from_record({"term": "1M", "length": "3", "amount": "10.785", "tax": "0.805"})

    assert option == BillingOptionFacts(term="1M", length=3, amount=D("10.79"), tax=D("0.81"))
    assert isinstance(option.length, int)
    assert BillingOptionFacts.from_record({"term": "12M", "length": 12, "amount": "106.92"}).tax == D("0.00")
    assert BillingOptionFacts.from_record({"term": "12M", "length": 12, "amount": "1", "tax": None}).tax == D("0.00")


def test_an_account_from_its_circulation_record():
    record = {"status": "ACTIVE", "kind": "REGULAR", "digital": 1, "autoPay": 0, "balance": "-20.455",
              "restartScheduled": 1}
    options = [{"term": "1M", "length": 1, "amount": "10.79", "tax": "0.80"},
               {"term": "12M", "length": 12, "amount": "106.92", "tax": "7.92"}]

    facts = Account.from_record(record, options)

    assert facts == Account(status="ACTIVE", kind="REGULAR", digital=True, auto_pay=False, balance=D("-20.46"),
                            options=(MONTH, YEAR), restart_scheduled=True)
    assert (facts.debt, facts.stopped) == (D("20.46"), False)
    other = Account.from_record({"status": "STOPPED", "kind": "TRIAL", "digital": 0, "autoPay": 1, "balance": "5"},
                                [])
    assert (other.digital, other.auto_pay, other.restart_scheduled, other.options) == (False, True, False, ())
    assert (other.balance, other.debt, other.stopped, other.kind) == (D("5.00"), D("0.00"), True, "TRIAL")


def test_a_payment_rule_error_keeps_a_missing_field_as_none():
    error = PaymentRuleError(ErrorCode.INVALID, "why", None, "PAY-4")

    assert (error.code, error.field, error.rule, str(error)) == (ErrorCode.INVALID, None, "PAY-4", "why")
    assert PaymentRuleError(ErrorCode.INVALID, "why", ("input", "x"), "PAY-4").field == ["input", "x"]


# -- what each refusal says: the userError's message, shown to the customer as it is -------------------------
STOPPED = dict(status="STOPPED")


@pytest.mark.parametrize("call,code,field,rule,message", [
    (lambda: check_payment_type(PaymentFlow.RESTART, "CIRCPRO", CC, ["input", "paymentType"]),
     ErrorCode.FLOW_NOT_SUPPORTED, ["input", "paymentType"], "PM-1",
     "The CIRCPRO circulation system does not support this flow"),
    (lambda: check_payment_type(PaymentFlow.ONE_TIME_PAYMENT, "NCS", None, ["input", "paymentType"]),
     ErrorCode.PAYMENT_METHOD_NOT_ALLOWED, ["input", "paymentType"], "PM-1",
     "The NCS circulation system accepts BANK or CREDIT_CARD for this flow"),
    (lambda: check_payment_type(PaymentFlow.ONE_TIME_PAYMENT, "MATRIX", BANK, ["input", "paymentType"]),
     ErrorCode.PAYMENT_METHOD_NOT_ALLOWED, ["input", "paymentType"], "PM-1",
     "The MATRIX circulation system accepts CREDIT_CARD for this flow"),
    (lambda: check_card_brand("Diners Club", ["input", "paymentType"]),
     ErrorCode.PAYMENT_METHOD_NOT_ALLOWED, ["input", "paymentType"], "PM-3", "Diners Club cards are not accepted"),
    (lambda: one_time_payment_quote(account(**STOPPED), payment(), "NCS", NO_FEES),
     ErrorCode.SUBSCRIPTION_STOPPED, ["input", "subscriptionId"], "RST-1",
     "A stopped subscription is paid through a restart"),
    (lambda: one_time_payment_quote(account(), payment(option_term="6M"), "NCS", NO_FEES),
     ErrorCode.INVALID_OPTION, ["input", "optionTerm"], "PAY-3", "The subscription has no billing option with this term"),
    (lambda: one_time_payment_quote(account(), payment(option_amount=D("10.78")), "NCS", NO_FEES),
     ErrorCode.INVALID_OPTION, ["input", "optionAmount"], "PAY-3", "The 1M option costs 10.79, not 10.78"),
    (lambda: one_time_payment_quote(account(), payment(tip=D("1.00")), "MATRIX", NO_FEES),
     ErrorCode.TIP_NOT_SUPPORTED, ["input", "tip"], "PM-2", "The MATRIX circulation system accepts no tip or donation"),
    (lambda: auto_pay_quote(account(**STOPPED), plan(), "NCS", NO_FEES, sign_up=True),
     ErrorCode.SUBSCRIPTION_STOPPED, ["input", "subscriptionId"], "EZ-3", "A stopped subscription cannot be on auto-pay"),
    (lambda: auto_pay_quote(account(auto_pay=True), plan(), "NCS", NO_FEES, sign_up=True),
     ErrorCode.ALREADY_ON_AUTO_PAY, ["input", "subscriptionId"], "EZ-1", "The subscription is already on auto-pay"),
    (lambda: auto_pay_quote(account(), plan(), "NCS", NO_FEES, sign_up=False),
     ErrorCode.NOT_ON_AUTO_PAY, ["input", "subscriptionId"], "EZ-2",
     "The subscription is not on auto-pay: sign up first"),
    (lambda: auto_pay_quote(account(), plan(term="6M"), "NCS", NO_FEES, sign_up=True),
     ErrorCode.INVALID_OPTION, ["input", "term"], "EZ-2", "The term and length match none of the billing options"),
    (lambda: auto_pay_quote(account(), plan(term=None), "NCS", NO_FEES, sign_up=True),
     ErrorCode.INVALID_OPTION, ["input", "term"], "EZ-2", "The term and length match none of the billing options"),
], ids=["flow", "no-type", "type", "diners", "stopped-payment", "term", "amount", "tip", "stopped-auto-pay",
        "already", "not-on", "plan", "no-term"])
def test_each_refusal_names_its_code_field_rule_and_says_why(call, code, field, rule, message):
    error = refused(call)

    assert (error.code, error.field, error.rule, str(error)) == (code, field, rule, message)


def test_a_plan_or_option_term_is_matched_without_its_spaces():
    quote = auto_pay_quote(account(), plan(term=" 1M "), "NCS", NO_FEES, sign_up=True)
    assert quote.total == D("0.00")
    assert one_time_payment_quote(account(), payment(option_term=" 1M "), "NCS", NO_FEES).option_amount == D("10.79")
    error = refused(lambda: one_time_payment_quote(account(), payment(option_term=None), "NCS", NO_FEES))
    assert (error.code, error.field) == (ErrorCode.INVALID_OPTION, ["input", "optionTerm"])


# -- settings and GW-3 ------------------------------------------------------------------------------------
def test_ten2_payment_settings_defaults():
    settings = PaymentSettings.from_tenant(TenantSettings(name="The Daily Ledger"))

    assert settings.activation_fee == D("0.00") and not settings.apply_credit_balance
    assert settings.maximum_tip == D("100.00")
    assert (settings.restart_reason_code, settings.restart_source_code) == ("payment", "MG2")
    assert not settings.fees.enabled


def test_gw3_statement_descriptor_is_cut_to_22_characters():
    assert statement_descriptor("The Daily Ledger of Springfield") == "The Daily Ledger of Sp"


# -- found by `make mutate` (docs/testing.md) ---------------------------------------------------------------
def test_ten2_payment_settings_are_read_from_the_tenant():
    settings = PaymentSettings.from_tenant(TenantSettings(name="x", values={
        "DTI.ActivationFeeAmount": "5.005", "Restart.ApplyCreditBalance": "1",
        "Payments.MaximumTipAmountAllowed": "250.5", "Restart.DTI.ReasonCode": "WINBACK",
        "Restart.DTI.SourceCode": "WEB", "Billing.CreditCard.ProcessingFee.Enable": "1",
        "Billing.CreditCard.ProcessingFee.Percentage": "3.5"}))

    # MNY-2: amounts rounded half up once, as they are read
    assert (settings.activation_fee, settings.apply_credit_balance, settings.maximum_tip) == (
        D("5.01"), True, D("250.50"))
    assert (settings.restart_reason_code, settings.restart_source_code) == ("WINBACK", "WEB")
    assert (settings.fees.enabled, settings.fees.percentage) == (True, D("3.5"))


def test_rst5_blank_restart_codes_fall_back_to_the_defaults():
    settings = PaymentSettings.from_tenant(TenantSettings(name="x", values={
        "Restart.DTI.ReasonCode": "", "Restart.DTI.SourceCode": ""}))

    assert (settings.restart_reason_code, settings.restart_source_code) == ("payment", "MG2")


def test_mny1_an_amount_that_is_not_a_number_is_refused_with_the_reason():
    error = refused(lambda: money_input("ten", ["input", "tip"]))

    assert (error.code, error.field, error.rule) == (ErrorCode.INVALID_AMOUNT, ["input", "tip"], "MNY-1")
    assert str(error) not in ("", "None")


@pytest.mark.parametrize("value, positive, rule, message", [
    ("-0.01", False, "MNY-1", "`tip` must be zero or more"),
    ("-0.01", True, "TIP-2", "`tip` must be greater than zero"),
    ("0", True, "TIP-2", "`tip` must be greater than zero"),
    ("0.001", True, "MNY-1", "`tip` must have at most two decimal places"),  # MNY-1 whatever rule the caller names
])
def test_mny1_tip2_refused_amounts_name_their_rule_and_why(value, positive, rule, message):
    error = refused(lambda: money_input(value, ["input", "tip"], positive=positive, rule="TIP-2" if positive else
                                        "MNY-1"))

    assert (error.code, error.field, error.rule, str(error)) == (ErrorCode.INVALID_AMOUNT, ["input", "tip"], rule,
                                                                 message)


def test_mny1_the_default_rule_of_a_refused_amount_is_mny1():
    assert refused(lambda: money_input("-1", ["input", "total"])).rule == "MNY-1"


@pytest.mark.parametrize("value, positive", [("0.01", True), ("0", False), ("12.3", True)])
def test_mny1_accepted_amounts_come_back_with_two_places(value, positive):
    assert str(money_input(value, ["input", "tip"], positive=positive)) == str(D(value).quantize(D("0.01")))


def test_ez_6_the_pm5_refusal_says_what_the_documents_say():
    """EZ-6 words the refusal (it replaced a message naming the instant the window opens)."""
    attached = datetime(2026, 11, 24, 12, 0, tzinfo=timezone.utc)

    error = refused(lambda: check_method_change_window(attached, attached + timedelta(hours=23),
                                                       ["input", "subscriptionId"]))

    assert (error.field, error.rule) == (["input", "subscriptionId"], "PM-5")
    assert str(error) == "Payment method was modified recently. Please wait 24 hours or call our Customer Support team."


@pytest.mark.parametrize("value", [None, "", "   "])
def test_gw3_without_a_descriptor_the_statement_says_papergraph(value):
    assert statement_descriptor(value) == "papergraph"


def test_pay3_pm1_a_refused_one_time_payment_type_names_its_field():
    error = refused(lambda: one_time_payment_quote(account(), payment(payment_type=BANK), "MATRIX", NO_FEES))

    assert (error.code, error.field, error.rule) == (ErrorCode.PAYMENT_METHOD_NOT_ALLOWED, ["input", "paymentType"],
                                                     "PM-1")


def test_pm2_a_matrix_auto_pay_takes_no_recurring_donation():
    error = refused(lambda: auto_pay_quote(account(), plan(donation=D("1.00")), "MATRIX", NO_FEES, sign_up=True))

    assert (error.code, error.field, error.rule) == (ErrorCode.TIP_NOT_SUPPORTED, ["input", "donation"], "PM-2")


def test_ez2_the_plans_tip_and_donation_recur():
    quote = auto_pay_quote(account(), plan(tip=D("2.00"), donation=D("3.00")), "NCS", NO_FEES, sign_up=True)

    assert (quote.recurring_tip, quote.recurring_donation, quote.total) == (D("2.00"), D("3.00"), D("0.00"))


def test_ez2_an_unknown_renewal_term_names_the_term_field():
    error = refused(lambda: auto_pay_quote(account(), plan(term="7M"), "NCS", NO_FEES, sign_up=True))

    assert (error.code, error.field, error.rule) == (ErrorCode.INVALID_OPTION, ["input", "term"], "EZ-2")


def test_pay3_the_quote_names_the_option_paid_and_its_tax():
    quote = one_time_payment_quote(account(), payment(), "NCS", NO_FEES)

    assert (quote.option_term, quote.option_tax) == ("1M", D("0.80"))


def test_pm1_the_refusal_lists_what_the_flow_accepts():
    error = refused(lambda: check_payment_type(PaymentFlow.ONE_TIME_PAYMENT, "MATRIX", BANK, ["input", "paymentType"]))

    assert str(error) == "The MATRIX circulation system accepts CREDIT_CARD for this flow"


def test_mny1_a_refused_amount_is_named_by_the_last_part_of_its_field():
    error = refused(lambda: money_input(D("-1.00"), ["input", "payment", "tip"]))
    assert (str(error), error.field) == ("`tip` must be zero or more", ["input", "payment", "tip"])
    error = refused(lambda: money_input(D("1.001"), ["input", "payment", "donation"]))
    assert str(error) == "`donation` must have at most two decimal places"
    error = refused(lambda: money_input(D("0"), ["input", "payment", "amount"], positive=True, rule="TIP-2"))
    assert (str(error), error.rule) == ("`amount` must be greater than zero", "TIP-2")


def test_ez1_pm1_the_debts_payment_type_refusal_names_what_the_one_time_payment_accepts():
    check_debt_payment_type("NCS", BANK, ["input", "paymentType"])
    error = refused(lambda: check_debt_payment_type("NCS", None, ["input", "paymentType"]))
    assert str(error) == ("The NCS circulation system accepts BANK or CREDIT_CARD for paying the outstanding debt: "
                          "pay it first, then sign up for auto-pay")
    error = refused(lambda: check_debt_payment_type("UNKNOWN", CC, ["input", "paymentType"]))
    assert str(error) == ("The UNKNOWN circulation system accepts no payment type for paying the outstanding debt: "
                          "pay it first, then sign up for auto-pay")
