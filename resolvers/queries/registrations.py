"""Root query fields of the registrations domain: `me`, `registration`, `users` (USR-2),
`temporaryEntitlements` (ENT-3) and `subscriptionLinks` (LNK-1).

Rule violations are BAD_USER_INPUT errors whose `field` names the argument at fault; unknown ids answer
null (or an empty list or page), never an error.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Annotated, Iterator, Optional

import strawberry
from strawberry.types import Info

from auth.permissions import ANYONE, ENTITLEMENTS, REGISTRATIONS, CustomerLinkLookup, allow, arg, \
    customer_self, reads
from domain.crypto import InvalidToken, decrypt_crid
from domain.registrations import (
    MetadataFilter,
    RegistrationRuleError,
    validate_link_lookup,
    validate_user_lookup,
)
from resolvers.errors import CodedError
from schema.pagination import Connection, connection_from_page, page_window
from schema.registrations import MetadataFilterInput, Registration, SubscriptionLink, TemporaryEntitlement


@contextmanager
def _as_bad_user_input() -> Iterator[None]:
    try:
        yield
    except RegistrationRuleError as error:
        raise CodedError(str(error), field=error.field, rule=error.rule) from error


@strawberry.type
class RegistrationQueries:
    @strawberry.field(description=(
        "The registration of the signed-in customer; null for anyone else, or a customer papergraph has no "
        "registration for."
    ), extensions=allow(ANYONE))
    async def me(self, info: Info) -> Optional[Registration]:
        return await info.context.customer_registration()

    @strawberry.field(description="A registration by CRID; null when the tenant has none with that CRID.",
                      extensions=allow(reads(REGISTRATIONS), customer_self(arg("crid"))))
    async def registration(self, info: Info, crid: str) -> Optional[Registration]:
        return await info.context.loaders.registration_by_crid.load(crid)

    @strawberry.field(description=(
        "Users found by e-mail, by encrypted CRID, or by metadata filters and/or first- and last-name prefixes "
        "(case-insensitive); an e-mail or CRID stands alone and answers at most one user. No criterion at all is a "
        "BAD_USER_INPUT error. Pages of 10 by default (USR-2)."
    ), extensions=allow(reads(REGISTRATIONS)))
    async def users(
        self,
        info: Info,
        email: Optional[str] = None,
        metadata: Optional[list[MetadataFilterInput]] = None,
        encrypted_crid: Optional[str] = None,
        first: Optional[int] = None,
        after: Optional[str] = None,
        first_name: Annotated[Optional[str], strawberry.argument(description=(
            "Users whose first name starts with this, ignoring case (\"ad\" finds \"Ada\").")) ] = None,
        last_name: Annotated[Optional[str], strawberry.argument(description=(
            "Users whose last name starts with this, ignoring case.")) ] = None,
    ) -> Optional[Connection[Registration]]:
        with _as_bad_user_input():
            lookup = validate_user_lookup(
                email=email, metadata=[MetadataFilter(f.key, f.value) for f in metadata or []],
                encrypted_crid=encrypted_crid, first_name=first_name, last_name=last_name,
            )
        offset, limit = page_window(first, after, info.context.settings.max_page_size)
        crid = None
        if lookup.encrypted_crid is not None:
            try:
                crid = decrypt_crid(info.context.settings.secret_key, lookup.encrypted_crid)
            except InvalidToken:
                raise CodedError("encryptedCrid is not a valid encrypted CRID", field=["encryptedCrid"], rule="USR-2")
        loaders = info.context.loaders
        page = await loaders.registration_repository.search_registrations(
            info.context.tenant.id, offset=offset, limit=min(limit, 1) if lookup.single else limit,
            email=lookup.email, metadata=[(f.key, f.value) for f in lookup.metadata], crid=crid,
            first_name=lookup.first_name, last_name=lookup.last_name,
        )
        registrations = [loaders.registration_from_row(row) for row in page.rows]
        loaders.prime_registrations(registrations)
        if lookup.single:  # at most one user, whatever the page
            return connection_from_page(registrations, offset, limit, min(page.total, 1) if page.total is not None
                                        else None, has_more=False)
        return connection_from_page(registrations, offset, limit, page.total, page.has_more)

    @strawberry.field(description="Temporary entitlements of a CRID, latest expiry first (ENT-3).",
                      extensions=allow(reads(ENTITLEMENTS), customer_self(arg("crid"))))
    async def temporary_entitlements(self, info: Info, crid: str) -> Optional[list[TemporaryEntitlement]]:
        return await info.context.loaders.temporary_entitlements_by_crid.load(crid)

    @strawberry.field(description=(
        "Subscription links by CRID, registration id and/or subscription id — at least one (LNK-1)."
    ), extensions=allow(reads(REGISTRATIONS), CustomerLinkLookup(arg("crid"), arg("registration_id"),
                                                                arg("subscription_id"))))
    async def subscription_links(
        self,
        info: Info,
        crid: Optional[str] = None,
        registration_id: Optional[strawberry.ID] = None,
        subscription_id: Optional[strawberry.ID] = None,
        first: Optional[int] = None,
        after: Optional[str] = None,
    ) -> Optional[Connection[SubscriptionLink]]:
        with _as_bad_user_input():
            lookup = validate_link_lookup(crid, registration_id, subscription_id)
        offset, limit = page_window(first, after, info.context.settings.max_page_size)
        page = await info.context.loaders.registration_repository.search_links(
            info.context.tenant.id, offset=offset, limit=limit, crid=lookup.crid,
            registration_id=lookup.registration_id, subscription_id=lookup.subscription_id,
        )
        links = [SubscriptionLink.from_row(row.link, row.crid) for row in page.rows]
        return connection_from_page(links, offset, limit, page.total, page.has_more)
