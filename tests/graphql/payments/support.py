"""What the payment tests share: a subscription of a tenant of the test's own (circulation record, owner
registration and link, a payment method and its NavigaPay profile), the mutations' documents, and the
check that papergraph's ledger, NavigaPay's and the circulation system's agree (PAY-4)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from prometheus_client.parser import text_string_to_metric_families
from sqlmodel import select

from datasources.models import Event, Payment, PaymentMethod, SubscriptionLink, utcnow
from tests.conftest import bearer, graphql
from tests.graphql.own_tenant import OwnTenant, own_registration

D = Decimal
PAYMENT_FIELDS = """
    payment { id state flow paymentType optionTerm total { amount currency } optionAmount { amount }
              optionTax { amount } tip { amount } donation { amount } activationFee { amount }
              processingFee { amount } processingFeeTax { amount } balanceApplied { amount }
              gatewayTransactionId circulationTransactionId errorCode }
    subscription { id status balance { amount } autoPay }
    event { typeCode amount { amount } reason source }
    userErrors { code field message }
"""
MAKE_PAYMENT = "mutation ($input: MakePaymentInput!) { makePayment(input: $input) {" + PAYMENT_FIELDS + "} }"
RESTART = ("mutation ($input: RestartSubscriptionInput!) { restartSubscription(input: $input) {" + PAYMENT_FIELDS
           + "} }")
SIGN_UP_AUTO_PAY = "mutation ($input: SignUpAutoPayInput!) { signUpAutoPay(input: $input) {" + PAYMENT_FIELDS + "} }"
UPDATE_AUTO_PAY = "mutation ($input: UpdateAutoPayInput!) { updateAutoPay(input: $input) {" + PAYMENT_FIELDS + "} }"
ADD_TIP = "mutation ($input: AddTipInput!) { addTip(input: $input) {" + PAYMENT_FIELDS + "} }"
QUOTE = """
query ($subscriptionId: ID!, $input: PaymentQuoteInput!) {
  paymentQuote(subscriptionId: $subscriptionId, input: $input) {
    quote { paymentType optionTerm total { amount currency } optionAmount { amount } optionTax { amount }
            tip { amount } donation { amount } activationFee { amount } processingFee { amount }
            processingFeeTax { amount } balanceApplied { amount } recurringTip { amount } paymentRequired }
    userErrors { code field message }
  }
}
"""
FEES_ON = {"Billing.CreditCard.ProcessingFee.Enable": "1", "Billing.CreditCard.ProcessingFee.Percentage": "3.5",
           "Billing.CreditCard.ProcessingFee.Tax.Enable": "1", "Billing.CreditCard.ProcessingFee.Tax.Percentage": "7"}
CARDS = {"VISA": "4242", "DINERS": "1667", "MASTERCARD": "4444"}


@dataclass
class Paying:
    """A subscription of an own tenant, ready to pay: its owner's CRID and token headers."""

    tenant: OwnTenant
    subscription_id: str
    crid: str
    registration_id: int
    profile_id: str | None
    headers: dict[str, str]

    def sub(self, **fields) -> dict[str, Any]:
        return {"subscriptionId": self.subscription_id, "idempotencyKey": uuid.uuid4().hex, **fields}


async def paying(own_tenant, sandboxes, tokens, *, kind: str = "NCS", settings: dict[str, str] | None = None,
                 **subscription) -> Paying:
    """An own tenant (kind, settings) with one subscription ready to pay (see `another_subscription`)."""
    tenant = await own_tenant(kind=kind, settings=settings)
    registration = await own_registration(tenant)
    return await another_subscription(own_tenant, sandboxes, tokens, tenant, registration.crid, registration.id,
                                      **subscription)


async def another_subscription(own_tenant, sandboxes, tokens, tenant: OwnTenant, crid: str, registration_id: int, *,
                               method: str | None = "VISA", status: str = "ACTIVE", balance: str = "0.00",
                               terms: tuple[tuple[str, str], ...] = (("1M", "10.79"), ("12M", "106.92")),
                               attached_ago: timedelta = timedelta(days=2), subscription_kind: str = "REGULAR",
                               **fields) -> Paying:
    """A subscription in the tenant's circulation paper owned by the registration, with a payment method
    attached `attached_ago` (`method`: a card brand, BANK, or None for none) and its NavigaPay profile;
    `fields` override the circulation record's."""
    fields["kind"] = subscription_kind
    subscription_id = f"{tenant.code}-{uuid.uuid4().hex[:6]}"
    record = own_tenant.add_subscription(tenant, subscription_id, product="1", status=status, terms=terms,
                                         balance=balance, **fields)
    for option in record["billingOptions"]:  # a tax line, as real options have
        option["tax"] = "0.80"
    own_tenant.circulation().add_subscriptions([record])
    await tenant.add(SubscriptionLink(tenant_id=tenant.id, registration_id=registration_id,
                                      subscription_id=subscription_id, role="OWNER"))
    profile_id = None
    if method is not None:
        profile_id = f"prof_{uuid.uuid4().hex[:12]}"
        bank = method == "BANK"
        sandboxes["navigapay"].state.store.add_profile({
            "profileId": profile_id, "customerId": "cus_own", "merchant": tenant.code,
            "paymentType": "BANK" if bank else "CREDIT_CARD", "brand": None if bank else method,
            "last4": "6789" if bank else CARDS.get(method, "1111"), "expiry": None if bank else "12/30",
            "bankName": "First Community Bank" if bank else None, "routingNumber": "021000021" if bank else None})
        await tenant.add(PaymentMethod(
            tenant_id=tenant.id, subscription_id=subscription_id, type="BANK" if bank else "CREDIT_CARD",
            gateway_token=profile_id, card_brand=None if bank else method,
            card_last4=None if bank else CARDS.get(method, "1111"), card_expiry=None if bank else "12/30",
            bank_name="First Community Bank" if bank else None, bank_account_masked="****6789" if bank else None,
            bank_routing_number="021000021" if bank else None, attached_at=utcnow() - attached_ago))
    return Paying(tenant=tenant, subscription_id=subscription_id, crid=crid, registration_id=registration_id,
                  profile_id=profile_id, headers={**tenant.headers, **bearer(tokens.customer(crid, tenant.code))})


