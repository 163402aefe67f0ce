"""`startPaymentSession`: open a NavigaPay hosted payment page for a subscription (GW-1, PM-1), or for a new
start (an offer and term, BUY-11: by anyone, signed in or not).

The card or bank account is typed into the hosted page only (in an iframe), never into papergraph or the
front end. The session is recorded for the subscription, so only this subscription can be given the
payment method it tokenizes (`completePaymentSession`); a new start's session is recorded for its offer and
term, and `purchaseSubscription` takes it (`paymentSession`) and charges only the method it tokenized.
"""

from __future__ import annotations

import uuid
from enum import Enum
from typing import Optional

import strawberry
from sqlmodel import select
from strawberry.types import Info

from auth.permissions import ANYONE, PAYMENTS, Unprivileged, allow, arg, asks_value, changes, customer_owner
from auth.principals import principal_key
from datasources.base import UpstreamNotFound, UpstreamRejected
from datasources.models import Event, Offer, OfferTerm, PaymentSession as PaymentSessionRow, utcnow
from datasources.repositories.payment_methods import PaymentMethodRepository
from datasources.repositories.payments import PaymentRepository
from domain.availability import PaymentMethodKind
from domain.ids import integer_id
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
    subscription_id: Optional[strawberry.ID] = strawberry.field(default=None, description=(
        "The subscription whose payment method the session replaces; leave out for a new start (then give "
        "`offerId` and `term`)."))
    offer_id: Optional[strawberry.ID] = strawberry.field(default=None, description=(
        "A new start (BUY-11): the offer to buy; `purchaseSubscription` then takes this session."))
    term: Optional[str] = strawberry.field(default=None, description="A new start: the offer term's code.")
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
        " For a new start, give `offerId` and `term` instead of `subscriptionId` (anyone, signed in or not): "
        "`purchaseSubscription` takes the session and charges only the method it tokenized (BUY-11)."
    ), extensions=allow(changes(PAYMENTS), customer_owner(arg("input", "subscription_id")),
                        Unprivileged(ANYONE, (("subscriptionId", asks_value("input", "subscription_id")),))))
    async def start_payment_session(self, info: Info, input: StartPaymentSessionInput
                                    ) -> Optional[StartPaymentSessionPayload]:
        context = info.context
        tenant, services = context.tenant, context.services
        if input.subscription_id is None:
            return await start_new_start_session(context, input)
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
            started = await gateway_session(context, subscription_id, input,
                                            customer_id=current.gateway_customer_id if current is not None else None)
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


async def gateway_session(context, reference: str, input: StartPaymentSessionInput,
                          customer_id: Optional[str] = None) -> dict:
    """NavigaPay's hosted session (GW-1) for `reference` (the subscription, or a new start's reference); its
    refusal is GATEWAY_REFUSED with the gateway's message."""
    try:
        return await context.services.navigapay.start_session(
            context.tenant.code, reference, input.payment_type.value, return_url=input.return_url,
            customer_id=customer_id)
    except (UpstreamRejected, UpstreamNotFound) as error:
        raise Refusal(Code.GATEWAY_REFUSED, getattr(error, "upstream_message", "") or
                      "The payment gateway refused the session", ["input"])


async def start_new_start_session(context, input: StartPaymentSessionInput) -> StartPaymentSessionPayload:
    """BUY-11: a session for buying `offerId`/`term`, recorded with who started it."""
    tenant, services = context.tenant, context.services
    try:
        offer_id = integer_id(str(input.offer_id)) if input.offer_id is not None else None
        term_code = (input.term or "").strip()
        async with services.db.session() as session:
            term = (await session.execute(select(OfferTerm).join(Offer, Offer.id == OfferTerm.offer_id).where(
                Offer.tenant_id == tenant.id, Offer.id == offer_id, OfferTerm.code == term_code))).scalars().first() \
                if offer_id is not None else None
        if term is None:
            raise Refusal(Code.NOT_FOUND, "Give a subscriptionId, or the offerId and term of a new start",
                          ["input", "offerId"])
        reference = f"new-start-{uuid.uuid4().hex[:16]}"
        started = await gateway_session(context, reference, input)
    except Refusal as refusal:
        return StartPaymentSessionPayload(user_errors=[refusal.as_error(StartPaymentSessionError)])
    now = utcnow()
    row = PaymentSessionRow(tenant_id=tenant.id, session_id=started["sessionId"], group_id=started["groupId"],
                            subscription_id="", payment_type=input.payment_type.value, created_at=now,
                            offer_id=offer_id, term=term_code, started_by=principal_key(context.principal))
    await PaymentRepository(services.db).start_session(row, Event(
        tenant_id=tenant.id, type_code=SESSION_EVENT, crid=context.principal.crid, created_at=now,
        details={"sessionId": started["sessionId"], "paymentType": input.payment_type.value, "offerId": offer_id,
                 "term": term_code, "reference": reference}))
    return StartPaymentSessionPayload(session=PaymentSession(
        session_id=started["sessionId"], group_id=started["groupId"], payment_type=input.payment_type,
        iframe_url=started["iframeUrl"]))

