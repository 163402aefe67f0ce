"""The operations front ends really send, as benchmark scenarios.

Each scenario is one GraphQL document with the variables a client would vary (a different subscriber's
CRID on every dashboard request, a fresh idempotency key on every payment), rendered into a wrk Lua script
so the load generator itself builds each POST body: no proxy or Python driver sits in the measured path.

`peer=True` marks the scenarios the Apollo peer serves too (same schema shape, same data), so the report
can give papergraph's ratio to it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sandbox.demo import REGISTRATIONS_PER_SCALE, TENANTS, crid_for

TENANT = "NCSDEMO"  # the NCS tenant: every availability rule and the processing fee apply there

DASHBOARD = """
query SubscriberDashboard($crid: String!) {
  registration(crid: $crid) {
    crid email firstName lastName state
    linkedSubscriptions {
      id accountNumber status kind deliverySchedule digital startDate endDate
      balance { amount currency }
      autoPay ebill billingMethod customerReferenceNumber name productCode
      householdLevel { id label active }
      offer { id name vendor logoUrl category digital }
      paymentMethod { type cardBrand cardLast4 cardExpiry bankName bankAccountMasked }
      billingOptions { term length lengthUnit rate { amount currency } tax { amount currency } amount { amount currency } autoRenew }
      restartAvailability { available reasons { code message } }
      tipAvailability { oneTime { available reasons { code message } } recurring { available reasons { code message } } }
      ebillAvailability { signUpAllowed manageAllowed reason { code message } }
    }
  }
}
"""

STAFF_SEARCH = """
query StaffSubscriptionSearch($search: SubscriptionSearchInput!, $first: Int) {
  subscriptions(search: $search, first: $first) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node {
      id accountNumber status kind endDate balance { amount currency } autoPay
      subscriber { firstName lastName email phones postalCode }
      householdLevel { label }
    } }
  }
}
"""

CATALOG = """
query Catalog($first: Int) {
  catalog(first: $first) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node {
      offerId vendor logoUrl name shortDescription category trialAvailable
      lowestCommercialPrice { amount currency }
      offer { id digital activationFee { amount currency } validFrom validTo
              terms { id code length lengthUnit rate { amount currency } tax { amount currency } amount { amount currency } commercial } }
    } }
  }
}
"""

# `paymentQuote` does not exist yet: `subscriptionCost` is the quote front ends call today (FEE-5).
PAYMENT_QUOTE = """
query PaymentQuote($offerId: ID!, $termId: ID!, $paymentType: Int!) {
  subscriptionCost(offerId: $offerId, termId: $termId, paymentType: $paymentType) {
    offerId termId paymentType
    rate { amount currency } tax { amount currency } activationFee { amount currency }
    processingFee { amount currency } processingFeeTax { amount currency } total { amount currency }
  }
}
"""

MAKE_PAYMENT = """
mutation MakePayment($input: MakePaymentInput!) {
  makePayment(input: $input) {
    userErrors { code field message }
  }
}
"""


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    query: str
    variables: dict[str, Any] = field(default_factory=dict)
    crids: tuple[str, ...] = ()  # when set, every request asks for a different subscriber
    idempotency_key: bool = False  # when set, every request carries a fresh idempotency key
    peer: bool = False
    requires_field: str | None = None  # a root field the schema must have, else the scenario is skipped
    principal: str = "anonymous"  # anonymous, customer (a token per CRID) or staff
    note: str = ""

    def body(self, crid: str | None = None) -> dict[str, Any]:
        variables = dict(self.variables)
        if self.crids:
            variables["crid"] = crid or self.crids[0]
        return {"query": self.query, "variables": variables}

    def lua(self, tenant: str = TENANT, tokens: dict[str, str] | None = None) -> str:
        """A wrk script: POST with the tenant header; per-request variables from Lua; latency
        percentiles (including p95, which `--latency` does not print) written by `done` as one JSON line.
        `tokens`: the bearer token per CRID (customer scenarios) or under "staff"."""
        tokens = tokens or {}
        head = [
            'wrk.method = "POST"',
            'wrk.headers["Content-Type"] = "application/json"',
            f'wrk.headers["X-Tenant"] = "{tenant}"',
        ]
        if self.principal == "staff":
            head.append(f'wrk.headers["Authorization"] = "Bearer {tokens["staff"]}"')
        if self.crids:
            crid_table = ",".join(json.dumps(c) for c in self.crids)
            prefix, suffix = json.dumps(self.body("@@CRID@@")).split("@@CRID@@")
            head += [
                f"local crids = {{{crid_table}}}",
                f"local prefix = {_lua_string(prefix)}",
                f"local suffix = {_lua_string(suffix)}",
                "local counter = 0",
            ]
            if self.principal == "customer":  # each subscriber signs in with its own token
                head += [
                    f"local tokens = {{{','.join(json.dumps(tokens[c]) for c in self.crids)}}}",
                    "request = function()",
                    "  counter = counter + 1",
                    "  local i = (counter * 7919) % #crids + 1",
                    '  local headers = {["Content-Type"] = "application/json", '
                    f'["X-Tenant"] = "{tenant}", ["Authorization"] = "Bearer " .. tokens[i]}}',
                    "  return wrk.format(nil, nil, headers, prefix .. crids[i] .. suffix)",
                    "end",
                ]
            else:
                head += [
                    "request = function()",
                    "  counter = counter + 1",
                    "  local crid = crids[(counter * 7919) % #crids + 1]",
                    "  return wrk.format(nil, nil, nil, prefix .. crid .. suffix)",
                    "end",
                ]
        elif self.idempotency_key:
            prefix, suffix = json.dumps(self.body()).split("@@KEY@@")
            head += [
                f"local prefix = {_lua_string(prefix)}",
                f"local suffix = {_lua_string(suffix)}",
                "local counter = 0",
                'local thread_id = tostring(math.random(1, 1000000000))',
                "request = function()",
                "  counter = counter + 1",
                '  return wrk.format(nil, nil, nil, prefix .. "bench-" .. thread_id .. "-" .. counter .. suffix)',
                "end",
            ]
        else:
            head.append(f"wrk.body = {_lua_string(json.dumps(self.body()))}")
        head += [
            "done = function(summary, latency, requests)",
            "  io.write(string.format('WRKJSON {\"requests\": %d, \"duration_us\": %d, \"errors_connect\": %d, "
            "\"errors_read\": %d, \"errors_write\": %d, \"errors_status\": %d, \"errors_timeout\": %d, "
            "\"p50_us\": %d, \"p95_us\": %d, \"p99_us\": %d, \"mean_us\": %f, \"max_us\": %d}\\n', "
            "summary.requests, summary.duration, summary.errors.connect, summary.errors.read, summary.errors.write, "
            "summary.errors.status, summary.errors.timeout, latency:percentile(50), latency:percentile(95), "
            "latency:percentile(99), latency.mean, latency.max))",
            "end",
        ]
        return "\n".join(head) + "\n"


def _lua_string(text: str) -> str:
    return "[==[" + text + "]==]"


def dashboard_crids(scale: int, limit: int = 2000) -> tuple[str, ...]:
    """CRIDs of the benchmark tenant's registrations (each owns ~10 subscriptions and guests on ~1.4)."""
    provider = next(t for t in TENANTS if t["code"] == TENANT)["settings"].get("Flow.UserProvider", "Auth0")
    count = min(REGISTRATIONS_PER_SCALE * scale, limit)
    return tuple(crid_for(TENANT, i, provider) for i in range(count))


