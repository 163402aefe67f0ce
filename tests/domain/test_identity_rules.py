"""Pure rules of messages (MSG), sessions (SSN) and invitations (INV), at their boundaries."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from domain.invitations import check_invitation_limits, validate_invitation_metadata
from domain.messages import is_permanent_refusal, message_id, receipt_lines, retry_delay
from domain.money import RuleError
from domain.registrations import RegistrationRuleError
from domain.sessions import FailureWindow, SessionLimits, access_token_expiry, issued_before_logout, session_expired

T0 = datetime(2026, 12, 7, tzinfo=timezone.utc)
LIMITS = SessionLimits(access=timedelta(minutes=15), idle=timedelta(minutes=30), absolute=timedelta(hours=24))


def test_msg1_retry_delay_doubles_and_is_capped():
    assert [retry_delay(n, 30).total_seconds() for n in (1, 2, 3)] == [30, 60, 120]
    assert retry_delay(40, 30).total_seconds() == 3600


def test_msg1_only_5xx_is_permanent():
    assert [is_permanent_refusal(c) for c in (None, 421, 451, 499, 500, 550, 600)] == [
        False, False, False, False, True, True, False]


def test_msg1_message_id_is_the_same_for_every_attempt():
    assert message_id(7, "NCSDEMO", "papergraph.dev") == message_id(7, "NCSDEMO", "papergraph.dev") == \
        "<outbox-7.ncsdemo@papergraph.dev>"


def test_msg3_receipt_lines_leave_out_zero_extras_and_show_the_fee_when_charged():
    lines = receipt_lines(option_amount="10.79", tip="0", donation="0.00", activation_fee="0",
                          processing_fee="0.45", fee_tax="0.03")
    assert lines == [{"label": "Subscription", "amount": "10.79"},
                     {"label": "Credit-card processing fee", "amount": "0.45"},
                     {"label": "Processing fee tax", "amount": "0.03"}]


def test_ssn5_idle_and_absolute_limits_at_their_boundaries():
    assert not session_expired(T0 + timedelta(minutes=30), T0, T0, LIMITS)
    assert session_expired(T0 + timedelta(minutes=30, seconds=1), T0, T0, LIMITS)
    late = T0 + timedelta(hours=24)
    assert session_expired(late, T0, late - timedelta(minutes=1), LIMITS)
    assert access_token_expiry(T0 + timedelta(hours=23, minutes=55), T0, LIMITS) == T0 + timedelta(hours=24)


def test_ssn4_tokens_issued_before_the_last_sign_out_are_refused():
    assert not issued_before_logout(T0.timestamp(), None)
    assert issued_before_logout(T0.timestamp() - 0.001, T0)
    assert not issued_before_logout(T0.timestamp(), T0)
    assert issued_before_logout(None, T0)


def test_ssn2_failure_window_blocks_after_five_and_forgets_after_the_window():
    window = FailureWindow(max_failures=5, window=timedelta(minutes=15))
    for second in range(5):
        assert not window.blocked(("t", "a"), second)
        window.failed(("t", "a"), second)
    assert window.blocked(("t", "a"), 10) and not window.blocked(("t", "b"), 10)
    assert not window.blocked(("t", "a"), 4 + 15 * 60)
    window.failed(("t", "c"), 0)
    window.succeeded(("t", "c"))
    assert not window.blocked(("t", "c"), 1)


def test_inv3_pending_invitations_count_as_guests_and_against_the_offer():
    limits = {"owners_limit": 1, "guests_limit": 2, "max_links": 10}
    check_invitation_limits(["OWNER"], 1, 1, allowed_registrations=3, field=["f"], **limits)
    with pytest.raises(RuleError):
        check_invitation_limits(["OWNER"], 2, 1, allowed_registrations=None, field=["f"], **limits)
    with pytest.raises(RuleError):
        check_invitation_limits(["OWNER"], 1, 1, allowed_registrations=2, field=["f"], **limits)


def test_inv5_phone_key_is_phone_number():
    assert validate_invitation_metadata({"phoneNumber": "555"}, ["m"]) == {"phoneNumber": "555"}
    with pytest.raises(RegistrationRuleError):
        validate_invitation_metadata({"phone": "555"}, ["m"])
