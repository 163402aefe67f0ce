"""SUB-5/BUY-9 (day passes), HHL-1 (household level descriptions), INV-1/INV-2 (invitation links), MSG-1 (links
into the front end, which events send a message), USR-8 (who may authenticate) and SSN-3 (refresh tokens) as plain
functions: the values each rule defines, for `make mutate`."""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from domain.crypto import InvalidToken, seal
from domain.entitlements import DAY_PASS_KIND, day_pass_ends_at, day_pass_expired
from domain.households import MAX_DESCRIPTION, validate_description
from domain.invitations import (
    ACCEPTED,
    INVITATION_TTL,
    PENDING,
    PURPOSE,
    invitation_expiry,
    invitation_token,
    is_current,
    read_invitation_token,
)
from domain.messages import MESSAGE_EVENTS, SECRET_LINK_MESSAGES, front_end_link, may_resend_elsewhere, sends_message
from domain.money import RuleError
from domain.registrations import may_authenticate
from domain.sessions import new_refresh_token, token_hash

KEY = "a-test-secret-key-0123456789abcdef"
PARIS = "Europe/Paris"


# -- SUB-5 / BUY-9 -------------------------------------------------------------------------------------------------
def test_buy9_a_day_pass_ends_at_midnight_of_the_day_after_next_in_the_tenants_zone():
    ends = day_pass_ends_at(date(2026, 12, 7), PARIS)

    assert ends == datetime(2026, 12, 9, 0, 0, tzinfo=ZoneInfo(PARIS))
    assert ends.utcoffset() == timedelta(hours=1)


def test_buy9_a_day_pass_is_expired_from_that_midnight_on():
    ends = datetime(2026, 12, 9, 0, 0, tzinfo=ZoneInfo(PARIS))

    assert DAY_PASS_KIND == "PAID_PASS"
    assert day_pass_expired("PAID_PASS", date(2026, 12, 7), ends - timedelta(seconds=1), PARIS) is False
    assert day_pass_expired("PAID_PASS", date(2026, 12, 7), ends, PARIS) is True
    assert day_pass_expired("PAID_PASS", date(2026, 12, 7), ends.astimezone(timezone.utc), PARIS) is True
    assert day_pass_expired("REGULAR", date(2026, 12, 7), ends, PARIS) is False
    assert day_pass_expired("PAID_PASS", None, ends, PARIS) is False


# -- HHL-1 ----------------------------------------------------------------------------------------------------------
def test_hhl1_a_description_is_trimmed_free_text_of_at_most_50_characters():
    assert MAX_DESCRIPTION == 50
    assert validate_description("  Family  ") == "Family"
    assert validate_description("") == "" and validate_description(None) == ""  # type: ignore[arg-type]
    assert validate_description(" " + "d" * 50 + " ") == "d" * 50
    with pytest.raises(RuleError) as caught:
        validate_description("d" * 51)
    assert (str(caught.value), caught.value.field, caught.value.rule) == (
        "The description must be at most 50 characters", ["input", "description"], "HHL-1")
    with pytest.raises(RuleError) as caught:
        validate_description("a\u202eb", ("input", "levels", "0", "description"))
    assert (caught.value.field, caught.value.rule) == (["input", "levels", "0", "description"], "HHL-1")


# -- INV-1, INV-2 -----------------------------------------------------------------------------------------------------
NOW = datetime(2026, 12, 7, 12, 0, 0, 500000, tzinfo=timezone.utc)


def test_inv2_an_invitation_lasts_14_days_to_the_second():
    assert INVITATION_TTL == timedelta(days=14) and PURPOSE == "invitation"
    assert invitation_expiry(NOW) == datetime(2026, 12, 21, 12, 0, tzinfo=timezone.utc)


def test_inv1_an_invitation_token_carries_its_id_and_expiry():
    expires = invitation_expiry(NOW)
    token = invitation_token(KEY, 7, expires)

    assert read_invitation_token(KEY, "  " + token + " ") == (7, expires)
    with pytest.raises(InvalidToken):
        read_invitation_token(KEY + "x", token)
    with pytest.raises(InvalidToken):
        read_invitation_token(KEY, seal(KEY, "verify-email", f"7:{int(expires.timestamp())}"))


