"""`changeTemporaryStopRestart` (STP-2, TemporaryStopRestart): set or bring forward a temporary stop's restart
date, on every circulation system (not SAXO only); today or later in the tenant's time zone, after the start,
within the offered dates, no overlap; owners and staff (LNK-3); records TEMPSTOPRESTART (NOT-1)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Optional

import strawberry
from strawberry.types import Info

from auth.permissions import SUBSCRIPTIONS, allow, arg, customer_owner, staff_change
from domain.servicing import ServicingRuleError, check_restart_change
from resolvers.mutation_support import Refusal
from resolvers.servicing_flows import (
    RESTART_EVENT, call_circulation, error_codes, error_type, find_stop, record_stop_event, refusal, stop_facts,
)
from schema.servicing import TemporaryStop

ChangeTemporaryStopRestartErrorCode = error_codes("ChangeTemporaryStopRestart", [
    "NOT_FOUND", "STOP_NOT_FOUND", "DATE_IN_PAST", "DATE_NOT_OFFERED", "RESTART_NOT_AFTER_START",
    "OVERLAPPING_STOP", "CIRCULATION_REFUSED"])
ChangeTemporaryStopRestartError = error_type("ChangeTemporaryStopRestart", ChangeTemporaryStopRestartErrorCode)


@strawberry.input(description="A new restart date for a temporary stop (STP-2).")
class ChangeTemporaryStopRestartInput:
    subscription_id: strawberry.ID = strawberry.field(description="The subscription the stop belongs to.")
    stop_id: strawberry.ID = strawberry.field(description="The temporary stop's id (`TemporaryStop.id`).")
    restart_date: date = strawberry.field(description=(
        "The day delivery resumes: today or later in the tenant's time zone, after the stop's start date, within "
        "the offered dates."))


ChangeTemporaryStopRestartArgument = Annotated[ChangeTemporaryStopRestartInput, strawberry.argument(description="The stop and its new restart date.")]


@strawberry.type(description="The result of `changeTemporaryStopRestart`.")
class ChangeTemporaryStopRestartPayload:
    temporary_stop: Optional[TemporaryStop] = strawberry.field(default=None, description=(
        "The stop with its new restart date; null when refused."))
    user_errors: list[ChangeTemporaryStopRestartError] = strawberry.field(default_factory=list, description=(
        "Why the change was refused; empty on success."))


@strawberry.type
class ChangeTemporaryStopRestart:
    @strawberry.mutation(description=(
        "Set or bring forward a temporary stop's restart date (STP-2), on every circulation system: owners and "
        "staff; today or later in the tenant's time zone and after the start. Records TEMPSTOPRESTART."
    ), extensions=allow(staff_change(SUBSCRIPTIONS), customer_owner(arg("input", "subscription_id"))))
    async def change_temporary_stop_restart(self, info: Info, input: ChangeTemporaryStopRestartArgument
                                            ) -> Optional[ChangeTemporaryStopRestartPayload]:
        context = info.context
        Code = ChangeTemporaryStopRestartErrorCode
        subscription_id, stop_id = str(input.subscription_id).strip(), str(input.stop_id).strip()
        try:
            facts = await stop_facts(context, subscription_id, Code, offered=True)
            stop = find_stop(facts, stop_id, Code)
            try:
                check_restart_change(stop, input.restart_date, facts.today, facts.offered, facts.stops)
            except ServicingRuleError as error:
                raise refusal(error, Code)
            result = await call_circulation(
                lambda key: context.services.circulation.change_temporary_stop_restart(
                    context.tenant.code, subscription_id, stop_id, input.restart_date, key),
                f"tempstoprestart:{context.tenant.code}", Code)
        except Refusal as refused:
            return ChangeTemporaryStopRestartPayload(user_errors=[refused.as_error(ChangeTemporaryStopRestartError)])
        await record_stop_event(context, RESTART_EVENT, subscription_id, result,
                                restartDateBefore=stop.restart.isoformat() if stop.restart else None)
        return ChangeTemporaryStopRestartPayload(temporary_stop=TemporaryStop.from_record(result["temporaryStop"]))
