"""Pure registration rules: state (USR-1), lookup validation (USR-2, LNK-1), e-mail hygiene (USR-4) and the
encrypted CRID token."""

from __future__ import annotations

import pytest

from domain.crypto import InvalidToken, decrypt_crid, encrypt_crid, seal, unseal
from domain.registrations import (
    EMPTY_LOOKUP_MESSAGE,
    MetadataFilter,
    RegistrationRuleError,
    clean_email,
    registration_state,
    validate_link_lookup,
    validate_user_lookup,
)


# -- USR-1 ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("provider", ["Auth0", "SSOR", "Gigya", "Firefly", None, ""])
@pytest.mark.parametrize("has_password", [True, False])
@pytest.mark.parametrize("verified", [True, False])
def test_usr1_third_party_provider_always_reports_standard(provider, has_password, verified):
    assert registration_state(provider, has_password=has_password, email_verified=verified) == "STANDARD"


@pytest.mark.parametrize(("has_password", "verified", "state"), [
    (False, True, "LITE"),
    (False, False, "LITE"),  # no password wins over not verified
    (True, False, "UNVERIFIED"),
    (True, True, "STANDARD"),
])
def test_usr1_mg2_state_from_password_and_verification(has_password, verified, state):
    assert registration_state("MG2", has_password=has_password, email_verified=verified) == state


def test_usr1_provider_name_is_matched_case_insensitively():
    assert registration_state(" mg2 ", has_password=False, email_verified=True) == "LITE"


# -- USR-4 ------------------------------------------------------------------------------------------
def test_usr4_email_is_trimmed():
    assert clean_email("  ada@example.com\t\n") == "ada@example.com"


@pytest.mark.parametrize("char", ["\u200b", "\u00a0", "\u00ad", "\ufeff", "\u200d", "\u2060", "\x00", "\x07", "\x7f",
                                  "\u202e", "\u3000", " "])
def test_usr4_invisible_or_control_character_inside_email_is_rejected(char):
    with pytest.raises(RegistrationRuleError) as raised:
        clean_email(f"ada{char}@example.com")

    assert raised.value.field == ["email"]
    assert raised.value.rule == "USR-4"


def test_usr4_blank_email_is_rejected():
    with pytest.raises(RegistrationRuleError):
        clean_email("   ")


def test_usr4_international_address_is_accepted():
    assert clean_email("rené.müller@bücher.example") == "rené.müller@bücher.example"


# -- USR-2 ------------------------------------------------------------------------------------------
def test_usr2_email_and_metadata_together_is_a_validation_error_naming_metadata():
    with pytest.raises(RegistrationRuleError) as raised:
        validate_user_lookup(email="a@example.com", metadata=[MetadataFilter("k", "v")])

    assert raised.value.field == ["metadata"]
    assert raised.value.rule == "USR-2"


def test_usr2_encrypted_crid_combines_with_no_other_key():
    with pytest.raises(RegistrationRuleError) as raised:
        validate_user_lookup(email="a@example.com", encrypted_crid="token")

    assert raised.value.field == ["encryptedCrid"]


def test_usr2_ten_metadata_filters_are_accepted_eleven_are_not():
    ten = [MetadataFilter(f"k{i}", "v") for i in range(10)]

    assert len(validate_user_lookup(metadata=ten).metadata) == 10
    with pytest.raises(RegistrationRuleError) as raised:
        validate_user_lookup(metadata=ten + [MetadataFilter("k10", "v")])
    assert raised.value.field == ["metadata"]


@pytest.mark.parametrize("part", ["key", "value"])
def test_usr2_metadata_key_and_value_are_at_most_100_characters(part):
    ok = {"key": "k", "value": "v", part: "x" * 100}
    too_long = {"key": "k", "value": "v", part: "x" * 101}

    validate_user_lookup(metadata=[MetadataFilter(**ok)])
    with pytest.raises(RegistrationRuleError) as raised:
        validate_user_lookup(metadata=[MetadataFilter("a", "b"), MetadataFilter(**too_long)])
    assert raised.value.field == ["metadata", "1", part]


def test_usr2_email_lookup_is_cleaned_and_single():
    lookup = validate_user_lookup(email=" ada@example.com ")

    assert lookup.email == "ada@example.com"
    assert lookup.single


def test_usr2_no_key_is_a_validation_error_and_metadata_lookup_is_not_single():
    with pytest.raises(RegistrationRuleError, match="at least one of the input fields"):
        validate_user_lookup()
    with pytest.raises(RegistrationRuleError, match="at least one of the input fields"):
        validate_user_lookup(email=None, metadata=[], encrypted_crid=None, first_name="  ")
    assert not validate_user_lookup(metadata=[MetadataFilter("k", "v")]).single
    assert not validate_user_lookup(last_name=" an ").single


