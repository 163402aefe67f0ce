"""The steps user mutations share (createUser, purchaseSubscription, the forgot-password and
verification pairs): each validates, calls the tenant's identity provider (resolvers/identity.py) and
writes the registration with its events in one transaction (USR-9, NOT-1). A refusal is a
`UserFlowError` whose `code` names a member of the calling mutation's error-code enum."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from datasources.models import Event, Registration, utcnow
from datasources.outbox import message_data, without_message
from datasources.repositories.users import DuplicateRow, UserRepository, new_event
from domain.passwords import generate_password, validate_password
from domain.registrations import RegistrationRuleError, clean_email
from domain.users import (
    EVENT_CREATE,
    EVENT_CREATE_PENDING,
    EVENT_FORGOT_PASSWORD_START,
    EVENT_VERIFICATION_CODE,
    FORGOT_PASSWORD,
    VERIFY_EMAIL,
    LinkClaim,
    clean_name,
    link_expiry,
    link_is_current,
    read_link_token,
    validate_metadata,
)
from domain.crypto import InvalidToken
from resolvers.identity import ProviderNotSupported, ProviderRefused, provider_for

RULE_CODES = {"USR-3": "INVALID", "USR-4": "INVALID_EMAIL", "USR-5": "PASSWORD_TOO_WEAK", "USR-6": "INVALID"}


class UserFlowError(Exception):
    def __init__(self, code: str, message: str, field: list[str] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field

    @classmethod
    def from_rule(cls, error: RegistrationRuleError) -> "UserFlowError":
        return cls(RULE_CODES.get(error.rule, "INVALID"), str(error), error.field)


def users(context) -> UserRepository:
    return UserRepository(context.services.db)


def provider(context, ignore_provider: bool):
    try:
        return provider_for(context, ignore_provider)
    except ProviderNotSupported as error:
        raise UserFlowError("PROVIDER_NOT_SUPPORTED",
                            f"papergraph cannot manage users of the {error} provider; use ignoreProvider", None)


def checked_email(email: str, field: list[str]) -> str:
    try:
        return clean_email(email, field)
    except RegistrationRuleError as error:
        raise UserFlowError.from_rule(error)


def checked_password(password: str, field: list[str]) -> str:
    try:
        return validate_password(password, field)
    except RegistrationRuleError as error:
        raise UserFlowError.from_rule(error)


@dataclass
class NewUser:
    registration: Registration
    change_password_url: str | None
    events: list[Event]


@dataclass
class PreparedUser:
    """A user the identity provider already has, with its registration row and events not written yet:
    the caller writes them in its own transaction, and calls `undo` if that fails."""

    registration: Registration
    events: list[Event]
    identity: Any
    change_password_url: str | None
    set_password_event: Event | None = None  # MG2, generated password: the link to choose one (USR-3, USR-7)

    async def undo(self) -> None:
        await self.identity.delete(self.registration.crid)


async def prepare_registration(
    context, *, email: str, password: str | None = None, first_name: str | None = None,
    last_name: str | None = None, metadata: Any = None, crid: str | None = None, verify_email: bool = False,
    ignore_provider: bool = False, field_prefix: tuple[str, ...] = ("input",), generated_password: bool = False,
) -> PreparedUser:
    """USR-3 (create), USR-4, USR-5: validates, refuses an e-mail or CRID already registered, and creates
    the user in the identity provider. With `generated_password` a passwordless user gets a generated password
    and a link to choose their own: Auth0's change-password ticket, or on MG2 a set-password link (a PWDREQ
    event whose link another message carries, USR-7) — for the e-mail's owner only, never for the caller."""
    tenant = context.tenant
    email = checked_email(email, [*field_prefix, "email"])
    if password is not None and password != "":
        checked_password(password, [*field_prefix, "password"])
    else:
        password = None
    try:
        metadata = validate_metadata(metadata, [*field_prefix, "metadata"])
        first_name = clean_name(first_name, [*field_prefix, "firstName"])
        last_name = clean_name(last_name, [*field_prefix, "lastName"])
    except RegistrationRuleError as error:
        raise UserFlowError.from_rule(error)
    crid = crid.strip() if crid else None
    repository = users(context)
    existing = await repository.by_email(tenant.id, email)
    if existing is not None:
        if not existing.email_verified:  # USR-3
            raise UserFlowError("UNVERIFIED_REGISTRATION_EXISTS",
                                "A registration with this e-mail exists and is waiting for its e-mail to be verified",
                                [*field_prefix, "email"])
        raise UserFlowError("EMAIL_ALREADY_REGISTERED", "A registration with this e-mail already exists",
                            [*field_prefix, "email"])
    if crid and await repository.by_crid(tenant.id, crid) is not None:
        raise UserFlowError("CRID_ALREADY_REGISTERED", "A registration with this CRID already exists",
                            [*field_prefix, "customerRegistrationId"])
    identity = provider(context, ignore_provider)
    own_generated = generate_password() if password is None and generated_password and identity.keeps_password \
        else None
    try:
        created = await identity.create(email=email, password=password or own_generated, first_name=first_name,
                                        last_name=last_name,
                                        metadata=metadata, crid=crid, verified=not verify_email)
    except ProviderRefused as error:
        raise UserFlowError(error.code, str(error), [*field_prefix, *error.field])
    now = utcnow()
    row = Registration(tenant_id=tenant.id, crid=created.crid, email=email, first_name=first_name,
                       last_name=last_name, password_hash=created.password_hash, has_password=created.has_password,
                       email_verified=not verify_email, user_metadata=metadata, created_at=now, updated_at=now)
    details = {"provider": identity.name, "ignoreProvider": ignore_provider, "passwordless": password is None}
    events = [new_event(tenant.id, EVENT_CREATE_PENDING if verify_email else EVENT_CREATE, crid=created.crid,
                        details=details)]
    if created.change_password_url:  # USR-3: the welcome message carries it; the event log does not
        message_data(events[0])["changePasswordUrl"] = created.change_password_url
    if verify_email:
        events.append(verification_event(tenant.id, created.crid, email, now))
    set_password_event = None
    if own_generated is not None:
        set_password_event = without_message(new_event(
            tenant.id, EVENT_FORGOT_PASSWORD_START, crid=created.crid, created_at=now,
            details={"expiresAt": link_expiry(now).isoformat(), "reason": "GENERATED_PASSWORD"}))
        events.append(set_password_event)
    return PreparedUser(registration=row, events=events, identity=identity,
                        change_password_url=created.change_password_url, set_password_event=set_password_event)