def scenarios(scale: int) -> list[Scenario]:
    tenant_index = next(i for i, t in enumerate(TENANTS) if t["code"] == TENANT)
    offer_id, term_id = tenant_index * 100 + 11, tenant_index * 1000 + 111  # sandbox.demo's ids
    return [
        Scenario("dashboard", "subscriber dashboard", DASHBOARD, crids=dashboard_crids(scale), peer=True,
                 principal="customer",
                 note="registration(crid) → linkedSubscriptions (~11) → householdLevel, offer, paymentMethod, "
                      "billingOptions, availabilities"),
        Scenario("staff_search", "staff subscription search", STAFF_SEARCH, principal="staff",
                 variables={"search": {"lastName": "Garcia"}, "first": 20}),
        Scenario("catalog", "catalog", CATALOG, variables={"first": 20}, peer=True),
        Scenario("payment_quote", "payment quote", PAYMENT_QUOTE,
                 variables={"offerId": str(offer_id), "termId": str(term_id), "paymentType": 1},
                 note="`paymentQuote` does not exist yet: measured with `subscriptionCost`"),
        Scenario("make_payment", "makePayment", MAKE_PAYMENT, idempotency_key=True, requires_field="makePayment",
                 principal="staff",
                 variables={"input": {"subscriptionId": "NCS-0000002", "amount": "10.79", "paymentType": 1,
                                      "optionTerm": "1M", "idempotencyKey": "@@KEY@@"}},
                 note="fresh idempotency key per request"),
    ]
