"""MGR-1, MGR-2, MGR-3, USR-10, BUY-11, TEN-1: how verified token claims become a principal
(`auth/principals.py`), as plain functions. The API tests (tests/auth/test_staff.py, test_matrix.py) show the
same rules through requests; these pin each value, fast enough for `make mutate` to run per mutant."""

from __future__ import annotations

import pytest

from auth.principals import (
    ANONYMOUS,
    CLAIM_NAMESPACE,
    ENTITLEMENTS,
    HOUSEHOLD_LEVELS,
    OFFERS,
    PAYMENTS,
    REGISTRATIONS,
    SECTIONS,
    SETTINGS,
    SUBSCRIPTIONS,
    AccessLevel,
    InvalidClaims,
    Principal,
    PrincipalKind,
    principal_from_claims,
    principal_key,
    with_access_overrides,
)

NS = CLAIM_NAMESPACE
FULL, READ, NONE = AccessLevel.FULL_CONTROL, AccessLevel.READ_ONLY, AccessLevel.NO_ACCESS


def staff(**access: AccessLevel) -> Principal:
    return Principal(PrincipalKind.STAFF, tenant="T1", subject="auth0|staff", access=access)


def test_mgr1_the_seven_sections_and_the_three_levels():
    assert SECTIONS == ("subscriptions", "registrations", "payments", "household_levels", "entitlements", "offers",
                        "settings")
    assert (SUBSCRIPTIONS, REGISTRATIONS, PAYMENTS, HOUSEHOLD_LEVELS, ENTITLEMENTS, OFFERS, SETTINGS) == SECTIONS
    assert [level.value for level in AccessLevel] == ["NO_ACCESS", "READ_ONLY", "FULL_CONTROL"]
    assert [kind.value for kind in PrincipalKind] == ["anonymous", "customer", "staff", "partner"]
    assert NS == "https://papergraph.dev/"


@pytest.mark.parametrize("level,reads,changes,at_least_read,at_least_full", [
    (NONE, False, False, False, False),
    (READ, True, False, True, False),
    (FULL, True, True, True, True),
])
def test_mgr1_read_needs_read_only_or_more_and_every_change_full_control(level, reads, changes, at_least_read,
                                                                         at_least_full):
    principal = staff(**{PAYMENTS: level})

    assert principal.access_to(PAYMENTS) is level
    assert (principal.can_read(PAYMENTS), principal.can_change(PAYMENTS)) == (reads, changes)
    assert principal.has_level(PAYMENTS, READ) is at_least_read
    assert principal.has_level(PAYMENTS, FULL) is at_least_full
    assert principal.has_level(PAYMENTS, NONE) is True


def test_mgr1_a_section_not_named_is_no_access():
    principal = staff(**{PAYMENTS: FULL})

    assert principal.access_to(OFFERS) is NONE
    assert (principal.can_read(OFFERS), principal.can_change(OFFERS)) == (False, False)


def test_the_anonymous_principal_and_who_is_a_customer():
    assert (ANONYMOUS.kind, ANONYMOUS.tenant, ANONYMOUS.subject, ANONYMOUS.mfa) == (
        PrincipalKind.ANONYMOUS, None, None, False)
    assert ANONYMOUS.is_anonymous is True and ANONYMOUS.crid is None
    assert dict(ANONYMOUS.access) == {} and ANONYMOUS.scopes == frozenset() and ANONYMOUS.authenticated_at is None
    customer = Principal(PrincipalKind.CUSTOMER, tenant="T1", subject="CRID1")
    assert customer.crid == "CRID1" and customer.is_anonymous is False
    assert staff().crid is None  # a staff subject is no CRID
    assert Principal(PrincipalKind.PARTNER, subject="abc@clients").crid is None


def test_buy11_principal_key_names_who_did_something():
    assert principal_key(Principal(PrincipalKind.CUSTOMER, tenant="T1", subject="CRID1")) == "customer:CRID1"
    assert principal_key(staff()) == "staff:auth0|staff"
    assert principal_key(Principal(PrincipalKind.PARTNER, subject="x@clients")) == "partner:x@clients"
    assert principal_key(ANONYMOUS) is None
    assert principal_key(Principal(PrincipalKind.CUSTOMER, tenant="T1", subject="")) is None
    long = principal_key(Principal(PrincipalKind.STAFF, subject="s" * 300))
    assert long == ("staff:" + "s" * 300)[:160] and len(long) == 160


def test_mgr1_stored_levels_replace_the_tokens_whole():
    principal = staff(**{PAYMENTS: FULL, OFFERS: READ})

    assert with_access_overrides(principal, {}) is principal  # nothing stored: the token's claims apply
    overridden = with_access_overrides(principal, {SUBSCRIPTIONS: "READ_ONLY", SETTINGS: "FULL_CONTROL",
                                                   "unknown_section": "FULL_CONTROL", REGISTRATIONS: "ADMIN"})
    assert dict(overridden.access) == {SUBSCRIPTIONS: READ, SETTINGS: FULL}
    assert overridden.access_to(PAYMENTS) is NONE  # a section never stored is NO_ACCESS
    assert (overridden.kind, overridden.subject, overridden.tenant) == (principal.kind, principal.subject, "T1")


