"""Subscriptions as papergraph shows them (SUB-1). The GraphQL name is `CustomerSubscription`:
`Subscription` is the root subscription type's name in Apollo composition.

Performance shape (performance.md): everything the circulation record already holds — scalars, the
subscriber's contact, and the restart, tip and eBill availabilities (RST-1, TIP-1, EZ-3, computed from the
record and the tenant's circulation kind, no I/O) — is a plain attribute filled by `from_record`. Only
relations resolve, each through one per-request loader: household level, offer, payment method,
billing options, registration count, scheduled stops.
"""

from __future__ import annotations

from datetime import date
from enum import Enum
from functools import lru_cache
from typing import TYPE_CHECKING, Annotated, Any, Optional

import strawberry
from strawberry.types import Info

from auth.permissions import (
    PAYMENTS,
    SUBSCRIPTIONS,
    allow,
    customer_linked,
    customer_owner,
    guarded_reference,
    parent,
    reads,
    staff_read,
)
from domain.availability import (
    Availability as AvailabilityAnswer,
    ReasonCode,
    SubscriptionFacts,
    ebill_availability,
    restart_availability,
    tip_availability,
)
from schema.account import subscription_bill_statements_field, subscription_current_plan_field
from schema.common import Money
from schema.households import HouseholdLevel
from schema.payments import PaymentMethod, subscription_payments_field
from schema.registrations import subscription_events_field, subscription_links_field
from schema.servicing import Complaint, ScheduledDowngrade, TemporaryStop
from schema.subscriber import SubscriberAddress, subscription_address_moves_field

if TYPE_CHECKING:
    from schema.offers import Offer

LazyOffer = Annotated["Offer", strawberry.lazy("schema.offers")]


@strawberry.enum(description="SUB-1")
class SubscriptionStatus(Enum):
    ACTIVE = "ACTIVE"
    STOPPED = "STOPPED"
    PERMANENTLY_STOPPED = "PERMANENTLY_STOPPED"
    PAUSED = "PAUSED"
    IN_GRACE = "IN_GRACE"


@strawberry.enum(description="SUB-1")
class SubscriptionKind(Enum):
    REGULAR = "REGULAR"
    TRIAL = "TRIAL"
    COMPLIMENTARY = "COMPLIMENTARY"
    GIFT = "GIFT"
    PAID_PASS = "PAID_PASS"


AvailabilityReasonCode = strawberry.enum(
    ReasonCode, name="AvailabilityReasonCode",
    description="Why something is not available; stable codes to switch on (RST-1, TIP-1, EZ-3).",
)


@strawberry.type(description="A stable code and a human-readable message.")
class AvailabilityReason:
    code: AvailabilityReasonCode
    message: str


@strawberry.type(description="Whether an action is available; when not, every reason that applies.")
class Availability:
    available: bool
    reasons: list[AvailabilityReason]

    @classmethod
    def of(cls, answer: AvailabilityAnswer) -> "Availability":
        return cls(available=answer.available,
                   reasons=[AvailabilityReason(code=r.code, message=r.message) for r in answer.reasons])


@strawberry.type(description="TIP-1: one-time and recurring tip availability.")
class TipAvailability:
    one_time: Availability
    recurring: Availability


@strawberry.type(description=(
    "EZ-3: eBill may be used when the subscription is not stopped and not on auto-pay. `reason` says why "
    "sign-up is not allowed (STOPPED, ON_AUTO_PAY, ALREADY_ON_EBILL); null when it is."
))
class EbillAvailability:
    sign_up_allowed: bool
    manage_allowed: bool
    reason: Optional[AvailabilityReason]


