"""`scheduleTemporaryStop` (STP-1): a vacation hold of print delivery, owners and staff only (LNK-3), within the
dates the circulation system offers live, restart after start, no overlap; records TEMPSTOP (NOT-1)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Optional

import strawberry
from strawberry.types import Info

from auth.permissions import SUBSCRIPTIONS, allow, arg, customer_owner, staff_change
from domain.servicing import (
    ServicingRuleError, check_offered_and_free, check_print_subscription, check_step_is_current, check_stop_dates,
)
from resolvers.mutation_support import Refusal
from resolvers.servicing_flows import (
    MAX_REASON, SCHEDULE_EVENT, call_circulation, error_codes, error_type, load_flow, record_stop_event, refusal,
    stop_facts,
)
from schema.servicing import TemporaryStop

ScheduleTemporaryStopErrorCode = error_codes("ScheduleTemporaryStop", [
    "NOT_FOUND", "DIGITAL_SUBSCRIPTION", "SUBSCRIPTION_STOPPED", "DATE_IN_PAST", "DATE_NOT_OFFERED",
    "RESTART_NOT_AFTER_START", "OVERLAPPING_STOP", "INVALID", "CIRCULATION_REFUSED", "STOP_SAVER_NOT_FOUND",
    "STOP_SAVER_ENDED", "STEP_NOT_CURRENT"])
ScheduleTemporaryStopError = error_type("ScheduleTemporaryStop", ScheduleTemporaryStopErrorCode)


@strawberry.input(description="A temporary stop to schedule (STP-1).")
class ScheduleTemporaryStopInput:
    subscription_id: strawberry.ID = strawberry.field(description="The print subscription whose delivery stops.")
    start_date: date = strawberry.field(description=(
        "The first day without delivery: one of `temporaryStopDates`, and not before today in the tenant's time "
        "zone."))
    restart_date: Optional[date] = strawberry.field(default=None, description=(
        "The day delivery resumes, after `startDate` and within the offered dates; omit for an open-ended stop."))
    reason: Optional[str] = strawberry.field(default=None, description="Why, at most 64 characters; default VACATION.")
    stop_saver_id: Optional[strawberry.ID] = strawberry.field(default=None, description=(
        "The StopSaver flow this stop ends, at its TEMPORARY_STOP step (STP-4); the event is recorded under it."))


ScheduleTemporaryStopArgument = Annotated[ScheduleTemporaryStopInput, strawberry.argument(description="The stop to schedule.")]


@strawberry.type(description="The result of `scheduleTemporaryStop`.")
class ScheduleTemporaryStopPayload:
    temporary_stop: Optional[TemporaryStop] = strawberry.field(default=None, description=(
        "The stop as the circulation system scheduled it; null when refused."))
    user_errors: list[ScheduleTemporaryStopError] = strawberry.field(default_factory=list, description=(
        "Why the stop was refused; empty on success."))


@strawberry.type
class ScheduleTemporaryStop:
    @strawberry.mutation(description=(
        "Schedule a temporary stop (vacation hold) of print delivery (STP-1): owners and staff; dates in the "
        "tenant's time zone, within the stop dates the circulation system offers; no overlap with another stop. "
        "Records TEMPSTOP."
    ), extensions=allow(staff_change(SUBSCRIPTIONS), customer_owner(arg("input", "subscription_id"))))
    async def schedule_temporary_stop(self, info: Info, input: ScheduleTemporaryStopArgument
                                      ) -> Optional[ScheduleTemporaryStopPayload]:
        context = info.context
        Code = ScheduleTemporaryStopErrorCode
        subscription_id = str(input.subscription_id).strip()
        reason = (input.reason or "").strip() or None
        try:
            if reason is not None and len(reason) > MAX_REASON:
                raise Refusal(Code.INVALID, f"The reason must be at most {MAX_REASON} characters", ["input", "reason"])
            facts = await stop_facts(context, subscription_id, Code, offered=False)
            flow = None
            if input.stop_saver_id is not None:  # STP-4: the temp-stop step of a StopSaver flow
                flow = await load_flow(context, subscription_id, input.stop_saver_id, Code)
            try:
                if flow is not None:
                    check_step_is_current(flow.state, "TEMPORARY_STOP")
                check_print_subscription(facts.subscription.digital, facts.subscription.status.value)
                # the cheap checks first; the offered dates are read live only for a request that passes them
                check_stop_dates(input.start_date, input.restart_date, facts.today)
                facts.offered = await context.services.circulation.get_temporary_stop_dates(
                    context.tenant.code, subscription_id)
                check_offered_and_free(input.start_date, input.restart_date, facts.offered, facts.stops)
            except ServicingRuleError as error:
                raise refusal(error, Code)
            result = await call_circulation(
                lambda key: context.services.circulation.schedule_temporary_stop(
                    context.tenant.code, subscription_id, input.start_date, input.restart_date, reason, key),
                f"tempstop:{context.tenant.code}", Code)
        except Refusal as refused:
            return ScheduleTemporaryStopPayload(user_errors=[refused.as_error(ScheduleTemporaryStopError)])
        await record_stop_event(context, SCHEDULE_EVENT, subscription_id, result,
                                reason=result["temporaryStop"].get("reason"),
                                parent_id=flow.event.id if flow is not None else None)
        return ScheduleTemporaryStopPayload(temporary_stop=TemporaryStop.from_record(result["temporaryStop"]))