def test_usr2_usr4_email_lookup_with_zero_width_space_is_rejected():
    with pytest.raises(RegistrationRuleError) as raised:
        validate_user_lookup(email="ada\u200b@example.com")

    assert raised.value.field == ["email"]


def test_usr2_names_are_trimmed_prefixes_that_narrow_metadata_or_stand_alone():
    """USR-2 (issue 17): first and last name trimmed, at most 100 characters each, with each other and metadata, never
    with an e-mail or CRID; no criterion at all answers EMPTY_LOOKUP_MESSAGE with no field."""
    lookup = validate_user_lookup(first_name=" Ada ", last_name=" Love", metadata=[MetadataFilter("k", "v")])
    assert (lookup.first_name, lookup.last_name, lookup.email, lookup.encrypted_crid) == ("Ada", "Love", None, None)
    assert validate_user_lookup(first_name="A" * 100).first_name == "A" * 100
    assert validate_user_lookup(last_name="Lo", first_name=" ").first_name is None
    for name, keyword in (("firstName", "first_name"), ("lastName", "last_name")):
        with pytest.raises(RegistrationRuleError) as raised:
            validate_user_lookup(**{keyword: "A" * 101})
        assert (str(raised.value), raised.value.field, raised.value.rule) == (
            f"`{name}` must be at most 100 characters", [name], "USR-2")
        for key in ({"email": "ada@example.com"}, {"encrypted_crid": "abc"}):
            with pytest.raises(RegistrationRuleError) as raised:
                validate_user_lookup(**{keyword: "Ada"}, **key)
            assert (str(raised.value), raised.value.field, raised.value.rule) == (
                "Names narrow a metadata lookup or stand alone; an e-mail or CRID finds one user", [name], "USR-2")
    with pytest.raises(RegistrationRuleError) as raised:
        validate_user_lookup(first_name="Ada", last_name="Love", email="ada@example.com")
    assert raised.value.field == ["firstName"]
    with pytest.raises(RegistrationRuleError) as raised:
        validate_user_lookup(first_name=" ", email="ada@example.com", metadata=[MetadataFilter("k", "v")])
    assert raised.value.field == ["metadata"]  # a blank name is no criterion: the e-mail/metadata refusal
    with pytest.raises(RegistrationRuleError) as raised:
        validate_user_lookup()
    assert (str(raised.value), raised.value.field, raised.value.rule) == (EMPTY_LOOKUP_MESSAGE, [], "USR-2")
    assert EMPTY_LOOKUP_MESSAGE == "Please enter a value in at least one of the input fields."
    assert validate_user_lookup(encrypted_crid=" abc ").encrypted_crid == "abc"


# -- LNK-1 ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("args", [(None, None, None), ("", " ", "")])
def test_lnk1_link_lookup_needs_at_least_one_criterion(args):
    with pytest.raises(RegistrationRuleError) as raised:
        validate_link_lookup(*args)

    assert raised.value.rule == "LNK-1"


@pytest.mark.parametrize("value", ["abc", "-1", "1.5", "²", str(2**31)])
def test_lnk1_registration_id_must_be_a_registration_number(value):
    with pytest.raises(RegistrationRuleError) as raised:
        validate_link_lookup(registration_id=value)

    assert raised.value.field == ["registrationId"]


def test_lnk1_criteria_are_kept_together():
    lookup = validate_link_lookup(crid=" auth0|x ", registration_id="42", subscription_id="NCS-0000001")

    assert (lookup.crid, lookup.registration_id, lookup.subscription_id) == ("auth0|x", 42, "NCS-0000001")


# -- encrypted CRID (USR-2, USR-6) ---------------------------------------------------------------------
def test_encrypted_crid_round_trips_and_is_stable():
    token = encrypt_crid("secret", "auth0|abc")

    assert token == encrypt_crid("secret", "auth0|abc")
    assert token != encrypt_crid("secret", "auth0|abd")
    assert "auth0" not in token
    assert decrypt_crid("secret", token) == "auth0|abc"


@pytest.mark.parametrize("token", ["", "not-a-token", "ÿÿÿ", "A" * 2000])
def test_encrypted_crid_rejects_garbage(token):
    with pytest.raises(InvalidToken):
        decrypt_crid("secret", token)


def test_encrypted_crid_is_bound_to_key_and_purpose():
    token = encrypt_crid("secret", "auth0|abc")

    with pytest.raises(InvalidToken):
        decrypt_crid("another secret", token)
    with pytest.raises(InvalidToken):
        unseal("secret", "password-reset", token)
    assert unseal("secret", "password-reset", seal("secret", "password-reset", "42")) == "42"


def test_encrypted_crid_tampering_is_detected():
    token = encrypt_crid("secret", "auth0|abc")
    tampered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]

    with pytest.raises(InvalidToken):
        decrypt_crid("secret", tampered)