@strawberry.type(description="One of the subscription's current billing options, from the circulation system (PAY-3).")
class BillingOption:
    term: str = strawberry.field(description="The option's term code, e.g. 1M or 13W.")
    length: int
    length_unit: str = strawberry.field(description="DAY, WEEK, MONTH or YEAR.")
    rate: Money
    tax: Money
    other_costs: Money
    amount: Money = strawberry.field(description="What the option costs in all: the amount a payment must be.")
    auto_renew: bool

    @classmethod
    def from_record(cls, record: dict[str, Any], currency: str) -> "BillingOption":
        return cls(term=record["term"], length=int(record["length"]), length_unit=record["lengthUnit"],
                   rate=Money.of(record["rate"], currency), tax=Money.of(record["tax"], currency),
                   other_costs=Money.of(record.get("otherCosts") or 0, currency),
                   amount=Money.of(record["amount"], currency), auto_renew=bool(record.get("autoRenew")))


@strawberry.type(description="A delivery stop scheduled in the circulation system, read live (SUB-4).")
class ScheduledStop:
    id: strawberry.ID
    start_date: date
    end_date: Optional[date]
    reason: Optional[str] = strawberry.field(description="e.g. VACATION.")

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> "ScheduledStop":
        end = record.get("endDate")
        return cls(id=strawberry.ID(str(record["id"])), start_date=_date(record["startDate"]),
                   end_date=_date(end) if end else None, reason=record.get("reason"))


@strawberry.type(description="The subscriber's contact details, for staff.")
class Subscriber:
    first_name: Optional[str]
    last_name: Optional[str]
    email: Optional[str]
    phones: list[str] = strawberry.field(description="The primary phone first.")
    company_name: Optional[str]
    postal_code: Optional[str]
    address: Optional[SubscriberAddress]

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> "Subscriber":
        address = record.get("address")
        return cls(
            first_name=record.get("firstName"), last_name=record.get("lastName"), email=record.get("email"),
            phones=list(record.get("phones") or []), company_name=record.get("companyName"),
            postal_code=(address or {}).get("postalCode"),
            address=SubscriberAddress.from_record(address) if address else None,
        )


def _subscriber(root) -> Optional[Subscriber]:
    """Built when the selection asks for it rather than in `from_record`: a dashboard reads ~11 subscriptions
    and asks for none of their subscribers (issue 18: build only what the selection asks for)."""
    return Subscriber.from_record(root.subscriber_record) if root.subscriber_record else None


@lru_cache(maxsize=1024)
def _availabilities(facts: SubscriptionFacts, circulation_kind: str
                    ) -> tuple[Availability, TipAvailability, EbillAvailability]:
    """The three availabilities for a combination of facts. Few combinations exist, and the answers are
    never mutated, so they are built once per process and shared by every subscription."""
    tips = tip_availability(facts, circulation_kind)
    ebill = ebill_availability(facts)
    return (
        Availability.of(restart_availability(facts, circulation_kind)),
        TipAvailability(one_time=Availability.of(tips.one_time), recurring=Availability.of(tips.recurring)),
        EbillAvailability(
            sign_up_allowed=ebill.sign_up_allowed, manage_allowed=ebill.manage_allowed,
            reason=AvailabilityReason(code=ebill.reason.code, message=ebill.reason.message) if ebill.reason else None,
        ),
    )


@strawberry.federation.type(keys=["id"], name="CustomerSubscription",
                            description="A subscription in the tenant's circulation system (SUB-1).")
