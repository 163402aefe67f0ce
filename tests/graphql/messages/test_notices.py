"""Notices (MSG-5, NOT-2): the manager concerned hears of a second-factor change; subscriptions of one account
that end on the same day get one grouped expiry notice, once."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from domain.mfa import current_code
from messages.expiry import notify_expiring
from tests.conftest import bearer, graphql
from tests.graphql.messages.support import FRONT_END, Inbox, messaging_tenant

ENROLL = "mutation { enrollManagerMfa { secret userErrors { code } } }"
VERIFY = "mutation ($code: String!) { verifyManagerMfa(input: {code: $code}) { enabled userErrors { code } } }"
DISABLE = "mutation ($input: DisableManagerMfaInput!) { disableManagerMfa(input: $input) { disabled userErrors { code } } }"


async def test_msg5_enabling_and_disabling_a_managers_second_factor_notifies_that_manager(
        app, api_client, tokens, own_tenant):
    # given: a manager known to the identity provider with an e-mail
    tenant = await messaging_tenant(own_tenant)
    user_id = f"auth0|manager-{uuid.uuid4().hex[:8]}"
    email = f"{user_id.split('|')[1]}@example.com"
    app.state.sandboxes["auth0"].state.store.add_user({
        "user_id": user_id, "email": email, "password": "Manager-pass-1!", "email_verified": True,
        "app_metadata": {"paperCode": tenant.code, "role": "staff"}})
    headers = bearer(tokens.staff(tenant.code, mfa=False, sub=user_id))
    inbox = Inbox(app)
    # when
    secret = (await graphql(api_client, ENROLL, **headers))["data"]["enrollManagerMfa"]["secret"]
    enabled = await graphql(api_client, VERIFY, {"code": current_code(secret)}, **headers)
    disabled = await graphql(api_client, DISABLE, {"input": {"code": current_code(secret)}}, **headers)
    # then
    assert enabled["data"]["verifyManagerMfa"]["enabled"] and disabled["data"]["disableManagerMfa"]["disabled"]
    subjects = sorted(m["Subject"] for m in await inbox.wait_for(email, 2))
    assert subjects == ["Own Test Paper: two-step sign-in disabled", "Own Test Paper: two-step sign-in enabled"]


async def test_not2_msg5_one_grouped_notice_per_account_and_end_date_sent_once(app, own_tenant, services):
    # given: two subscriptions of one account end in 14 days, a third of that account a day later
    tenant = await messaging_tenant(own_tenant)
    end = datetime.now(ZoneInfo("America/New_York")).date() + timedelta(days=14)
    email = f"reader.{uuid.uuid4().hex[:8]}@example.com"
    subscriber = {"email": email}
    own_tenant.add_subscription(tenant, f"{tenant.code}-A", product="P", accountNumber="900001", endDate=end.isoformat(),
                                subscriber=subscriber, autoPay=True, terms=(("1M", "12.50"),))
    own_tenant.add_subscription(tenant, f"{tenant.code}-B", product="P", accountNumber="900001", endDate=end.isoformat(),
                                subscriber=subscriber, terms=(("1M", "8.00"),))
    own_tenant.add_subscription(tenant, f"{tenant.code}-C", product="P", accountNumber="900001",
                                endDate=(end + timedelta(days=1)).isoformat(), subscriber=subscriber)
    inbox = Inbox(app)
    # when: the command runs twice
    first = await notify_expiring(services, days=14, tenant_codes=[tenant.code])
    second = await notify_expiring(services, days=14, tenant_codes=[tenant.code])
    # then
    assert (first, second) == (1, 0)
    [notice] = await inbox.wait_for(email)
    assert notice["Subject"] == f"Own Test Paper: 2 subscription(s) expire on {end.isoformat()}"
    text = notice["Text"]
    assert f"- {tenant.code}-A: renews automatically, preliminary renewal cost 12.50 USD" in text
    assert f"- {tenant.code}-B: does not renew automatically, preliminary renewal cost 8.00 USD" in text
    assert f"{FRONT_END}/account?subscription={tenant.code}-A" in text and f"{tenant.code}-C" not in text
