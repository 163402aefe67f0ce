"""A subscription bought anonymously with a registered e-mail, waiting for its owner to claim it (BUY-10)."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Optional

import strawberry

from schema.common import Money


@strawberry.enum(description="Where a purchase claim stands (BUY-10).")
class PurchaseClaimState(Enum):
    PENDING = strawberry.enum_value("PENDING", description="Waiting to be claimed; the link still works.")
    CLAIMED = strawberry.enum_value("CLAIMED", description="Claimed: the subscription is linked to its owner.")
    EXPIRED = strawberry.enum_value("EXPIRED", description="Not claimed within 30 days; staff may link it (LNK-4).")


@strawberry.type(description=(
    "What a claim link is about, for the page that claims it (BUY-10): shown only to the signed-in registration "
    "with the purchase's e-mail."))
class PurchaseClaim:
    subscription_id: strawberry.ID = strawberry.field(description="The subscription that was bought.")
    offer_id: Optional[strawberry.ID] = strawberry.field(description="The offer it was bought from.")
    offer_name: Optional[str] = strawberry.field(description="The offer's name.")
    term: Optional[str] = strawberry.field(description="The offer term bought, e.g. 1M.")
    charged: Optional[Money] = strawberry.field(description="What the purchase charged; null when nothing was.")
    bought_at: datetime = strawberry.field(description="When it was bought.")
    expires_at: datetime = strawberry.field(description="The link works until then, once.")
    state: PurchaseClaimState = strawberry.field(description="Where the claim stands.")
