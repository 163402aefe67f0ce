"""The sign-in commands (SSN-3): `papergraph token customer --tenant CPRDEMO` signs in through papergraph's real
`signIn`; `papergraph rotate-signing-key` makes a new key that every process signs with."""

from __future__ import annotations

import pytest

from app import create_app
from cli import main, rotate_signing_key
from tests.support import serve_on_loopback

pytestmark = pytest.mark.sqlite_only("the commands' wiring; the sign-in and key tables run on both databases in test_sign_in.py")
ME = "{ me { crid } }"


def test_ssn3_cli_token_customer_of_an_mg2_tenant_signs_in_at_papergraph(settings, capsys, monkeypatch):
    # given: papergraph serving on a loopback socket
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    with serve_on_loopback(create_app(settings)) as base:
        # when
        main(["token", "customer", "--tenant", "CPRDEMO", "--url", base])
        token = capsys.readouterr().out.strip()
        # then: a papergraph token the API accepts for that customer
        import httpx

        me = httpx.post(f"{base}/graphql", json={"query": ME}, headers={"authorization": f"Bearer {token}"}).json()
    assert me["data"]["me"]["crid"].startswith("mg2|")


async def test_ssn3_rotate_signing_key_command_adds_a_published_key(settings, api_client, services):
    # given
    before = {key["kid"] for key in (await api_client.get("/.well-known/jwks.json")).json()["keys"]}
    # when
    line = await rotate_signing_key(settings)
    # then: the new key is published (this server re-reads keys at most every 30 s; a new kid is looked up)
    kid = line.rsplit(" ", 1)[1]
    assert kid not in before
    from datasources.repositories.sessions import SessionRepository
    from datasources.models import utcnow

    keys = await SessionRepository(services.db).signing_keys(utcnow())
    assert kid in {key.kid for key in keys if key.retired_at is None}
