"""PAY-4/BUY-4 idempotency keys and MGR-2 TOTP codes as plain functions: the values each rule defines, for
`make mutate`."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from urllib.parse import parse_qs, urlparse

import pyotp
import pytest

from domain.crypto import unseal
from domain.idempotency import MAX_KEY_LENGTH, UPSTREAM_KEY_MAX, request_hash, upstream_key, validate_key
from domain.mfa import (
    CODE_DIGITS,
    DRIFT_STEPS,
    ISSUER,
    MFA_PURPOSE,
    STEP_SECONDS,
    code_matches,
    current_code,
    new_secret,
    otpauth_uri,
    seal_secret,
    unseal_secret,
)


# -- PAY-4, BUY-4: idempotency keys ------------------------------------------------------------------------------
def test_pay4_key_bounds():
    assert (MAX_KEY_LENGTH, UPSTREAM_KEY_MAX) == (255, 100)


def test_pay4_a_key_is_trimmed_and_must_be_1_to_255_characters():
    assert validate_key("  k-1  ") == "k-1"
    assert validate_key("k" * 255) == "k" * 255
    for blank in (None, "", "   "):
        with pytest.raises(ValueError, match="^idempotencyKey must not be blank$"):
            validate_key(blank)
    with pytest.raises(ValueError, match="^idempotencyKey must be at most 255 characters$"):
        validate_key("k" * 256)


class Kind(Enum):
    CARD = "CREDIT_CARD"


@dataclass
class Input:
    amount: Decimal
    kind: Kind
    _private: str = "ignored"


def test_pay4_the_request_hash_is_a_sha256_of_the_requests_meaning():
    digest = request_hash("makePayment", {"b": 1, "a": "x"})

    assert digest == hashlib.sha256(b'["makePayment",{"a":"x","b":1}]').hexdigest()


def test_pay4_key_order_and_number_formatting_do_not_matter():
    assert request_hash("op", {"a": 1, "b": 2}) == request_hash("op", {"b": 2, "a": 1})
    assert request_hash("op", {"t": Decimal("10")}) == request_hash("op", {"t": Decimal("10.00")})
    assert request_hash("op", {"t": Decimal("10.50")}) != request_hash("op", {"t": Decimal("10.5")})  # as sent
    assert request_hash("op", {"t": Decimal("1E+1")}) == request_hash("op", {"t": Decimal("10")})
    assert request_hash("op", {}) != request_hash("other", {})


def test_pay4_decimals_enums_objects_and_the_rest_as_plain_values():
    canonical = request_hash("op", {"t": Decimal("10.00"), "u": Decimal("2.50"), "k": Kind.CARD,
                                    "i": Input(Decimal("1.5"), Kind.CARD), "d": b"x", "n": Decimal("NaN"),
                                    "s": Decimal("sNaN"), "inf": Decimal("Infinity")})

    expected = ('["op",{"d":"b\'x\'","i":{"amount":"1.5","kind":"CREDIT_CARD"},"inf":"Infinity","k":"CREDIT_CARD",'
                '"n":"NaN","s":"sNaN","t":"1E+1","u":"2.50"}]')  # 10.00 normalized
    assert canonical == hashlib.sha256(expected.encode()).hexdigest()


def test_pay4_an_upstream_key_per_tenant_and_a_hash_for_a_long_key():
    assert upstream_key("pay", "NCSDEMO", "k-1") == "pay:NCSDEMO:k-1"
    fits = "k" * (100 - len("pay:NCSDEMO:"))
    assert upstream_key("pay", "NCSDEMO", fits) == "pay:NCSDEMO:" + fits
    longer = fits + "k"
    assert upstream_key("pay", "NCSDEMO", longer) == (
        "pay:NCSDEMO:sha256:" + hashlib.sha256(longer.encode()).hexdigest())


# -- MGR-2: TOTP --------------------------------------------------------------------------------------------------
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
AT = 1_700_000_000.0


def test_mgr2_totp_parameters():
    assert (MFA_PURPOSE, ISSUER, CODE_DIGITS, STEP_SECONDS, DRIFT_STEPS) == ("manager-totp", "papergraph", 6, 30, 1)


def test_mgr2_a_new_secret_is_32_base32_characters():
    secret = new_secret()

    assert len(secret) == 32 and set(secret) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
    assert new_secret() != secret


def test_mgr2_the_otpauth_uri_names_the_tenant_and_account():
    uri = urlparse(otpauth_uri(SECRET, "NCSDEMO", "ann@example.com"))

    assert (uri.scheme, uri.netloc, uri.path) == ("otpauth", "totp", "/papergraph:NCSDEMO%3Aann%40example.com")
    assert parse_qs(uri.query) == {"secret": [SECRET], "issuer": ["papergraph"]}


def test_mgr2_the_current_code_is_rfc_6238_with_30_second_steps():
    expected = pyotp.TOTP(SECRET, digits=6, interval=30).at(AT)

    assert current_code(SECRET, AT) == expected and len(expected) == 6
    assert current_code(SECRET) == pyotp.TOTP(SECRET, digits=6, interval=30).now()


def test_mgr2_a_code_of_this_step_or_one_either_side_matches():
    for offset in (-30, 0, 30):
        assert code_matches(SECRET, current_code(SECRET, AT + offset), AT) is True
    for offset in (-60, 60):
        assert code_matches(SECRET, current_code(SECRET, AT + offset), AT) is False
    assert code_matches(SECRET, " " + current_code(SECRET, AT) + " ", AT) is True


@pytest.mark.parametrize("code", ["", None, "12345", "1234567", "12a456", "１２３４５６"])
def test_mgr2_anything_but_six_digits_is_no_match(code):
    assert code_matches(SECRET, code, AT) is False


def test_mgr2_a_six_digit_code_that_is_not_the_current_one_is_no_match():
    right = current_code(SECRET, AT)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"

    assert code_matches(SECRET, wrong, AT) is False


def test_mgr2_the_secret_is_sealed_for_its_purpose():
    sealed = seal_secret("a-secret-key-0123456789abcdef", SECRET)

    assert SECRET not in sealed
    assert unseal_secret("a-secret-key-0123456789abcdef", sealed) == SECRET
    assert unseal("a-secret-key-0123456789abcdef", "manager-totp", sealed) == SECRET