async def create_registration(context, *, field_prefix: tuple[str, ...] = ("input",), **fields: Any) -> NewUser:
    """`prepare_registration`, then the row with its events in one transaction; a failed write deletes
    what the provider created, so nothing is left behind."""
    prepared = await prepare_registration(context, field_prefix=field_prefix, **fields)
    try:
        row, events = await users(context).create(prepared.registration, prepared.events)
    except DuplicateRow:
        await prepared.undo()
        raise UserFlowError("CRID_ALREADY_REGISTERED", "A registration with this CRID already exists",
                            [*field_prefix, "customerRegistrationId"])
    except BaseException:
        await prepared.undo()
        raise
    return NewUser(registration=row, change_password_url=prepared.change_password_url, events=events)


def verification_event(tenant_id: int, crid: str, email: str, now: datetime | None = None) -> Event:
    """USR-9: the event a verification link is issued from; its id and `expiresAt` make the link's token."""
    now = now or utcnow()
    return new_event(tenant_id, EVENT_VERIFICATION_CODE, crid=crid,
                     details={"email": email, "expiresAt": link_expiry(now).isoformat()}, created_at=now)


@dataclass
class ValidLink:
    claim: LinkClaim
    event: Event


async def valid_link(context, purpose: str, token: str, type_code: str) -> ValidLink | None:
    """USR-7: the link's event when the token is papergraph's for `purpose`, unexpired, issued by an
    event of `type_code` of this tenant, not used yet and (forgot password) the registration's newest."""
    try:
        claim = read_link_token(context.settings.secret_key, purpose, token)
    except InvalidToken:
        return None
    if not link_is_current(claim, datetime.now(timezone.utc)):
        return None
    repository = users(context)
    event = await repository.event(context.tenant.id, claim.event_id)
    if event is None or event.type_code != type_code or event.crid is None:
        return None
    if await repository.token_consumed(context.tenant.id, purpose, event.id):
        return None
    if purpose == FORGOT_PASSWORD:
        newest = await repository.latest_event(context.tenant.id, event.crid, type_code)
        if newest is None or newest.id != event.id:
            return None
    return ValidLink(claim=claim, event=event)


__all__ = ["FORGOT_PASSWORD", "VERIFY_EMAIL", "NewUser", "UserFlowError", "ValidLink", "checked_email",
           "checked_password", "create_registration", "prepare_registration", "PreparedUser", "provider", "users", "valid_link", "verification_event"]


async def registration_for(context, crid: str, field: list[str]) -> Registration:
    row = await users(context).by_crid(context.tenant.id, (crid or "").strip())
    if row is None:
        raise UserFlowError("NOT_FOUND", "No registration has this CRID", field)
    return row


def flow_error(error_cls: type, codes: type, error: UserFlowError):
    """A `UserFlowError` as the calling mutation's `<Name>Error`."""
    return error_cls(code=codes[error.code], field=error.field, message=error.message)
