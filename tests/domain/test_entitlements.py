"""ENT-2/ENT-3 access levels and ENT-1/ENT-4 access codes, as pure rules."""

from __future__ import annotations

import pytest

from domain.entitlements import ACCESS_CODES, AccessLevel, HeldSubscription, access_code, access_level

DIGITAL = frozenset({"EEDITION", "PREMIUM"})
PRINT = frozenset({"EEDITION", "PREMIUM", "PUZZLES"})


def held(sid: str, status: str, codes: frozenset[str]) -> HeldSubscription:
    return HeldSubscription(subscription_id=sid, status=status, entitlement_codes=codes)


@pytest.mark.parametrize("status", ["ACTIVE", "PAUSED", "IN_GRACE"])
def test_ent2_premium_when_an_active_subscriptions_offer_includes_it(status):
    decision = access_level("PUZZLES", [held("S1", status, PRINT)])
    assert decision.level is AccessLevel.PREMIUM and decision.granting_subscription_ids == ("S1",)


def test_ent2_upgrade_when_active_subscriptions_do_not_include_it():
    assert access_level("PUZZLES", [held("S1", "ACTIVE", DIGITAL)]).level is AccessLevel.UPGRADE


@pytest.mark.parametrize("status", ["STOPPED", "PERMANENTLY_STOPPED"])
def test_ent2_stopped_subscriptions_do_not_count(status):
    assert access_level("PUZZLES", [held("S1", status, PRINT)]).level is AccessLevel.PURCHASE
    assert access_level("PUZZLES", [held("S1", status, PRINT), held("S2", "ACTIVE", DIGITAL)]).level \
        is AccessLevel.UPGRADE


def test_ent2_purchase_without_subscriptions():
    assert access_level("EEDITION", []).level is AccessLevel.PURCHASE


def test_ent3_temporary_entitlement_gives_premium():
    decision = access_level("PUZZLES", [held("S1", "ACTIVE", DIGITAL)], temporary_codes={"PUZZLES"})
    assert decision.level is AccessLevel.PREMIUM and decision.temporary
    assert access_level("PREMIUM", [], temporary_codes={"PUZZLES"}).level is AccessLevel.PURCHASE


def test_ent1_ent4_access_codes():
    assert access_code(AccessLevel.PREMIUM, "https://x.example.com") == "SS_Access_01"
    assert access_code(AccessLevel.PREMIUM, None) == "SS_Access_04"
    assert access_code(AccessLevel.UPGRADE, "https://x.example.com") == "SS_Access_02"
    assert ACCESS_CODES["SS_Access_04"] == "Unable to perform redirection because configuration is missing"
    assert ACCESS_CODES["SS_Access_03"] == "Get Access Level has failed"
