"""AUT-1, TEN-1, SSN-4 at the `Authenticate` middleware itself, driven as a plain ASGI callable with a fake verifier
and a fake application: who the request is, and every refusal's status, headers and body (RFC 6750). The same is
shown through the endpoint in tests/auth/test_tokens.py and tests/auth/test_cross_tenant.py; these are fast enough
for `make mutate` to run per mutant."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import orjson
import pytest

from auth.middleware import MAX_TOKEN_LENGTH, REALM, Authenticate
from auth.principals import ANONYMOUS, CLAIM_NAMESPACE, PrincipalKind
from auth.tokens import InvalidToken
from datasources.base import UpstreamError

TENANT = CLAIM_NAMESPACE + "tenant"


class Verifier:
    def __init__(self, answer: Any) -> None:
        self.answer = answer
        self.tokens: list[str] = []

    async def verify(self, token: str) -> dict:
        self.tokens.append(token)
        if isinstance(self.answer, Exception):
            raise self.answer
        return dict(self.answer)


class Sessions:
    def __init__(self, refuse: bool) -> None:
        self.refuse = refuse
        self.asked: list[tuple[Any, dict]] = []

    async def refused(self, principal, claims) -> bool:
        self.asked.append((principal, claims))
        return self.refuse


class App:
    def __init__(self) -> None:
        self.scopes: list[dict] = []
        self.received: list[dict] = []

    async def __call__(self, scope, receive, send) -> None:
        self.scopes.append(scope)
        self.received.append(await receive())  # the request's own receive is handed on
        await send({"type": "http.response.start", "status": 200, "headers": []})


def run(answer: Any = None, headers: dict[str, str] | None = None, *, sessions: Sessions | None = None,
        scope_type: str = "http") -> tuple[App, Verifier, list[dict]]:
    app, verifier, sent = App(), Verifier(answer if answer is not None else {}), []
    middleware = Authenticate(app, lambda: verifier, (lambda: sessions) if sessions is not None else None)
    scope = {"type": scope_type, "headers": [(k.encode("latin-1"), v.encode("latin-1"))
                                             for k, v in (headers or {}).items()]}

    async def receive():
        return {"type": "http.request"}

    async def send(message):
        sent.append(message)

    asyncio.run(middleware(scope, receive, send))
    return app, verifier, sent


def answer(sent: list[dict]) -> tuple[int, dict[str, str], dict]:
    start, body = sent
    assert (start["type"], body["type"]) == ("http.response.start", "http.response.body")
    headers = {k.decode(): v.decode() for k, v in start["headers"]}
    assert headers["content-length"] == str(len(body["body"]))
    return start["status"], headers, orjson.loads(body["body"])


def refused_401(sent: list[dict], error: str, description: str) -> None:
    status, headers, body = answer(sent)
    assert status == 401
    assert headers["content-type"] == "application/json" and headers["cache-control"] == "no-store"
    assert headers["www-authenticate"] == (f'Bearer realm="papergraph", error="{error}", '
                                           f'error_description="{description}"')
    assert body == {"errors": [{"message": description, "extensions": {"code": "UNAUTHENTICATED"}}]}


def test_the_realm_and_the_longest_token():
    assert (REALM, MAX_TOKEN_LENGTH) == ("papergraph", 8192)


def test_a_request_that_is_not_http_passes_untouched():
    app, verifier, _ = run(headers={"authorization": "Basic x"}, scope_type="websocket")

    assert len(app.scopes) == 1 and "state" not in app.scopes[0] and verifier.tokens == []


def test_ten1_no_authorization_is_anonymous_for_the_x_tenant_named():
    app, verifier, _ = run(headers={"X-Tenant": " T2 "})
    [scope] = app.scopes

    assert scope["state"] == {"principal": ANONYMOUS, "tenant_code": "T2"} and verifier.tokens == []
    assert run(headers={"x-tenant": "  "})[0].scopes[0]["state"]["tenant_code"] is None
    assert run()[0].scopes[0]["state"]["tenant_code"] is None


def test_aut1_a_good_bearer_token_signs_the_request_in_for_the_tokens_tenant():
    app, verifier, _ = run({"sub": "C1", TENANT: "T1"}, {"Authorization": "  bearer   tok.en.sig  "})
    state = app.scopes[0]["state"]

    assert verifier.tokens == ["tok.en.sig"]
    assert (state["principal"].kind, state["principal"].subject, state["tenant_code"]) == (
        PrincipalKind.CUSTOMER, "C1", "T1")


def test_ten1_the_same_tenant_named_in_x_tenant_is_fine():
    app, _, _ = run({"sub": "C1", TENANT: "T1"}, {"authorization": "Bearer t", "x-tenant": "T1"})

    assert app.scopes[0]["state"]["tenant_code"] == "T1"


def test_ten1_a_token_asking_for_another_tenant_is_refused_403():
    app, _, sent = run({"sub": "C1", TENANT: "T1"}, {"authorization": "Bearer t", "x-tenant": "T2"})

    status, headers, body = answer(sent)
    assert app.scopes == [] and status == 403 and "www-authenticate" not in headers
    assert body == {"errors": [{"message": "This token acts for tenant T1, not T2", "extensions": {
        "code": "FORBIDDEN"}}]}


@pytest.mark.parametrize("authorization", ["Basic dXNlcjpwdw==", "Bearer", "Bearer    ", "Token abc", "bearer"])
def test_aut1_another_scheme_or_no_token_is_an_invalid_request(authorization):
    app, verifier, sent = run(headers={"authorization": authorization})

    refused_401(sent, "invalid_request", "Use the Bearer scheme: Authorization: Bearer <access token>")
    assert app.scopes == [] and verifier.tokens == []


def test_aut1_a_token_longer_than_8192_characters_is_refused_unread():
    app, verifier, sent = run(headers={"authorization": "Bearer " + "a" * 8193})

    refused_401(sent, "invalid_token", "The access token is too long")
    assert verifier.tokens == []
    app, verifier, _ = run({"sub": "C1", TENANT: "T1"}, {"authorization": "Bearer " + "a" * 8192})
    assert len(verifier.tokens) == 1 and len(app.scopes) == 1


def test_aut1_a_token_the_verifier_refuses_is_401_with_the_reason():
    app, _, sent = run(InvalidToken('bad "signature" \\ here'), {"authorization": "Bearer t"})

    status, headers, body = answer(sent)
    assert status == 401 and app.scopes == []
    assert headers["www-authenticate"] == ('Bearer realm="papergraph", error="invalid_token", error_description='
                                           '"The access token is not valid: bad \'signature\' \\\\ here"')
    assert body["errors"][0]["message"] == 'The access token is not valid: bad "signature" \\ here'


def test_aut1_keys_that_cannot_be_read_are_503_with_retry_after(caplog):
    caplog.set_level(logging.WARNING, logger="papergraph.auth")
    app, _, sent = run(UpstreamError("auth0", 502), {"authorization": "Bearer t"})

    status, headers, body = answer(sent)
    assert (status, headers["retry-after"], app.scopes) == (503, "5", [])
    assert "www-authenticate" not in headers
    assert body == {"errors": [{"message": "The identity provider's keys cannot be read now; try again shortly",
                                "extensions": {"code": "UPSTREAM_UNAVAILABLE"}}]}
    assert [r.getMessage() for r in caplog.records] == [
        f"cannot verify an access token: {UpstreamError('auth0', 502)}"]


def test_aut1_claims_of_the_wrong_shape_are_401():
    _, _, sent = run({"sub": 7, TENANT: "T1"}, {"authorization": "Bearer t"})

    refused_401(sent, "invalid_token", "The access token is not valid: the `sub` claim must be a string")


def test_ten1_a_token_without_a_tenant_is_401():
    for claims in ({"sub": "C1"}, {"sub": "C1", TENANT: ""}):
        app, _, sent = run(claims, {"authorization": "Bearer t"})
        refused_401(sent, "invalid_token", "The access token names no tenant")
        assert app.scopes == []


def test_ssn4_a_token_older_than_the_last_sign_out_is_401():
    sessions = Sessions(refuse=True)
    app, _, sent = run({"sub": "C1", TENANT: "T1", "iat": 5}, {"authorization": "Bearer t"}, sessions=sessions)

    refused_401(sent, "invalid_token", "The session has ended: sign in again")
    assert app.scopes == []
    [(principal, claims)] = sessions.asked
    assert (principal.subject, claims["iat"]) == ("C1", 5)


def test_ssn4_a_session_still_open_passes():
    app, _, _ = run({"sub": "C1", TENANT: "T1"}, {"authorization": "Bearer t"}, sessions=Sessions(refuse=False))

    assert app.scopes[0]["state"]["principal"].subject == "C1"


def test_the_request_body_is_handed_on_untouched():
    app, _, _ = run({"sub": "C1", TENANT: "T1"}, {"authorization": "Bearer t"})
    anonymous, _, _ = run()

    assert app.received == [{"type": "http.request"}] and anonymous.received == [{"type": "http.request"}]


def test_a_scope_without_headers_is_anonymous():
    app, sent = App(), []
    middleware = Authenticate(app, lambda: Verifier({}))

    async def receive():
        return {"type": "http.request"}

    async def send(message):
        sent.append(message)

    asyncio.run(middleware({"type": "http"}, receive, send))

    assert app.scopes[0]["state"] == {"principal": ANONYMOUS, "tenant_code": None}
