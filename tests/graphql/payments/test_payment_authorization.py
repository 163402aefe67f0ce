"""Who may pay, restart, change auto-pay and tip (LNK-3, MGR-1, MGR-2, MGR-3), and read quotes and the
ledger: the rules declared on the new fields."""

from __future__ import annotations

import pytest

from auth.principals import SECTIONS
from datasources.models import SubscriptionLink
from tests.conftest import bearer, graphql
from tests.graphql.own_tenant import own_registration
from tests.graphql.payments.support import MAKE_PAYMENT, QUOTE, gateway_entries, paying

PAYMENT = {"optionTerm": "1M", "optionAmount": "10.79", "paymentType": "CREDIT_CARD", "total": "10.79"}
LEDGER = "query ($id: ID!) { subscription(id: $id) { id payments { state total { amount } } } }"
START = ("mutation ($input: StartPaymentSessionInput!) { startPaymentSession(input: $input) "
         "{ session { sessionId } userErrors { code } } }")


async def guest_of(setup, tokens) -> dict[str, str]:
    guest = await own_registration(setup.tenant)
    await setup.tenant.add(SubscriptionLink(tenant_id=setup.tenant.id, registration_id=guest.id,
                                            subscription_id=setup.subscription_id, role="GUEST"))
    return {**setup.tenant.headers, **bearer(tokens.customer(guest.crid, setup.tenant.code))}


def staff(setup, tokens, payments: str) -> dict[str, str]:
    access = {section: "FULL_CONTROL" for section in SECTIONS} | {"payments": payments}
    return {**setup.tenant.headers, **bearer(tokens.staff(setup.tenant.code, access=access))}


async def make_payment(client, setup, headers) -> dict:
    return await graphql(client, MAKE_PAYMENT, {"input": setup.sub(**PAYMENT)}, **headers)


def error_code(answer: dict) -> str | None:
    return (answer.get("errors") or [{}])[0].get("extensions", {}).get("code")


async def test_lnk3_anonymous_may_not_pay(api_client, own_tenant, sandboxes, tokens):
    # given
    setup = await paying(own_tenant, sandboxes, tokens)
    # when
    answer = await make_payment(api_client, setup, setup.tenant.headers)
    # then
    assert answer["data"]["makePayment"] is None and error_code(answer) == "UNAUTHENTICATED"
    assert gateway_entries(sandboxes, setup.tenant) == []


async def test_lnk3_a_guest_may_not_pay(api_client, own_tenant, sandboxes, tokens):
    # given
    setup = await paying(own_tenant, sandboxes, tokens)
    # when
    answer = await make_payment(api_client, setup, await guest_of(setup, tokens))
    # then
    assert answer["data"]["makePayment"] is None and error_code(answer) == "FORBIDDEN"
    assert gateway_entries(sandboxes, setup.tenant) == []


async def test_lnk3_the_owner_may_pay(api_client, own_tenant, sandboxes, tokens):
    # given
    setup = await paying(own_tenant, sandboxes, tokens)
    # when
    answer = await make_payment(api_client, setup, setup.headers)
    # then
    assert answer["data"]["makePayment"]["payment"]["state"] == "APPLIED"


async def test_lnk3_a_customer_may_not_pay_a_subscription_of_someone_else(api_client, own_tenant, sandboxes, tokens):
    # given
    setup = await paying(own_tenant, sandboxes, tokens)
    stranger = await own_registration(setup.tenant)
    # when
    answer = await make_payment(api_client, setup, {**setup.tenant.headers,
                                                    **bearer(tokens.customer(stranger.crid, setup.tenant.code))})
    # then
    assert error_code(answer) == "FORBIDDEN"


async def test_mgr1_staff_with_read_only_payments_may_not_pay_and_full_control_may(api_client, own_tenant, sandboxes,
                                                                                   tokens):
    # given
    setup = await paying(own_tenant, sandboxes, tokens)
    # when
    read_only = await make_payment(api_client, setup, staff(setup, tokens, "READ_ONLY"))
    full = await make_payment(api_client, setup, staff(setup, tokens, "FULL_CONTROL"))
    # then
    assert read_only["data"]["makePayment"] is None and error_code(read_only) == "FORBIDDEN"
    assert full["data"]["makePayment"]["userErrors"] == []


