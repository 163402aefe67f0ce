"""BUY-10 as plain functions (domain/claims.py): the claim link's lifetime, its sealed token and whose e-mail it
is. The claim flow itself is tested through the API in tests/graphql/messages/test_purchase_claim.py; these pin
each value for `make mutate`."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from domain.claims import CLAIM_TTL, EVENT_CLAIM_OFFERED, PURPOSE, claim_expiry, claim_token, read_claim_token, \
    same_email
from domain.crypto import InvalidToken, seal

KEY = "k" * 32


def test_buy10_constants():
    """BUY-10 (decision): the link lives 30 days, is sealed for its own purpose and offered as CLAIMPURCHASE."""
    assert CLAIM_TTL == timedelta(days=30)
    assert (PURPOSE, EVENT_CLAIM_OFFERED) == ("purchase-claim", "CLAIMPURCHASE")


def test_buy10_the_claim_expires_30_days_after_it_was_made_to_the_second():
    made = datetime(2026, 3, 1, 10, 20, 30, 999999, tzinfo=timezone.utc)
    assert claim_expiry(made) == datetime(2026, 3, 31, 10, 20, 30, tzinfo=timezone.utc)


def test_buy10_a_naive_creation_time_is_utc():
    expiry = claim_expiry(datetime(2026, 3, 1, 10, 0, 0, 5))
    assert expiry == datetime(2026, 3, 31, 10, 0, 0, tzinfo=timezone.utc)
    assert expiry.tzinfo is timezone.utc


def test_buy10_a_claim_time_in_another_zone_keeps_its_instant():
    paris = timezone(timedelta(hours=1))
    assert claim_expiry(datetime(2026, 3, 1, 11, 0, tzinfo=paris)) == datetime(2026, 3, 31, 10, 0,
                                                                                tzinfo=timezone.utc)


def test_buy10_the_token_carries_the_claim_id_and_expiry():
    expires = datetime(2026, 3, 31, 10, 20, 30, tzinfo=timezone.utc)
    token = claim_token(KEY, 42, expires)

    assert read_claim_token(KEY, token) == (42, expires)
    assert read_claim_token(KEY, f"  {token}\n") == (42, expires)
    assert read_claim_token(KEY, token)[1].tzinfo is timezone.utc
    assert seal(KEY, "purchase-claim", f"42:{int(expires.timestamp())}") == token


@pytest.mark.parametrize("token,reason", [("", "token is empty or too long"), (None, "token is empty or too long"),
                                          ("  ", "token is empty or too long"), ("not-a-token", "token is not valid")])
def test_buy10_a_token_papergraph_did_not_issue_is_invalid(token, reason):
    with pytest.raises(InvalidToken) as caught:
        read_claim_token(KEY, token)
    assert str(caught.value) == reason


def test_buy10_a_token_of_another_key_or_purpose_is_invalid():
    expires = datetime(2026, 3, 31, tzinfo=timezone.utc)
    with pytest.raises(InvalidToken):
        read_claim_token("x" * 32, claim_token(KEY, 1, expires))
    with pytest.raises(InvalidToken):
        read_claim_token(KEY, seal(KEY, "invitation", f"1:{int(expires.timestamp())}"))


@pytest.mark.parametrize("plaintext", ["42", "42:1:2", "a:1", "42:b", ""])
def test_buy10_a_sealed_value_not_id_and_expiry_is_invalid(plaintext):
    with pytest.raises(InvalidToken) as caught:
        read_claim_token(KEY, seal(KEY, PURPOSE, plaintext))
    assert str(caught.value) == "token is not valid"


def test_buy10_only_the_purchases_email_claims_it_case_insensitively():
    assert same_email("Ann@Example.com", " ann@example.COM ") is True
    assert same_email("ann@example.com", "bob@example.com") is False
    for a, b in (("", "ann@example.com"), ("ann@example.com", ""), (None, "ann@example.com"),
                 ("ann@example.com", None), (None, None), ("", "")):
        assert same_email(a, b) is False
