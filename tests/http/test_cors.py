"""CORS (issue 19, item 16): browser apps on an origin of the allowlist (PAPERGRAPH_CORS_ALLOWED_ORIGINS, or a
tenant's `Portal.Url` setting) may call /graphql; preflights are answered and cached; any other origin is refused,
and no wildcard ever goes with credentials. In Chromium: tests/browser/test_cors.py."""

from __future__ import annotations

import contextlib

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy import delete, select

from app import create_app
from datasources.models import Tenant, TenantSetting
from settings import Settings

pytestmark = pytest.mark.sqlite_only

PORTAL = "https://portal.ncsdemo.example"
TYPENAME = {"query": "{ __typename }"}


def preflight(origin: str) -> dict[str, str]:
    return {"origin": origin, "access-control-request-method": "POST",
            "access-control-request-headers": "authorization,content-type,x-tenant"}


@contextlib.asynccontextmanager
async def client_for(settings: Settings, **overrides):
    application = create_app(settings.model_copy(update=overrides))
    async with application.router.lifespan_context(application):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=application),
                                     base_url="http://papergraph.test") as client:
            yield client, application.state.services


async def test_preflight_from_an_allowed_origin_is_answered_and_cached(settings):
    # given
    async with client_for(settings, cors_allowed_origins=f"{PORTAL}, http://127.0.0.1:5173") as (client, _):
        # when
        answer = await client.options("/graphql", headers=preflight(PORTAL))

    # then: that origin only, with credentials, the methods and headers papergraph reads, cached 600 s
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == PORTAL
    assert answer.headers["access-control-allow-credentials"] == "true"
    assert set(answer.headers["access-control-allow-methods"].replace(" ", "").split(",")) >= {"GET", "POST"}
    assert {"authorization", "content-type", "x-tenant"} <= set(
        answer.headers["access-control-allow-headers"].replace(" ", "").lower().split(","))
    assert answer.headers["access-control-max-age"] == "600"
    assert "origin" in answer.headers["vary"].lower()


async def test_preflight_and_response_for_an_origin_not_on_the_list_carry_no_allowance(settings):
    # given
    async with client_for(settings, cors_allowed_origins=PORTAL) as (client, _):
        # when
        refused = await client.options("/graphql", headers=preflight("https://evil.example"))
        simple = await client.post("/graphql", json=TYPENAME, headers={"origin": "https://evil.example"})
        same_host_other_port = await client.options("/graphql", headers=preflight(PORTAL + ":8443"))

    # then: the browser gets no Access-Control-Allow-Origin, so it withholds the answer
    assert refused.status_code == 400 and "access-control-allow-origin" not in refused.headers
    assert "access-control-allow-origin" not in simple.headers
    assert same_host_other_port.status_code == 400


async def test_an_allowed_origin_reads_the_answer_and_papergraphs_headers(settings):
    # given
    async with client_for(settings, cors_allowed_origins=PORTAL) as (client, _):
        # when
        answer = await client.post("/graphql", json=TYPENAME, headers={"origin": PORTAL, "x-request-id": "abc"})

    # then
    assert answer.status_code == 200 and answer.json() == {"data": {"__typename": "Query"}}
    assert answer.headers["access-control-allow-origin"] == PORTAL
    assert {"x-request-id", "x-version"} <= set(answer.headers["access-control-expose-headers"].lower().split(", "))


async def test_a_tenants_portal_url_allows_its_origin(settings):
    # given: no origin in the setting, and NCSDEMO's front end known by its tenant setting (TEN-2)
    async with client_for(settings, cors_allowed_origins="") as (client, services):
        async with services.db.session() as session:
            tenant_id = (await session.execute(select(Tenant.id).where(Tenant.code == "NCSDEMO"))).scalar_one()
            session.add(TenantSetting(tenant_id=tenant_id, key="Portal.Url", value=PORTAL + "/account/"))
            await session.commit()
        try:
            # when
            allowed = await client.options("/graphql", headers=preflight(PORTAL))
            other = await client.options("/graphql", headers=preflight("https://portal.other.example"))
        finally:
            async with services.db.session() as session:
                await session.execute(delete(TenantSetting).where(TenantSetting.key == "Portal.Url"))
                await session.commit()

    # then
    assert allowed.status_code == 200 and allowed.headers["access-control-allow-origin"] == PORTAL
    assert other.status_code == 400


async def test_a_wildcard_allows_every_origin_without_credentials(settings):
    # given
    async with client_for(settings, cors_allowed_origins="*") as (client, _):
        # when
        answer = await client.options("/graphql", headers=preflight("https://anyone.example"))

    # then
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in answer.headers


@pytest.mark.parametrize("value", ["*, https://portal.example", "https://portal.example/account", "portal.example",
                                   "ftp://portal.example"])
def test_a_malformed_origin_list_is_refused_at_start_up(value):
    # when / then
    with pytest.raises(ValidationError, match="cors_allowed_origins"):
        Settings(cors_allowed_origins=value)
