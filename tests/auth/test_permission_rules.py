"""MGR-1, MGR-2, MGR-3, LNK-1, LNK-3, LNK-4, USR-8: the rules of `auth/permissions.py` decided for a fake request
context, built inside each test. tests/auth/test_matrix.py asks every root field through the API; the rules there
are built once, when the schema is imported, which `make mutate` cannot see change. These build each rule in the
test and pin its decision, its refusal and what the refusal says, fast enough to run per mutant."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest

from auth.permissions import (
    AnyCustomer,
    ANY_CUSTOMER,
    ANY_STAFF,
    ANYONE,
    CREATED_CRIDS,
    GUEST,
    OWNER,
    REQUIRE_MANAGER_MFA,
    SIGNED_IN,
    STAFF_OR_PARTNER,
    CustomerLinked,
    CustomerLinkLookup,
    CustomerManagesLink,
    CustomerSelf,
    CustomerSelfOrOwnersGuest,
    Denied,
    Guard,
    PartnerScope,
    Rule,
    StaffAccess,
    Unprivileged,
    allow,
    arg,
    asks_false,
    asks_true,
    asks_value,
    changes,
    check,
    customer_linked,
    customer_owner,
    customer_self,
    decide,
    denial,
    guarded_reference,
    parent,
    partner_read,
    partner_write,
    reads,
    registration_data,
    rules_of,
    staff_change,
    staff_full_control_read,
    staff_read,
)
from auth.principals import ANONYMOUS, PAYMENTS, SETTINGS, AccessLevel, Principal, PrincipalKind

FULL, READ = AccessLevel.FULL_CONTROL, AccessLevel.READ_ONLY


class Settings:
    def __init__(self, flags: dict[str, bool]) -> None:
        self.flags = flags

    def flag(self, name: str) -> bool:
        return self.flags.get(name, False)


class Links:
    def __init__(self, links: dict[int, tuple[Any, str]]) -> None:
        self.links = links

    async def load(self, link_id: int):
        return self.links.get(link_id)


@dataclass
class Context:
    principal: Principal
    flags: dict[str, bool] = field(default_factory=dict)
    roles: dict[str, str] = field(default_factory=dict)
    registration: Any = None
    links: dict[int, tuple[Any, str]] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    role_reads: int = 0
    known_now: bool = False  # True: the request has read the registration and links already (issue 18's levers)

    def __post_init__(self) -> None:
        self.tenant = SimpleNamespace(settings=Settings(self.flags))
        self.loaders = SimpleNamespace(link_by_id=Links(self.links))

    async def customer_registration(self):
        return self.registration

    async def customer_link_roles(self):
        self.role_reads += 1
        return self.roles

    def customer_registration_now(self):
        return (True, self.registration) if self.known_now else (False, None)

    def customer_link_roles_now(self):
        return self.roles if self.known_now else None


def staff(mfa: bool = False, **access: AccessLevel) -> Principal:
    return Principal(PrincipalKind.STAFF, tenant="T1", subject="auth0|staff", access=access, mfa=mfa)


def partner(*scopes: str) -> Principal:
    return Principal(PrincipalKind.PARTNER, tenant="T1", subject="abc@clients", scopes=frozenset(scopes))


def customer(crid: str = "CRID1") -> Principal:
    return Principal(PrincipalKind.CUSTOMER, tenant="T1", subject=crid)


def registration(state: str = "ACTIVE", registration_id: int = 41):
    return SimpleNamespace(state=SimpleNamespace(value=state), registration_id=registration_id)


def allows(rule: Rule, context: Context, source: Any = None, **kwargs: Any) -> bool:
    answer = rule.allows(context, source, kwargs)
    if asyncio.iscoroutine(answer):
        return asyncio.run(answer)
    return answer


# -- values a rule reads ---------------------------------------------------------------------------------
def test_arg_reads_a_field_argument_along_its_path():
    subscription = arg("input", "subscription_id")

    assert subscription(None, {"input": SimpleNamespace(subscription_id="S1")}) == "S1"
    assert subscription(None, {"input": None}) is None
    assert subscription(None, {}) is None
    assert subscription(None, {"input": SimpleNamespace()}) is None
    assert arg("id")(None, {"id": "7"}) == "7"
    assert arg("a", "b", "c")(None, {"a": SimpleNamespace(b=None)}) is None
    assert arg("a", "b", "c")(None, {"a": SimpleNamespace(b=SimpleNamespace(c=3))}) == 3
    assert subscription.__qualname__ == "arg(input.subscription_id)"


def test_parent_reads_an_attribute_of_the_object():
    crid = parent("crid")

    assert crid(SimpleNamespace(crid="C1"), {}) == "C1"
    assert crid(SimpleNamespace(), {}) is None
    assert crid.__qualname__ == "parent(crid)"


# -- ANYONE, SIGNED_IN, staff, partners -------------------------------------------------------------------
def test_anyone_and_signed_in():
    assert allows(ANYONE, Context(ANONYMOUS)) is True
    assert allows(SIGNED_IN, Context(ANONYMOUS)) is False
    assert allows(SIGNED_IN, Context(customer())) is True
    assert allows(SIGNED_IN, Context(partner())) is True
    assert (ANYONE.description, SIGNED_IN.description) == ("anyone", "anyone signed in")
    with pytest.raises(NotImplementedError):
        Rule().allows(Context(ANONYMOUS), None, {})


def test_mgr2_staff_self_is_a_staff_member_on_their_own_account():
    from auth.permissions import StaffSelf

    own = StaffSelf(arg("subject"))

    assert allows(own, Context(staff())) is True
    assert allows(own, Context(staff()), subject="auth0|staff") is True
    assert allows(own, Context(staff()), subject="  ") is True  # blank: no subject named
    assert allows(own, Context(staff()), subject="auth0|other") is False
    assert allows(own, Context(customer("auth0|staff")), subject="auth0|staff") is False
    assert allows(ANY_STAFF, Context(staff()), subject="auth0|other") is True
    assert allows(ANY_STAFF, Context(partner())) is False
    assert own.description == "a staff member (own account)"


@pytest.mark.parametrize("level,read,change", [(None, False, False), (READ, True, False), (FULL, True, True)])
def test_mgr1_staff_read_needs_read_only_and_change_full_control(level, read, change):
    principal = staff(**({PAYMENTS: level} if level else {}))

    assert allows(staff_read(PAYMENTS), Context(principal)) is read
    assert allows(staff_change(PAYMENTS), Context(principal)) is change
    assert allows(staff_full_control_read(PAYMENTS), Context(principal)) is change
    assert allows(staff_read(SETTINGS), Context(principal)) is False  # another section


def test_mgr1_access_rules_are_for_staff_only():
    for principal in (partner("write:payments"), customer(), ANONYMOUS):
        assert allows(staff_read(PAYMENTS), Context(principal)) is False


def test_mgr1_the_levels_and_descriptions_of_the_staff_rules():
    assert staff_read(PAYMENTS) == StaffAccess(PAYMENTS, READ, change=False)
    assert staff_change(PAYMENTS) == StaffAccess(PAYMENTS, FULL, change=True)
    assert staff_full_control_read(PAYMENTS) == StaffAccess(PAYMENTS, FULL, change=False)
    assert staff_read(PAYMENTS).description == "staff with READ_ONLY access to payments"
    assert staff_change(SETTINGS).description == "staff with FULL_CONTROL access to settings"


def test_mgr2_a_change_needs_a_second_factor_when_the_tenant_requires_it():
    required = {REQUIRE_MANAGER_MFA: True}

    with pytest.raises(Denied) as caught:
        allows(staff_change(PAYMENTS), Context(staff(**{PAYMENTS: FULL}), flags=required))
    assert (caught.value.code, caught.value.extensions) == ("FORBIDDEN", {"reason": "MFA_REQUIRED"})
    assert str(caught.value) == ("This change needs a second factor (MGR-2): sign in again with your authenticator "
                                 "code")
    assert allows(staff_change(PAYMENTS), Context(staff(mfa=True, **{PAYMENTS: FULL}), flags=required)) is True
    assert allows(staff_change(PAYMENTS), Context(staff(**{PAYMENTS: FULL}))) is True  # not required
    assert allows(staff_read(PAYMENTS), Context(staff(**{PAYMENTS: FULL}), flags=required)) is True  # no change
    assert allows(staff_full_control_read(PAYMENTS), Context(staff(**{PAYMENTS: FULL}), flags=required)) is True
    # without the level the answer is a plain no, not the MFA refusal
    assert allows(staff_change(PAYMENTS), Context(staff(**{PAYMENTS: READ}), flags=required)) is False


@pytest.mark.parametrize("scopes,read,write", [
    ((), False, False),
    (("read:payments",), True, False),
    (("write:payments",), True, True),
    (("read:payments", "write:payments"), True, True),
    (("write:settings", "read:offers"), False, False),
])
def test_mgr3_partner_scopes(scopes, read, write):
    context = Context(partner(*scopes))

    assert allows(partner_read(PAYMENTS), context) is read
    assert allows(partner_write(PAYMENTS), context) is write


def test_mgr3_scopes_are_for_partners_only():
    assert allows(partner_read(PAYMENTS), Context(Principal(PrincipalKind.STAFF, scopes=frozenset(
        {"write:payments"})))) is False
    assert partner_read(PAYMENTS) == PartnerScope(PAYMENTS, change=False)
    assert partner_write(PAYMENTS) == PartnerScope(PAYMENTS, change=True)
    assert partner_read(PAYMENTS).description == "a partner with scope read:payments"
    assert partner_write(PAYMENTS).description == "a partner with scope write:payments"


def test_reads_and_changes_pair_staff_and_partner_rules():
    assert reads(PAYMENTS) == (staff_read(PAYMENTS), partner_read(PAYMENTS))
    assert changes(PAYMENTS) == (staff_change(PAYMENTS), partner_write(PAYMENTS))


def test_lnk4_staff_or_partner():
    assert [allows(STAFF_OR_PARTNER, Context(p)) for p in (staff(), partner(), customer(), ANONYMOUS)] == [
        True, True, False, False]
    assert STAFF_OR_PARTNER.description == "staff or a partner"


# -- customers ---------------------------------------------------------------------------------------------
def test_usr8_a_lite_or_unverified_registration_is_refused_by_every_customer_rule():
    for state in ("LITE", "UNVERIFIED"):
        with pytest.raises(Denied) as caught:
            allows(ANY_CUSTOMER, Context(customer(), registration=registration(state)))
        assert (caught.value.code, caught.value.extensions) == ("FORBIDDEN", {"reason": "REGISTRATION_NOT_VERIFIED"})
        assert str(caught.value) == "This registration cannot sign in until it is verified and has a password (USR-8)"
    assert allows(ANY_CUSTOMER, Context(customer(), registration=registration("ACTIVE"))) is True
    assert allows(ANY_CUSTOMER, Context(customer())) is True  # no registration yet (a sign-up)
    assert allows(ANY_CUSTOMER, Context(staff())) is False
    assert ANY_CUSTOMER.description == "a signed-in customer (own registration)"


def test_customer_self_is_the_customers_own_crid():
    rule = customer_self(arg("crid"))

    assert rule == CustomerSelf(rule.crid)
    assert allows(rule, Context(customer("C1")), crid=" C1 ") is True
    assert allows(rule, Context(customer("C1")), crid="C2") is False
    assert allows(rule, Context(staff()), crid="auth0|staff") is False
    assert rule.description == "the customer it belongs to"


def test_lnk3_linked_and_owner_rules():
    context = Context(customer(), roles={"S1": OWNER, "S2": GUEST})
    linked, owner = customer_linked(arg("id")), customer_owner(arg("id"))

    assert [allows(linked, context, id=s) for s in ("S1", "S2", "S3")] == [True, True, False]
    assert [allows(owner, context, id=s) for s in ("S1", " S2 ", "S3")] == [True, False, False]
    assert allows(owner, context, id=" S1 ") is True
    assert (linked.roles, owner.roles) == (frozenset({OWNER, GUEST}), frozenset({OWNER}))
    assert owner.description == "the subscription's owner (LNK-3)"
    assert linked.description == "a customer linked to the subscription"


def test_lnk3_no_subscription_named_is_no_and_reads_no_links():
    context = Context(customer(), roles={"S1": OWNER})

    assert allows(CustomerLinked(arg("id")), context, id="  ") is False
    assert allows(CustomerLinked(arg("id")), context) is False
    assert context.role_reads == 0


def test_lnk4_a_registration_next_to_a_link_is_its_own_or_an_owners_guest():
    rule = CustomerSelfOrOwnersGuest(parent("crid"), parent("subscription_id"), parent("role"))
    context = Context(customer("C1"), roles={"S1": OWNER, "S2": GUEST})

    def shown(crid, subscription_id, role):
        return allows(rule, context, SimpleNamespace(crid=crid, subscription_id=subscription_id, role=role))

    assert shown("C1", "S2", OWNER) is True  # one's own
    assert shown("G1", "S1", GUEST) is True  # a guest of a subscription C1 owns
    assert shown("G1", "S1", SimpleNamespace(value=GUEST)) is True  # the role as an enum
    assert shown("O1", "S1", OWNER) is False  # a co-owner
    assert shown("O2", "S2", OWNER) is False  # the owner seen by a guest
    assert shown("G2", "S2", GUEST) is False  # another guest of a subscription C1 is a guest of
    assert shown("G1", "S9", GUEST) is False
    assert rule.description == "the registration itself, or the owner of the subscription the guest is linked to"


def test_lnk4_registration_data_is_for_staff_partners_the_customer_and_its_creator():
    crid = parent("crid")
    first, second, third = registration_data(crid)

    assert first is STAFF_OR_PARTNER and second == CustomerSelf(crid)
    source = SimpleNamespace(crid="C1")
    assert allows(third, Context(ANONYMOUS, extra={CREATED_CRIDS: {"C1"}}), source) is True
    assert allows(third, Context(ANONYMOUS, extra={CREATED_CRIDS: {"C2"}}), source) is False
    assert allows(third, Context(ANONYMOUS), source) is False
    assert third.description == "the request that created it"


def test_lnk_a_link_is_managed_by_its_subscriptions_owner_or_with_own_link_by_its_customer():
    links = {5: (SimpleNamespace(subscription_id="S1"), "G1"), 6: (SimpleNamespace(subscription_id="S2"), "C1")}
    owner = Context(customer("C1"), roles={"S1": OWNER, "S2": GUEST}, links=links)
    guest = Context(customer("G1"), roles={"S1": GUEST}, links=links)
    manages, leaves = CustomerManagesLink(arg("id")), CustomerManagesLink(arg("id"), own_link=True)

    assert allows(manages, owner, id="5") is True  # C1 owns S1
    assert allows(manages, owner, id="6") is False  # C1's own link, but only a guest of S2
    assert allows(leaves, owner, id="6") is True
    assert allows(manages, guest, id="5") is False
    assert allows(leaves, guest, id="5") is True  # a guest may leave
    assert allows(leaves, guest, id="6") is False
    assert allows(manages, owner, id="7") is False  # no such link
    assert allows(manages, owner, id="x") is False and allows(manages, owner) is False
    assert manages.description == "the owner of the link's subscription"
    assert leaves.description == "the owner of the link's subscription, or the linked customer"


def test_lnk1_a_lookup_is_by_the_customers_own_keys():
    rule = CustomerLinkLookup(arg("crid"), arg("registration_id"), arg("subscription_id"))
    context = Context(customer("C1"), roles={"S1": OWNER}, registration=registration(registration_id=41))

    assert allows(rule, context) is False  # nothing asked
    assert allows(rule, context, crid="C1") is True
    assert allows(rule, context, crid="C2") is False
    assert allows(rule, context, registration_id="41") is True
    assert allows(rule, context, registration_id="42") is False
    assert allows(rule, Context(customer("C1")), registration_id="41") is False  # no registration
    assert allows(rule, context, subscription_id="S1") is True
    assert allows(rule, context, subscription_id="S2") is False
    assert allows(rule, context, crid="C1", registration_id="41", subscription_id="S1") is True
    assert allows(rule, context, crid="C1", registration_id="41", subscription_id="S2") is False
    assert allows(rule, context, crid="C1", registration_id="40", subscription_id="S1") is False
    assert allows(rule, context, crid=" ", registration_id=None, subscription_id="") is False
    assert rule.description == "the customer whose CRID, registration or linked subscription is asked for"


# -- Unprivileged ------------------------------------------------------------------------------------------
def test_an_unprivileged_rule_refuses_input_that_asks_for_a_privilege():
    rule = Unprivileged(SIGNED_IN, (("ignoreProvider", asks_true("input", "ignore_provider")),
                                    ("a chosen CRID", asks_value("input", "crid")),
                                    ("an unverified e-mail", asks_false("input", "verify"))))

    def ask(**fields):
        return allows(rule, Context(customer()), input=SimpleNamespace(**fields))

    assert ask() is True
    assert ask(ignore_provider=False, crid="  ", verify=True) is True
    assert ask(verify=None) is True  # only an explicit false asks
    assert ask(ignore_provider=True) is False
    assert ask(crid="C9") is False
    assert ask(verify=False) is False
    assert allows(rule, Context(ANONYMOUS), input=SimpleNamespace()) is False  # the inner rule decides
    assert rule.description == ("anyone signed in, without ignoreProvider, a chosen CRID, an unverified e-mail")


def test_an_unprivileged_customer_rule_awaits_its_inner_rule():
    rule = Unprivileged(customer_self(arg("crid")), (("x", asks_true("x")),))

    assert allows(rule, Context(customer("C1")), crid="C1") is True
    assert allows(rule, Context(customer("C1")), crid="C2") is False


# -- deciding: any one rule suffices, the refusal says what would have been allowed -----------------------
def test_decide_answers_none_at_once_when_a_rule_allows_without_reading():
    context = Context(staff(**{PAYMENTS: READ}))

    assert decide(context, [partner_read(PAYMENTS), staff_read(PAYMENTS)], None, {}, "payments") is None


def test_decide_waits_only_for_a_rule_that_must_read():
    context = Context(customer(), roles={"S1": OWNER})
    rules = [staff_read(PAYMENTS), customer_linked(arg("id")), ANYONE]

    pending = decide(context, rules, None, {"id": "S1"}, "payment")
    assert pending is not None
    assert asyncio.run(pending) is None
    # the customer rule says no: the rules after it are asked
    assert asyncio.run(decide(context, rules, None, {"id": "S9"}, "payment")) is None


def test_decide_refuses_after_every_rule_said_no():
    context = Context(customer(), roles={})
    rules = [customer_linked(arg("id")), staff_read(PAYMENTS), customer_owner(arg("id"))]

    with pytest.raises(Denied) as caught:
        asyncio.run(decide(context, rules, None, {"id": "S1"}, "payment"))
    assert caught.value.code == "FORBIDDEN"
    assert str(caught.value) == ("Not allowed: `payment` is for a customer linked to the subscription; staff with "
                                 "READ_ONLY access to payments; the subscription's owner (LNK-3)")


def test_denial_names_every_rule_once_and_tells_anonymous_to_sign_in():
    rules = [staff_read(PAYMENTS), partner_read(PAYMENTS), staff_read(PAYMENTS)]

    with pytest.raises(Denied) as caught:
        decide(Context(ANONYMOUS), rules, None, {}, "payments")
    assert caught.value.code == "UNAUTHENTICATED"
    assert str(caught.value) == ("Sign in: `payments` is for staff with READ_ONLY access to payments; a partner with "
                                 "scope read:payments")
    forbidden = denial(Context(customer()), rules, "payments")
    assert (forbidden.code, str(forbidden)) == (
        "FORBIDDEN", "Not allowed: `payments` is for staff with READ_ONLY access to payments; a partner with scope "
                     "read:payments")


def test_check_raises_or_returns():
    asyncio.run(check(Context(staff(**{PAYMENTS: READ})), [staff_read(PAYMENTS)], None, {}, "f"))
    asyncio.run(check(Context(customer(), roles={"S1": GUEST}), [customer_linked(arg("id"))], None, {"id": "S1"},
                      "f"))
    with pytest.raises(Denied):
        asyncio.run(check(Context(customer(), roles={}), [customer_linked(arg("id"))], None, {"id": "S1"}, "f"))


def test_allow_flattens_pairs_into_one_guard():
    [guard] = allow(reads(PAYMENTS), customer_linked(arg("id")))

    assert isinstance(guard, Guard)
    assert guard.rules == (staff_read(PAYMENTS), partner_read(PAYMENTS), customer_linked(guard.rules[2].subscription))
    assert rules_of(SimpleNamespace(extensions=[object(), guard])) == guard.rules
    assert rules_of(SimpleNamespace(extensions=None)) is None
    assert rules_of(SimpleNamespace()) is None
    with pytest.raises(ValueError, match="^a field needs at least one rule$"):
        Guard([])


def info(context: Context) -> Any:
    return SimpleNamespace(context=context, field_name="payment")


def test_a_guard_calls_the_resolver_directly_when_allowed_and_refuses_otherwise():
    [guard] = allow(staff_read(PAYMENTS))

    def resolver(source, info, **kwargs):
        return ("resolved", source, kwargs)

    assert guard.resolve(resolver, "src", info(Context(staff(**{PAYMENTS: READ}))), id="1") == (
        "resolved", "src", {"id": "1"})
    with pytest.raises(Denied, match="^Not allowed: `payment` is for"):
        guard.resolve(resolver, "src", info(Context(customer())), id="1")


def test_a_guard_waits_for_a_customer_rule_then_resolves_sync_or_async():
    [guard] = allow(customer_linked(arg("id")))
    context = Context(customer(), roles={"S1": OWNER})

    async def async_resolver(source, info, **kwargs):
        return ("async", kwargs["id"])

    def sync_resolver(source, info, **kwargs):
        return ("sync", kwargs["id"])

    assert asyncio.run(guard.resolve(sync_resolver, None, info(context), id="S1")) == ("sync", "S1")
    assert asyncio.run(guard.resolve_async(async_resolver, None, info(context), id="S1")) == ("async", "S1")
    with pytest.raises(Denied):
        asyncio.run(guard.resolve(sync_resolver, None, info(context), id="S2"))


def test_a_guarded_reference_checks_the_entitys_keys():
    class Entity:
        @classmethod
        async def resolve_reference(cls, info, **keys):
            """The entity by its keys."""
            return ("entity", keys)

    Entity.resolve_reference = guarded_reference(customer_linked(arg("id")), reads(PAYMENTS))(
        Entity.__dict__["resolve_reference"])
    function = Entity.__dict__["resolve_reference"].__func__

    assert function.__papergraph_rules__ == (customer_linked(function.__papergraph_rules__[0].subscription),
                                             staff_read(PAYMENTS), partner_read(PAYMENTS))
    assert (function.__name__, function.__doc__) == ("resolve_reference", "The entity by its keys.")
    context = Context(customer(), roles={"S1": GUEST})
    assert asyncio.run(Entity.resolve_reference(info(context), id="S1")) == ("entity", {"id": "S1"})
    with pytest.raises(Denied) as caught:
        asyncio.run(Entity.resolve_reference(info(context), id="S2"))
    assert "`_entities(Entity)`" in str(caught.value)


# -- a rule hands its value both the object and the field's arguments -------------------------------------------
SOURCE = SimpleNamespace(kind="the object the field belongs to")


def both(name: str):
    """A value that needs the object and the arguments both, as `parent(...)`/`arg(...)` values each need one."""
    return lambda source, kwargs: kwargs.get(name) if source is SOURCE else None


def test_every_rule_passes_the_object_and_the_arguments_to_its_values():
    from auth.permissions import CreatedInRequest, StaffSelf

    links = {5: (SimpleNamespace(subscription_id="S1"), "G1")}
    owner = Context(customer("C1"), roles={"S1": OWNER}, registration=registration(registration_id=41), links=links,
                    extra={CREATED_CRIDS: {"N1"}})
    lookup = CustomerLinkLookup(both("crid"), both("registration_id"), both("subscription_id"))

    assert allows(StaffSelf(both("subject")), Context(staff()), SOURCE, subject="auth0|other") is False
    assert allows(CreatedInRequest(both("crid")), owner, SOURCE, crid="N1") is True
    assert allows(CustomerSelf(both("crid")), owner, SOURCE, crid="C1") is True
    assert allows(lookup, owner, SOURCE, crid="C1") is True
    assert allows(lookup, owner, SOURCE, registration_id="41") is True
    assert allows(lookup, owner, SOURCE, subscription_id="S1") is True
    assert allows(CustomerManagesLink(both("id")), owner, SOURCE, id="5") is True
    guest_of_mine = CustomerSelfOrOwnersGuest(both("crid"), both("subscription_id"), both("role"))
    assert allows(guest_of_mine, owner, SOURCE, crid="C1") is True
    assert allows(guest_of_mine, owner, SOURCE, crid="G1", subscription_id="S1", role=GUEST) is True
    assert allows(Unprivileged(CustomerSelf(both("crid")), (("x", lambda s, k: s is SOURCE and bool(k.get("x"))),)),
                  owner, SOURCE, crid="C1") is True
    assert allows(Unprivileged(CustomerSelf(both("crid")), (("x", lambda s, k: s is SOURCE and bool(k.get("x"))),)),
                  owner, SOURCE, crid="C1", x=True) is False


def test_deciding_later_asks_the_remaining_rules_with_the_object_and_arguments():
    context = Context(customer("C1"), roles={})
    # the first says no, the second yes (async), the last no: the rules after the first are asked in order
    rules = [CustomerLinked(both("id")), CustomerSelf(both("crid")), staff_read(PAYMENTS)]

    asyncio.run(check(context, rules, SOURCE, {"id": "S1", "crid": "C1"}, "f"))
    assert asyncio.run(decide(context, rules, SOURCE, {"id": "S1", "crid": "C1"}, "f")) is None


def test_a_guard_hands_the_resolver_its_object_and_info():
    [guard] = allow(customer_linked(arg("id")))
    context = Context(customer(), roles={"S1": OWNER})
    the_info = info(context)

    def resolver(source, info, **kwargs):
        return source, info, kwargs

    assert asyncio.run(guard.resolve(resolver, SOURCE, the_info, id="S1")) == (SOURCE, the_info, {"id": "S1"})


def test_a_guarded_reference_hands_the_entity_its_class_info_and_keys_and_takes_a_plain_function():
    async def resolve_reference(cls, info, **keys):
        return cls, info, keys

    class Entity:
        pass

    Entity.resolve_reference = guarded_reference(customer_linked(arg("id")))(resolve_reference)
    context = Context(customer(), roles={"S1": GUEST})
    the_info = info(context)

    assert asyncio.run(Entity.resolve_reference(the_info, id="S1")) == (Entity, the_info, {"id": "S1"})


def test_deciding_at_once_and_a_guard_hand_the_object_to_the_rules_and_the_info_to_the_resolver():
    from auth.permissions import StaffSelf

    own_only = [StaffSelf(both("subject"))]
    with pytest.raises(Denied):
        decide(Context(staff()), own_only, SOURCE, {"subject": "auth0|other"}, "f")
    [guard] = allow(*own_only)
    the_info = info(Context(staff()))

    def resolver(source, info, **kwargs):
        return source, info, kwargs

    assert guard.resolve(resolver, SOURCE, the_info, subject="auth0|staff") == (
        SOURCE, the_info, {"subject": "auth0|staff"})
    with pytest.raises(Denied):
        guard.resolve(resolver, SOURCE, the_info, subject="auth0|other")
    linked = Context(customer("C1"), roles={"S1": GUEST})
    assert allows(CustomerLinked(both("id")), linked, SOURCE, id="S1") is True


def test_lnk3_usr8_a_request_that_knows_the_registration_and_links_decides_at_once_and_the_same():
    """Issue 18's lever: once the request has read the customer's registration and links (`linkedSubscriptions`
    primes them), the customer rules answer a bool without a coroutine — the same answer the awaited path gives."""
    linked, owner = customer_linked(arg("id")), customer_owner(arg("id"))
    known = Context(customer(), registration=registration("ACTIVE"), roles={"S1": OWNER, "S2": GUEST}, known_now=True)
    awaited = Context(customer(), registration=registration("ACTIVE"), roles={"S1": OWNER, "S2": GUEST})

    answers = [linked.allows(known, None, {"id": s}) for s in ("S1", "S2", "S3")]
    answers += [owner.allows(known, None, {"id": s}) for s in ("S1", "S2", "S3")]
    assert answers == [True, True, False, True, False, False]
    assert [allows(linked, awaited, id=s) for s in ("S1", "S2", "S3")] == answers[:3]
    assert [allows(owner, awaited, id=s) for s in ("S1", "S2", "S3")] == answers[3:]
    assert known.role_reads == 0 and awaited.role_reads == 6
    with pytest.raises(Denied):  # USR-8 holds on the path that does not await too
        linked.allows(Context(customer(), registration=registration("UNVERIFIED"), known_now=True), None, {"id": "S1"})


def test_lnk3_a_request_that_knows_the_registration_but_not_the_links_awaits_them():
    context = Context(customer(), registration=registration("ACTIVE"), roles={"S1": OWNER})
    context.customer_link_roles_now = lambda: None  # registration read for every customer request, links not yet
    context.customer_registration_now = lambda: (True, context.registration)

    answer = customer_linked(arg("id")).allows(context, None, {"id": "S1"})

    assert asyncio.iscoroutine(answer) and asyncio.run(answer) is True and context.role_reads == 1


def test_usr8_lnk3_every_customer_rule_decides_at_once_when_the_request_knows_the_facts():
    """Issue 18's lever for each customer rule: with the registration and links known, AnyCustomer, CustomerSelf
    and CustomerLinked answer a bool (no coroutine, no role read) equal to the awaited answer; USR-8 refuses LITE
    and UNVERIFIED registrations on this path too; a subscription id that is absent is refused at once."""
    def known(crid="CRID1", state="ACTIVE"):
        return Context(customer(crid), registration=registration(state), roles={"S1": GUEST}, known_now=True)

    def awaited(crid="CRID1", state="ACTIVE"):
        return Context(customer(crid), registration=registration(state), roles={"S1": GUEST})

    cases = [(AnyCustomer(), {}, True), (customer_self(arg("crid")), {"crid": "CRID1"}, True),
             (customer_self(arg("crid")), {"crid": "CRID2"}, False), (customer_linked(arg("id")), {"id": "S1"}, True),
             (customer_linked(arg("id")), {"id": None}, False), (customer_owner(arg("id")), {"id": "S1"}, False)]
    for rule, kwargs, expected in cases:
        context = known()
        answer = rule.allows(context, None, kwargs)
        assert answer is expected and context.role_reads == 0, (rule, kwargs)
        assert allows(rule, awaited(), **kwargs) is expected, (rule, kwargs)
        for state in ("LITE", "UNVERIFIED"):
            for make in (known, awaited):
                with pytest.raises(Denied) as caught:
                    allows(rule, make(state=state), **kwargs)
                assert (caught.value.code, caught.value.extensions, str(caught.value)) == (
                    "FORBIDDEN", {"reason": "REGISTRATION_NOT_VERIFIED"},
                    "This registration cannot sign in until it is verified and has a password (USR-8)")
    for rule in (AnyCustomer(), customer_self(arg("crid"))):
        staff_context = Context(staff(), known_now=True)
        assert rule.allows(staff_context, None, {"crid": "CRID1"}) is False
    assert AnyCustomer().description == "a signed-in customer (own registration)"


def test_usr8_lnk3_the_at_once_path_reads_the_object_the_field_belongs_to():
    """LNK-3 on a relation (e.g. a subscription's own fields): the at-once path reads the CRID and the subscription id
    from the parent object, as the awaited path does."""
    context = Context(customer("CRID1"), registration=registration("ACTIVE"), roles={"S1": OWNER}, known_now=True)
    mine, theirs = SimpleNamespace(crid="CRID1", id="S1"), SimpleNamespace(crid="CRID2", id="S2")

    assert customer_self(parent("crid")).allows(context, mine, {}) is True
    assert customer_self(parent("crid")).allows(context, theirs, {}) is False
    assert customer_linked(parent("id")).allows(context, mine, {}) is True
    assert customer_owner(parent("id")).allows(context, mine, {}) is True
    assert customer_linked(parent("id")).allows(context, theirs, {}) is False
