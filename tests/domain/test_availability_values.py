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


# -- sealed tokens (USR-7, INV-1, SSN-3 build on them) -----------------------------------------------------------------
def test_a_sealed_token_is_unpadded_url_safe_base64_and_opens_only_for_its_key_and_purpose():
    from domain.crypto import MAX_TOKEN_LENGTH, InvalidToken, seal, unseal

    key = "a-test-secret-key-0123456789abcdef"
    tokens = [seal(key, "p", "x" * n) for n in range(0, 4)]  # every length modulo 3: some need padding
    assert all("=" not in t and "+" not in t and "/" not in t for t in tokens)
    assert [unseal(key, "p", t) for t in tokens] == ["x" * n for n in range(0, 4)]
    assert any(len(t) % 4 for t in tokens)
    for token, message in (("", "token is empty or too long"), ("a" * (MAX_TOKEN_LENGTH + 1), "token is empty or too long"),
                           (tokens[1] + "x", "token is not valid"), ("é", "token is not valid")):
        with pytest.raises(InvalidToken) as caught:
            unseal(key, "p", token)
        assert str(caught.value) == message
    with pytest.raises(InvalidToken, match="^token is not valid$"):
        unseal(key, "other", tokens[2])
    long = seal(key, "p", "y" * 2000)
    assert len(long) > MAX_TOKEN_LENGTH // 2
    assert unseal(key, "p", long, max_length=len(long)) == "y" * 2000
    with pytest.raises(InvalidToken, match="^token is empty or too long$"):
        unseal(key, "p", long, max_length=len(long) - 1)


# -- USR-4: e-mail addresses, ids ---------------------------------------------------------------------------------------
def test_usr4_an_email_is_trimmed_and_refused_blank_or_with_invisible_characters():
    from domain.registrations import RegistrationRuleError, clean_email

    assert clean_email("  ann@example.com ") == "ann@example.com"
    for email, message in (("  ", "E-mail address must not be blank"),
                           ("ann\u200b@example.com", "E-mail address contains an invisible or control character "
                                                     "(U+200B)"),
                           ("ann @example.com", "E-mail address contains an invisible or control character (U+0020)"),
                           ("ann\u00ad@x.com", "E-mail address contains an invisible or control character (U+00AD)")):
        with pytest.raises(RegistrationRuleError) as caught:
            clean_email(email, ("input", "email"))
        assert (str(caught.value), caught.value.field, caught.value.rule) == (message, ["input", "email"], "USR-4")


@pytest.mark.parametrize("value,number", [(None, None), ("", None), ("  ", None), ("None", None), ("12", 12),
                                          (" 7 ", 7), (3, 3), ("²", None), ("-1", None), (2**31 - 1, 2**31 - 1),
                                          (2**31, None)])
def test_ids_an_integer_id_is_ascii_digits_within_the_column(value, number):
    from domain.ids import integer_id

    assert integer_id(value) == number


# -- MGR-2: a code of other digits ---------------------------------------------------------------------------------------
def test_mgr2_a_six_character_code_with_a_letter_or_blank_is_no_match():
    from domain.mfa import code_matches, current_code

    secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    right = current_code(secret, 1_700_000_000.0)
    assert code_matches(secret, right[:5] + "x", 1_700_000_000.0) is False
    assert code_matches(secret, "", 1_700_000_000.0) is False


# -- the rest of the first run's survivors: values each rule defines ----------------------------------------------------
KEY = "a-test-secret-key-0123456789abcdef"


def test_an_absent_token_is_empty_not_a_placeholder():
    from domain.crypto import InvalidToken
    from domain.invitations import read_invitation_token
    from domain.users import FORGOT_PASSWORD, read_link_token

    for call in (lambda: read_invitation_token(KEY, None), lambda: read_link_token(KEY, FORGOT_PASSWORD, None)):
        with pytest.raises(InvalidToken, match="^token is empty or too long$"):
            call()


def test_a_sealed_token_ending_in_x_keeps_it():
    from domain.crypto import seal, unseal

    # 5 characters: 21 sealed bytes, 28 characters whose last one can be any of the 64
    token = next(t for t in (seal(KEY, "p", f"{n:05d}") for n in range(5000)) if t.endswith("X"))
    assert unseal(KEY, "p", token).isdigit()