def test_ten1_a_customer_token_names_its_tenant_and_subject():
    principal = principal_from_claims({"sub": "CRID1", NS + "tenant": "T1", "iat": 1700000000})

    assert principal == Principal(PrincipalKind.CUSTOMER, tenant="T1", subject="CRID1", access={},
                                  scopes=frozenset(), mfa=False, authenticated_at=1700000000.0)


def test_ten1_an_empty_tenant_is_none_and_a_missing_subject_is_empty():
    principal = principal_from_claims({NS + "tenant": ""})

    assert (principal.kind, principal.tenant, principal.subject) == (PrincipalKind.CUSTOMER, None, "")


def test_mgr1_a_staff_token_carries_its_known_levels_only():
    principal = principal_from_claims({
        "sub": "auth0|m", NS + "tenant": "T1", NS + "principal": "staff",
        NS + "access": {PAYMENTS: "FULL_CONTROL", OFFERS: "READ_ONLY", "elsewhere": "FULL_CONTROL",
                        SETTINGS: "OWNER"}})

    assert principal.kind is PrincipalKind.STAFF
    assert dict(principal.access) == {PAYMENTS: FULL, OFFERS: READ}


def test_mgr1_a_customer_token_with_an_access_claim_gets_no_levels():
    principal = principal_from_claims({"sub": "CRID1", NS + "principal": "customer",
                                       NS + "access": {PAYMENTS: "FULL_CONTROL"}})

    assert principal.kind is PrincipalKind.CUSTOMER and dict(principal.access) == {}


@pytest.mark.parametrize("claims", [
    {"sub": "abc@clients", "scope": "read:payments write:offers"},
    {"sub": "machine", "gty": "client-credentials", "scope": "read:payments write:offers"},
    {"sub": "abc@clients", NS + "principal": "staff", "scope": "read:payments write:offers",
     NS + "access": {PAYMENTS: "FULL_CONTROL"}},
])
def test_mgr3_client_credentials_are_a_partner_never_a_customer_or_staff(claims):
    principal = principal_from_claims({**claims, NS + "tenant": "T1"})

    assert principal.kind is PrincipalKind.PARTNER and principal.crid is None
    assert principal.scopes == frozenset({"read:payments", "write:offers"})
    assert dict(principal.access) == {}


def test_mgr3_another_grant_type_is_not_a_partner():
    assert principal_from_claims({"sub": "x", "gty": "password"}).kind is PrincipalKind.CUSTOMER
    assert principal_from_claims({"sub": "x@clientsX"}).kind is PrincipalKind.CUSTOMER


@pytest.mark.parametrize("claims,mfa", [
    ({}, False),
    ({NS + "mfa": True}, True),
    ({NS + "mfa": False}, False),
    ({"amr": ["mfa"]}, True),
    ({"amr": ["otp"]}, True),
    ({"amr": ["pwd"]}, False),
    ({NS + "mfa": False, "amr": ["pwd", "otp"]}, True),
])
def test_mgr2_a_second_factor_from_the_mfa_claim_or_amr(claims, mfa):
    principal = principal_from_claims({"sub": "auth0|m", NS + "principal": "staff", **claims})

    assert principal.mfa is mfa


@pytest.mark.parametrize("claims,signed_in", [
    ({"auth_time": 1700000100, "iat": 1700000200}, 1700000100.0),
    ({"iat": 1700000200}, 1700000200.0),
    ({"iat": 1700000200.5}, 1700000200.5),
    ({"auth_time": True, "iat": 1700000200}, 1700000200.0),  # a boolean is not a time
    ({"auth_time": "1700000100", "iat": False}, None),
    ({}, None),
])
def test_usr10_signed_in_at_is_auth_time_else_iat(claims, signed_in):
    assert principal_from_claims({"sub": "CRID1", **claims}).authenticated_at == signed_in


@pytest.mark.parametrize("claims,message", [
    ({NS + "tenant": 7}, "the `https://papergraph.dev/tenant` claim must be a string"),
    ({NS + "principal": ["staff"]}, "the `https://papergraph.dev/principal` claim must be a string"),
    ({"sub": 12}, "the `sub` claim must be a string"),
    ({"scope": ["read:payments"]}, "the `scope` claim must be a space-separated string"),
    ({NS + "principal": "staff", NS + "access": "FULL_CONTROL"},
     "the `https://papergraph.dev/access` claim must be an object mapping each section to an access level"),
    ({NS + "principal": "staff", NS + "access": {PAYMENTS: 2}},
     "the `https://papergraph.dev/access` claim must map each section to a level name"),
    ({NS + "mfa": "yes"}, "the `https://papergraph.dev/mfa` claim must be true or false"),
    ({"amr": "mfa"}, "the `amr` claim must be a list of strings"),
])
def test_a_claim_of_the_wrong_shape_is_refused_with_its_name(claims, message):
    with pytest.raises(InvalidClaims) as caught:
        principal_from_claims({"sub": "x", **claims} if "sub" not in claims else claims)

    assert str(caught.value) == message