def circulation_record(sandboxes, setup: "Paying") -> dict[str, Any]:
    return sandboxes["circulation"].state.store.papers[setup.tenant.code].subscriptions[setup.subscription_id]


async def pay(client, setup: Paying, document: str = MAKE_PAYMENT, **input_fields) -> dict:
    """Send a payment mutation as the subscription's owner; returns the payload (data only)."""
    answer = await graphql(client, document, {"input": setup.sub(**input_fields)}, **setup.headers)
    assert "errors" not in answer, answer
    return next(iter(answer["data"].values()))


def codes(payload: dict) -> list[str]:
    return [error["code"] for error in payload["userErrors"]]


async def ledger_rows(services, tenant: OwnTenant) -> list[Payment]:
    async with services.db.session() as session:
        return list((await session.execute(select(Payment).where(Payment.tenant_id == tenant.id)
                                            .order_by(Payment.id))).scalars())


async def events(services, tenant: OwnTenant) -> list[Event]:
    async with services.db.session() as session:
        return list((await session.execute(select(Event).where(Event.tenant_id == tenant.id)
                                            .order_by(Event.id))).scalars())


def gateway_entries(sandboxes, tenant: OwnTenant) -> list[dict]:
    return sandboxes["navigapay"].state.store.ledger(tenant.code)


def circulation_entries(sandboxes, tenant: OwnTenant) -> list[dict]:
    return [e for e in sandboxes["circulation"].state.store.ledger if e["paperCode"] == tenant.code]


async def assert_ledgers_agree(services, sandboxes, tenant: OwnTenant) -> None:
    """PAY-4: no charge without an application or a give-back. Every captured sale at NavigaPay is applied
    exactly once in the circulation system, for what was charged, and papergraph's attempt says APPLIED;
    every voided or refunded sale was never applied and its attempt says so; and every attempt's state was
    recorded with its event (NOT-1)."""
    rows = await ledger_rows(services, tenant)
    by_gateway_id = {row.gateway_transaction_id: row for row in rows if row.gateway_transaction_id}
    applied = circulation_entries(sandboxes, tenant)
    for sale in gateway_entries(sandboxes, tenant):
        row = by_gateway_id.get(sale["transactionId"])
        assert row is not None, f"a sale papergraph does not know: {sale}"
        uses = [e for e in applied if e.get("gatewayTransactionId") == sale["transactionId"]]
        if sale["state"] == "captured":
            assert len(uses) == 1, (sale, uses)
            assert uses[0]["charged"] == sale["amount"] == row.total
            assert row.state in ("APPLIED", "PAID"), (row.state, sale)
        elif sale["state"] in ("voided", "refunded"):
            assert uses == [], (sale, uses)
            assert row.state == sale["state"].upper()
        elif sale["state"] == "declined":
            assert uses == [] and row.state == "DECLINED"
        else:
            raise AssertionError(f"unexpected gateway state {sale['state']}")
    known = {sale["transactionId"] for sale in gateway_entries(sandboxes, tenant)}
    for entry in applied:
        if entry.get("gatewayTransactionId"):
            assert entry["gatewayTransactionId"] in known, f"applied without a charge: {entry}"
    recorded = await events(services, tenant)
    for row in rows:
        own = [event for event in recorded if event.payment_id == row.id]
        types = [event.type_code for event in own]
        assert types and types[0] == "PAYMENTCREATED", (row.id, types)
        assert len(types) == len(set(types)), types
        assert all(event.parent_id == own[0].id for event in own[1:]), "each state's event has the attempt's first"


async def scraped(client, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """One family's samples as `GET /metrics` shows them, by their sorted labels."""
    response = await client.get("/metrics")
    assert response.status_code == 200, response.text
    return {tuple(sorted(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(response.text) for sample in family.samples
            if sample.name == name}


async def replays(client) -> dict[str, float]:
    """`papergraph_idempotent_replays_total` per operation, from /metrics."""
    return {dict(labels)["operation"]: value
            for labels, value in (await scraped(client, "papergraph_idempotent_replays_total")).items()}


async def pending_attempts(client) -> dict[str, float]:
    """`papergraph_pending_payment_attempts` per ledger state, from /metrics."""
    return {dict(labels)["state"]: value
            for labels, value in (await scraped(client, "papergraph_pending_payment_attempts")).items()}
