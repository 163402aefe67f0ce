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

from sandbox.demo import REGISTRATIONS_PER_SCALE, TENANTS, crid_for, generate

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

# The customer-service console (issue 16 item 4): search → one subscription → its stops / its complaints, one
# query each, as a staff member walks them.
CONSOLE_SEARCH = """
query ConsoleSearch($search: SubscriptionSearchInput!, $first: Int) {
  subscriptions(search: $search, first: $first) {
    totalCount
    nodes {
      id accountNumber status digital endDate balance { amount currency }
      subscriber { firstName lastName email phones postalCode }
      offer { id name }
      complaints { id category deliveryDate }
    }
  }
}
"""

CONSOLE_SUBSCRIPTION = """
query ConsoleSubscription($id: ID!) {
  subscription(id: $id) {
    id accountNumber status kind deliverySchedule digital startDate endDate balance { amount currency }
    autoPay ebill billingMethod productCode
    subscriber { firstName lastName email phones companyName address { houseNumber streetName city postalCode country } }
    offer { id name group { id name } }
    householdLevel { label }
    paymentMethod { type cardBrand cardLast4 }
    billingOptions { term rate { amount currency } amount { amount currency } autoRenew }
    links { role registration { crid email firstName lastName } }
    restartAvailability { available reasons { code message } }
    ebillAvailability { signUpAllowed manageAllowed }
  }
  stopReasons { code description }
}
"""

CONSOLE_STOPS = """
query ConsoleStops($id: ID!) {
  subscription(id: $id) { id digital status temporaryStops { id startDate restartDate reason } }
  temporaryStopDates(subscriptionId: $id)
  stopSaver(subscriptionId: $id) { steps downgradeOffers { id name lowestCommercialPrice { amount currency } } }
}
"""

CONSOLE_COMPLAINTS = """
query ConsoleComplaints($id: ID!) {
  subscription(id: $id) {
    id
    complaints { id circulationComplaintId category deliveryDate resolution createdAt
                 temporaryEntitlement { entitlementCode reason startsAt expiresAt active } }
  }
  complaintCategories { code description }
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

PAYMENT_QUOTE = """
query PaymentQuote($subscriptionId: ID!, $input: PaymentQuoteInput!) {
  paymentQuote(subscriptionId: $subscriptionId, input: $input) {
    quote {
      paymentType optionTerm optionAmount { amount currency } optionTax { amount currency }
      tip { amount currency } donation { amount currency } activationFee { amount currency }
      processingFee { amount currency } processingFeeTax { amount currency } balanceApplied { amount currency }
      total { amount currency } paymentRequired
    }
    userErrors { code field message }
  }
}
"""

MAKE_PAYMENT = """
mutation MakePayment($input: MakePaymentInput!) {
  makePayment(input: $input) {
    payment { id state total { amount currency } }
    userErrors { code field message }
  }
}
"""
# What one month of the digital offer costs on NCSDEMO by card: 10.79 + the 5.00 activation fee (PAY-2), a
# 3.5 % fee on 15.79 (0.55) and 7 % tax on the fee (0.04).
NCS_CARD_PAYMENT_TOTAL = "16.38"


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    query: str
    variables: dict[str, Any] = field(default_factory=dict)
    crids: tuple[str, ...] = ()  # when set, every request asks for a different subscriber
    idempotency_key: bool = False  # when set, every request carries a fresh idempotency key
    subscription_ids: tuple[str, ...] = ()  # with idempotency_key: every request pays the next one (PM-5)
    peer: bool = False
    requires_field: str | None = None  # a root field the schema must have, else the scenario is skipped
    principal: str = "anonymous"  # anonymous, customer (a token per CRID) or staff
    comparable: bool = True  # the same request always gets the same answer: every warm-up answer is compared
    note: str = ""

    def body(self, crid: str | None = None) -> dict[str, Any]:
        variables = dict(self.variables)
        if self.crids:
            variables["crid"] = crid or self.crids[0]
        return {"query": self.query, "variables": variables}

    def check_body(self) -> dict[str, Any]:
        """The body of the one request sent before measuring: the first subscription, its own key."""
        text = json.dumps(self.body())
        if self.subscription_ids:
            text = text.replace("@@SUB@@", self.subscription_ids[0])
        return json.loads(text.replace("@@KEY@@", "bench-check"))

    def lua(self, tenant: str = TENANT, tokens: dict[str, str] | None = None) -> str:
        """A wrk script: POST with the tenant header; per-request variables from Lua; latency
        percentiles (including p95, which `--latency` does not print) written by `done` as one JSON line.
        `tokens`: the bearer token per CRID (customer scenarios) or under "staff"."""
        tokens = tokens or {}
        head = [
            'wrk.method = "POST"',
            'wrk.headers["Content-Type"] = "application/json"',
            f'wrk.headers["X-Tenant"] = "{tenant}"',
            # answers with GraphQL errors (HTTP 200 with an `errors` member) are counted per thread and summed
            # by `done`: wrk's own error counts see only the transport and the status
            "gql_errors = 0",
            "local threads = {}",
            "setup = function(thread) table.insert(threads, thread); thread:set('thread_id', #threads) end",
            "response = function(status, headers, body)",
            "  if string.find(body, '\"errors\"', 1, true) then gql_errors = gql_errors + 1 end",
            "end",
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
            subscriptions = ",".join(json.dumps(s) for s in self.subscription_ids)
            head += [
                f"local template = {_lua_string(json.dumps(self.body()))}",
                f"local subscriptions = {{{subscriptions}}}",
                "local counter = 0",
                # each wrk thread has its own Lua state: `setup` numbers them, so two threads never send the
                # same key or pay the same subscription; the nonce keeps the warm-up's keys out of the run
                "local nonce = tostring(os.time()) .. '-' .. tostring(math.floor(os.clock() * 1000000))",
                "request = function()",
                "  counter = counter + 1",
                "  local key = 'bench-' .. nonce .. '-' .. thread_id .. '-' .. counter",
                '  local body = (string.gsub(template, "@@KEY@@", key))',
                "  if #subscriptions > 0 then  -- the runner starts at most 2 threads: they interleave",
                "    local index = ((counter - 1) * 2 + (thread_id - 1)) % #subscriptions + 1",
                '    body = (string.gsub(body, "@@SUB@@", subscriptions[index]))',
                "  end",
                "  return wrk.format(nil, nil, nil, body)",
                "end",
            ]
        else:
            head.append(f"wrk.body = {_lua_string(json.dumps(self.body()))}")
        head += [
            "done = function(summary, latency, requests)",
            "  local graphql_errors = 0",
            "  for _, thread in ipairs(threads) do graphql_errors = graphql_errors + thread:get('gql_errors') end",
            "  io.write(string.format('WRKJSON {\"graphql_errors\": %d, \"requests\": %d, \"duration_us\": %d, \"errors_connect\": %d, "
            "\"errors_read\": %d, \"errors_write\": %d, \"errors_status\": %d, \"errors_timeout\": %d, "
            "\"p50_us\": %d, \"p95_us\": %d, \"p99_us\": %d, \"mean_us\": %f, \"max_us\": %d}\\n', "
            "graphql_errors, summary.requests, summary.duration, summary.errors.connect, summary.errors.read, summary.errors.write, "
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


def payable_subscriptions(scale: int, limit: int = 2000) -> tuple[str, ...]:
    """Active NCSDEMO subscriptions of the digital offer (1M at 10.79) with a card attached: each may be
    paid once a day (PM-5). A subscription's record depends on its index only, so a smaller scale's are
    the larger's first ones."""
    data = generate(min(scale, 10))
    cards = {m["subscription_id"] for m in data.payment_methods
             if m["tenant"] == TENANT and m["type"] == "CREDIT_CARD"}
    found = [s["id"] for s in data.subscriptions_of(TENANT)
             if s["status"] == "ACTIVE" and s["id"] in cards and s["billingOptions"][0]["amount"] == "10.79"]
    return tuple(found[:limit])