class CustomerSubscription:
    id: strawberry.ID
    account_number: str
    status: SubscriptionStatus
    kind: SubscriptionKind
    delivery_schedule: str = strawberry.field(description="e.g. 7-Day, Digital; a PAID_PASS has DayPass.")
    digital: bool
    start_date: date
    end_date: Optional[date] = strawberry.field(description="Shown whatever the status.")
    balance: Money = strawberry.field(description="> 0 is a credit, < 0 a debt.")
    auto_pay: bool
    ebill: bool
    billing_method: str
    customer_reference_number: str = strawberry.field(description="May be empty.")
    name: Optional[str] = strawberry.field(description="Optional name given at purchase.")
    household_level_id: Optional[int]
    product_code: Optional[str] = strawberry.field(description="The circulation system's product code: the offer's id.")

    subscriber: Optional[Subscriber] = strawberry.field(
        resolver=_subscriber,
        description="Contact details of the subscriber: for staff, partners and linked customers (LNK-3).",
        extensions=allow(reads(SUBSCRIPTIONS), customer_linked(parent("id"))))
    scheduled_downgrade: Optional[ScheduledDowngrade] = strawberry.field(default=None, description=(
        "A downgrade waiting for the next renewal (STP-4), as the circulation system holds it; null when none."))
    restart_availability: Availability = strawberry.field(description="RST-1: whether a restart is available, and why not.")
    tip_availability: TipAvailability = strawberry.field(description="TIP-1: whether tips are available, and why not.")
    ebill_availability: EbillAvailability = strawberry.field(description="EZ-3.")
    links = subscription_links_field()  # LNK-1, owned by schema/registrations.py
    events = subscription_events_field()  # NOT-1, owned by schema/registrations.py
    payments = subscription_payments_field()  # PAY-4, owned by schema/payments.py
    bill_statements = subscription_bill_statements_field()  # EBL-4, owned by schema/account.py
    current_plan = subscription_current_plan_field()  # EZ-4, owned by schema/account.py
    address_moves = subscription_address_moves_field()  # ADR-3, owned by schema/subscriber.py
    offer_id: strawberry.Private[Optional[int]]
    subscriber_record: strawberry.Private[Optional[dict[str, Any]]]  # built into a Subscriber only when asked for

    @strawberry.field(description="The household level this subscription references (HHL-1).")
    def household_level(self, info: Info) -> Optional[HouseholdLevel]:
        # the loader's future itself (graphql-core awaits it): no coroutine per field (issue 18 part 3)
        if self.household_level_id is None:
            return None
        return info.context.loaders.household_level_by_id.load(self.household_level_id)

    @strawberry.field(description="Number of registrations linked to this subscription, owners and guests (SUB-1).")
    async def registration_count(self, info: Info) -> int:
        return await info.context.loaders.registration_count_by_subscription_id.load(str(self.id))

    @strawberry.field(description="The payment method attached to the subscription, masked (PM-4); null when none.",
                      extensions=allow(reads(PAYMENTS), customer_linked(parent("id"))))
    def payment_method(self, info: Info) -> Optional[PaymentMethod]:
        return info.context.loaders.payment_method_by_subscription_id.load(str(self.id))  # a future, awaited by graphql-core

    @strawberry.field(description=(
        "The subscription's current billing options (PAY-3), from the circulation system; null when it "
        "cannot answer."
    ), extensions=allow(reads(SUBSCRIPTIONS), reads(PAYMENTS), customer_linked(parent("id"))))
    def billing_options(self, info: Info) -> Optional[list[BillingOption]]:
        return info.context.loaders.billing_options_by_subscription_id.load(str(self.id))  # a future

    @strawberry.field(description=(
        "Delivery stops scheduled in the circulation system, read live (SUB-4); null when it cannot answer. "
        "One upstream call per subscription: prefer it on a single subscription."
    ))
    async def scheduled_stops(self, info: Info) -> Optional[list[ScheduledStop]]:
        return await info.context.loaders.scheduled_stops_by_subscription_id.load(str(self.id))

    @strawberry.field(description=(
        "The subscription's temporary stops (vacation holds, STP-1) by start date, read live from the circulation "
        "system; null when it cannot answer. One upstream call per subscription."
    ), extensions=allow(reads(SUBSCRIPTIONS), customer_linked(parent("id"))))
    async def temporary_stops(self, info: Info) -> Optional[list[TemporaryStop]]:
        return await info.context.loaders.temporary_stops_by_subscription_id.load(str(self.id))

    @strawberry.field(description=(
        "The subscription's delivery complaints, oldest first, with the e-edition access each granted (CMP-1, "
        "CMP-2). Owners and staff."
    ), extensions=allow(staff_read(SUBSCRIPTIONS), customer_owner(parent("id"))))
    async def complaints(self, info: Info) -> list[Complaint]:
        return await info.context.loaders.complaints_by_subscription_id.load(str(self.id))

    @strawberry.field(description="The offer the subscription was bought from; null when unknown.")
    def offer(self, info: Info) -> Optional[LazyOffer]:
        if self.offer_id is None:
            return None
        return info.context.loaders.offer_by_id.load(self.offer_id)  # a future

    @classmethod
    def from_record(cls, record: dict[str, Any], circulation_kind: str) -> "CustomerSubscription":
        """A circulation record (as `CirculationDataSource` returns it) of a tenant on `circulation_kind`."""
        level = record.get("householdLevelId")
        end = record.get("endDate")
        product = record.get("productCode")
        product = str(product).strip() if product is not None else None
        subscriber = record.get("subscriber")
        facts = SubscriptionFacts(
            status=record["status"], kind=record["kind"], digital=bool(record["digital"]),
            auto_pay=bool(record["autoPay"]), ebill=bool(record["ebill"]),
            restart_scheduled=bool(record.get("restartScheduled")),
        )
        restart, tips, ebill = _availabilities(facts, circulation_kind)
        return cls(
            id=strawberry.ID(record["id"]),
            account_number=record["accountNumber"],
            status=SubscriptionStatus(record["status"]),
            kind=SubscriptionKind(record["kind"]),
            delivery_schedule=record["deliverySchedule"],
            digital=facts.digital,
            start_date=_date(record["startDate"]),
            end_date=_date(end) if end else None,
            balance=Money.of(record["balance"], record["currency"]),
            auto_pay=facts.auto_pay,
            ebill=facts.ebill,
            billing_method=record["billingMethod"],
            customer_reference_number=record.get("customerReferenceNumber") or "",
            name=record.get("name"),
            household_level_id=int(level) if level is not None else None,
            product_code=product or None,
            subscriber_record=subscriber or None,
            scheduled_downgrade=(ScheduledDowngrade.from_record(record["scheduledDowngrade"], record["currency"])
                                 if record.get("scheduledDowngrade") else None),
            restart_availability=restart,
            tip_availability=tips,
            ebill_availability=ebill,
            offer_id=int(product) if product and product.isdigit() else None,
        )

    @guarded_reference(reads(SUBSCRIPTIONS), customer_linked(lambda source, keys: keys.get("id")))
    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> "CustomerSubscription | None":
        return await info.context.loaders.subscription_by_id.load(str(id))


