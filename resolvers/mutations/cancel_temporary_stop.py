"""`cancelTemporaryStop` (STP-1, decision): cancel a temporary stop that has not started (one in progress ends by
bringing its restart forward, STP-2); owners and staff (LNK-3); records TEMPSTOPCANCEL (NOT-1)."""

from __future__ import annotations

from typing import Annotated, Optional

import strawberry
from strawberry.types import Info

from auth.permissions import SUBSCRIPTIONS, allow, arg, customer_owner, staff_change
from domain.servicing import ServicingRuleError, check_cancel
from resolvers.mutation_support import Refusal
from resolvers.servicing_flows import (
    CANCEL_EVENT, call_circulation, error_codes, error_type, find_stop, record_stop_event, refusal, stop_facts,
)
from schema.servicing import TemporaryStop

CancelTemporaryStopErrorCode = error_codes("CancelTemporaryStop", [
    "NOT_FOUND", "STOP_NOT_FOUND", "STOP_ALREADY_STARTED", "CIRCULATION_REFUSED"])
CancelTemporaryStopError = error_type("CancelTemporaryStop", CancelTemporaryStopErrorCode)


@strawberry.input(description="The temporary stop to cancel.")
class CancelTemporaryStopInput:
    subscription_id: strawberry.ID = strawberry.field(description="The subscription the stop belongs to.")
    stop_id: strawberry.ID = strawberry.field(description="The temporary stop's id (`TemporaryStop.id`).")


CancelTemporaryStopArgument = Annotated[CancelTemporaryStopInput, strawberry.argument(description="The stop to cancel.")]


@strawberry.type(description="The result of `cancelTemporaryStop`.")
class CancelTemporaryStopPayload:
    temporary_stop: Optional[TemporaryStop] = strawberry.field(default=None, description=(
        "The stop that was cancelled; null when refused."))
    user_errors: list[CancelTemporaryStopError] = strawberry.field(default_factory=list, description=(
        "Why the cancellation was refused; empty on success."))


@strawberry.type
class CancelTemporaryStop:
    @strawberry.mutation(description=(
        "Cancel a temporary stop that has not started yet (today in the tenant's time zone is before its start); "
        "owners and staff. Records TEMPSTOPCANCEL."
    ), extensions=allow(staff_change(SUBSCRIPTIONS), customer_owner(arg("input", "subscription_id"))))
    async def cancel_temporary_stop(self, info: Info, input: CancelTemporaryStopArgument
                                    ) -> Optional[CancelTemporaryStopPayload]:
        context = info.context
        Code = CancelTemporaryStopErrorCode
        subscription_id, stop_id = str(input.subscription_id).strip(), str(input.stop_id).strip()
        try:
            facts = await stop_facts(context, subscription_id, Code, offered=False)
            stop = find_stop(facts, stop_id, Code)
            try:
                check_cancel(stop, facts.today)
            except ServicingRuleError as error:
                raise refusal(error, Code)
            result = await call_circulation(
                lambda key: context.services.circulation.cancel_temporary_stop(
                    context.tenant.code, subscription_id, stop_id, key),
                f"tempstopcancel:{context.tenant.code}", Code)
        except Refusal as refused:
            return CancelTemporaryStopPayload(user_errors=[refused.as_error(CancelTemporaryStopError)])
        await record_stop_event(context, CANCEL_EVENT, subscription_id, result)
        return CancelTemporaryStopPayload(temporary_stop=TemporaryStop.from_record(result["temporaryStop"]))