def test_msg1_only_slashes_are_trimmed_between_base_and_path():
    from domain.messages import front_end_link

    assert front_end_link("https://paper.example/BOX/", "/Xreset") == "https://paper.example/BOX/Xreset"


def test_ofr2_postal_code_candidates():
    from domain.offers import postal_code_candidates

    assert postal_code_candidates("12345-6789") == {"12345-6789", "12345"}
    assert postal_code_candidates(" k1a 0b1 ") == {"K1A0B1"}
    assert postal_code_candidates("-123") == {"-123"}
    assert postal_code_candidates("1-2-3") == {"1-2-3", "1"}


def test_ofr2_ofr3_deliverability_is_false_not_unknown():
    from datetime import date, timedelta

    from domain.offers import DeliverabilityReason, OfferAvailability, offer_deliverability, validity_state

    today = date(2026, 12, 7)
    past = OfferAvailability(False, today - timedelta(days=9), today - timedelta(days=1), frozenset({"12345"}))
    future = OfferAvailability(False, today + timedelta(days=1), None, frozenset({"12345"}))
    current = OfferAvailability(False, today, today, frozenset({"12345"}))
    assert (offer_deliverability(past, "12345", today).deliverable, offer_deliverability(past, "12345", today).reason) == (
        False, DeliverabilityReason.VALIDITY_PAST)
    assert offer_deliverability(future, "12345", today).deliverable is False
    assert offer_deliverability(future, "12345", today).reason is DeliverabilityReason.NO_ACTIVE_OFFERS
    assert offer_deliverability(current, "54321", today).deliverable is False
    assert offer_deliverability(current, "12345", today).deliverable is True
    assert validity_state(today, None, today) == "CURRENT"


def test_ssn1_the_stored_hash_keeps_a_trailing_x():
    from domain.passwords import _b64

    assert _b64(b"\x00\x00\x17") == "AAAX"
    assert _b64(b"\x00") == "AA"


def test_buy1_an_absent_value_compares_as_empty():
    from domain.offers import CheckCriteria
    from domain.purchases import Address, Applicant, is_same_subscription

    applicant = Applicant(product="P1", last_name="", email="", phone=None, address=Address(country="US"))
    record = {"status": "ACTIVE", "productCode": "P1", "subscriber": {"address": {}}}
    assert is_same_subscription(CheckCriteria(last_name=True, email=True), applicant, record) is True
    assert is_same_subscription(CheckCriteria(postal_code=True), applicant, record) is True
    assert is_same_subscription(CheckCriteria(address=True), applicant, record) is True


def test_set2_max_links_of_1_and_blank_values():
    from domain.tenant_settings import validate_setting_changes
    from domain.tenants import TenantSettings

    current = TenantSettings("T")
    changes = validate_setting_changes([("Subscription.MaxLinks", "1"), ("Subscription.DefaultGuestsLimit", "0")],
                                       current)
    assert [c.new for c in changes] == ["1", "0"]
    assert validate_setting_changes([("Site.FrontEndUrl", None)], current)[0].new == ""
    stored_blank = TenantSettings("T", {"Subscription.DefaultGuestsLimit": ""})
    assert validate_setting_changes([("Purchase.GenerateCRN", "1")], stored_blank)[0].new == "1"


def test_usr3_usr4_a_refused_name_or_text_is_named_by_the_last_part_of_its_field():
    from domain.money import RuleError
    from domain.registrations import RegistrationRuleError
    from domain.text import free_text
    from domain.users import clean_name

    with pytest.raises(RegistrationRuleError) as caught:
        clean_name("a\u202eb", ["input", "contact", "lastName"])
    assert (str(caught.value), caught.value.rule) == (
        "`lastName` contains a control or invisible character", "USR-3")
    with pytest.raises(RuleError) as caught:
        free_text("a\x00", ["input", "contact", "city"])
    assert str(caught.value).startswith("`city` contains")


def test_buy1_an_absent_last_name_matches_no_given_one():
    from domain.offers import CheckCriteria
    from domain.purchases import Address, Applicant, is_same_subscription

    applicant = Applicant(product="P1", last_name="Xxxx", email="", phone=None, address=Address(country="US"))
    record = {"status": "ACTIVE", "productCode": "P1", "subscriber": {}}
    assert is_same_subscription(CheckCriteria(last_name=True), applicant, record) is False
