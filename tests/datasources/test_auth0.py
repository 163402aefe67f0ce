"""Auth0DataSource against the Auth0 emulator: the cached management token (AUT-2), users (AUT-3),
sign-in, error mapping, in-process and over a real loopback socket. Upstream calls are counted at the
emulator itself."""

from __future__ import annotations

import asyncio
import time
from urllib.parse import parse_qs

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from datasources.auth0 import (
    Auth0DataSource, InvalidCredentials, MfaRequired, PasswordTooWeak, UserAlreadyExists, token_expiry,
)
from datasources.base import UpstreamRejected, UpstreamTimeout, UpstreamUnavailable
from sandbox.auth0 import M2M_CLIENT_ID, M2M_CLIENT_SECRET, SPA_CLIENT_ID, create_app, load_demo
from sandbox.demo import generate
from sandbox.faults import FaultRule
from tests.support import free_port, serve_on_loopback

ISSUER = "http://auth0.test/"
MANAGEMENT = ISSUER + "api/v2/"
API = "https://api.papergraph.dev"
CONNECTION = "Username-Password-Authentication"
PASSWORD = "Demo-pass-1!"


class FakeClock:
    """Wall-clock time both sides agree on, moved by the test instead of waited for."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def app(clock):
    app = create_app(issuer=ISSUER, audience=API, clients={
        "short-lived": {"client_secret": "short-secret", "grant_types": ["client_credentials"],
                        "audiences": {MANAGEMENT: ["read:users"]}, "token_lifetime": 60}})
    store = app.state.store
    store.clock = clock
    load_demo(store, generate(1))
    store.add_user({"user_id": "auth0|staff-mtx", "email": "desk@mtxdemo.example.com", "password": PASSWORD,
                    "app_metadata": {"paperCode": "MTXDEMO", "role": "staff", "mfa_enrolled": True,
                                     "access": {"subscriptions": "FULL_CONTROL"}}})
    return app


@pytest.fixture
async def datasource_for(clock):
    """Builds datasources on an emulator in-process, and closes their clients after the test."""
    clients: list[httpx.AsyncClient] = []

    def build(app, *, client_id: str = M2M_CLIENT_ID, client_secret: str = M2M_CLIENT_SECRET,
              timeout: float = 2.0, read_retries: int = 2) -> Auth0DataSource:
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=ISSUER.rstrip("/"))
        clients.append(client)
        return Auth0DataSource(client, client_id=client_id, client_secret=client_secret, audience=MANAGEMENT,
                               timeout=timeout, read_retries=read_retries, backoff_base=0.001, clock=clock)

    yield build
    for client in clients:
        await client.aclose()


@pytest.fixture
def auth0(app, datasource_for):
    return datasource_for(app)


def token_fetches(app) -> int:
    return app.state.control.count("POST", "/oauth/token")


def users(app, paper_code: str = "NCSDEMO") -> list[dict]:
    return [u for u in app.state.store.users.values() if u["app_metadata"]["paperCode"] == paper_code]


# the management token (AUT-2) ----------------------------------------------------------------------
async def test_aut_2_management_token_is_fetched_once_and_reused(app, auth0):
    # when
    await auth0.list_users()
    await auth0.get_user(users(app)[0]["user_id"])
    await auth0.users_by_email(users(app)[0]["email"])
    # then: counted at the emulator, through its own request log
    assert token_fetches(app) == 1
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://auth0.test") as admin:
        logged = (await admin.get("/_sandbox/requests")).json()["requests"]
    assert [r["path"] for r in logged].count("/oauth/token") == 1
    assert sum(r["path"].startswith("/api/v2/") for r in logged) == 3


async def test_aut_2_fifty_concurrent_callers_share_one_token_fetch(app, auth0):
    # given a slow token endpoint, so every caller arrives while the fetch is in flight
    app.state.control.rules.clear()
    app.state.control.rules.append(FaultRule(method="POST", path="^/oauth/token$", latency_ms=100))
    ids = [u["user_id"] for u in users(app)]
    # when
    found = await asyncio.gather(*(auth0.get_user(ids[i % len(ids)]) for i in range(50)))
    # then
    assert token_fetches(app) == 1
    assert all(user is not None for user in found)
    assert app.state.control.count("GET", "/api/v2/users/") == 50


async def test_aut_2_token_is_used_until_its_own_expiry_then_fetched_again(app, auth0, clock):
    # given a token cached for 86400 s
    first = await auth0.management_token()
    expires_at, _ = token_expiry(first)
    # when time passes to just before the skew, the same token is used
    clock.now = expires_at - 31
    assert await auth0.management_token() == first
    # and within the last 30 seconds it is dropped and a new one fetched
    clock.now = expires_at - 29
    second = await auth0.management_token()
    # then
    assert second != first and token_fetches(app) == 2
    assert token_expiry(second)[0] > expires_at


async def test_aut_2_short_lived_token_is_still_cached_for_most_of_its_life(app, datasource_for, clock):
    # given a client whose tokens live 60 s: the skew shrinks to a tenth of that
    auth0 = datasource_for(app, client_id="short-lived", client_secret="short-secret")
    start = clock.now
    token = await auth0.management_token()
    # when / then
    clock.now = start + 53
    assert await auth0.management_token() == token and token_fetches(app) == 1
    clock.now = start + 55
    assert await auth0.management_token() != token and token_fetches(app) == 2


async def test_a_401_with_the_cached_token_drops_it_and_retries_once(app, auth0):
    # given a cached token whose signing key is then rotated away
    user_id = users(app)[0]["user_id"]
    await auth0.get_user(user_id)
    app.state.store.rotate_keys(drop_old=True)
    # when
    user = await auth0.get_user(user_id)
    # then
    assert user["user_id"] == user_id
    assert token_fetches(app) == 2
    assert app.state.control.count("GET", "/api/v2/users/") == 3


async def test_wrong_client_secret_is_rejected_with_auth0s_answer(app, datasource_for):
    auth0 = datasource_for(app, client_secret="wrong")
    with pytest.raises(UpstreamRejected) as raised:
        await auth0.list_users()
    assert raised.value.status == 401 and raised.value.upstream_message == "Unauthorized"
    assert token_fetches(app) == 1  # a refused token request is not hammered


# users (AUT-3) ---------------------------------------------------------------------------------
async def test_aut_3_list_users_pages_are_one_based_for_callers(app, auth0):
    # when
    first = await auth0.list_users()
    third = await auth0.list_users(page=3, per_page=10)
    # then
    everyone = len(app.state.store.users)
    assert (len(first["users"]), first["total"], first["page"], first["per_page"]) == (10, everyone, 1, 10)
    assert len(third["users"]) == 10 and third["page"] == 3
    queries = [parse_qs(r["query"]) for r in app.state.control.requests if r["path"] == "/api/v2/users"]
    assert [q["page"] for q in queries] == [["0"], ["2"]]
    assert all(q["per_page"] == ["10"] and q["include_totals"] == ["true"] for q in queries)
    with pytest.raises(ValueError):
        await auth0.list_users(page=0)


async def test_aut_3_list_users_by_email_and_internal_id(app, auth0):
    # given
    ada = users(app)[0]
    await auth0.update_user(ada["user_id"], {"app_metadata": {"internalId": 'nav-"1"'}})
    # when
    by_email = await auth0.list_users(email=f"  {ada['email'].upper()} ")
    by_internal_id = await auth0.list_users(internal_id='nav-"1"')
    both = await auth0.list_users(email=ada["email"], internal_id="nav-2")
    # then
    assert [u["user_id"] for u in by_email["users"]] == [ada["user_id"]] and by_email["total"] == 1
    assert [u["user_id"] for u in by_internal_id["users"]] == [ada["user_id"]]
    assert both["users"] == [] and both["total"] == 0


async def test_get_user_is_none_when_unknown(auth0):
    assert await auth0.get_user("auth0|nobody") is None


async def test_get_users_searches_fifty_ids_at_a_time(app, auth0):
    # given 120 distinct ids (75 known, 45 not), some asked twice
    known = list(app.state.store.users)[:75]
    unknown = [f"auth0|missing-{i}" for i in range(45)]
    # when
    found = await auth0.get_users(known + unknown + known[:10])
    # then
    assert set(found) == set(known)
    assert all(found[i]["user_id"] == i for i in known)
    assert app.state.control.count("GET", "/api/v2/users") == 3
    assert await auth0.get_users([]) == {}


async def test_usr_3_create_update_ticket_and_delete(app, auth0):
    # when
    created = await auth0.create_user(email="new.reader@example.com", password="Brand-new-1!", connection=CONNECTION,
                                      given_name="New", family_name="Reader",
                                      user_metadata={"favouriteSection": "sport"},
                                      app_metadata={"paperCode": "NCSDEMO"})
    updated = await auth0.update_user(created["user_id"], {"family_name": "Reader-Smith",
                                                           "user_metadata": {"memberSince": "2026"}})
    ticket = await auth0.create_password_change_ticket(created["user_id"], result_url="https://ss.example.com",
                                                       ttl_sec=3600)
    await auth0.delete_user(created["user_id"])
    # then
    assert created["email"] == "new.reader@example.com" and created["app_metadata"] == {"paperCode": "NCSDEMO"}
    assert updated["family_name"] == "Reader-Smith"
    assert updated["user_metadata"] == {"favouriteSection": "sport", "memberSince": "2026"}
    assert ticket.startswith(ISSUER + "lo/reset?ticket=")
    assert await auth0.get_user(created["user_id"]) is None


async def test_create_refusals_are_typed(app, auth0):
    taken = users(app)[0]["email"]
    with pytest.raises(UserAlreadyExists) as duplicate:
        await auth0.create_user(email=taken, password="Brand-new-1!", connection=CONNECTION)
    with pytest.raises(PasswordTooWeak) as weak:  # USR-5
        await auth0.create_user(email="weak@example.com", password="password", connection=CONNECTION)
    assert duplicate.value.status == 409 and duplicate.value.upstream_message == "The user already exists."
    assert weak.value.status == 400 and weak.value.code == "PASSWORD_TOO_WEAK"
    assert app.state.control.count("POST", "/api/v2/users") == 2  # refusals are not retried


# sign-in -----------------------------------------------------------------------------------------
async def test_password_grant_and_refused_credentials(app, auth0):
    # given
    ada = users(app)[0]
    # when
    answer = await auth0.password_grant(ada["email"], PASSWORD, SPA_CLIENT_ID, audience=API)
    realm = await auth0.password_grant(ada["email"], PASSWORD, SPA_CLIENT_ID, audience=API, realm=CONNECTION)
    # then
    assert answer["token_type"] == "Bearer" and realm["access_token"]
    with pytest.raises(InvalidCredentials) as refused:
        await auth0.password_grant(ada["email"], "Wrong-pass-1!", SPA_CLIENT_ID, audience=API)
    assert refused.value.status == 403 and refused.value.upstream_message == "Wrong email or password."
    assert token_fetches(app) == 3  # a sign-in never needs the management token


async def test_mgr_2_mfa_staff_finish_sign_in_with_an_otp(app, auth0):
    with pytest.raises(MfaRequired) as challenge:
        await auth0.password_grant("desk@mtxdemo.example.com", PASSWORD, SPA_CLIENT_ID, audience=API)
    answer = await auth0.mfa_otp_grant(challenge.value.mfa_token, app.state.store.otp("auth0|staff-mtx"),
                                       SPA_CLIENT_ID)
    assert answer["access_token"]
    with pytest.raises(InvalidCredentials):
        await auth0.mfa_otp_grant(challenge.value.mfa_token, "123456", SPA_CLIENT_ID)  # spent


# resilience --------------------------------------------------------------------------------------
async def test_reads_are_retried_after_503_and_rate_limits(app, auth0):
    # given
    app.state.control.rules.append(FaultRule(method="GET", path="^/api/v2/users$", status=503, times=1))
    app.state.control.rules.append(FaultRule(method="GET", path="^/api/v2/users$", status=429, times=1))
    # when
    page = await auth0.list_users()
    # then
    assert len(page["users"]) == 10
    assert app.state.control.count("GET", "/api/v2/users") == 3


async def test_writes_are_not_retried_after_503(app, auth0):
    app.state.control.rules.append(FaultRule(method="POST", path="^/api/v2/users$", status=503, times=1))
    with pytest.raises(UpstreamUnavailable):
        await auth0.create_user(email="x@example.com", password="Brand-new-1!", connection=CONNECTION)
    assert app.state.control.count("POST", "/api/v2/users") == 1


# over a real socket ------------------------------------------------------------------------------
async def test_over_loopback_discovery_tokens_verify_and_timeouts():
    # given the emulator on a socket, its issuer being its own address
    port = free_port()
    app = create_app(issuer=f"http://127.0.0.1:{port}/", audience=API)
    load_demo(app.state.store, generate(1))
    ada = next(iter(app.state.store.users.values()))
    with serve_on_loopback(app, port) as base_url:
        async with httpx.AsyncClient(base_url=base_url) as client:
            auth0 = Auth0DataSource(client, client_id=M2M_CLIENT_ID, client_secret=M2M_CLIENT_SECRET,
                                    audience=f"{base_url}/api/v2/", timeout=0.5, read_retries=0)
            # when
            config = await auth0.openid_configuration()
            keys = KeySet.import_key_set(await auth0.get_jwks())
            login = await auth0.password_grant(ada["email"], PASSWORD, SPA_CLIENT_ID, audience=API)
            found = await asyncio.gather(*(auth0.get_user(ada["user_id"]) for _ in range(20)))
            # a slow answer rather than a hang, so the server shuts down promptly after the test
            app.state.control.rules.append(FaultRule(method="GET", path="^/api/v2/users/", latency_ms=1500))
            # then
            with pytest.raises(UpstreamTimeout):
                await auth0.get_user(ada["user_id"])
    claims = jwt.decode(login["access_token"], keys, algorithms=["RS256"]).claims
    assert config["issuer"] == f"{base_url}/" and claims["iss"] == config["issuer"]
    assert claims["https://papergraph.dev/tenant"] == ada["app_metadata"]["paperCode"]
    assert all(user["user_id"] == ada["user_id"] for user in found)
    assert app.state.control.count("POST", "/oauth/token") == 2  # the login and one management token

