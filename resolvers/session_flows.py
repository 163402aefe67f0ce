"""The steps the sign-in mutations share (SSN): issuing an access token and a refresh token for a registration
of an own-auth (MG2) tenant, within SSN-5's limits."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from auth.principals import CLAIM_NAMESPACE
from datasources.models import RefreshToken, Registration, utcnow
from datasources.repositories.sessions import SessionRepository
from domain.crypto import encrypt_crid
from domain.registrations import MG2
from domain.sessions import SessionLimits, access_token_expiry, new_refresh_token, token_hash
from schema.sessions import CustomerSession


def limits(settings) -> SessionLimits:
    return SessionLimits(access=timedelta(seconds=settings.access_token_seconds),
                         idle=timedelta(minutes=settings.session_idle_minutes),
                         absolute=timedelta(hours=settings.session_absolute_hours))


def own_auth(tenant) -> bool:
    return (tenant.settings.get("Flow.UserProvider") or "").strip().upper() == MG2


async def access_token(context, registration: Registration, family: str, session_started_at: datetime,
                       now: datetime) -> tuple[str, datetime]:
    services, settings = context.services, context.settings
    expires_at = access_token_expiry(now, session_started_at, limits(settings))
    token = await services.own_tokens.issue({
        "sub": registration.crid, "gty": "password", "sid": family,
        # when the customer signed in (a refresh is not a sign-in): USR-10's "signed in within 5 minutes"
        "auth_time": int(session_started_at.timestamp()),
        CLAIM_NAMESPACE + "tenant": context.tenant.code, CLAIM_NAMESPACE + "principal": "customer",
        # SSN-3: reloads find the registration again by its encrypted CRID (USR-2)
        CLAIM_NAMESPACE + "igmRegID": encrypt_crid(settings.secret_key, registration.crid),
    }, now=now, expires_at=expires_at)
    return token, expires_at


async def new_session(context, registration: Registration, event) -> CustomerSession:
    """SSN-3: a fresh session (a new refresh-token family), recorded by `event` in the same transaction."""
    now = utcnow()
    family = uuid.uuid4().hex
    refresh = new_refresh_token()
    await SessionRepository(context.services.db).add_refresh_token(RefreshToken(
        tenant_id=context.tenant.id, registration_id=registration.id, family=family, token_hash=token_hash(refresh),
        session_started_at=now, created_at=now), event)
    token, expires_at = await access_token(context, registration, family, now, now)
    return CustomerSession(access_token=token, access_token_expires_at=expires_at, refresh_token=refresh,
                           session_expires_at=now + limits(context.settings).absolute)
