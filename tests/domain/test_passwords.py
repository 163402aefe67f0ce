"""USR-5 (the password policy) and the scrypt hash papergraph keeps on MG2 tenants, as plain functions: the values
each rule defines, for `make mutate`."""

from __future__ import annotations

import base64
import hashlib
import string

import pytest

from domain.passwords import (
    MAX_LENGTH,
    MIN_LENGTH,
    PASSWORD_POLICY,
    PREFIX,
    SCRYPT_LENGTH,
    SCRYPT_LOG2_N,
    SCRYPT_P,
    SCRYPT_R,
    SPECIALS,
    generate_password,
    hash_password,
    needs_rehash,
    validate_password,
)
from domain.passwords import verify_password
from domain.registrations import RegistrationRuleError

FAST = 4  # log2 n for tests that hash: the format and checks are the same, the work is not


def test_usr5_the_policy_values():
    assert (MIN_LENGTH, MAX_LENGTH) == (8, 128)
    assert SPECIALS == set(string.punctuation)
    assert PASSWORD_POLICY == ("Password must be at least 8 characters long and include at least one numeral and "
                               "one special character")
    assert (SCRYPT_LOG2_N, SCRYPT_R, SCRYPT_P, SCRYPT_LENGTH, PREFIX) == (14, 8, 1, 32, "scrypt")


@pytest.mark.parametrize("password", ["abcdef1!", " bcdef1! ", "x" * 126 + "1!", "1!" + "é" * 6])
def test_usr5_eight_to_128_characters_with_a_digit_and_a_special_one_are_kept_as_given(password):
    assert validate_password(password) == password


@pytest.mark.parametrize("password,message", [
    ("abcde1!", PASSWORD_POLICY),  # 7 characters
    ("abcdefg!", PASSWORD_POLICY),  # no digit
    ("abcdefg1", PASSWORD_POLICY),  # no special character
    ("abcdefg1 ", PASSWORD_POLICY),  # a space is not a special character
    ("x" * 127 + "1!", "Password must be at most 128 characters long"),
])
def test_usr5_anything_else_is_refused_with_the_policy(password, message):
    with pytest.raises(RegistrationRuleError) as caught:
        validate_password(password, ("input", "password"))

    assert (str(caught.value), caught.value.field, caught.value.rule) == (message, ["input", "password"], "USR-5")


def test_usr3_a_generated_password_meets_the_policy_and_is_new_each_time():
    first, second = generate_password(), generate_password()

    assert validate_password(first) == first and first != second
    assert first.endswith("7!") and len(first) == 34


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode().rstrip("=")


def test_ssn1_the_hash_is_scrypt_in_its_stored_form():
    stored = hash_password("abcdef1!", log2_n=FAST)

    prefix, log2_n, r, p, salt, digest = stored.split("$")
    assert (prefix, log2_n, r, p) == ("scrypt", "4", "8", "1")
    raw_salt = base64.b64decode(salt + "=" * (-len(salt) % 4))
    assert len(raw_salt) == 16 and "=" not in salt + digest
    assert digest == b64(hashlib.scrypt(b"abcdef1!", salt=raw_salt, n=16, r=8, p=1, maxmem=2 ** 26, dklen=32))
    assert hash_password("abcdef1!", log2_n=FAST) != stored  # a new salt each time


def test_ssn1_the_default_cost_is_2_to_the_14():
    assert hash_password("abcdef1!").split("$")[1] == "14"


def test_ssn1_the_right_password_verifies_and_a_wrong_one_does_not():
    stored = hash_password("abcdef1!", log2_n=FAST)

    assert verify_password("abcdef1!", stored) is True
    assert verify_password("abcdef1?", stored) is False
    assert verify_password("abcdef1! ", stored) is False


def test_ssn1_a_hash_made_with_other_parameters_still_verifies():
    salt = b"0123456789abcdef"
    digest = hashlib.scrypt(b"abcdef1!", salt=salt, n=2 ** 5, r=4, p=2, maxmem=2 ** 26, dklen=24)

    assert verify_password("abcdef1!", f"scrypt$5$4$2${b64(salt)}${b64(digest)}") is True


@pytest.mark.parametrize("stored", [None, "", "bcrypt$4$8$1$c2FsdA$ZGlnZXN0", "scrypt$4$8$1$c2FsdA",
                                    "scrypt$x$8$1$c2FsdA$ZGlnZXN0", "scrypt$4$8$1$c2FsdA$ZGlnZXN0$extra",
                                    "plain-text-password"])
def test_ssn1_a_malformed_or_foreign_hash_does_not_verify(stored):
    assert verify_password("abcdef1!", stored) is False


def test_ssn1_a_foreign_prefix_with_the_right_digest_does_not_verify():
    stored = hash_password("abcdef1!", log2_n=FAST)

    assert verify_password("abcdef1!", "bcrypt" + stored[len("scrypt"):]) is False


@pytest.mark.parametrize("stored,rehash", [
    ("scrypt$14$8$1$c2FsdA$ZGlnZXN0", False),
    ("scrypt$15$8$1$c2FsdA$ZGlnZXN0", False),
    ("scrypt$13$8$1$c2FsdA$ZGlnZXN0", True),
    ("bcrypt$14$8$1$c2FsdA$ZGlnZXN0", True),
    ("scrypt$14$8$1$c2FsdA", True),
])
def test_ssn1_a_hash_below_the_current_cost_or_of_another_form_needs_rehashing(stored, rehash):
    assert needs_rehash(stored) is rehash