@pytest.mark.parametrize("plaintext", ["7", "x:1", "7:y", "1:2:3", ""])
def test_inv1_a_token_of_another_shape_is_not_valid(plaintext):
    with pytest.raises(InvalidToken, match="^token is not valid$"):
        read_invitation_token(KEY, seal(KEY, PURPOSE, plaintext) if plaintext else seal(KEY, PURPOSE, ":"))


def test_inv2_only_a_pending_invitation_before_its_expiry_is_current():
    expires = NOW + timedelta(days=1)

    assert is_current(PENDING, expires, NOW) is True
    assert is_current(PENDING, expires, expires) is False
    assert is_current(ACCEPTED, expires, NOW) is False


# -- MSG-1 ------------------------------------------------------------------------------------------------------------
def test_msg1_a_front_end_link_joins_base_and_path_once_and_drops_empty_parameters():
    assert front_end_link("https://paper.example/", "/reset", token="a b", crid=None) == (
        "https://paper.example/reset?token=a+b")
    assert front_end_link("https://paper.example", "reset") == "https://paper.example/reset"
    assert front_end_link("https://paper.example//", "//verify", a="1", b="2") == (
        "https://paper.example/verify?a=1&b=2")


def test_msg1_which_events_send_a_message():
    assert all(sends_message(e) for e in ("PWDREQ", "VERIFYCODE", "CREATELOGIN", "STARTSTD", "PAYMENT",
                                          "RESTARTSUBSCRIPTION"))
    assert sends_message("UPDATEUSER") is False and sends_message("") is False
    assert sends_message("DOWNGRADESUBSCRIPTION") and sends_message("CANCELSUBSCRIPTION")  # STP-4, MSG-4
    assert MESSAGE_EVENTS["DOWNGRADESUBSCRIPTION"] == "StopSaver downgrade notice to the subscriber (STP-4, MSG-4)"
    assert MESSAGE_EVENTS["CANCELSUBSCRIPTION"] == (
        "cancel notice to the subscriber, from self-service or staff alike (STP-4, MSG-4)")


def test_msg1_a_secret_link_is_resent_only_to_its_own_recipient():
    """MSG-1 (decision): a password, verification, invitation or claim link, or a purchase confirmation carrying a
    password link, goes to no other address; any other message may."""
    assert SECRET_LINK_MESSAGES == {"PWDREQ", "VERIFYCODE", "CREATELOGIN", "INVITEGUEST", "CLAIMPURCHASE"}
    for event in sorted(SECRET_LINK_MESSAGES):
        assert may_resend_elsewhere(event, {}) is False
    assert may_resend_elsewhere("PAYMENT", {}) is True
    assert may_resend_elsewhere("STARTSTD", {"changePasswordUrl": ""}) is True
    assert may_resend_elsewhere("STARTSTD", {"changePasswordUrl": "https://x/reset"}) is False
    assert may_resend_elsewhere("STARTSTD", {"setPasswordLink": "https://x/set"}) is False
    assert may_resend_elsewhere("STARTSTD", {"setPasswordLink": None, "changePasswordUrl": None}) is True


# -- USR-8, SSN-3 -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("has_password,verified,allowed", [(True, True, True), (False, True, False),
                                                           (True, False, False), (False, False, False)])
def test_usr8_only_a_registration_with_a_password_and_a_verified_email_authenticates(has_password, verified,
                                                                                     allowed):
    assert may_authenticate(has_password=has_password, email_verified=verified) is allowed


def test_ssn3_refresh_tokens_are_random_and_stored_as_their_sha256():
    first, second = new_refresh_token(), new_refresh_token()

    assert first != second and len(first) == 43  # 32 random bytes, URL-safe base64
    assert token_hash("abc") == hashlib.sha256(b"abc").hexdigest()