async def test_mgr2_staff_without_the_second_factor_may_not_pay_where_the_tenant_requires_it(api_client, own_tenant,
                                                                                             sandboxes, tokens):
    # given
    setup = await paying(own_tenant, sandboxes, tokens, settings={"Security.RequireManagerMfa": "1"})
    headers = {**setup.tenant.headers, **bearer(tokens.staff(setup.tenant.code, mfa=False))}
    # when
    answer = await make_payment(api_client, setup, headers)
    # then
    assert error_code(answer) == "FORBIDDEN" and answer["errors"][0]["extensions"]["reason"] == "MFA_REQUIRED"


@pytest.mark.parametrize("scopes,allowed", [("write:payments", True), ("read:payments", False)])
async def test_mgr3_partners_pay_with_the_write_payments_scope(api_client, own_tenant, sandboxes, tokens, scopes,
                                                               allowed):
    # given
    setup = await paying(own_tenant, sandboxes, tokens)
    headers = {**setup.tenant.headers, **bearer(tokens.partner(setup.tenant.code, scopes=scopes))}
    # when
    answer = await make_payment(api_client, setup, headers)
    # then
    assert (answer["data"]["makePayment"] is not None) is allowed


async def test_lnk3_a_guest_may_not_start_a_payment_session(api_client, own_tenant, sandboxes, tokens):
    # given
    setup = await paying(own_tenant, sandboxes, tokens)
    # when
    answer = await graphql(api_client, START, {"input": {"subscriptionId": setup.subscription_id,
                                                         "paymentType": "CREDIT_CARD"}}, **await guest_of(setup, tokens))
    # then
    assert error_code(answer) == "FORBIDDEN"


async def test_a_guest_and_read_only_staff_may_quote_anonymous_may_not(api_client, own_tenant, sandboxes, tokens):
    # given
    setup = await paying(own_tenant, sandboxes, tokens)
    variables = {"subscriptionId": setup.subscription_id,
                 "input": {"makePayment": {"optionTerm": "1M", "optionAmount": "10.79", "paymentType": "CREDIT_CARD"}}}
    # when
    guest = await graphql(api_client, QUOTE, variables, **await guest_of(setup, tokens))
    read_only = await graphql(api_client, QUOTE, variables, **staff(setup, tokens, "READ_ONLY"))
    anonymous = await graphql(api_client, QUOTE, variables, **setup.tenant.headers)
    # then
    assert guest["data"]["paymentQuote"]["quote"]["total"]["amount"] == "10.79"
    assert read_only["data"]["paymentQuote"]["quote"] is not None
    assert anonymous["data"]["paymentQuote"] is None and error_code(anonymous) == "UNAUTHENTICATED"


async def test_pay4_the_ledger_is_shown_to_linked_customers_and_payments_staff_only(api_client, own_tenant, sandboxes,
                                                                                   tokens):
    # given
    setup = await paying(own_tenant, sandboxes, tokens)
    await make_payment(api_client, setup, setup.headers)
    # when
    owner = await graphql(api_client, LEDGER, {"id": setup.subscription_id}, **setup.headers)
    no_payments = await graphql(api_client, LEDGER, {"id": setup.subscription_id}, **staff(setup, tokens, "NO_ACCESS"))
    # then
    assert owner["data"]["subscription"]["payments"] == [{"state": "APPLIED", "total": {"amount": "10.79"}}]
    assert no_payments["data"]["subscription"]["payments"] is None and error_code(no_payments) == "FORBIDDEN"


async def test_pay2_only_staff_and_partners_may_leave_out_the_activation_fee(api_client, own_tenant, sandboxes,
                                                                            tokens):
    # given
    setup = await paying(own_tenant, sandboxes, tokens, settings={"DTI.ActivationFeeAmount": "5.00"})
    data = {**PAYMENT, "ignoreActivationFee": True}
    # when
    owner = await graphql(api_client, MAKE_PAYMENT, {"input": setup.sub(**data)}, **setup.headers)
    by_staff = await graphql(api_client, MAKE_PAYMENT, {"input": setup.sub(**data)},
                             **staff(setup, tokens, "FULL_CONTROL"))
    # then
    assert owner["data"]["makePayment"] is None and error_code(owner) == "FORBIDDEN"
    assert by_staff["data"]["makePayment"]["payment"]["activationFee"] == {"amount": "0.00"}
