"""`completePaymentSession`: attach the payment method a hosted session tokenized (GW-1, PM-1, PM-3..PM-5).

Takes what the hosted page posted back (profile id, group id, payment type), ends the session at NavigaPay
and reads the masked profile; refuses a Diners Club card (PM-3) and a type no flow of the circulation
system accepts (PM-1); stores only the masked card or bank and the gateway token and customer id (PM-4),
in place of the subscription's current payment method, at most once per 24 hours per subscription
(PM-5), and records CHANGEPAYMENTMETHOD in the same transaction (NOT-1). Completing the same session
again answers the method it attached, changing nothing: the session is the natural idempotency key, and such
an answer counts as an idempotent replay (`papergraph_idempotent_replays_total{operation="completePaymentSession"}`).
"""

from __future__ import annotations

from enum import Enum
from typing import Optional

import strawberry
from strawberry.types import Info

from auth.permissions import PAYMENTS, allow, arg, changes, customer_owner
from datasources.base import UpstreamNotFound, UpstreamRejected
from datasources.models import Event, utcnow
from datasources.repositories.payment_methods import (
    MethodChangeWindowClosed, PaymentMethodRepository, masked_payment_method,
)
from datasources.repositories.payments import PaymentRepository, as_utc
from domain.availability import PaymentMethodKind
from domain.payments import (
    ErrorCode, PaymentRuleError, check_card_brand, check_method_change_window, check_payment_method_accepted,
    method_change_window_start,
)
from resolvers.mutation_support import Refusal, error_type
from resolvers.payment_flows import owner_crid
from schema.payments import PaymentMethod, PaymentMethodType
from schema.registrations import Event as EventType
from schema.subscriptions import CustomerSubscription
from telemetry import metrics

OPERATION = "completePaymentSession"
CHANGE_EVENT = "CHANGEPAYMENTMETHOD"


@strawberry.enum(description="Why `completePaymentSession` refused its input.")
class CompletePaymentSessionErrorCode(Enum):
    SESSION_NOT_FOUND = ErrorCode.SESSION_NOT_FOUND.value
    SESSION_MISMATCH = ErrorCode.SESSION_MISMATCH.value
    SESSION_NOT_TOKENIZED = ErrorCode.SESSION_NOT_TOKENIZED.value
    PAYMENT_METHOD_NOT_ALLOWED = ErrorCode.PAYMENT_METHOD_NOT_ALLOWED.value
    PAYMENT_METHOD_CHANGE_WINDOW = ErrorCode.PAYMENT_METHOD_CHANGE_WINDOW.value
    GATEWAY_REFUSED = ErrorCode.GATEWAY_REFUSED.value


CompletePaymentSessionError = error_type("CompletePaymentSession", CompletePaymentSessionErrorCode)
Code = CompletePaymentSessionErrorCode
UPSTREAM_CODES = {"SESSION_NOT_TOKENIZED": Code.SESSION_NOT_TOKENIZED, "SESSION_MISMATCH": Code.SESSION_MISMATCH,
                  "SESSION_NOT_FOUND": Code.SESSION_NOT_FOUND}


@strawberry.input
class CompletePaymentSessionInput:
    subscription_id: strawberry.ID
    session_id: str
    profile_id: str = strawberry.field(description="As the hosted page posted it (the token).")
    group_id: str
    payment_type: PaymentMethodType


@strawberry.type
class CompletePaymentSessionPayload:
    payment_method: Optional[PaymentMethod] = strawberry.field(default=None, description="Masked (PM-4).")
    subscription: Optional[CustomerSubscription] = None
    event: Optional[EventType] = None
    user_errors: list[CompletePaymentSessionError] = strawberry.field(default_factory=list)


def _rule(error: PaymentRuleError) -> Refusal:
    return Refusal(Code[error.code.value], str(error), error.field)


