"""Registrations (user accounts, keyed by CRID), their links to subscriptions, temporary entitlements and
events (USR-1, LNK-1, ENT-3, NOT-1).

Scalar fields are plain attributes filled when a row is turned into a type; only relations resolve, each
through a per-request loader, so a list of registrations costs one query per relation.
`CustomerSubscription` is referenced lazily: `schema.subscriptions` imports this module for its
`links` and `events` fields.
"""

from __future__ import annotations

from datetime import datetime, timezone
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Optional

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from auth.permissions import (
    ENTITLEMENTS,
    REGISTRATIONS,
    SUBSCRIPTIONS,
    CustomerSelfOrOwnersGuest,
    allow,
    customer_linked,
    customer_self,
    guarded_reference,
    parent,
    reads,
    registration_data,
)
from domain.crypto import encrypt_crid
from resolvers.dataloaders.batching import prefetch
from resolvers.selection import selects_plainly
from domain.registrations import registration_state
from schema.common import Money
from schema.pagination import Connection, page_window

if TYPE_CHECKING:
    from schema.subscriptions import CustomerSubscription

LazySubscription = Annotated["CustomerSubscription", strawberry.lazy("schema.subscriptions")]


@strawberry.enum(description="USR-1: LITE has no password, UNVERIFIED has not verified its e-mail (own auth only).")
class RegistrationState(Enum):
    STANDARD = "STANDARD"
    LITE = "LITE"
    UNVERIFIED = "UNVERIFIED"


@strawberry.enum(description="LNK-1: how a registration is linked to a subscription.")
class LinkRole(Enum):
    OWNER = "OWNER"
    GUEST = "GUEST"


@strawberry.input(description="USR-2: a top-level metadata key and the string value it must have.")
class MetadataFilterInput:
    key: str = strawberry.field(description="At most 100 characters.")
    value: str = strawberry.field(description="At most 100 characters.")


