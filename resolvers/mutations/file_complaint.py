"""`fileComplaint` (CMP-1..3): a delivery complaint on a subscription, by an owner or staff (decision), with a
category from the tenant's list and a delivery date not in the future (tenant time); recorded in the circulation
system and as a COMPLAINT event carrying the reporter's CRID (NOT-1). Resolved with e-edition access it grants a
temporary entitlement (ENT-3, reason COMPLAINT) tied to that event and lasting like a day pass (CMP-2, SUB-5);
resolved with a redelivery it asks for today's print delivery again, once per date (CMP-3)."""

from __future__ import annotations

from datetime import date, timezone
from typing import Annotated, Optional

import strawberry
from strawberry.types import Info

from auth.permissions import SUBSCRIPTIONS, allow, arg, customer_owner, staff_change
from auth.principals import PrincipalKind
from datasources.models import Event, TemporaryEntitlement as EntitlementRow, utcnow
from datasources.repositories.servicing import COMPLAINT_EVENT, ComplaintRepository
from domain.servicing import ServicingRuleError, check_complaint, day_pass_expiry, tenant_today
from resolvers.mutation_support import Refusal
from resolvers.servicing_flows import acting_crid, call_circulation, error_codes, error_type, refusal
from schema.servicing import Complaint, ComplaintResolution

EEDITION = "EEDITION"
FileComplaintErrorCode = error_codes("FileComplaint", [
    "NOT_FOUND", "UNKNOWN_CATEGORY", "DATE_IN_FUTURE", "DIGITAL_SUBSCRIPTION", "REDELIVERY_TODAY_ONLY",
    "REDELIVERY_ALREADY_REQUESTED", "EEDITION_NOT_AVAILABLE", "NO_REPORTER", "CIRCULATION_REFUSED"])
FileComplaintError = error_type("FileComplaint", FileComplaintErrorCode)


@strawberry.input(description="A delivery complaint to file (CMP-1).")
class FileComplaintInput:
    subscription_id: strawberry.ID = strawberry.field(description="The subscription whose delivery went wrong.")
    category: str = strawberry.field(description="One of `complaintCategories`' codes, e.g. MISSED.")
    delivery_date: date = strawberry.field(description=(
        "The delivery the complaint is about: today or earlier in the tenant's time zone."))
    resolution: ComplaintResolution = strawberry.field(default=ComplaintResolution.NONE, description=(
        "How to resolve it; default NONE."))
    customer_registration_id: Optional[str] = strawberry.field(default=None, description=(
        "Staff only: the reporter's CRID; default the subscription's owner. A customer always reports as "
        "themselves."))


FileComplaintArgument = Annotated[FileComplaintInput, strawberry.argument(description="The complaint to file.")]


@strawberry.type(description="The result of `fileComplaint`.")
class FileComplaintPayload:
    complaint: Optional[Complaint] = strawberry.field(default=None, description=(
        "The complaint as recorded, with the e-edition access it granted; null when refused."))
    user_errors: list[FileComplaintError] = strawberry.field(default_factory=list, description=(
        "Why the complaint was refused; empty on success."))


async def _reporter(context, input: FileComplaintInput, subscription_id: str, Code) -> str:
    """CMP-1: the reporter's CRID: the customer who files, or for staff the one named, else the owner."""
    if context.principal.kind is not PrincipalKind.CUSTOMER and input.customer_registration_id:
        return input.customer_registration_id.strip()
    crid = await acting_crid(context, subscription_id)
    if crid is None:
        raise Refusal(Code.NO_REPORTER, "Name the reporter: the subscription has no owner",
                      ["input", "customerRegistrationId"])
    return crid


@strawberry.type
class FileComplaint:
    @strawberry.mutation(description=(
        "File a delivery complaint (CMP-1): owners and staff; a category of the tenant's; a delivery date not in "
        "the future. Resolution EEDITION_ACCESS grants temporary e-edition access tied to the complaint (CMP-2); "
        "REDELIVERY asks for today's print delivery again, once per date (CMP-3). Records COMPLAINT."
    ), extensions=allow(staff_change(SUBSCRIPTIONS), customer_owner(arg("input", "subscription_id"))))
    async def file_complaint(self, info: Info, input: FileComplaintArgument) -> Optional[FileComplaintPayload]:
        context = info.context
        tenant = context.tenant
        Code = FileComplaintErrorCode
        subscription_id = str(input.subscription_id).strip()
        category = input.category.strip().upper()
        redelivery = input.resolution is ComplaintResolution.REDELIVERY
        now = context.services.clock()
        today = tenant_today(now, tenant.time_zone)
        try:
            subscription = await context.loaders.subscription_by_id.load(subscription_id)
            if subscription is None:
                raise Refusal(Code.NOT_FOUND, "No subscription has this id", ["input", "subscriptionId"])
            categories = await context.services.circulation.get_complaint_categories(tenant.code)
            if category not in {c["code"] for c in categories}:
                raise Refusal(Code.UNKNOWN_CATEGORY, "The category is not one of the tenant's", ["input", "category"])
            history = await context.loaders.complaints_by_subscription_id.load(subscription_id)
            try:
                check_complaint(input.delivery_date, today, redelivery=redelivery, digital=subscription.digital,
                                redelivered_dates=[c.delivery_date for c in history
                                                   if c.resolution is ComplaintResolution.REDELIVERY])
            except ServicingRuleError as error:
                raise refusal(error, Code)
            reporter = await _reporter(context, input, subscription_id, Code)
            if input.resolution is ComplaintResolution.EEDITION_ACCESS and \
                    await context.loaders.entitlement_by_code.load(EEDITION) is None:
                raise Refusal(Code.EEDITION_NOT_AVAILABLE, "The tenant has no EEDITION entitlement",
                              ["input", "resolution"])
            result = await call_circulation(
                lambda key: context.services.circulation.file_complaint(
                    tenant.code, subscription_id, category, input.delivery_date, redelivery, key),
                f"complaint:{tenant.code}", Code)
        except Refusal as refused:
            return FileComplaintPayload(user_errors=[refused.as_error(FileComplaintError)])
        recorded_at = utcnow()
        entitlement = None
        if input.resolution is ComplaintResolution.EEDITION_ACCESS:
            # CMP-2: access comes from this row (ENT-3), never from the complaint event
            entitlement = EntitlementRow(
                tenant_id=tenant.id, crid=reporter, entitlement_code=EEDITION, starts_at=now.astimezone(timezone.utc),
                expires_at=day_pass_expiry(today, tenant.time_zone).astimezone(timezone.utc), reason="COMPLAINT",
                created_at=recorded_at)
        event, entitlement = await ComplaintRepository(context.services.db).record(Event(
            tenant_id=tenant.id, type_code=COMPLAINT_EVENT, subscription_id=subscription_id, crid=reporter,
            reason=category, source=context.principal.kind.value.upper(), created_at=recorded_at,
            details={"circulationTransactionId": result.get("transactionId"), "complaintId": result["complaint"]["id"],
                     "category": category, "deliveryDate": input.delivery_date.isoformat(),
                     "resolution": input.resolution.value}), entitlement)
        context.loaders.complaints_by_subscription_id.clear(subscription_id)
        context.loaders.temporary_entitlements_by_crid.clear(reporter)
        return FileComplaintPayload(complaint=Complaint.from_event(event, entitlement, now))