@strawberry.type
class CompletePaymentSession:
    @strawberry.mutation(description=(
        "End a hosted payment session with what its page posted back and attach the tokenized, masked payment "
        "method to the subscription (GW-1, PM-4), at most once per 24 hours (PM-5); Diners Club is refused "
        "(PM-3)."
    ), extensions=allow(changes(PAYMENTS), customer_owner(arg("input", "subscription_id"))))
    async def complete_payment_session(self, info: Info, input: CompletePaymentSessionInput
                                       ) -> Optional[CompletePaymentSessionPayload]:
        context = info.context
        tenant, services = context.tenant, context.services
        subscription_id = str(input.subscription_id).strip()
        payment_type = PaymentMethodKind(input.payment_type.value)
        methods = PaymentMethodRepository(services.db)
        now = utcnow()
        event = None
        try:
            session = await PaymentRepository(services.db).session(tenant.id, input.session_id.strip())
            if session is None or session.subscription_id != subscription_id:
                raise Refusal(Code.SESSION_NOT_FOUND, "No payment session of this subscription has this id",
                              ["input", "sessionId"])
            if (session.group_id, session.payment_type) != (input.group_id.strip(), payment_type.value):
                raise Refusal(Code.SESSION_MISMATCH, "groupId or paymentType is not the session's", ["input"])
            current = await methods.row(tenant.id, subscription_id)
            if session.completed_at is not None:
                if session.profile_id != input.profile_id.strip():
                    raise Refusal(Code.SESSION_MISMATCH, "The session was completed with another profile",
                                  ["input", "profileId"])
                method = current  # completed before: answer what it attached
            else:
                method, event = await _attach(context, input, session, current, payment_type, now)
        except PaymentRuleError as error:
            return CompletePaymentSessionPayload(user_errors=[_rule(error).as_error(CompletePaymentSessionError)])
        except Refusal as refusal:
            return CompletePaymentSessionPayload(user_errors=[refusal.as_error(CompletePaymentSessionError)])
        if event is None:  # attached by an earlier (or a concurrent) completion of the session: its answer again
            metrics.record_idempotent_replay(OPERATION)
        loaders = context.loaders
        loaders.subscription_by_id.clear(subscription_id)
        loaders.payment_method_by_subscription_id.clear(subscription_id)
        return CompletePaymentSessionPayload(
            payment_method=PaymentMethod.from_row(method) if method is not None else None,
            subscription=await loaders.subscription_by_id.load(subscription_id),
            event=EventType.from_row(event, tenant.currency) if event is not None else None)


async def _attach(context, input: CompletePaymentSessionInput, session, current, payment_type, now):
    tenant, services = context.tenant, context.services
    subscription_id = session.subscription_id
    if current is not None and current.gateway_token == input.profile_id.strip():
        return current, None  # this session's method, attached by a concurrent completion
    if current is not None:  # PM-5, before the gateway is asked; checked again under lock when writing
        check_method_change_window(as_utc(current.attached_at), now, ["input", "subscriptionId"])
    try:
        profile = await services.navigapay.complete_session(session.session_id, input.profile_id.strip(),
                                                            session.group_id, payment_type.value)
    except (UpstreamRejected, UpstreamNotFound) as error:
        code = UPSTREAM_CODES.get(getattr(error, "upstream_code", None) or "", Code.GATEWAY_REFUSED)
        raise Refusal(code, getattr(error, "upstream_message", "") or "The payment gateway refused it", ["input"])
    if profile.get("merchant") != tenant.code or profile.get("paymentType") != payment_type.value:
        raise Refusal(Code.SESSION_MISMATCH, "The profile is not of this session", ["input", "profileId"])
    check_card_brand(profile.get("brand"), ["input", "profileId"])  # PM-3
    check_payment_method_accepted(tenant.circulation_kind, payment_type, ["input", "paymentType"])  # PM-1
    method = masked_payment_method(tenant.id, subscription_id, profile, attached_at=now)
    event = Event(tenant_id=tenant.id, type_code=CHANGE_EVENT, subscription_id=subscription_id,
                  crid=await owner_crid(context, subscription_id), created_at=now,
                  details={"sessionId": session.session_id, "type": method.type, "cardBrand": method.card_brand,
                           "cardLast4": method.card_last4, "bankAccountMasked": method.bank_account_masked})
    try:
        attached, written = await PaymentMethodRepository(services.db).attach(
            method, changed_since=method_change_window_start(now), session_row=session, event=event)
    except MethodChangeWindowClosed as closed:
        check_method_change_window(closed.since, now, ["input", "subscriptionId"])
        raise
    return attached, event if written else None
