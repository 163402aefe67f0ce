"""Helpers of the user-mutation tests: create users through the API, and build the token a link e-mail
would carry from the event that issued it (no e-mail is sent in tests)."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import select

from datasources.models import Event
from domain.users import link_token
from tests.conftest import graphql

CREATE_USER = """
mutation ($input: CreateUserInput!) {
  createUser(input: $input) { registration { crid email state } userErrors { code field message } }
}
"""


def unique_email() -> str:
    return f"user.{uuid.uuid4().hex[:10]}@example.com"


async def create_user(staff_api_client, tenant, **fields) -> dict:
    answer = await graphql(staff_api_client, CREATE_USER, {"input": {"email": unique_email(), **fields}}, **tenant.headers)
    payload = answer["data"]["createUser"]
    assert payload["userErrors"] == [], payload
    return payload["registration"]


async def events(services, tenant, crid: str | None = None, type_code: str | None = None) -> list[Event]:
    query = select(Event).where(Event.tenant_id == tenant.id).order_by(Event.id)
    if crid is not None:
        query = query.where(Event.crid == crid)
    if type_code is not None:
        query = query.where(Event.type_code == type_code)
    async with services.db.session() as session:
        return list((await session.execute(query)).scalars())


def token_of(services, purpose: str, event: Event) -> str:
    expires_at = datetime.fromisoformat(event.details["expiresAt"])
    return link_token(services.settings.secret_key, purpose, event.id, expires_at)


async def expire(services, event: Event) -> str:
    """Move an event's link expiry into the past; returns the token of the expired link."""
    from datetime import timedelta, timezone

    past = (datetime.now(timezone.utc) - timedelta(seconds=5)).replace(microsecond=0)
    async with services.db.session() as session:
        await session.execute(sa.update(Event).where(Event.id == event.id).values(
            details={**event.details, "expiresAt": past.isoformat()}))
        await session.commit()
    event.details = {**event.details, "expiresAt": past.isoformat()}
    return token_of(services, "forgot-password" if event.type_code == "PWDREQ" else "verify-email", event)


def auth0_password_is(sandboxes, crid: str, password: str) -> bool:
    from sandbox.auth0.crypto import password_matches

    return password_matches(password, sandboxes["auth0"].state.store.users[crid]["_password"])
