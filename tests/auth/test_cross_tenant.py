"""TEN-1 as a property: whoever asks, for whatever id of either of two tenants, an answer only ever holds the
asking principal's own tenant's data, and a change aimed at the other tenant's data never happens.

Hypothesis draws the principal (a customer, FULL_CONTROL staff or a partner of NCSDEMO or SAXDEMO), the
operation, the target id (from either tenant's demo data) and whether the request names the target's tenant
in `X-Tenant`; each example is one request through the
public GraphQL endpoint. The app runs on the test's event loop; Hypothesis drives it from a worker thread."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import HealthCheck, given, settings as hypothesis_settings, strategies as st

from sandbox.demo import generate
from tests.conftest import bearer, graphql

DEMO = generate(1)
TENANTS = ("NCSDEMO", "SAXDEMO")
SUBSCRIPTIONS = {t: [s["id"] for s in DEMO.subscriptions_of(t)][:40] for t in TENANTS}
CRIDS = {t: [r["crid"] for r in DEMO.registrations if r["tenant"] == t][:12] for t in TENANTS}
OFFERS = {t: [str(o["id"]) for o in DEMO.offers if o["tenant"] == t] for t in TENANTS}
OWNED = {t: {link["subscription_id"] for link in DEMO.links if link["tenant"] == t} for t in TENANTS}

READS = {
    "subscription": ('query ($id: ID!) { subscription(id: $id) { id accountNumber subscriber { lastName } } }', "sub"),
    "registration": ('query ($id: String!) { registration(crid: $id) { crid email linkedSubscriptions { id } } }',
                     "crid"),
    "links": ('query ($id: ID!) { subscriptionLinks(subscriptionId: $id) { nodes { crid subscriptionId } } }', "sub"),
    "offer": ('query ($id: ID!) { offer(id: $id) { id name } }', "offer"),
    "access": ('query ($id: String!) { accessLevel(entitlementCode: "EEDITION", crid: $id) { crid accessLevel } }',
               "crid"),
    "temporary": ('query ($id: String!) { temporaryEntitlements(crid: $id) { crid } }', "crid"),
    "entity_subscription": ('query ($id: _Any!) { _entities(representations: [$id]) '
                            '{ ... on CustomerSubscription { id } } }', "sub_entity"),
    "entity_registration": ('query ($id: _Any!) { _entities(representations: [$id]) '
                            '{ ... on Registration { crid email } } }', "crid_entity"),
}
WRITES = {
    "cancel": ('mutation ($id: ID!) { cancelSubscription(input: {subscriptionId: $id, reason: "CROSS"}) '
               "{ subscription { id status } userErrors { code } } }", "sub"),
    "link": ('mutation ($id: ID!, $crid: String!) { linkSubscription(input: {subscriptionId: $id, '
             "customerRegistrationId: $crid, role: GUEST}) { link { id } userErrors { code } } }", "sub"),
    "update_user": ('mutation ($id: String!) { updateUser(input: {customerRegistrationId: $id, firstName: "Cross"}) '
                    "{ registration { crid firstName } userErrors { code } } }", "crid"),
}


def _ids_in(value) -> set[str]:
    """Every subscription id, CRID and offer id anywhere in an answer."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ("id", "crid", "subscriptionId") and isinstance(item, str):
                found.add(item)
            found |= _ids_in(item)
    elif isinstance(value, list):
        for item in value:
            found |= _ids_in(item)
    return found


def _headers(tokens, kind: str, tenant: str, index: int) -> dict[str, str]:
    if kind == "customer":
        return bearer(tokens.customer(CRIDS[tenant][index % len(CRIDS[tenant])], tenant))
    if kind == "staff":
        return bearer(tokens.staff(tenant))
    return bearer(tokens.partner(tenant, "read:subscriptions write:subscriptions read:registrations "
                                         "write:registrations read:entitlements"))


def _variables(kind: str, tenant: str, index: int) -> dict:
    if kind in ("sub", "sub_entity"):
        value = SUBSCRIPTIONS[tenant][index % len(SUBSCRIPTIONS[tenant])]
        return {"id": {"__typename": "CustomerSubscription", "id": value} if kind == "sub_entity" else value}
    if kind in ("crid", "crid_entity"):
        value = CRIDS[tenant][index % len(CRIDS[tenant])]
        return {"id": {"__typename": "Registration", "crid": value} if kind == "crid_entity" else value}
    return {"id": OFFERS[tenant][index % len(OFFERS[tenant])]}


async def test_ten1_no_principal_reads_or_changes_another_tenants_data(app, api_client, tokens, services):
    loop = asyncio.get_running_loop()
    circulation = app.state.sandboxes["circulation"].state.store
    own_ids = {t: set(SUBSCRIPTIONS[t]) | set(CRIDS[t]) | set(OFFERS[t]) | {
        s["id"] for s in DEMO.subscriptions_of(t)} | {r["crid"] for r in DEMO.registrations if r["tenant"] == t}
        for t in TENANTS}

    def run(coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result(timeout=30)

    @hypothesis_settings(max_examples=120, deadline=None, derandomize=True,
                         suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(kind=st.sampled_from(["customer", "staff", "partner"]), tenant=st.sampled_from(TENANTS),
           target_tenant=st.sampled_from(TENANTS), index=st.integers(0, 200),
           operation=st.sampled_from(sorted(READS) + sorted(WRITES)), name_target_tenant=st.booleans())
    def property_holds(kind, tenant, target_tenant, index, operation, name_target_tenant):
        other = next(t for t in TENANTS if t != tenant)
        headers = _headers(tokens, kind, tenant, index)
        if name_target_tenant:  # a client naming a tenant in the header: its own is fine, another is refused
            headers["x-tenant"] = target_tenant
        if operation in WRITES:
            # changes are only ever aimed at the other tenant: the demo data of one's own stays as it is
            document, target_kind = WRITES[operation]
            variables = _variables(target_kind, other, index)
            if operation == "link":
                variables["crid"] = CRIDS[tenant][0]
            before = {sid: (r["status"], len(r.get("subscriber") or {})) for sid, r in
                      circulation.papers[other].subscriptions.items()}
            body = run(graphql(api_client, document, variables, **headers))
            payload = (body.get("data") or {}).get(next(iter(body.get("data") or {"x": None})))
            changed = payload is not None and not payload.get("userErrors") and any(
                v for k, v in payload.items() if k != "userErrors")
            assert not changed, (operation, tenant, variables, body)
            after = {sid: (r["status"], len(r.get("subscriber") or {})) for sid, r in
                     circulation.papers[other].subscriptions.items()}
            assert after == before
            return
        document, target_kind = READS[operation]
        body = run(graphql(api_client, document, _variables(target_kind, target_tenant, index), **headers))
        foreign = _ids_in(body.get("data")) & (own_ids[other] - own_ids[tenant])
        assert not foreign, (operation, kind, tenant, target_tenant, body)

    await asyncio.to_thread(property_holds)