def _utc(value: datetime | None) -> datetime | None:
    """SQLite hands timestamps back without their zone; they were written in UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=timezone.utc)


@strawberry.type(description="A subscription's link to a registration, as OWNER or GUEST (LNK-1).")
class SubscriptionLink:
    id: strawberry.ID
    role: LinkRole
    subscription_id: strawberry.ID
    crid: Optional[str] = strawberry.field(description=(
        "The linked registration's CRID; null, with a FORBIDDEN error, for a customer other than the linked one "
        "(LNK-4)."), extensions=allow(*registration_data(parent("crid"))))
    registration_id: Optional[strawberry.ID] = strawberry.field(description=(
        "The linked registration's id; null, with a FORBIDDEN error, for a customer other than the linked one "
        "(LNK-4)."), extensions=allow(*registration_data(parent("crid"))))
    created_at: datetime

    @strawberry.field(description="The linked subscription; null when the circulation system no longer has it.",
                      extensions=allow(reads(SUBSCRIPTIONS), customer_linked(parent("subscription_id"))))
    async def subscription(self, info: Info) -> Optional[LazySubscription]:
        return await info.context.loaders.subscription_by_id.load(str(self.subscription_id))

    @strawberry.field(description=(
        "The linked registration. A customer sees their own, and an owner their guests' names and e-mail only "
        "(LNK-4)."), extensions=allow(
        reads(REGISTRATIONS), CustomerSelfOrOwnersGuest(parent("crid"), parent("subscription_id"), parent("role"))))
    async def registration(self, info: Info) -> Optional["Registration"]:
        return await info.context.loaders.registration_by_crid.load(self.crid)

    @classmethod
    def from_row(cls, link, crid: str) -> "SubscriptionLink":
        return cls(id=strawberry.ID(str(link.id)), role=LinkRole(link.role),
                   subscription_id=strawberry.ID(link.subscription_id), crid=crid,
                   registration_id=strawberry.ID(str(link.registration_id)), created_at=_utc(link.created_at))


@strawberry.type(description="Time-limited access to an entitlement for a registration (ENT-3).")
class TemporaryEntitlement:
    id: strawberry.ID
    crid: str = strawberry.field(description="The registration it is granted to (LNK-4: its own customer only).",
                                 extensions=allow(*registration_data(parent("crid"))))
    entitlement_code: str
    starts_at: datetime
    expires_at: datetime
    reason: str = strawberry.field(description="Why it was granted, e.g. PURCHASE or COMPLAINT.")
    active: bool = strawberry.field(description="Whether it grants access now.")
    created_at: datetime

    @classmethod
    def from_row(cls, row, now: datetime) -> "TemporaryEntitlement":
        starts, expires = _utc(row.starts_at), _utc(row.expires_at)
        return cls(id=strawberry.ID(str(row.id)), crid=row.crid, entitlement_code=row.entitlement_code,
                   starts_at=starts, expires_at=expires, reason=row.reason, active=starts <= now < expires,
                   created_at=_utc(row.created_at))


# event details that name a registration (UPDATELINK transfers, CHGCRID, CHGEMAIL, verification): LNK-4
REGISTRATION_DETAIL_KEYS = frozenset({"crid", "fromCrid", "toCrid", "oldCrid", "newCrid", "email", "oldEmail",
                                      "newEmail"})


@strawberry.type(description="A recorded state change (NOT-1).")
class Event:
    id: strawberry.ID
    type_code: str = strawberry.field(description="e.g. STARTSTD, RESTARTSUBSCRIPTION, UPDATELINK, CHGEMAIL.")
    subscription_id: Optional[strawberry.ID]
    crid: Optional[str] = strawberry.field(description=(
        "The registration the event is about; null, with a FORBIDDEN error, for another customer (LNK-4)."),
        extensions=allow(*registration_data(parent("crid"))))
    amount: Optional[Money]
    reason: Optional[str]
    source: Optional[str]
    parent_id: Optional[strawberry.ID]
    raw_details: strawberry.Private[dict]
    created_at: datetime

    @strawberry.field(description=(
        "What the event recorded. For a customer other than the event's registration, the CRIDs and e-mail "
        "addresses it names are left out (LNK-4)."))
    def details(self, info: Info) -> JSON:
        principal = info.context.principal
        if principal.kind.value in ("staff", "partner") or (self.crid is not None and self.crid == principal.crid):
            return self.raw_details
        return {key: value for key, value in self.raw_details.items() if key not in REGISTRATION_DETAIL_KEYS}

    @classmethod
    def from_row(cls, row, currency: str) -> "Event":
        return cls(
            id=strawberry.ID(str(row.id)), type_code=row.type_code,
            subscription_id=strawberry.ID(row.subscription_id) if row.subscription_id is not None else None,
            crid=row.crid, amount=Money.of(row.amount, currency) if row.amount is not None else None,
            reason=row.reason, source=row.source,
            parent_id=strawberry.ID(str(row.parent_id)) if row.parent_id is not None else None,
            raw_details=row.details or {}, created_at=_utc(row.created_at),
        )


@strawberry.federation.type(keys=["crid"],
                            description="A user account, keyed by its CRID (the identity provider's user id).")
class Registration:
    """LNK-4: e-mail and names are what an owner may see of their guests; every other field is for staff,
    partners and the registration's own customer (`registration_data`)."""

    crid: str = strawberry.field(description="The customer registration id (LNK-4: its own customer only).",
                                 extensions=allow(*registration_data(parent("crid"))))
    registration_id: strawberry.ID = strawberry.field(description="papergraph's own id of the registration.",
                                                      extensions=allow(*registration_data(parent("crid"))))
    email: str
    first_name: Optional[str]
    last_name: Optional[str]
    state: RegistrationState = strawberry.field(description="USR-1.", extensions=allow(*registration_data(parent("crid"))))
    metadata: JSON = strawberry.field(description="camelCase key/values the publisher keeps with the user.",
                                      extensions=allow(*registration_data(parent("crid"))))
    created_at: datetime = strawberry.field(description="When the registration was created.",
                                            extensions=allow(*registration_data(parent("crid"))))
    updated_at: datetime = strawberry.field(description="When the registration last changed.",
                                            extensions=allow(*registration_data(parent("crid"))))
    pk: strawberry.Private[int]
    email_verified: strawberry.Private[bool] = True
    has_password: strawberry.Private[bool] = True

    @strawberry.field(description="A stable, opaque token for this CRID, accepted by `users(encryptedCrid:)` (USR-2).",
                      extensions=allow(*registration_data(parent("crid"))))
    def encrypted_crid(self, info: Info) -> str:
        return encrypt_crid(info.context.settings.secret_key, self.crid)

    @strawberry.field(description="The registration's links to subscriptions (LNK-1).",
                      extensions=allow(*registration_data(parent("crid"))))
    async def links(self, info: Info) -> list[SubscriptionLink]:
        return await info.context.loaders.links_by_registration_id.load(self.pk)

    @strawberry.field(description="The subscriptions this registration is linked to, optionally only as one role.",
                      extensions=allow(reads(SUBSCRIPTIONS), customer_self(parent("crid"))))
    async def linked_subscriptions(self, info: Info, role: Optional[LinkRole] = None
                                   ) -> Optional[list[LazySubscription]]:
        loaders = info.context.loaders
        links = await loaders.links_by_registration_id.load(self.pk)
        own = info.context.know_customer_links(self.pk, links)  # the subscriptions' own rules (LNK-3) need not await
        ids = [str(link.subscription_id) for link in links if role is None or link.role == role]
        if own and ids and selects_plainly(info, "billingOptions"):
            # the customer's own subscriptions, whose billing options (LNK-3: customer_linked) the selection
            # asks for: one circulation call for them all beside the subscriptions' call, not after it
            prefetch(loaders.billing_options_by_subscription_id, ids)
        subscriptions = await loaders.subscription_by_id.load_many(ids)
        return [subscription for subscription in subscriptions if subscription is not None]

    @strawberry.field(description="Temporary entitlements granted to this registration (ENT-3), latest expiry first.",
                      extensions=allow(reads(ENTITLEMENTS), customer_self(parent("crid"))))
    async def temporary_entitlements(self, info: Info) -> Optional[list[TemporaryEntitlement]]:
        return await info.context.loaders.temporary_entitlements_by_crid.load(self.crid)

    @strawberry.field(description="Events recorded for this CRID, newest first.",
                      extensions=allow(reads(REGISTRATIONS), customer_self(parent("crid"))))
    async def events(self, info: Info, first: Optional[int] = None, after: Optional[str] = None
                     ) -> Optional[Connection[Event]]:
        offset, limit = page_window(first, after, info.context.settings.max_page_size)
        return await info.context.loaders.events_by_crid.load((self.crid, offset, limit))

    @classmethod
    def from_row(cls, row, user_provider: str | None) -> "Registration":
        return cls(
            crid=row.crid, registration_id=strawberry.ID(str(row.id)), email=row.email,
            first_name=row.first_name, last_name=row.last_name,
            state=RegistrationState(registration_state(user_provider, has_password=row.has_password,
                                                       email_verified=row.email_verified)),
            metadata=row.user_metadata or {}, created_at=_utc(row.created_at), updated_at=_utc(row.updated_at),
            pk=row.id, email_verified=bool(row.email_verified), has_password=bool(row.has_password),
        )

    @guarded_reference(reads(REGISTRATIONS), customer_self(lambda source, keys: keys.get("crid")))
    @classmethod
    async def resolve_reference(cls, info: Info, crid: str) -> "Registration | None":
        return await info.context.loaders.registration_by_crid.load(crid)


# -- fields of CustomerSubscription that belong to this domain (used by schema/subscriptions.py) ----
async def _subscription_links(root, info: Info) -> Optional[list[SubscriptionLink]]:
    return await info.context.loaders.links_by_subscription_id.load(str(root.id))


async def _subscription_events(root, info: Info, first: Optional[int] = None, after: Optional[str] = None
                               ) -> Optional[Connection[Event]]:
    offset, limit = page_window(first, after, info.context.settings.max_page_size)
    return await info.context.loaders.events_by_subscription_id.load((str(root.id), offset, limit))


def subscription_links_field():
    return strawberry.field(resolver=_subscription_links,
                            description="The registrations linked to this subscription, as OWNER or GUEST (LNK-1).",
                            extensions=allow(reads(SUBSCRIPTIONS), customer_linked(parent("id"))))


def subscription_events_field():
    return strawberry.field(resolver=_subscription_events,
                            description="Events recorded for this subscription, newest first.",
                            extensions=allow(reads(SUBSCRIPTIONS), customer_linked(parent("id"))))
