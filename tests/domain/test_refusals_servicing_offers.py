"""STP-1, STP-2, CMP-1, CMP-3 (servicing), OFR-5, OFR-7/INV-3 (offers and invitations) and MSG-3 (receipt lines)
as plain functions: each refusal's code, field, rule and exact message, and each receipt line, for `make mutate`
(the survivors of its first run over these modules)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from domain.invitations import check_invitation_limits
from domain.links import GUEST, OWNER
from domain.messages import receipt_lines
from domain.money import RuleError
from domain.offers import validate_allowed_registrations
from domain.servicing import ServicingRuleError, StopPeriod, check_cancel, check_complaint, check_print_subscription

TODAY = date(2026, 12, 7)


def servicing_refusal(call) -> tuple[str, list[str], str, str]:
    with pytest.raises(ServicingRuleError) as caught:
        call()
    error = caught.value
    return error.code, error.field, error.rule, str(error)


# -- STP-1, STP-2 -------------------------------------------------------------------------------------------------
def test_stp1_only_running_print_delivery_can_be_suspended():
    check_print_subscription(False, "ACTIVE")
    assert servicing_refusal(lambda: check_print_subscription(True, "ACTIVE")) == (
        "DIGITAL_SUBSCRIPTION", ["subscriptionId"], "STP-1", "A digital subscription has no print delivery to stop")
    for status in ("STOPPED", "PERMANENTLY_STOPPED"):
        assert servicing_refusal(lambda: check_print_subscription(False, status)) == (
            "SUBSCRIPTION_STOPPED", ["subscriptionId"], "STP-1",
            "The subscription is stopped: there is no delivery to stop")


def stop(start: date) -> StopPeriod:
    fields = StopPeriod.__dataclass_fields__
    values = {"id": "S1", "start": start, "restart": start + timedelta(days=3)}
    return StopPeriod(**{k: v for k, v in values.items() if k in fields})


def test_stp2_a_stop_that_has_started_is_not_cancelled():
    check_cancel(stop(TODAY + timedelta(days=1)), TODAY)
    for start in (TODAY, TODAY - timedelta(days=1)):
        assert servicing_refusal(lambda: check_cancel(stop(start), TODAY)) == (
            "STOP_ALREADY_STARTED", ["stopId"], "STP-2",
            "The stop has started: bring its restart date forward instead")


# -- CMP-1, CMP-3 ---------------------------------------------------------------------------------------------------
def test_cmp1_a_complaint_is_about_today_or_earlier():
    check_complaint(TODAY, TODAY, redelivery=False, digital=True)
    check_complaint(TODAY - timedelta(days=30), TODAY, redelivery=False, digital=False)
    assert servicing_refusal(lambda: check_complaint(TODAY + timedelta(days=1), TODAY, redelivery=False,
                                                     digital=False)) == (
        "DATE_IN_FUTURE", ["deliveryDate"], "CMP-1", "The delivery date is after today (2026-12-07)")


def test_cmp3_a_redelivery_is_for_todays_print_delivery_once():
    check_complaint(TODAY, TODAY, redelivery=True, digital=False, redelivered_dates=[TODAY - timedelta(days=1)])
    assert servicing_refusal(lambda: check_complaint(TODAY, TODAY, redelivery=True, digital=True)) == (
        "DIGITAL_SUBSCRIPTION", ["resolution"], "CMP-3", "A digital subscription has nothing to redeliver")
    assert servicing_refusal(lambda: check_complaint(TODAY - timedelta(days=1), TODAY, redelivery=True,
                                                     digital=False)) == (
        "REDELIVERY_TODAY_ONLY", ["deliveryDate"], "CMP-3", "Only today's delivery (2026-12-07) is redelivered")
    assert servicing_refusal(lambda: check_complaint(TODAY, TODAY, redelivery=True, digital=False,
                                                     redelivered_dates=[TODAY])) == (
        "REDELIVERY_ALREADY_REQUESTED", ["deliveryDate"], "CMP-3", "A redelivery is already requested for this date")
    # the future is refused first, whatever else is wrong
    assert servicing_refusal(lambda: check_complaint(TODAY + timedelta(days=1), TODAY, redelivery=True,
                                                     digital=True))[0] == "DATE_IN_FUTURE"


# -- OFR-5 ----------------------------------------------------------------------------------------------------------
def test_ofr5_allowed_registrations_from_1_to_max_links():
    assert [validate_allowed_registrations(n, 10) for n in (1, 2, 10)] == [1, 2, 10]
    with pytest.raises(RuleError) as caught:
        validate_allowed_registrations(11, 10, ("input", "allowedRegistrations"))
    assert (str(caught.value), caught.value.field, caught.value.rule) == (
        "Enter a value less than the maximum limit i.e. 10", ["input", "allowedRegistrations"], "OFR-5")
    with pytest.raises(RuleError) as caught:
        validate_allowed_registrations(0, 10)
    assert (str(caught.value), caught.value.field, caught.value.rule) == (
        "Enter a value of at least 1", ["allowedRegistrations"], "OFR-5")


# -- INV-3, OFR-7 ---------------------------------------------------------------------------------------------------
LIMITS = dict(owners_limit=1, guests_limit=3, max_links=10)
FIELD = ["input", "emails"]


def test_inv3_pending_invitations_and_new_guests_count_against_the_guest_limit():
    check_invitation_limits([OWNER, GUEST], 1, 1, allowed_registrations=None, field=FIELD, **LIMITS)
    with pytest.raises(RuleError) as caught:
        check_invitation_limits([OWNER, GUEST], 1, 2, allowed_registrations=None, field=FIELD, **LIMITS)
    assert (str(caught.value), caught.value.field, caught.value.rule) == (
        "The subscription already has the maximum of 3 guest(s)", FIELD, "LNK-2")


def test_inv3_an_owner_limit_of_zero_does_not_stop_guests():
    check_invitation_limits([GUEST], 0, 2, owners_limit=0, guests_limit=3, max_links=10, allowed_registrations=None,
                            field=FIELD)


def test_ofr7_links_pending_and_new_invitations_fit_the_offers_allowed_registrations():
    check_invitation_limits([OWNER], 1, 1, allowed_registrations=3, field=FIELD, **LIMITS)
    with pytest.raises(RuleError) as caught:
        check_invitation_limits([OWNER], 1, 2, allowed_registrations=3, field=FIELD, **LIMITS)
    assert (str(caught.value), caught.value.field, caught.value.rule) == (
        "The subscription's offer allows 3 registrations", FIELD, "OFR-7")


# -- MSG-3 ----------------------------------------------------------------------------------------------------------
def test_msg3_a_receipt_shows_the_option_then_each_extra_charged_and_the_balance():
    assert receipt_lines(option_amount="10.79", tip="2", donation="1.5", activation_fee="5.00", processing_fee="0.72",
                         fee_tax="0.05", balance_applied="-20.45") == [
        {"label": "Subscription", "amount": "10.79"}, {"label": "Tip", "amount": "2.00"},
        {"label": "Donation", "amount": "1.50"}, {"label": "Activation fee", "amount": "5.00"},
        {"label": "Credit-card processing fee", "amount": "0.72"}, {"label": "Processing fee tax", "amount": "0.05"},
        {"label": "Account balance", "amount": "20.45"}]


def test_msg3_zero_or_absent_extras_and_balance_are_left_out():
    assert receipt_lines(option_amount="10.79", tip="0", donation=None, activation_fee="0.00", processing_fee=None,
                         fee_tax="0", balance_applied="0.00") == [{"label": "Subscription", "amount": "10.79"}]
    assert receipt_lines(option_amount="10.79", tip=None, donation=None, activation_fee=None, processing_fee=None,
                         fee_tax=None, balance_applied="1.00")[-1] == {"label": "Account balance", "amount": "-1.00"}


# -- STP-2: changing a stop's restart date --------------------------------------------------------------------------
def test_stp2_a_new_restart_date_is_today_or_later_after_the_start_offered_and_free():
    from domain.servicing import check_restart_change

    running = StopPeriod("S1", TODAY - timedelta(days=2), TODAY + timedelta(days=5))
    offered = [TODAY + timedelta(days=n) for n in range(0, 10)]
    other = StopPeriod("S2", TODAY + timedelta(days=8), TODAY + timedelta(days=12))

    check_restart_change(running, TODAY, TODAY, offered, [running, other])  # today, the stop itself ignored
    check_restart_change(running, TODAY + timedelta(days=7), TODAY, offered, [other])
    assert servicing_refusal(lambda: check_restart_change(running, TODAY - timedelta(days=1), TODAY, offered,
                                                          [])) == (
        "DATE_IN_PAST", ["restartDate"], "STP-2", "The restart date is before today (2026-12-07)")
    future = StopPeriod("S3", TODAY + timedelta(days=3), TODAY + timedelta(days=5))
    for restart in (TODAY + timedelta(days=3), TODAY + timedelta(days=2)):
        assert servicing_refusal(lambda: check_restart_change(future, restart, TODAY, offered, [])) == (
            "RESTART_NOT_AFTER_START", ["restartDate"], "STP-2", "The restart date must be after the start date")
    assert servicing_refusal(lambda: check_restart_change(running, TODAY + timedelta(days=10), TODAY, offered,
                                                          [])) == (
        "DATE_NOT_OFFERED", ["restartDate"], "STP-2",
        "The restart date must be one the circulation system offers: 2026-12-07 to 2026-12-16")
    assert servicing_refusal(lambda: check_restart_change(running, TODAY + timedelta(days=1), TODAY, [], [])) == (
        "DATE_NOT_OFFERED", ["restartDate"], "STP-2", "The circulation system offers no restart date now")
    assert servicing_refusal(lambda: check_restart_change(running, TODAY + timedelta(days=9), TODAY, offered,
                                                          [running, other])) == (
        "OVERLAPPING_STOP", ["restartDate"], "STP-1", "The dates overlap temporary stop S2")


# -- SSN-2: wrong passwords are throttled ---------------------------------------------------------------------------
def test_ssn2_five_failures_within_15_minutes_block_the_key_until_the_oldest_ages_out():
    from domain.sessions import FAILURE_WINDOW, MAX_FAILURES, FailureWindow

    assert (MAX_FAILURES, FAILURE_WINDOW) == (5, timedelta(minutes=15))
    window = FailureWindow()
    key = ("T1", "ann")
    for second in range(5):
        assert window.blocked(key, 1000.0 + second) is False
        window.failed(key, 1000.0 + second)
    assert window.blocked(key, 1004.0) is True
    assert window.blocked(("T1", "bob"), 1004.0) is False  # per key
    assert window.blocked(key, 1000.0 + 900 - 0.5) is True
    assert window.blocked(key, 1000.0 + 900) is False  # the first failure is exactly 15 minutes old
    window.succeeded(key)
    window.succeeded(("T1", "nobody"))
    for second in range(4):  # a success forgets the failures: four new ones do not block
        window.failed(key, 1005.0 + second)
    assert window.blocked(key, 1009.0) is False


def test_ssn2_the_oldest_key_goes_first_when_the_window_is_full():
    from domain.sessions import FailureWindow

    window = FailureWindow(max_failures=1, max_keys=2)
    window.failed(("a",), 1.0)
    window.failed(("b",), 2.0)
    window.failed(("b",), 3.0)  # a known key: nothing evicted
    assert (window.blocked(("a",), 3.0), window.blocked(("b",), 3.0)) == (True, True)
    window.failed(("c",), 4.0)  # a third key: the oldest ("a") goes
    assert [window.blocked((k,), 4.0) for k in "abc"] == [False, True, True]
    assert FailureWindow().max_keys == 100_000


def test_ssn2_an_aged_out_key_is_forgotten():
    from domain.sessions import FailureWindow

    window = FailureWindow(window=timedelta(seconds=10))
    window.failed(("a",), 100.0)
    window.failed(("a",), 115.0)  # the first one has aged out: one failure counts
    assert len(window._failures[("a",)]) == 1
    assert window.blocked(("a",), 125.0) is False and ("a",) not in window._failures


# -- EZ-3, INV-5, OFR-2, LNK-1: what each answer says -----------------------------------------------------------------
def test_ez3_ebill_availability_and_what_it_says():
    from domain.availability import EbillAvailability, Reason, ReasonCode, SubscriptionFacts, ebill_availability

    def facts(**overrides):
        values = dict(status="ACTIVE", kind="REGULAR", digital=False, auto_pay=False, ebill=False)
        return SubscriptionFacts(**{**values, **overrides})

    assert ebill_availability(facts()) == EbillAvailability(True, False, None)
    assert ebill_availability(facts(status="STOPPED", auto_pay=True)) == EbillAvailability(
        False, False, Reason(ReasonCode.STOPPED, "eBill is not available: the subscription is stopped."))
    assert ebill_availability(facts(auto_pay=True, ebill=True)) == EbillAvailability(
        False, False, Reason(ReasonCode.ON_AUTO_PAY, "eBill is not available: the subscription is on auto-pay."))
    assert ebill_availability(facts(ebill=True)) == EbillAvailability(
        False, True, Reason(ReasonCode.ALREADY_ON_EBILL, "The subscription is already on eBill."))


def test_inv5_the_phone_key_is_phone_number():
    from domain.invitations import validate_invitation_metadata
    from domain.registrations import RegistrationRuleError

    assert validate_invitation_metadata({"phoneNumber": "555"}, ["input", "metadata"]) == {"phoneNumber": "555"}
    with pytest.raises(RegistrationRuleError) as caught:
        validate_invitation_metadata({"phone": "555"}, ["input", "metadata"])
    assert (str(caught.value), caught.value.field, caught.value.rule) == (
        "The phone key is `phoneNumber`", ["input", "metadata", "phone"], "INV-5")
    with pytest.raises(RegistrationRuleError) as caught:
        validate_invitation_metadata({"bad_key": 1}, ["input", "metadata"])
    assert caught.value.field == ["input", "metadata", "bad_key"]  # USR-3's checks name the same field


def test_ofr2_a_postal_code_input_is_normalised_not_blank_and_at_most_16_characters():
    from domain.offers import validate_postal_code_input

    assert validate_postal_code_input(" ab 12 ") == "AB12"
    assert validate_postal_code_input("1" * 16) == "1" * 16
    for value, message in ((None, "`zip` must not be blank"), ("  ", "`zip` must not be blank"),
                           ("1" * 17, "`zip` must be at most 16 characters")):
        with pytest.raises(RuleError) as caught:
            validate_postal_code_input(value, ("input", "zip"))  # type: ignore[arg-type]
        assert (str(caught.value), caught.value.field, caught.value.rule) == (message, ["input", "zip"], "OFR-2")


def test_lnk1_a_lookup_needs_one_key():
    from domain.registrations import RegistrationRuleError, validate_link_lookup

    for keys in ({}, {"crid": " ", "registration_id": "", "subscription_id": "  "}):
        with pytest.raises(RegistrationRuleError) as caught:
            validate_link_lookup(**keys)
        assert (str(caught.value), caught.value.field, caught.value.rule) == (
            "Give at least one of crid, registrationId or subscriptionId", ["crid"], "LNK-1")


# -- STP-1: a new stop's dates --------------------------------------------------------------------------------------
def test_stp1_a_new_stops_dates():
    from domain.servicing import check_new_stop

    offered = [TODAY + timedelta(days=n) for n in range(1, 11)]
    other = StopPeriod("S2", TODAY + timedelta(days=8), TODAY + timedelta(days=10))
    start, restart = TODAY + timedelta(days=1), TODAY + timedelta(days=4)

    check_new_stop(start, restart, TODAY, offered, [other])
    check_new_stop(start, None, TODAY, offered, [])  # open-ended
    check_new_stop(TODAY + timedelta(days=1), TODAY + timedelta(days=10), TODAY, offered, [])  # the last offered
    cases = [
        ((start, start, TODAY, offered, []),
         ("RESTART_NOT_AFTER_START", ["restartDate"], "STP-1", "The restart date must be after the start date")),
        ((start, start - timedelta(days=1), TODAY, offered, []),
         ("RESTART_NOT_AFTER_START", ["restartDate"], "STP-1", "The restart date must be after the start date")),
        ((TODAY - timedelta(days=1), None, TODAY, offered + [TODAY - timedelta(days=1)], []),
         ("DATE_IN_PAST", ["startDate"], "STP-1", "The start date is before today (2026-12-07)")),
        ((TODAY + timedelta(days=11), None, TODAY, offered, []),
         ("DATE_NOT_OFFERED", ["startDate"], "STP-1",
          "The start date must be one the circulation system offers: 2026-12-08 to 2026-12-17")),
        ((start, TODAY + timedelta(days=11), TODAY, offered, []),
         ("DATE_NOT_OFFERED", ["restartDate"], "STP-1",
          "The restart date must be one the circulation system offers: 2026-12-08 to 2026-12-17")),
        ((start, None, TODAY, [], []),
         ("DATE_NOT_OFFERED", ["startDate"], "STP-1", "The circulation system offers no start date now")),
        ((start, TODAY + timedelta(days=9), TODAY, offered, [other]),
         ("OVERLAPPING_STOP", ["startDate"], "STP-1", "The dates overlap temporary stop S2")),
    ]
    for arguments, expected in cases:
        assert servicing_refusal(lambda: check_new_stop(*arguments)) == expected, arguments


# -- LNK-1: the registration id of a lookup -------------------------------------------------------------------------
def test_lnk1_a_registration_id_is_a_numeric_id_within_bounds():
    from domain.ids import MAX_INTEGER_ID
    from domain.registrations import RegistrationRuleError, validate_link_lookup

    lookup = validate_link_lookup(crid=" C1 ", registration_id=" 41 ", subscription_id=" S1 ")
    assert (lookup.crid, lookup.registration_id, lookup.subscription_id) == ("C1", 41, "S1")
    assert validate_link_lookup(crid="C1").registration_id is None
    assert validate_link_lookup(registration_id=str(MAX_INTEGER_ID)).registration_id == MAX_INTEGER_ID
    for bad in ("4a", "-1", "٣", str(MAX_INTEGER_ID + 1)):
        with pytest.raises(RegistrationRuleError) as caught:
            validate_link_lookup(registration_id=bad)
        assert (str(caught.value), caught.value.field, caught.value.rule) == (
            "registrationId must be a registration's numeric id", ["registrationId"], "LNK-1")


def test_not2_the_expiry_window_is_1_to_90_days_ahead_inclusive():
    from domain.availability import SubscriptionRuleError, expiry_window

    assert expiry_window(TODAY, 1) == (TODAY, TODAY + timedelta(days=1))
    assert expiry_window(TODAY, 90) == (TODAY, TODAY + timedelta(days=90))
    for days in (0, 91, True):
        with pytest.raises(SubscriptionRuleError) as caught:
            expiry_window(TODAY, days, ("input", "daysAhead"))
        assert (str(caught.value), caught.value.field, caught.value.rule) == (
            "`daysAhead` must be between 1 and 90", ["input", "daysAhead"], "NOT-2")


# -- USR-2: user lookups --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("keys,field,message", [
    ({"email": "a@b.c", "metadata": [("k", "v")]}, ["metadata"], "Look users up by e-mail or by metadata, not both"),
    ({"email": "a@b.c", "encrypted_crid": "x"}, ["encryptedCrid"],
     "An encrypted CRID lookup cannot be combined with e-mail or metadata filters"),
    ({"metadata": [("k", "v")], "encrypted_crid": "x"}, ["encryptedCrid"],
     "An encrypted CRID lookup cannot be combined with e-mail or metadata filters"),
    ({"metadata": [("k", "v")] * 11}, ["metadata"], "At most 10 metadata filters are allowed, got 11"),
    ({"metadata": [("k", "v"), ("", "v")]}, ["metadata", "1", "key"], "A metadata filter key must not be empty"),
    ({"metadata": [("k" * 101, "v")]}, ["metadata", "0", "key"], "A metadata filter key must be at most 100 characters"),
    ({"metadata": [("k", "v"), ("k", "v" * 101)]}, ["metadata", "1", "value"],
     "A metadata filter value must be at most 100 characters"),
    ({"encrypted_crid": "  "}, ["encryptedCrid"], "Encrypted CRID must not be blank"),
])
def test_usr2_user_lookup_refusals(keys, field, message):
    from domain.registrations import MetadataFilter, RegistrationRuleError, validate_user_lookup

    if "metadata" in keys:
        keys = {**keys, "metadata": [MetadataFilter(k, v) for k, v in keys["metadata"]]}
    with pytest.raises(RegistrationRuleError) as caught:
        validate_user_lookup(**keys)

    assert (str(caught.value), caught.value.field, caught.value.rule) == (message, field, "USR-2")


def test_usr2_lookups_within_bounds():
    from domain.registrations import MetadataFilter, validate_user_lookup

    ten = [MetadataFilter("k" * 100, "v" * 100)] * 10
    assert validate_user_lookup(metadata=ten).metadata == tuple(ten)
    assert validate_user_lookup(encrypted_crid=" abc ").encrypted_crid == "abc"
    assert validate_user_lookup(email=" Ann@Example.com ").email is not None