@strawberry.type(description="Subscriptions of one account that expire on the same date: one grouped notice (NOT-2).")
class ExpiringSubscriptionGroup:
    account_number: str
    end_date: date
    subscriptions: list[CustomerSubscription]


@strawberry.input(description=(
    "SUB-2: at least one criterion; every given criterion must match, ignoring case. Names and company match by "
    "prefix (\"acme\" finds \"Acme Media\"); account number, e-mail and postal code exactly."))
class SubscriptionSearchInput:
    first_name: Optional[str] = strawberry.field(default=None, description="A prefix of the first name.")
    last_name: Optional[str] = strawberry.field(default=None, description="A prefix of the last name.")
    account_number: Optional[str] = None
    email: Optional[str] = None
    phone: Optional[str] = strawberry.field(default=None, description=(
        "Compared by its digits, with or without the country code (\"+1 555 010 0200\" and \"(555) 010-0200\" find "
        "each other)."))
    postal_code: Optional[str] = strawberry.field(
        default=None, description="Must match the tenant's PostalCodeMask (SUB-3): 9 a digit, A a letter, * any.")
    company_name: Optional[str] = strawberry.field(default=None, description="A prefix of the company name.")

    def criteria(self) -> dict[str, Optional[str]]:
        return {"firstName": self.first_name, "lastName": self.last_name, "accountNumber": self.account_number,
                "email": self.email, "phone": self.phone, "postalCode": self.postal_code,
                "companyName": self.company_name}


def _date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)
