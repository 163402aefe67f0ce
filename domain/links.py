"""Subscription link limits (LNK-2) and roles (LNK-1), as pure functions."""

from __future__ import annotations

from typing import Iterable, Sequence

from domain.money import RuleError

OWNER = "OWNER"
GUEST = "GUEST"


def check_link_limits(existing_roles: Iterable[str], new_role: str, *, owners_limit: int, guests_limit: int,
                      max_links: int, field: Sequence[str] = ("input", "role")) -> None:
    """LNK-2: at most `Subscription.DefaultOwnersLimit` owners, `Subscription.DefaultGuestsLimit` guests and
    `Subscription.MaxLinks` links in all, counting the link being added."""
    roles = list(existing_roles)
    if len(roles) + 1 > max_links:
        raise RuleError(f"The subscription already has the maximum of {max_links} links", field, "LNK-2")
    if new_role == OWNER and roles.count(OWNER) + 1 > owners_limit:
        raise RuleError(f"The subscription already has the maximum of {owners_limit} owner(s)", field, "LNK-2")
    if new_role == GUEST and roles.count(GUEST) + 1 > guests_limit:
        raise RuleError(f"The subscription already has the maximum of {guests_limit} guest(s)", field, "LNK-2")


def check_role_change(existing_roles: Iterable[str], from_role: str, to_role: str, **limits: int) -> None:
    """A link changing role counts against the new role's limit (the link itself no longer counts as before)."""
    roles = list(existing_roles)
    roles.remove(from_role)
    check_link_limits(roles, to_role, **limits)


def check_allowed_registrations(links: int, allowed_registrations: int | None,
                                field: Sequence[str] = ("input", "subscriptionId")) -> None:
    """OFR-7: `links` (every link the subscription would have, pending invitations counted, INV-3) may not exceed
    its offer's allowed registrations; None (the product is not one of the tenant's offers) sets no bound.
    Lowering the allowance removes no link: it only stops new ones (and transfers) while above it."""
    if allowed_registrations is not None and links > allowed_registrations:
        raise RuleError(f"The subscription's offer allows {allowed_registrations} registrations", field, "OFR-7")
