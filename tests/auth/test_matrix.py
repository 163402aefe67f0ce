"""Who may call what: every root query and mutation field, for every kind of principal, in one table
(MGR-1, MGR-3, LNK-3, TEN-1). A field added to the schema without a row here — or without a permission
declared on it — fails `test_every_root_field_has_a_decision`.

The principals act on a tenant of the test's own: an owner, a guest and a stranger (three customers), staff
with NO_ACCESS, READ_ONLY and FULL_CONTROL of every section, and a partner with `read:subscriptions
write:payments`. Mutations get inputs their rules accept but their validation refuses (a user error, not a
change), so every call can be made by every principal; the one that cannot be made harmless
(`unlinkSubscription`) has its link put back after each call. A field is *allowed* when it answers without
a FORBIDDEN/UNAUTHENTICATED error, *denied* when it is null with one."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from auth.permissions import rules_of
from datasources.models import Registration, SubscriptionLink
from schema import build_schema
from tests.conftest import bearer, graphql
from tests.graphql.own_tenant import own_tenant  # noqa: F401  (fixture)

ANON, OWNER, GUEST, STRANGER, NONE, READ, FULL, PARTNER = (
    "anonymous", "owner", "guest", "stranger", "staff NO_ACCESS", "staff READ_ONLY", "staff FULL_CONTROL", "partner")
EVERYONE = {ANON, OWNER, GUEST, STRANGER, NONE, READ, FULL, PARTNER}
STAFF_READ = {READ, FULL}
SUBSCRIPTION = "S-1"
PAST = (datetime.now(timezone.utc) - timedelta(days=1)).isoformat()

# field (or field/variant) → (document, allowed principals). $OWNER, $GUEST and $LINK are filled per test.
MATRIX: dict[str, tuple[str, set[str]]] = {
    # -- queries --
    "subscription": ('{ subscription(id: "S-1") { id } }', {OWNER, GUEST, READ, FULL, PARTNER}),
    "subscriptions": ('{ subscriptions(search: {lastName: "Person"}) { totalCount } }', {READ, FULL, PARTNER}),
    "expiringSubscriptions": ("{ expiringSubscriptions(daysAhead: 30) { totalCount } }", {READ, FULL, PARTNER}),
    "householdLevels": ("{ householdLevels { id } }", STAFF_READ),
    "me": ("{ me { crid } }", EVERYONE),
    "viewer": ("{ viewer { kind } }", EVERYONE),
    "registration": ('{ registration(crid: "$OWNER") { crid } }', {OWNER, READ, FULL}),
    "users": ('{ users(lastName: "Per") { totalCount } }', STAFF_READ),
    "temporaryEntitlements": ('{ temporaryEntitlements(crid: "$OWNER") { id } }', {OWNER, READ, FULL}),
    "subscriptionLinks": ('{ subscriptionLinks(subscriptionId: "S-1") { totalCount } }', {OWNER, GUEST, READ, FULL}),
    "subscriptionLinks/crid": ('{ subscriptionLinks(crid: "$OWNER") { totalCount } }', {OWNER, READ, FULL}),
    "offers": ("{ offers { totalCount } }", STAFF_READ),
    "catalog": ("{ catalog { totalCount } }", EVERYONE),
    "offer": ('{ offer(id: "1") { id } }', EVERYONE),
    "zipDeliverable": ('{ zipDeliverable(zip: "10001") { deliverable } }', EVERYONE),
    "subscriptionCost": ('{ subscriptionCost(offerId: "1", termId: "1", paymentType: 1) { offerId } }', EVERYONE),
    "processingFee": ('{ processingFee(amount: "10.00", paymentType: 1) { fee { amount } } }', EVERYONE),
    "entitlement": ('{ entitlement(code: "EEDITION") { code } }', EVERYONE),
    "accessLevel": ('{ accessLevel(entitlementCode: "EEDITION", crid: "$OWNER") { accessLevel } }',
                    {OWNER, READ, FULL}),
    "forgotPasswordLinkValid": ('{ forgotPasswordLinkValid(token: "x") }', EVERYONE),
    "temporaryStopDates": ('{ temporaryStopDates(subscriptionId: "S-1") }', {OWNER, READ, FULL}),
    "complaintCategories": ("{ complaintCategories { code } }", {OWNER, GUEST, STRANGER, READ, FULL}),
    "stopReasons": ("{ stopReasons { code } }", {OWNER, GUEST, STRANGER, READ, FULL}),
    "stopSaver": ('{ stopSaver(subscriptionId: "S-1") { steps } }', {OWNER, READ, FULL}),
    "managerAccess": ('{ managerAccess(managerSubject: "auth0|x") { managerSubject } }', {FULL}),
    "settings": ("{ settings { key } }", STAFF_READ),  # SET-1
    # -- mutations: registrations (USR) --
    "createUser": ('mutation { createUser(input: {email: "not-an-e-mail"}) { userErrors { code } } }', EVERYONE),
    "createUser/ignoreProvider": ('mutation { createUser(input: {email: "x", ignoreProvider: true}) '
                                  "{ userErrors { code } } }", {FULL}),
    "createUser/verified": ('mutation { createUser(input: {email: "x", verifyEmail: false}) { userErrors { code } } }',
                            {FULL}),
    "updateUser": ('mutation { updateUser(input: {customerRegistrationId: "$OWNER"}) { userErrors { code } } }',
                   {OWNER, FULL}),
    "updateUser/verified": ('mutation { updateUser(input: {customerRegistrationId: "$OWNER", verified: true}) '
                            "{ userErrors { code } } }", {FULL}),
    "changeEmail": ('mutation { changeEmail(input: {customerRegistrationId: "$OWNER", email: "bad"}) '
                    "{ userErrors { code } } }", {OWNER, FULL}),
    "changePassword": ('mutation { changePassword(input: {customerRegistrationId: "$OWNER", password: "short"}) '
                       "{ userErrors { code } } }", {OWNER, FULL}),
    "changeCustomerRegistrationId": ('mutation { changeCustomerRegistrationId(input: {currentCustomerRegistrationId: '
                                     '"$OWNER", customerRegistrationId: " "}) { userErrors { code } } }', {FULL}),
    "startForgotPassword": ('mutation { startForgotPassword(input: {email: "bad"}) { userErrors { code } } }', EVERYONE),
    "finishForgotPassword": ('mutation { finishForgotPassword(input: {token: "x", password: "short"}) '
                             "{ userErrors { code } } }", EVERYONE),
    "sendVerificationCode": ('mutation { sendVerificationCode(input: {email: "bad"}) { userErrors { code } } }',
                             EVERYONE),
    "verifyEmail": ('mutation { verifyEmail(input: {email: "bad", code: "x"}) { userErrors { code } } }', EVERYONE),
    # -- invitations (INV) --
    "inviteGuests": ('mutation { inviteGuests(input: {subscriptionId: "S-1", invitees: []}) { userErrors { code } } }',
                     {OWNER, FULL}),
    "updateInvitation": ('mutation { updateInvitation(input: {id: "0"}) { userErrors { code } } }',
                         {OWNER, GUEST, STRANGER, FULL}),
    "cancelInvitation": ('mutation { cancelInvitation(input: {id: "0"}) { userErrors { code } } }',
                         {OWNER, GUEST, STRANGER, FULL}),
    "acceptInvitation": ('mutation { acceptInvitation(input: {token: "x"}) { userErrors { code } } }', EVERYONE),
    "pendingInvitations": ('{ pendingInvitations(subscriptionId: "S-1") { id } }', {OWNER, READ, FULL}),
    "invitation": ('{ invitation(token: "x") { email } }', EVERYONE),
    # BUY-10: anyone may ask; only the e-mail's owner gets an answer or a claim (tests/graphql/messages/
    # test_purchase_claim.py), everyone else null or a user error
    "claimPurchase": ('mutation { claimPurchase(input: {token: "x"}) { userErrors { code } } }', EVERYONE),
    "purchaseClaim": ('{ purchaseClaim(token: "x") { state } }', EVERYONE),
    "resendMessage": ('mutation { resendMessage(input: {eventId: "0"}) { queued } }', {FULL}),  # MSG-1
    # -- sign-in of own-auth tenants (SSN) --
    "signIn": ('mutation { signIn(input: {loginName: "x@example.com", password: "y"}) { userErrors { code } } }',
               EVERYONE),
    "refreshSession": ('mutation { refreshSession(input: {refreshToken: "x"}) { userErrors { code } } }', EVERYONE),
    "signOut": ("mutation { signOut { signedOut } }", {OWNER, GUEST, STRANGER}),
    # -- purchase (BUY) --
    "purchaseSubscription": ('mutation { purchaseSubscription(input: {idempotencyKey: "", offerId: "0", term: "1M", '
                             'paymentProfileId: "p", subscriber: {firstName: "A", lastName: "B", email: "a@b.c", '
                             'address: {country: "US"}}}) { userErrors { code } } }', EVERYONE),
    "purchaseSubscription/crid": ('mutation { purchaseSubscription(input: {idempotencyKey: "", offerId: "0", '
                                  'term: "1M", paymentProfileId: "p", customerRegistrationId: "$OWNER", subscriber: '
                                  '{firstName: "A", lastName: "B", email: "a@b.c", address: {country: "US"}}}) '
                                  "{ userErrors { code } } }", {OWNER, FULL}),
    # -- subscriptions and links (SUB-4, LNK) --
    "cancelSubscription": ('mutation { cancelSubscription(input: {subscriptionId: "S-1", reason: ""}) '
                           "{ userErrors { code } } }", {OWNER, FULL}),
    # -- servicing: temporary stops (STP-1, STP-2): owners and staff only, never a guest or partner --
    "scheduleTemporaryStop": ('mutation { scheduleTemporaryStop(input: {subscriptionId: "S-1", startDate: '
                              '"2000-01-01"}) { userErrors { code } } }', {OWNER, FULL}),
    "changeTemporaryStopRestart": ('mutation { changeTemporaryStopRestart(input: {subscriptionId: "S-1", stopId: '
                                   '"none", restartDate: "2000-01-01"}) { userErrors { code } } }', {OWNER, FULL}),
    "cancelTemporaryStop": ('mutation { cancelTemporaryStop(input: {subscriptionId: "S-1", stopId: "none"}) '
                            "{ userErrors { code } } }", {OWNER, FULL}),
    # -- subscriber details and address (ADR-1): read-level access reaches the mutation, where a guest and
    # read-only staff get a user error; the inputs here are refused by validation, so nothing changes --
    "updateSubscriberDetails": ('mutation { updateSubscriberDetails(input: {subscriptionId: "S-1"}) '
                                "{ userErrors { code } } }", {OWNER, GUEST, READ, FULL}),
    "moveSubscriber": ('mutation { moveSubscriber(input: {subscriptionId: "S-1", effectiveDate: "2000-01-01", '
                       'address: {houseNumber: "1", streetName: "x", city: "x", postalCode: "1", country: "US"}}) '
                       "{ userErrors { code } } }", {OWNER, GUEST, READ, FULL}),
    "fileComplaint": ('mutation { fileComplaint(input: {subscriptionId: "S-1", category: "NONE-SUCH", deliveryDate: '
                      '"2000-01-01"}) { userErrors { code } } }', {OWNER, FULL}),
    # -- StopSaver (STP-4): owners and staff only; starting a flow records only its STOPSAVER event --
    "startStopSaver": ('mutation { startStopSaver(input: {subscriptionId: "S-1"}) { userErrors { code } } }',
                       {OWNER, FULL}),
    "passStopSaverStep": ('mutation { passStopSaverStep(input: {subscriptionId: "S-1", stopSaverId: "none", step: '
                          'CANCEL}) { userErrors { code } } }', {OWNER, FULL}),
    "downgradeSubscription": ('mutation { downgradeSubscription(input: {subscriptionId: "S-1", stopSaverId: "none", '
                              'offerId: "0", reason: ""}) { userErrors { code } } }', {OWNER, FULL}),
    "linkSubscription": ('mutation { linkSubscription(input: {subscriptionId: "S-1", customerRegistrationId: '
                         '"nobody", role: GUEST}) { userErrors { code } } }', {OWNER, FULL}),
    "unlinkSubscription": ('mutation { unlinkSubscription(input: {linkId: "$LINK"}) { userErrors { code } } }',
                           {OWNER, GUEST, FULL}),
    "transferSubscriptionLink": ('mutation { transferSubscriptionLink(input: {linkId: "$LINK", '
                                 'customerRegistrationId: "nobody"}) { userErrors { code } } }', {OWNER, FULL}),
    # -- staff administration (HHL, OFR, MGR, ENT) --
    "updateHouseholdLevel": ('mutation { updateHouseholdLevel(input: {id: "99999", description: "x"}) '
                             "{ userErrors { code } } }", {FULL}),
    "setOfferCheckCriteria": ('mutation { setOfferCheckCriteria(input: {offerId: "0"}) { userErrors { code } } }',
                              {FULL}),
    "setOfferAllowedRegistrations": ('mutation { setOfferAllowedRegistrations(input: {offerId: "0", '
                                     "allowedRegistrations: 1}) { userErrors { code } } }", {FULL}),
    "updateSettings": ('mutation { updateSettings(input: {settings: [{key: "No.Such", value: "1"}]}) '
                       "{ userErrors { code } } }", {FULL}),  # SET-1: refused by SET-2, so harmless
    "setManagerAccessLevels": ('mutation { setManagerAccessLevels(input: {managerSubject: "auth0|x", levels: []}) '
                               "{ userErrors { code } } }", {FULL}),
    "requestAccess": ('mutation { requestAccess(input: {entitlementCode: "EEDITION", platform: ""}) '
                      "{ userErrors { code } } }", {OWNER, GUEST, STRANGER, READ, FULL}),
    "createTemporaryEntitlement": ('mutation { createTemporaryEntitlement(input: {customerRegistrationId: "$OWNER", '
                                   f'entitlementCode: "EEDITION", expiresAt: "{PAST}"}}) {{ userErrors {{ code }} }} }}',
                                   {FULL}),
    # -- payments (PAY, RST, EZ, TIP, GW-1): the owner, staff with full control of payments, partners that write them
    "paymentQuote": ('{ paymentQuote(subscriptionId: "S-1", input: {}) { userErrors { code } } }',
                     {OWNER, GUEST, READ, FULL, PARTNER}),
    "startPaymentSession": ('mutation { startPaymentSession(input: {subscriptionId: "S-1", paymentType: CREDIT_CARD}) '
                            "{ userErrors { code } } }", {OWNER, FULL, PARTNER}),
    "startPaymentSession/newStart": ('mutation { startPaymentSession(input: {offerId: "0", term: "1M", '
                                     'paymentType: CREDIT_CARD}) { userErrors { code } } }', EVERYONE),
    "completePaymentSession": ('mutation { completePaymentSession(input: {subscriptionId: "S-1", sessionId: "none", '
                               'profileId: "p", groupId: "g", paymentType: CREDIT_CARD}) { userErrors { code } } }',
                               {OWNER, FULL, PARTNER}),
    "makePayment": ('mutation { makePayment(input: {subscriptionId: "S-1", idempotencyKey: "", total: "0.00", '
                    'optionTerm: "1M", optionAmount: "0.00", paymentType: CREDIT_CARD, ignoreActivationFee: false}) '
                    "{ userErrors { code } } }", {OWNER, FULL, PARTNER}),
    "makePayment/ignoreActivationFee": ('mutation { makePayment(input: {subscriptionId: "S-1", idempotencyKey: "", '
                                        'total: "0.00", optionTerm: "1M", optionAmount: "0.00", paymentType: '
                                        "CREDIT_CARD, ignoreActivationFee: true}) { userErrors { code } } }",
                                        {FULL, PARTNER}),
    "restartSubscription": ('mutation { restartSubscription(input: {subscriptionId: "S-1", idempotencyKey: "", '
                            'total: "0.00", optionTerm: "1M", optionAmount: "0.00"}) { userErrors { code } } }',
                            {OWNER, FULL, PARTNER}),
    "signUpAutoPay": ('mutation { signUpAutoPay(input: {subscriptionId: "S-1", idempotencyKey: "", total: "0.00", '
                      'term: "1M", length: 1, paymentType: CREDIT_CARD}) { userErrors { code } } }',
                      {OWNER, FULL, PARTNER}),
    "updateAutoPay": ('mutation { updateAutoPay(input: {subscriptionId: "S-1", idempotencyKey: "", term: "1M", '
                      "length: 1, paymentType: CREDIT_CARD}) { userErrors { code } } }", {OWNER, FULL, PARTNER}),
    "addTip": ('mutation { addTip(input: {subscriptionId: "S-1", idempotencyKey: "", total: "0.00", amount: "0.00", '
               "recurring: false, paymentType: CREDIT_CARD}) { userErrors { code } } }", {OWNER, FULL, PARTNER}),
    "cancelAutoPay": ('mutation { cancelAutoPay(input: {subscriptionId: "S-1"}) { userErrors { code } } }',
                      {OWNER, FULL, PARTNER}),  # EZ-5: refused NOT_ON_AUTO_PAY, so harmless
    # -- eBill (EBL-1): owners and staff; the sign-out first (refused NOT_ON_EBILL); the owner's sign-up then
    # succeeds and the rest are refused ALREADY_ON_EBILL, which no later row depends on
    "signOutEBill": ('mutation { signOutEBill(input: {subscriptionId: "S-1"}) { userErrors { code } } }',
                     {OWNER, FULL}),
    "signUpEBill": ('mutation { signUpEBill(input: {subscriptionId: "S-1"}) { userErrors { code } } }',
                    {OWNER, FULL}),
    "enrollManagerMfa": ("mutation { enrollManagerMfa { userErrors { code } } }", {NONE, READ, FULL}),
    "verifyManagerMfa": ('mutation { verifyManagerMfa(input: {code: "x"}) { userErrors { code } } }',
                         {NONE, READ, FULL}),
    "disableManagerMfa": ("mutation { disableManagerMfa(input: {}) { userErrors { code } } }", {NONE, READ, FULL}),
    "disableManagerMfa/other": ('mutation { disableManagerMfa(input: {managerSubject: "auth0|other"}) '
                                "{ userErrors { code } } }", {FULL}),
}


def _root_fields() -> dict[str, object]:
    schema = build_schema()
    fields = {}
    for type_name in ("Query", "Mutation"):
        definition = schema.get_type_by_name(type_name)
        for field in definition.fields:
            if field.name.startswith("_"):  # federation's _service (public SDL) and _entities (guarded per type)
                continue
            fields[schema.config.name_converter.get_graphql_name(field)] = field
    return fields


def test_every_root_field_has_a_decision():
    fields = _root_fields()

    without_rules = sorted(name for name, field in fields.items() if rules_of(field) is None)
    without_row = sorted(set(fields) - {key.split("/")[0] for key in MATRIX})
    stale_rows = sorted({key.split("/")[0] for key in MATRIX} - set(fields))

    assert without_rules == [], "declare who may call these fields with extensions=allow(...)"
    assert without_row == [], "add these fields to MATRIX"
    assert stale_rows == []


def test_every_entity_type_guards_its_references():
    from schema import ENTITY_TYPES

    unguarded = [t.__name__ for t in ENTITY_TYPES if not getattr(t.resolve_reference, "__papergraph_rules__", None)]

    assert unguarded == []


@pytest.fixture
def settings(settings):
    """Every principal sends every operation from one address, naming the same identities: the rate limits
    (tests/graphql/users/test_rate_limits.py) are kept out of the way of the decisions."""
    return settings.model_copy(update={"rate_limit_per_address": 100_000, "rate_limit_per_identity": 100_000})


@pytest.fixture
async def world(app, own_tenant, tokens):
    """The own tenant's subscription S-1 with an owner and a guest, a stranger, and a token per principal."""
    tenant = await own_tenant("NCS")
    own_tenants = own_tenant
    own_tenants.add_subscription(tenant, SUBSCRIPTION, product="1", subscriber={"lastName": "Person"})
    owner, guest, stranger = await tenant.add(*[
        Registration(tenant_id=tenant.id, crid=f"auth0|{name}-{tenant.code.lower()}", email=f"{name}@example.com")
        for name in ("owner", "guest", "stranger")])
    await tenant.add(SubscriptionLink(tenant_id=tenant.id, registration_id=owner.id, subscription_id=SUBSCRIPTION,
                                      role="OWNER"))
    guest_link = await tenant.add(SubscriptionLink(tenant_id=tenant.id, registration_id=guest.id,
                                                   subscription_id=SUBSCRIPTION, role="GUEST"))
    headers = {
        ANON: {"x_tenant": tenant.code},
        OWNER: bearer(tokens.customer(owner.crid, tenant.code)),
        GUEST: bearer(tokens.customer(guest.crid, tenant.code)),
        STRANGER: bearer(tokens.customer(stranger.crid, tenant.code)),
        NONE: bearer(tokens.staff(tenant.code, access="NO_ACCESS", sub="auth0|none")),
        READ: bearer(tokens.staff(tenant.code, access="READ_ONLY", sub="auth0|read")),
        FULL: bearer(tokens.staff(tenant.code, access="FULL_CONTROL", sub="auth0|full")),
        PARTNER: bearer(tokens.partner(tenant.code, "read:subscriptions write:payments")),
    }
    return {"tenant": tenant, "headers": headers, "owner": owner, "guest": guest, "guest_link": guest_link}