def scenarios(scale: int) -> list[Scenario]:
    payable = payable_subscriptions(scale)
    return [
        Scenario("dashboard", "subscriber dashboard", DASHBOARD, crids=dashboard_crids(scale), peer=True,
                 principal="customer",
                 note="registration(crid) → linkedSubscriptions (~11) → householdLevel, offer, paymentMethod, "
                      "billingOptions, availabilities"),
        Scenario("staff_search", "staff subscription search", STAFF_SEARCH, principal="staff",
                 variables={"search": {"lastName": "gar"}, "first": 20},
                 note="SUB-2: a case-insensitive last-name prefix (the emulator's index, sandbox/circulation/search.py)"),
        Scenario("console_search", "console: subscription search", CONSOLE_SEARCH, principal="staff",
                 variables={"search": {"lastName": "Garcia"}, "first": 20},
                 note="search → offer, complaints per subscription (batched)"),
        Scenario("console_subscription", "console: one subscription", CONSOLE_SUBSCRIPTION, principal="staff",
                 variables={"id": payable[0]}),
        Scenario("console_stops", "console: temporary stops", CONSOLE_STOPS, principal="staff",
                 variables={"id": payable[0]}, note="stops and offered dates read live; StopSaver steps and offers"),
        Scenario("console_complaints", "console: complaints", CONSOLE_COMPLAINTS, principal="staff",
                 variables={"id": payable[0]}),
        Scenario("catalog", "catalog", CATALOG, variables={"first": 20}, peer=True),
        Scenario("payment_quote", "payment quote", PAYMENT_QUOTE, principal="staff",
                 variables={"subscriptionId": payable[0], "input": {"makePayment": {
                     "optionTerm": "1M", "optionAmount": "10.79", "paymentType": "CREDIT_CARD"}}}),
        Scenario("make_payment", "makePayment", MAKE_PAYMENT, idempotency_key=True, requires_field="makePayment",
                 principal="staff", subscription_ids=payable, comparable=False,
                 variables={"input": {"subscriptionId": "@@SUB@@", "optionTerm": "1M", "optionAmount": "10.79",
                                      "paymentType": "CREDIT_CARD", "total": NCS_CARD_PAYMENT_TOTAL,
                                      "idempotencyKey": "@@KEY@@"}},
                 note=f"fresh idempotency key per request, over {len(payable)} subscriptions: each accepts one "
                      "payment a day (PM-5), so once every one is paid the rest are PAYMENT_WINDOW refusals"),
    ]
