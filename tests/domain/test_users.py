"""USR-3 (metadata, names), USR-6 (CRID changes), USR-7 (expiring links), USR-9 (events) and USR-10 (recent
sign-in) as plain functions: the values each rule defines, for `make mutate`."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from domain.crypto import InvalidToken, encrypt_crid, seal
from domain.registrations import RegistrationRuleError
from domain.users import (
    CRID_BLANK,
    EVENT_CHANGE_CRID,
    EVENT_CHANGE_EMAIL,
    EVENT_CHANGE_PASSWORD,
    EVENT_CREATE,
    EVENT_CREATE_PENDING,
    EVENT_FORGOT_PASSWORD_FINISH,
    EVENT_FORGOT_PASSWORD_START,
    EVENT_UPDATE,
    EVENT_VERIFICATION_CODE,
    EVENT_VERIFIED,
    FORGOT_PASSWORD,
    LINK_TTL,
    MAX_CRID,
    MAX_METADATA_DEPTH,
    MAX_NAME,
    RECENT_SIGN_IN,
    VERIFY_EMAIL,
    CridChange,
    LinkClaim,
    clean_name,
    link_expiry,
    link_is_current,
    link_token,
    password_change_allowed,
    read_link_token,
    validate_crid_change,
    validate_metadata,
)

KEY = "a-test-secret-key-0123456789abcdef"
NOW = datetime(2026, 12, 7, 12, 0, tzinfo=timezone.utc)


def refusal(call) -> RegistrationRuleError:
    with pytest.raises(RegistrationRuleError) as caught:
        call()
    return caught.value


def test_usr_constants():
    assert (LINK_TTL, RECENT_SIGN_IN) == (timedelta(hours=24), timedelta(minutes=5))
    assert (FORGOT_PASSWORD, VERIFY_EMAIL) == ("forgot-password", "verify-email")
    assert CRID_BLANK == "Customer Registration ID cannot be blank"
    assert (MAX_CRID, MAX_NAME, MAX_METADATA_DEPTH) == (128, 100, 10)


def test_usr9_the_event_of_each_user_operation():
    assert (EVENT_CREATE, EVENT_CREATE_PENDING, EVENT_UPDATE, EVENT_CHANGE_EMAIL, EVENT_CHANGE_PASSWORD,
            EVENT_CHANGE_CRID, EVENT_FORGOT_PASSWORD_START, EVENT_FORGOT_PASSWORD_FINISH, EVENT_VERIFICATION_CODE,
            EVENT_VERIFIED) == ("CREATELOGIN", "CREATEPENDING", "UPDATEUSER", "CHGEMAIL", "CHGPASSWORD", "CHGCRID",
                                "PWDREQ", "PWDRESET", "VERIFYCODE", "VERIFYEMAIL")


# -- USR-3: metadata -------------------------------------------------------------------------------------------
def test_usr3_camel_case_metadata_up_to_100_characters_nested_too():
    metadata = {"a": "x" * 100, "b" + "c" * 99: 1, "nested": {"deeper": [1, "y" * 100, {"z": None}]}, "n": None}

    assert validate_metadata(metadata) == metadata
    assert validate_metadata(None) == {}


@pytest.mark.parametrize("metadata,field,message", [
    ([1], ["metadata"], "Metadata must be an object"),
    ({"Snake_case": 1}, ["metadata", "Snake_case"], "Metadata key 'Snake_case' must be camelCase"),
    ({"1st": 1}, ["metadata", "1st"], "Metadata key '1st' must be camelCase"),
    ({"a-b": 1}, ["metadata", "a-b"], "Metadata key 'a-b' must be camelCase"),
    ({1: 1}, ["metadata", "1"], "Metadata key 1 must be camelCase"),
    ({"a" * 101: 1}, ["metadata", "a" * 101], "A metadata key must be at most 100 characters"),
    ({"firstName": "Ann"}, ["metadata", "firstName"], "firstName is a top-level field, not metadata"),
    ({"lastName": "Lee"}, ["metadata", "lastName"], "lastName is a top-level field, not metadata"),
    ({"a": "x" * 101}, ["metadata", "a"], "A metadata value must be at most 100 characters"),
    ({"a": 10 ** 100}, ["metadata", "a"], "A metadata value must be at most 100 characters"),
    ({"a": {"b": "x" * 101}}, ["metadata", "a", "b"], "A metadata value must be at most 100 characters"),
    ({"a": ["ok", "x" * 101]}, ["metadata", "a", "1"], "A metadata value must be at most 100 characters"),
    ({"a": [{"B": 1}]}, ["metadata", "a", "0", "B"], "Metadata key 'B' must be camelCase"),
])
def test_usr3_metadata_refusals_name_the_entry(metadata, field, message):
    error = refusal(lambda: validate_metadata(metadata))

    assert (str(error), error.field, error.rule) == (message, field, "USR-3")


def test_usr3_names_are_allowed_below_the_top_level():
    assert validate_metadata({"contact": {"firstName": "Ann"}}) == {"contact": {"firstName": "Ann"}}


def nested(depth: int) -> dict:
    value: dict = {"leaf": 1}
    for _ in range(depth):
        value = {"n": value}
    return value


def test_usr3_metadata_nests_at_most_10_levels():
    validate_metadata(nested(10))
    error = refusal(lambda: validate_metadata(nested(11)))
    assert (str(error), error.rule) == ("Metadata may nest at most 10 levels", "USR-3")
    assert error.field == ["metadata"] + ["n"] * 11
    list_nested = {"a": [nested(9)]}
    validate_metadata(list_nested)
    assert str(refusal(lambda: validate_metadata({"a": [nested(10)]}))) == "Metadata may nest at most 10 levels"


def test_usr3_a_name_is_trimmed_bounded_and_free_text():
    assert clean_name("  Ann  ", ["input", "firstName"]) == "Ann"
    assert clean_name("   ", ["input", "firstName"]) is None
    assert clean_name(None, ["input", "firstName"]) is None
    assert clean_name(" " + "a" * 100 + " ", ["input", "firstName"]) == "a" * 100
    error = refusal(lambda: clean_name("a" * 101, ["input", "lastName"]))
    assert (str(error), error.field, error.rule) == ("Must be at most 100 characters", ["input", "lastName"], "USR-3")
    error = refusal(lambda: clean_name("An\u202en", ["input", "lastName"]))
    assert str(error) == "`lastName` contains a control or invisible character"


# -- USR-6: CRID changes ---------------------------------------------------------------------------------------
def test_usr6_a_crid_alone_gets_its_encrypted_crid():
    assert validate_crid_change(KEY, "  C-1 ", None) == CridChange("C-1", encrypt_crid(KEY, "C-1"))
    assert validate_crid_change(KEY, "C-1", "  ") == CridChange("C-1", encrypt_crid(KEY, "C-1"))
    assert validate_crid_change(KEY, "C-1", " " + encrypt_crid(KEY, "C-1") + " ").crid == "C-1"
    assert validate_crid_change(KEY, "c" * 128, None).crid == "c" * 128


@pytest.mark.parametrize("crid,encrypted,field,message", [
    (None, None, ["customerRegistrationId"], "Customer Registration ID cannot be blank"),
    ("  ", "  ", ["customerRegistrationId"], "Customer Registration ID cannot be blank"),
    (None, "abc", ["customerRegistrationId"], "The CRID must be given with the encrypted CRID"),
    ("c" * 129, None, ["customerRegistrationId"], "Customer Registration ID must be at most 128 characters"),
    ("C-1", "not-its-encrypted-crid", ["encryptedCustomerRegistrationId"],
     "The encrypted CRID does not belong to the CRID"),
])
def test_usr6_refusals(crid, encrypted, field, message):
    error = refusal(lambda: validate_crid_change(KEY, crid, encrypted))

    assert (str(error), error.field, error.rule) == (message, field, "USR-6")


# -- USR-7: links ----------------------------------------------------------------------------------------------
def test_usr7_a_link_token_carries_its_event_and_expiry_for_its_purpose():
    expires = link_expiry(NOW + timedelta(microseconds=999))
    token = link_token(KEY, FORGOT_PASSWORD, 42, expires)

    assert expires == NOW + timedelta(hours=24)
    assert read_link_token(KEY, FORGOT_PASSWORD, " " + token + " ") == LinkClaim(42, expires)
    with pytest.raises(InvalidToken):
        read_link_token(KEY, VERIFY_EMAIL, token)


@pytest.mark.parametrize("plaintext", ["42", "x:1", "42:y", "1:2:3"])
def test_usr7_a_sealed_token_of_another_shape_is_not_valid(plaintext):
    with pytest.raises(InvalidToken, match="^token is not valid$"):
        read_link_token(KEY, FORGOT_PASSWORD, seal(KEY, FORGOT_PASSWORD, plaintext))


def test_usr7_a_link_is_current_until_its_expiry():
    claim = LinkClaim(1, NOW)

    assert link_is_current(claim, NOW - timedelta(seconds=1)) is True
    assert link_is_current(claim, NOW) is False


# -- USR-10 ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("ok,signed_in,allowed", [
    (True, None, True),
    (False, None, False),
    (False, NOW - timedelta(minutes=5), True),
    (False, NOW - timedelta(minutes=5, seconds=1), False),
    (False, NOW + timedelta(minutes=1), True),  # clock skew
    (False, NOW + timedelta(minutes=1, seconds=1), False),
])
def test_usr10_the_current_password_or_a_sign_in_within_5_minutes(ok, signed_in, allowed):
    assert password_change_allowed(current_password_ok=ok, signed_in_at=signed_in, now=NOW) is allowed