async def _decision(client, document: str, headers: dict, field: str) -> tuple[bool, dict]:
    body = await graphql(client, document, **headers)
    codes = {e["extensions"].get("code") for e in body.get("errors", []) if e.get("path", [None])[0] == field}
    denied = bool(codes & {"FORBIDDEN", "UNAUTHENTICATED"})
    if denied:
        assert (body.get("data") or {}).get(field) is None, body
    return not denied, body


async def test_principal_by_operation_matrix(api_client, world):
    # given
    tenant = world["tenant"]
    mismatches = []
    for key, (template, allowed) in MATRIX.items():
        field = key.split("/")[0]
        for principal, headers in world["headers"].items():
            link = world["guest_link"]
            document = (template.replace("$OWNER", world["owner"].crid).replace("$GUEST", world["guest"].crid)
                        .replace("$LINK", str(link.id)))

            # when
            was_allowed, body = await _decision(api_client, document, headers, field)

            # then (collected, so one run reports every disagreement)
            if was_allowed != (principal in allowed):
                mismatches.append(f"{key} as {principal}: {'allowed' if was_allowed else 'denied'} "
                                  f"({body.get('errors')})")
            if field == "signOut" and was_allowed:  # SSN-4 ended the customer's tokens: give them back
                await _undo_sign_outs(tenant)
            if field == "unlinkSubscription" and was_allowed and not body["data"][field]["userErrors"]:
                world["guest_link"] = await tenant.add(SubscriptionLink(
                    tenant_id=tenant.id, registration_id=world["guest"].id, subscription_id=SUBSCRIPTION,
                    role="GUEST"))
    assert mismatches == []


async def _undo_sign_outs(tenant) -> None:
    import sqlalchemy as sa

    async with tenant.services.db.session() as session:
        await session.execute(sa.update(Registration).where(Registration.tenant_id == tenant.id)
                              .values(last_logout_at=None))
        await session.commit()
    tenant.services.session_guard._cache.clear()


async def test_denied_answers_name_the_rules_and_use_the_principals_code(api_client, world):
    anonymous = await graphql(api_client, MATRIX["users"][0], **world["headers"][ANON])
    stranger = await graphql(api_client, MATRIX["subscription"][0], **world["headers"][STRANGER])

    [unauthenticated] = anonymous["errors"]
    [forbidden] = stranger["errors"]
    assert unauthenticated["extensions"]["code"] == "UNAUTHENTICATED"
    assert unauthenticated["message"].startswith("Sign in: `users` is for staff with READ_ONLY access to registrations")
    assert forbidden["extensions"]["code"] == "FORBIDDEN"
    assert "a customer linked to the subscription" in forbidden["message"]
