"""`startPaymentSession`: open a NavigaPay hosted payment page for a subscription (GW-1, PM-1).

The card or bank account is typed into the hosted page only (in an iframe), never into papergraph or the
front end. The session is recorded for the subscription, so only this subscription can be given the
payment method it tokenizes (`completePaymentSession`).
"""

from __future__ import annotations

from enum import Enum
from typing import Optional

import strawberry
from strawberry.types import Info

from auth.permissions import PAYMENTS, allow, arg, changes, customer_owner
from auth.principals import principal_key
from datasources.base import UpstreamNotFound, UpstreamRejected
from datasources.models import Event, PaymentSession as PaymentSessionRow, utcnow
from datasources.repositories.payment_methods import PaymentMethodRepository
from datasources.repositories.payments import PaymentRepository
from domain.availability import PaymentMethodKind
from domain.payments import ErrorCode, PaymentRuleError, check_payment_method_accepted
from resolvers.mutation_support import Refusal, error_type
from resolvers.payment_flows import owner_crid
from schema.payments import PaymentMethodType, PaymentSession

SESSION_EVENT = "PAYMENTSESSIONSTART"


@strawberry.enum(description="Why `startPaymentSession` refused its input.")
class StartPaymentSessionErrorCode(Enum):
    NOT_FOUND = ErrorCode.NOT_FOUND.value
    PAYMENT_METHOD_NOT_ALLOWED = ErrorCode.PAYMENT_METHOD_NOT_ALLOWED.value
    GATEWAY_REFUSED = ErrorCode.GATEWAY_REFUSED.value


StartPaymentSessionError = error_type("StartPaymentSession", StartPaymentSessionErrorCode)
Code = StartPaymentSessionErrorCode


@strawberry.input
class StartPaymentSessionInput:
    subscription_id: strawberry.ID
    payment_type: PaymentMethodType = strawberry.field(description="What the hosted page asks for (PM-1).")
    return_url: Optional[str] = strawberry.field(default=None, description=(
        "Where the hosted page sends the frame once done, with profileId, groupId and paymentType."))


@strawberry.type
class StartPaymentSessionPayload:
    session: Optional[PaymentSession] = None
    user_errors: list[StartPaymentSessionError] = strawberry.field(default_factory=list)


@strawberry.type
class StartPaymentSession:
    @strawberry.mutation(description=(
        "Start a hosted payment session for a subscription (GW-1): show `session.iframeUrl` in an iframe; the "
        "page posts profileId, groupId and paymentType back, which `completePaymentSession` takes."
    ), extensions=allow(changes(PAYMENTS), customer_owner(arg("input", "subscription_id"))))
    async def start_payment_session(self, info: Info, input: StartPaymentSessionInput
                                    ) -> Optional[StartPaymentSessionPayload]:
        context = info.context
        tenant, services = context.tenant, context.services
        subscription_id = str(input.subscription_id).strip()
        payment_type = PaymentMethodKind(input.payment_type.value)
        try:
            if await context.loaders.subscription_by_id.load(subscription_id) is None:
                raise Refusal(Code.NOT_FOUND, "No subscription has this id", ["input", "subscriptionId"])
            try:
                check_payment_method_accepted(tenant.circulation_kind, payment_type, ["input", "paymentType"])
            except PaymentRuleError as error:
                raise Refusal(Code[error.code.value], str(error), error.field)
            current = await PaymentMethodRepository(services.db).row(tenant.id, subscription_id)
            try:
                started = await services.navigapay.start_session(
                    tenant.code, subscription_id, payment_type.value, return_url=input.return_url,
                    customer_id=current.gateway_customer_id if current is not None else None)
            except (UpstreamRejected, UpstreamNotFound) as error:
                raise Refusal(Code.GATEWAY_REFUSED, getattr(error, "upstream_message", "") or
                              "The payment gateway refused the session", ["input"])
        except Refusal as refusal:
            return StartPaymentSessionPayload(user_errors=[refusal.as_error(StartPaymentSessionError)])
        now = utcnow()
        await PaymentRepository(services.db).start_session(
            PaymentSessionRow(tenant_id=tenant.id, session_id=started["sessionId"], group_id=started["groupId"],
                              subscription_id=subscription_id, payment_type=payment_type.value, created_at=now,
                              started_by=principal_key(context.principal)),  # BUY-11: whose card it tokenizes
            Event(tenant_id=tenant.id, type_code=SESSION_EVENT, subscription_id=subscription_id,
                  crid=await owner_crid(context, subscription_id), created_at=now,
                  details={"sessionId": started["sessionId"], "paymentType": payment_type.value}))
        return StartPaymentSessionPayload(session=PaymentSession(
            session_id=started["sessionId"], group_id=started["groupId"], payment_type=input.payment_type,
            iframe_url=started["iframeUrl"]))
