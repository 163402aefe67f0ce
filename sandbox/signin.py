"""Sign in as a demo principal and get an access token, the way a front end would: the password grant
(with the TOTP step when the staff member has a second factor, MGR-2) or, for partners, client credentials
(MGR-3), against the Auth0 emulator; customers of own-auth (MG2) tenants through papergraph's own `signIn` (SSN-3). For
developers (`python -m cli token …`) and the browser demo's tests."""

from __future__ import annotations

from typing import Any

import httpx

from sandbox.auth0.store import SPA_CLIENT_ID
from sandbox.demo import CUSTOMER_PASSWORD, STAFF, STAFF_PASSWORD, TENANTS, crid_for, staff_user_id

AUDIENCE = "https://api.papergraph.dev"
MFA_OTP = "http://auth0.com/oauth/grant-type/mfa-otp"
# who: subscriber (the demo subscriber, the one the README's quickstart and /demo sign in as: the tenant's second
# registration, Bjorn Haddad on NCSDEMO, owner of active and stopped subscriptions and a guest of the first
# registration's first subscription), customer (the first registration, Ada Andersen on NCSDEMO, owner of that
# subscription), a staff role of sandbox.demo.STAFF, or partner
WHO = ("subscriber", "customer", *STAFF, "partner")
# one name per person: `guest` was the demo subscriber's earlier name, still accepted from old scripts
ALIASES = {"guest": "subscriber"}
CUSTOMER_INDEX = {"customer": 0, "subscriber": 1}


class SignInError(Exception):
    pass


def demo_login(who: str, tenant: str) -> dict[str, Any]:
    """The grant request for a demo principal: {"grant": {...}, "user_id": ..., "name": who it is, for people}."""
    who = ALIASES.get(who, who)
    spec = next((t for t in TENANTS if t["code"] == tenant), None)
    if spec is None:
        raise SignInError(f"unknown demo tenant {tenant!r}: one of {', '.join(t['code'] for t in TENANTS)}")
    if who == "partner":
        client = f"partner-{tenant.lower()}"
        return {"grant": {"grant_type": "client_credentials", "client_id": client, "client_secret": f"{client}-secret",
                          "audience": AUDIENCE}, "user_id": None, "name": f"the partner application {client}"}
    if who in STAFF:
        email = f"{who}@{tenant.lower()}.example.com"
        return {"grant": _password(email, STAFF_PASSWORD), "user_id": staff_user_id(tenant, who),
                "name": f"{email} (staff: {who})"}
    if who in CUSTOMER_INDEX:
        provider = spec["settings"].get("Flow.UserProvider", "Auth0")
        from sandbox.demo import generate

        registration = next(r for r in generate(1).registrations
                            if r["tenant"] == tenant and r["crid"] == crid_for(tenant, CUSTOMER_INDEX[who], provider))
        role = "the demo subscriber" if who == "subscriber" else "customer"
        name = f"{registration['first_name']} {registration['last_name']} <{registration['email']}> ({role})"
        if provider == "MG2":  # SSN-3: papergraph is these customers' identity provider
            return {"papergraph": {"loginName": registration["email"], "password": CUSTOMER_PASSWORD},
                    "user_id": registration["crid"], "name": name}
        if provider != "Auth0":
            raise SignInError(f"{tenant} keeps its customers in {provider}: papergraph cannot sign them in")
        return {"grant": _password(registration["email"], CUSTOMER_PASSWORD), "user_id": registration["crid"],
                "name": name}
    raise SignInError(f"who must be one of {', '.join(WHO)}")


SIGN_IN = """
mutation ($input: SignInInput!) { signIn(input: $input) { session { accessToken } userErrors { code message } } }
"""


def sign_in(auth0_url: str, who: str, tenant: str = "NCSDEMO", papergraph_url: str | None = None, *,
            on_behalf=None) -> str:
    """An access token for `who` of `tenant`: from the Auth0 (emulator) at `auth0_url`, or, for customers of an
    own-auth (MG2) tenant, from papergraph's own `signIn` at `papergraph_url`; `on_behalf(name)` is told who that
    is (the CLI prints it)."""
    login = demo_login(who, tenant)
    if on_behalf is not None:
        on_behalf(login["name"])
    if "papergraph" in login:
        if not papergraph_url:
            raise SignInError(f"{tenant} customers sign in at papergraph: give its URL")
        with httpx.Client(base_url=papergraph_url.rstrip("/"), timeout=30) as client:
            answer = client.post("/graphql", json={"query": SIGN_IN, "variables": {"input": login["papergraph"]}},
                                 headers={"x-tenant": tenant})
        if answer.status_code != 200:
            raise SignInError(f"sign-in refused ({answer.status_code}): {answer.text[:300]}")
        payload = (answer.json().get("data") or {}).get("signIn") or {}
        if not payload.get("session"):
            raise SignInError(f"sign-in refused: {payload.get('userErrors') or answer.json().get('errors')}")
        return payload["session"]["accessToken"]
    with httpx.Client(base_url=auth0_url.rstrip("/"), timeout=30) as client:
        answer = client.post("/oauth/token", json=login["grant"])
        body = answer.json()
        if answer.status_code == 403 and body.get("error") == "mfa_required":
            otp = client.get(f"/_sandbox/otp/{login['user_id']}").json()["otp"]
            answer = client.post("/oauth/token", json={"grant_type": MFA_OTP, "client_id": SPA_CLIENT_ID,
                                                       "mfa_token": body["mfa_token"], "otp": otp})
            body = answer.json()
        if answer.status_code != 200:
            raise SignInError(f"sign-in refused ({answer.status_code}): {body}")
        return body["access_token"]


def _password(username: str, password: str) -> dict[str, str]:
    return {"grant_type": "password", "client_id": SPA_CLIENT_ID, "username": username, "password": password,
            "audience": AUDIENCE, "scope": "openid profile email"}
