"""`purchaseSubscription`: a new start (BUY-1..BUY-5, OFR-4, FEE-5, ENT-3, NOT-1, USR-3..USR-5).

The flow, and what undoes each step when a later one fails (all or nothing):

1. the idempotency key is claimed, with the payment mutations' guarantees: the same key and input answer
   the first answer — success or refusal — and buy nothing more; other input is refused; a concurrent
   duplicate waits for the first answer. Only an unexpected failure, after its undo steps ran, releases
   the key. The upstream references and keys name the attempt (`upstream_keys`), so a new attempt makes
   its own sale;
2. input, offer, term and the offer's check criteria are validated (OFR-4 messages), the payment profile
   must have been tokenized in a payment session the caller started (BUY-11, below) and is read from
   NavigaPay; when the offer sets a subscription-validation flag the active-subscription check runs on the
   circulation search (BUY-1, BUY-6: no flag, no check), with the Address or the Postal code criterion as the
   offer's address requirements enable it (BUY-8), and refuses naming each flag a match trips (BUY-7);
3. a new registration's user is created in the identity provider ......... undo: delete the user
4. the first term is charged through a NavigaPay sale ...................... undo: void the sale
5. the subscription is created in the circulation system (with its name) .. undo: cancel it
6. when `Purchase.GenerateCRN` is 1, its customer reference number is set (BUY-3)
7. one database transaction writes the registration, payment method, owner link, temporary entitlements,
   payment ledger row and the STARTSTD and UPDATELINK events (BUY-4).

Decision (from the documents): a purchase charges the card. The Newstart flow creates the payment method
from the hosted iframe's profile and the subscription starts paid: the first term's rate + tax + the
offer's activation fee, plus the credit-card processing fee and its tax when they apply — the total
`subscriptionCost` quotes (FEE-5).

Whose subscription it is (BUY-10, LNK-4):
- a signed-in customer's purchase is theirs: it is linked to their own registration, whatever e-mail the
  subscriber has;
- an anonymous purchase's answer names no registration and carries no password link, and is the same whether
  the e-mail is registered or not. Behind it: a registered e-mail's subscription is linked to nobody and waits to
  be claimed (a `pending_claim` row; a CLAIMPURCHASE event sends the e-mail's owner the claim link, MSG-1;
  `claimPurchase` links it); a new e-mail gets an UNVERIFIED registration with a generated password, linked as
  OWNER, and its mailbox the verification message and the confirmation with the link to choose a password
  (BUY-4, USR-3). A password given with it is checked (USR-5) and not used;
- staff and partners name the registration by CRID, or it is found by e-mail, or a new one is created (BUY-4).

`Config.System.RestrictCreateUser` = 1 (SET-4: no accounts are created at purchase): a staff or partner purchase
whose e-mail has no registration is refused (USER_CREATION_RESTRICTED); an anonymous purchase is refused
whatever its e-mail (SIGN_IN_REQUIRED), since refusing only unknown e-mails would tell a stranger which e-mails are
registered (BUY-10); a signed-in customer buys as always.

BUY-11: the payment profile must be the one the purchase's own new-start session tokenized (`paymentSession`), or
one a completed payment session (GW-1) that the same principal started tokenized (`payment_session.started_by`,
None for an anonymous start); anything else is refused with PAYMENT_METHOD_NOT_FOUND before NavigaPay is asked for
anything, so nothing is charged.

A process killed between the sale and step 7 leaves the key in progress with no payment row:
`papergraph reconcile` finds the attempt's sale by its reference and voids it (refunds it once settled)
before it releases the key (resolvers/reconciliation.py). A subscription the circulation system created in
that window is left for the publisher to cancel (logged), as papergraph has not recorded its id.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from enum import Enum
from typing import Any, Awaitable, Callable, Optional

import strawberry
from strawberry.types import Info

from auth.permissions import ANYONE, SUBSCRIPTIONS, Unprivileged, allow, arg, asks_value, changes, customer_self
from auth.principals import PrincipalKind, principal_key

from datasources.base import UpstreamError, UpstreamRejected, UpstreamTimeout, UpstreamUnavailable
from datasources.budget import outside_request_budget
from datasources.models import Event, Payment, PendingClaim, SubscriptionLink, TemporaryEntitlement, utcnow
from datasources.navigapay import PaymentDeclined
from datasources.repositories.administration import AdministrationRepository
from datasources.repositories.idempotency import ClaimOutcome, IdempotencyRepository
from datasources.repositories.offers import OfferRepository
from datasources.repositories.payment_methods import masked_payment_method
from datasources.repositories.payments import PaymentRepository
from datasources.repositories.purchases import PurchaseRecord, PurchaseRepository
from datasources.repositories.users import new_event
from domain.claims import claim_expiry
from domain.fees import PaymentType, ProcessingFeeSettings, subscription_cost
from domain.idempotency import request_hash, validate_key
from domain.ids import integer_id
from domain.money import RuleError
from domain.offers import CheckCriteria, criteria_in_force, offer_deliverability, OfferAvailability, \
    validate_check_criteria, validity_state
from domain.purchases import (
    FLAG_MESSAGES,
    TEMPORARY_ACCESS,
    Address,
    Applicant,
    SubscriptionValidation,
    ValidationFlag,
    check_search_criteria,
    customer_reference_number,
    merged_phones,
    ordered,
    validation_failures,
    purchase_address,
    upstream_keys,
    validate_subscription_name,
)
from domain.servicing import tenant_today
from domain.text import free_text
from resolvers.mutation_support import error_type
from datasources.outbox import message_data, without_message
from resolvers.user_flows import UserFlowError, checked_email, checked_password, prepare_registration, users
from schema.account import EBillOptIn
from schema.common import Money
from schema.registrations import Registration
from schema.subscriptions import CustomerSubscription

log = logging.getLogger("papergraph.purchase")
OPERATION = "purchaseSubscription"
START_EVENT = "STARTSTD"
LINK_EVENT = "UPDATELINK"
EBILL_EVENT = "EBILLSIGNUP"  # EBL-5, as signUpEBill records it
CLAIM_EVENT = "CLAIMPURCHASE"
SEARCH_LIMIT = 500  # the circulation search's largest page
SEARCH_PAGES = 20  # BUY-1 compares at most 10,000 candidates
RESTRICT_CREATE_USER = "Config.System.RestrictCreateUser"
SIGN_IN_TO_BUY = "Sign in to buy: this publication creates no accounts at purchase (SET-4)"
NO_NEW_USERS = "No registration has this e-mail, and this publication creates no accounts at purchase (SET-4)"
NOT_TOKENIZED_BY_CALLER = ("No payment method tokenized in a payment session you started has this profile id "
                           "(BUY-11)")


@strawberry.enum(description="Why `purchaseSubscription` refused its input.")
class PurchaseSubscriptionErrorCode(Enum):
    INVALID = "INVALID"
    INVALID_EMAIL = "INVALID_EMAIL"
    PASSWORD_TOO_WEAK = "PASSWORD_TOO_WEAK"
    INVALID_ADDRESS = "INVALID_ADDRESS"
    OFFER_NOT_FOUND = "OFFER_NOT_FOUND"
    OFFER_NOT_AVAILABLE = "OFFER_NOT_AVAILABLE"
    TERM_NOT_FOUND = "TERM_NOT_FOUND"
    OFFER_CHECK_MISCONFIGURED = "OFFER_CHECK_MISCONFIGURED"
    ACTIVE_SUBSCRIPTION_EXISTS = "ACTIVE_SUBSCRIPTION_EXISTS"
    SUBSCRIPTION_STOPPED_RECENTLY = "SUBSCRIPTION_STOPPED_RECENTLY"
    OUTSTANDING_BALANCE = "OUTSTANDING_BALANCE"
    SIGN_IN_REQUIRED = "SIGN_IN_REQUIRED"
    USER_CREATION_RESTRICTED = "USER_CREATION_RESTRICTED"
    PAYMENT_METHOD_NOT_FOUND = "PAYMENT_METHOD_NOT_FOUND"
    PAYMENT_DECLINED = "PAYMENT_DECLINED"
    CIRCULATION_REFUSED = "CIRCULATION_REFUSED"
    NOT_FOUND = "NOT_FOUND"
    EMAIL_ALREADY_REGISTERED = "EMAIL_ALREADY_REGISTERED"
    UNVERIFIED_REGISTRATION_EXISTS = "UNVERIFIED_REGISTRATION_EXISTS"
    CRID_ALREADY_REGISTERED = "CRID_ALREADY_REGISTERED"
    PROVIDER_NOT_SUPPORTED = "PROVIDER_NOT_SUPPORTED"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    IDEMPOTENCY_KEY_IN_PROGRESS = "IDEMPOTENCY_KEY_IN_PROGRESS"


PurchaseSubscriptionError = error_type("PurchaseSubscription", PurchaseSubscriptionErrorCode)
Code = PurchaseSubscriptionErrorCode
FLAG_CODES = {  # BUY-7: the refusal names the flag the check tripped
    ValidationFlag.NO_EXISTING_SUBSCRIPTION: Code.ACTIVE_SUBSCRIPTION_EXISTS,
    ValidationFlag.SUBSCRIPTION_STOPPED_RECENTLY: Code.SUBSCRIPTION_STOPPED_RECENTLY,
    ValidationFlag.NO_OUTSTANDING_BALANCE: Code.OUTSTANDING_BALANCE,
}


@strawberry.input(description="A postal address; country alone is a country-only start, Matrix only (BUY-2).")
class PurchaseAddressInput:
    house_number: Optional[str] = None
    street_name: Optional[str] = None
    city: Optional[str] = None
    postal_code: Optional[str] = None
    country: str = strawberry.field(description="ISO code or name.")


@strawberry.input(description="The subscriber of the new subscription.")
class PurchaseSubscriberInput:
    first_name: str
    last_name: str
    email: str = strawberry.field(description="Trimmed; refused with invisible characters (USR-4).")
    phone: Optional[str] = strawberry.field(default=None, description="Becomes the primary phone (BUY-5).")
    company_name: Optional[str] = None
    address: PurchaseAddressInput


@strawberry.input(description="A new-start payment session and what its hosted page posted back (GW-1).")
class PurchasePaymentSessionInput:
    session_id: str = strawberry.field(description="The session `startPaymentSession` answered.")
    profile_id: str = strawberry.field(description="As the hosted page posted it (the token).")
    group_id: str = strawberry.field(description="As the hosted page posted it.")


@strawberry.input
class PurchaseSubscriptionInput:
    idempotency_key: str = strawberry.field(description=(
        "Unique per purchase attempt: a retry with the same key and input answers the first success without "
        "buying again; the same key with other input is refused."))
    offer_id: strawberry.ID
    term: str = strawberry.field(description="The offer term's code, e.g. 1M.")
    subscriber: PurchaseSubscriberInput
    payment_profile_id: Optional[str] = strawberry.field(default=None, description=(
        "The NavigaPay profile id the hosted iframe tokenized (GW-1); or give `paymentSession`."))
    payment_session: Optional[PurchasePaymentSessionInput] = strawberry.field(default=None, description=(
        "The new-start payment session (`startPaymentSession` with this offer and term) and what its hosted page "
        "posted back: only the method it tokenized is charged (BUY-11)."))
    subscription_name: Optional[str] = strawberry.field(default=None, description="At most 100 characters (BUY-4).")
    customer_registration_id: Optional[str] = strawberry.field(default=None, description=(
        "The registration that will own the subscription (staff and partners; a customer's purchase is always "
        "their own). By default the one with the subscriber's e-mail, or a new one. An anonymous purchase with a "
        "registered e-mail waits for its owner to claim it (BUY-10); with a new one it creates an unverified "
        "registration (BUY-4, USR-3)."))
    password: Optional[str] = strawberry.field(default=None, description=(
        "For a new registration (staff and partners); checked against the password policy whenever given "
        "(USR-5)."))
    ebill: bool = strawberry.field(default=False, description=(
        "Opt in to eBill (EBL-5): bills go to the subscriber's e-mail from the start. A failed opt-in leaves the "
        "purchase standing and is reported in `ebillOptIn`."))


@strawberry.type
class PurchaseSubscriptionPayload:
    subscription: Optional[CustomerSubscription] = None
    registration: Optional[Registration] = strawberry.field(default=None, description=(
        "The owning registration; null for an anonymous purchase, whatever the e-mail (BUY-10)."))
    charged: Optional[Money] = strawberry.field(default=None, description="What the card was charged.")
    customer_reference_number: Optional[str] = strawberry.field(default=None, description="BUY-3, when generated.")
    change_password_url: Optional[str] = strawberry.field(default=None, description=(
        "For a new passwordless Auth0 user created by staff or a partner; never for an anonymous purchase, whose "
        "link reaches the e-mail's mailbox only (BUY-10, USR-3)."))
    ebill_opt_in: Optional[EBillOptIn] = strawberry.field(default=None, description=(
        "How the eBill opt-in went (EBL-5); null when the purchase did not ask for eBill."))
    user_errors: list[PurchaseSubscriptionError] = strawberry.field(default_factory=list)


class Refused(Exception):
    def __init__(self, code: Code, message: str, field: list[str] | None = None,
                 more: "list[Refused] | None" = None) -> None:
        super().__init__(message)
        self.code, self.message, self.field = code, message, field
        self.more = more or []  # further reasons of the same refusal (BUY-7: one per flag the check trips)

    def errors(self) -> list[dict[str, Any]]:
        return [{"code": r.code.value, "field": r.field, "message": r.message} for r in (self, *self.more)]


@dataclass
class Compensations:
    """Undo steps for what the purchase changed upstream, run newest first when a later step fails."""

    steps: list[tuple[str, Callable[[], Awaitable[Any]]]]

    async def run(self) -> None:
        with outside_request_budget():  # a sale must be voided even when the request's time is up (PAY-4)
            await self._run()

    async def _run(self) -> None:
        for name, step in reversed(self.steps):
            try:
                await step()
            except Exception:  # keep undoing the rest; what could not be undone is logged for follow-up
                log.exception("purchase compensation %s failed", name)


def _request(input: PurchaseSubscriptionInput) -> dict[str, Any]:
    subscriber = input.subscriber
    return {
        "offerId": str(input.offer_id), "term": input.term, "paymentProfileId": input.payment_profile_id,
        "paymentSession": vars(input.payment_session) if input.payment_session is not None else None,
        "subscriptionName": input.subscription_name, "crid": input.customer_registration_id,
        "password": bool(input.password), **({"ebill": True} if input.ebill else {}),
        "subscriber": {"firstName": subscriber.first_name, "lastName": subscriber.last_name,
                       "email": subscriber.email, "phone": subscriber.phone, "companyName": subscriber.company_name,
                       "address": vars(subscriber.address)},
    }


@strawberry.type
class PurchaseSubscription:
    @strawberry.mutation(description=(
        "Buy a subscription to an offer (a new start): runs the offer's active-subscription check when the offer sets "
        "a validation flag, refusing naming each flag a matching subscription trips (BUY-1, BUY-6..8), charges "
        "the first term to the tokenized payment method, creates the subscription (optionally named), its customer "
        "reference number when the tenant generates them (BUY-3), and creates or reuses the registration, payment "
        "method, owner link and temporary entitlements, recording STARTSTD (BUY-4). All or nothing."
    ), extensions=allow(changes(SUBSCRIPTIONS), customer_self(arg("input", "customer_registration_id")), Unprivileged(ANYONE, (("customerRegistrationId", asks_value("input", "customer_registration_id")),))))
    async def purchase_subscription(self, info: Info, input: PurchaseSubscriptionInput) -> Optional[PurchaseSubscriptionPayload]:
        context = info.context
        try:
            key = validate_key(input.idempotency_key)
        except ValueError as error:
            return _refusal(Refused(Code.INVALID, str(error), ["input", "idempotencyKey"]))
        idempotency = IdempotencyRepository(context.services.db)
        digest = request_hash(OPERATION, _request(input))
        claim = await idempotency.claim(context.tenant.id, key, OPERATION, digest)
        if claim.outcome is ClaimOutcome.IN_PROGRESS:  # a concurrent duplicate: wait for its answer
            claim = await idempotency.wait(context.tenant.id, key, OPERATION, digest,
                                           timeout=context.settings.idempotency_wait_seconds)
        if claim.outcome is ClaimOutcome.REPLAY:
            return await _answer(context, claim.response or {})
        if claim.outcome is ClaimOutcome.MISMATCH:
            return _refusal(Refused(Code.IDEMPOTENCY_KEY_REUSED, "This idempotency key was used for another request",
                                    ["input", "idempotencyKey"]))
        if claim.outcome is ClaimOutcome.IN_PROGRESS:
            return _refusal(Refused(Code.IDEMPOTENCY_KEY_IN_PROGRESS,
                                    "A request with this idempotency key is still in progress", ["input", "idempotencyKey"]))
        try:
            response = await _purchase(context, input, key, attempt=claim.record_id)
        except Refused as refused:
            # the first answer, remembered like a success: the same key and input answer it again and buy
            # nothing (a new attempt takes a new key)
            response = {"errors": refused.errors()}
        except BaseException:
            await idempotency.release(claim.record_id)  # everything done upstream was undone: a retry runs afresh
            raise
        await idempotency.complete(claim.record_id, response)
        return await _answer(context, response)


def _refusal(refused: Refused) -> PurchaseSubscriptionPayload:
    return PurchaseSubscriptionPayload(user_errors=[PurchaseSubscriptionError(
        code=r.code, field=r.field, message=r.message) for r in (refused, *refused.more)])


async def _answer(context, response: dict[str, Any]) -> PurchaseSubscriptionPayload:
    if response.get("errors"):
        return PurchaseSubscriptionPayload(user_errors=[PurchaseSubscriptionError(
            code=Code(error["code"]), field=error["field"], message=error["message"]) for error in response["errors"]])
    loaders = context.loaders
    subscription = await loaders.subscription_by_id.load(response["subscriptionId"])
    registration = await loaders.registration_by_crid.load(response["crid"]) if response.get("crid") else None
    return PurchaseSubscriptionPayload(
        subscription=subscription, registration=registration,
        charged=Money.of(response["charged"], context.tenant.currency),
        customer_reference_number=response.get("customerReferenceNumber"),
        change_password_url=response.get("changePasswordUrl"),
        ebill_opt_in=EBillOptIn(signed_up=response["ebill"]["signedUp"], message=response["ebill"].get("message"))
        if response.get("ebill") else None,
    )


def _rule(error: RuleError, code: Code) -> Refused:
    return Refused(code, str(error), error.field)


async def _purchase(context, input: PurchaseSubscriptionInput, key: str, *, attempt: int) -> dict[str, Any]:
    tenant = context.tenant
    keys = upstream_keys(tenant.code, key, attempt)
    services = context.services
    subscriber = input.subscriber
    # -- 2. validation ------------------------------------------------------------------------------
    try:
        email = checked_email(subscriber.email, ["input", "subscriber", "email"])
        if input.password:  # USR-5 wherever a password enters, also when the registration turns out to exist
            checked_password(input.password, ["input", "password"])
    except UserFlowError as error:
        raise Refused(Code[error.code], error.message, error.field)
    if context.principal.is_anonymous and tenant.settings.flag(RESTRICT_CREATE_USER):
        # SET-4 with BUY-10: refusing only unknown e-mails would tell a stranger which e-mails are registered;
        # every anonymous purchase gets this same answer, before anything is looked up or charged
        raise Refused(Code.SIGN_IN_REQUIRED, SIGN_IN_TO_BUY, ["input"])
    first_name, last_name = subscriber.first_name.strip(), subscriber.last_name.strip()
    try:  # issue 14 #15: names are free text
        for value, name in ((first_name, "firstName"), (last_name, "lastName"), (subscriber.company_name, "companyName")):
            free_text(value, ["input", "subscriber", name], rule="BUY-4")
    except RuleError as error:
        raise _rule(error, Code.INVALID)
    if not first_name or not last_name:
        raise Refused(Code.INVALID, "First and last name are required",
                      ["input", "subscriber", "firstName" if not first_name else "lastName"])
    try:
        address = purchase_address(Address(**{k: v or "" for k, v in vars(subscriber.address).items()}),
                                   tenant.circulation_kind)
    except RuleError as error:
        raise _rule(error, Code.INVALID_ADDRESS)
    try:
        name = validate_subscription_name(input.subscription_name)
    except RuleError as error:
        raise _rule(error, Code.INVALID)
    offers = OfferRepository(services.db)
    offer_id = integer_id(input.offer_id)
    [offer] = (await offers.offers_by_ids(tenant.id, [offer_id]) if offer_id is not None else []) or [None]
    if offer is None:
        raise Refused(Code.OFFER_NOT_FOUND, "No offer has this id", ["input", "offerId"])
    today = datetime.now(timezone.utc).date()
    if validity_state(offer.valid_from, offer.valid_to, today) != "CURRENT":
        raise Refused(Code.OFFER_NOT_AVAILABLE, "The offer is not on sale today", ["input", "offerId"])
    term = next((t for t in await offers.terms_by_offer_ids(tenant.id, [offer.id]) if t.code == input.term.strip()),
                None)
    if term is None:
        raise Refused(Code.TERM_NOT_FOUND, "The offer has no such term", ["input", "term"])
    # BUY-8: the Address or the Postal code criterion, as the offer's address requirements enable one of them
    criteria = criteria_in_force(
        CheckCriteria(last_name=offer.check_last_name, phone=offer.check_phone, email=offer.check_email,
                      address=offer.check_address, postal_code=offer.check_postal_code),
        requires_address=offer.requires_delivery_address or offer.requires_billing_address)
    validation = SubscriptionValidation(no_existing=offer.validate_no_existing,
                                        stopped_recently=offer.validate_stopped_recently,
                                        outstanding_balance=offer.validate_outstanding_balance)
    if validation.runs:  # BUY-6: no flag, no check (and its criteria do not matter)
        try:
            validate_check_criteria(criteria, ["input", "offerId"])  # OFR-4: a misconfigured offer cannot be bought
        except RuleError as error:
            raise _rule(error, Code.OFFER_CHECK_MISCONFIGURED)
    if not offer.digital and address.postal_code:
        areas = {a.postal_code for a in await offers.delivery_areas_by_offer_ids(tenant.id, [offer.id])}
        answer = offer_deliverability(OfferAvailability(digital=False, valid_from=offer.valid_from,
                                                        valid_to=offer.valid_to, delivery_areas=frozenset(areas)),
                                      address.postal_code, today)
        if not answer.deliverable:
            raise Refused(Code.OFFER_NOT_AVAILABLE, answer.message or "The offer does not deliver there",
                          ["input", "subscriber", "address", "postalCode"])
    principal = context.principal
    if input.payment_session is not None:  # BUY-11: the method this purchase's own session tokenized
        session_row, profile = await tokenized_by_session(context, input.payment_session, offer.id, term.code)
    elif input.payment_profile_id:
        profile_id = input.payment_profile_id.strip()
        # -- BUY-11: a profile tokenized in a session this caller started, else nothing is charged ------------
        if await PaymentRepository(services.db).tokenized_session(tenant.id, profile_id,
                                                                   started_by=principal_key(principal)) is None:
            raise Refused(Code.PAYMENT_METHOD_NOT_FOUND, NOT_TOKENIZED_BY_CALLER, ["input", "paymentProfileId"])
        session_row, profile = None, await services.navigapay.get_profile(profile_id, merchant=tenant.code)
    else:
        session_row, profile = None, None
    if profile is None:
        raise Refused(Code.PAYMENT_METHOD_NOT_FOUND, "No payment method has this profile id",
                      ["input", "paymentProfileId"])
    payment_type = PaymentType.CREDIT_CARD if profile["paymentType"] == "CREDIT_CARD" else PaymentType.BANK_ACCOUNT
    # -- BUY-1, BUY-6, BUY-7: the active-subscription check, when the offer sets a validation flag ------------
    if validation.runs:
        applicant = Applicant(product=str(offer.id), last_name=last_name, email=email, phone=subscriber.phone,
                              address=address)
        tripped = await _validation_failures(services.circulation, tenant.code, validation, criteria, applicant,
                                             tenant_today(services.clock(), tenant.time_zone))
        if tripped:
            first, *others = [Refused(FLAG_CODES[flag], FLAG_MESSAGES[flag], ["input", "subscriber"])
                              for flag in ordered(tripped)]
            raise Refused(first.code, first.message, first.field, more=others)
    # -- the registration: the customer's own, none (anonymous), or given, found by e-mail, or new ----------
    repository = users(context)
    prepared = None
    anonymous = principal.is_anonymous
    known_email = False
    if anonymous:  # BUY-10: a known e-mail's subscription waits for its owner; a new e-mail's gets a registration
        registration = None
        known_email = await repository.by_email(tenant.id, email) is not None
    elif principal.kind is PrincipalKind.CUSTOMER:  # BUY-10: a signed-in customer's purchase is theirs
        registration = await repository.by_crid(tenant.id, principal.crid or "")
        if registration is None:
            raise Refused(Code.NOT_FOUND, "Your registration is not known to this publication", ["input"])
    elif input.customer_registration_id:
        registration = await repository.by_crid(tenant.id, input.customer_registration_id.strip())
        if registration is None:
            raise Refused(Code.NOT_FOUND, "No registration has this CRID", ["input", "customerRegistrationId"])
    else:
        registration = await repository.by_email(tenant.id, email)
    if registration is None and not anonymous and tenant.settings.flag(RESTRICT_CREATE_USER):
        # SET-4: no registration is created at a purchase; staff and partners see registrations anyway
        raise Refused(Code.USER_CREATION_RESTRICTED, NO_NEW_USERS, ["input", "subscriber", "email"])
    purchases = PurchaseRepository(services.db)
    existing_phones: list[str] = []
    if registration is not None:
        owned = await purchases.owner_subscription_ids(tenant.id, registration.id)
        if owned:  # BUY-5: the subscriber's current phones, from their latest owned subscription
            records = await services.circulation.get_subscriptions(tenant.code, owned[-1:])
            existing_phones = list(((records.get(owned[-1]) or {}).get("subscriber") or {}).get("phones") or [])
    undo = Compensations([])
    try:
        if registration is None and not anonymous:
            try:
                prepared = await prepare_registration(
                    context, email=email, password=input.password, first_name=first_name, last_name=last_name,
                    field_prefix=("input",))
            except UserFlowError as error:
                raise Refused(Code[error.code], error.message, error.field)
            registration = prepared.registration
            undo.steps.append(("delete user", prepared.undo))
        elif anonymous and not known_email:
            # BUY-4, USR-3: a new e-mail gets an UNVERIFIED registration with a generated password; the
            # verification message and, in the confirmation, the link to choose a password go to the e-mail only
            # (a password given with the purchase is not used: whoever typed the e-mail may not own it)
            try:
                prepared = await prepare_registration(
                    context, email=email, password=None, first_name=first_name, last_name=last_name,
                    verify_email=True, generated_password=True, field_prefix=("input", "subscriber"))
            except UserFlowError as error:
                if error.code not in ("EMAIL_ALREADY_REGISTERED", "UNVERIFIED_REGISTRATION_EXISTS"):
                    raise Refused(Code[error.code], error.message, error.field)
                prepared = None  # registered meanwhile, or known to the identity provider only: it waits (BUY-10)
            if prepared is not None:
                registration = prepared.registration
                undo.steps.append(("delete user", prepared.undo))
        # -- 4. charge -------------------------------------------------------------------------------
        quote = subscription_cost(term.rate, term.tax, offer.activation_fee, payment_type,
                                  ProcessingFeeSettings.from_tenant(tenant.settings))
        sale = None
        if quote.total > 0:
            try:
                sale = await services.navigapay.sale(
                    profile["profileId"], quote.total, tenant.currency, tenant.settings.statement_descriptor,
                    keys["reference"], idempotency_key=keys["sale"], merchant=tenant.code)
            except PaymentDeclined as error:
                raise Refused(Code.PAYMENT_DECLINED, error.upstream_message or "The payment was declined",
                              ["input", "paymentProfileId"])
            transaction_id = sale["transactionId"]
            undo.steps.append(("void sale", lambda: services.navigapay.void(
                transaction_id, idempotency_key=keys["void"])))
        # -- 5. the subscription -----------------------------------------------------------------------
        body = {
            "productCode": str(offer.id), "term": term.code, "digital": offer.digital, "name": name,
            "subscriber": {"firstName": first_name, "lastName": last_name, "email": email,
                           "phones": merged_phones(existing_phones, subscriber.phone),
                           "companyName": (subscriber.company_name or "").strip() or None,
                           "address": address.as_record()},
        }
        try:
            created = await services.circulation.create_subscription(tenant.code, body,
                                                                     idempotency_key=keys["create"])
        except UpstreamRejected as error:
            raise Refused(Code.CIRCULATION_REFUSED, error.upstream_message or "The circulation system refused it",
                          ["input"])
        subscription_id = created["id"]
        undo.steps.append(("cancel subscription", lambda: services.circulation.cancel(
            tenant.code, subscription_id, "PURCHASE_FAILED", idempotency_key=keys["cancel"])))
        # -- 6. BUY-3 --------------------------------------------------------------------------------------
        crn = None
        if tenant.settings.flag("Purchase.GenerateCRN"):
            crn = customer_reference_number(created["accountNumber"])
            await services.circulation.update_subscription(tenant.code, subscription_id,
                                                           {"customerReferenceNumber": crn})
        # -- 7. one transaction ---------------------------------------------------------------------------
        now = utcnow()
        owner_crid = registration.crid if registration is not None else None
        payment = None
        if sale is not None:
            payment = Payment(
                tenant_id=tenant.id, subscription_id=subscription_id, crid=owner_crid, flow="PURCHASE",
                state="APPLIED", payment_type=profile["paymentType"], currency=tenant.currency,
                option_amount=quote.rate + quote.tax, activation_fee=quote.activation_fee,
                processing_fee=quote.processing_fee or Decimal("0.00"), fee_tax=quote.fee_tax or Decimal("0.00"),
                total=quote.total, gateway_transaction_id=sale["transactionId"], idempotency_key=key,
                created_at=now, updated_at=now)
        codes = [e.entitlement_code for e in await offers.entitlements_by_offer_ids(tenant.id, [offer.id])]
        details = {"offerId": offer.id, "term": term.code, "subscriptionName": name, "customerReferenceNumber": crn,
                   "miscCode1": crn, "gatewayTransactionId": sale["transactionId"] if sale else None}
        record = PurchaseRecord(
            registration=registration, registration_events=prepared.events if prepared else [],
            payment_method=masked_payment_method(tenant.id, subscription_id, profile),
            link=SubscriptionLink(tenant_id=tenant.id, registration_id=registration.id or 0,
                                  subscription_id=subscription_id, role="OWNER", created_at=now)
            if registration is not None else None,
            temporary_entitlements=[TemporaryEntitlement(
                tenant_id=tenant.id, crid=registration.crid, entitlement_code=code, starts_at=now,
                expires_at=now + TEMPORARY_ACCESS, reason="PURCHASE", created_at=now)
                for code in codes] if registration is not None else [],
            payment=payment,
            start_event=new_event(tenant.id, START_EVENT, crid=owner_crid, subscription_id=subscription_id,
                                  amount=quote.total, details=details, created_at=now),
            link_event=Event(tenant_id=tenant.id, type_code=LINK_EVENT, crid=registration.crid,
                             subscription_id=subscription_id, details={"action": "LINK", "role": "OWNER"},
                             created_at=now) if registration is not None else None,
            pending_claim=PendingClaim(tenant_id=tenant.id, subscription_id=subscription_id, email=email,
                                       created_at=now) if registration is None else None,
            # BUY-10, MSG-1: the e-mail's owner is asked to sign in with it and claim the subscription (its
            # token names the claim: PurchaseRepository.write adds `claimId`)
            claim_event=new_event(tenant.id, CLAIM_EVENT, subscription_id=subscription_id, details={
                "email": email, "expiresAt": claim_expiry(now).isoformat()}, created_at=now)
            if registration is None else None,
        )
        if prepared is not None and prepared.change_password_url:  # BUY-4/USR-3: the confirmation carries it
            message_data(record.start_event)["changePasswordUrl"] = prepared.change_password_url
        elif prepared is not None and prepared.set_password_event is not None:  # MG2: its set-password link
            message_data(record.start_event)["setPasswordLink"] = True
        if registration is None:  # BUY-10: the claim message is the one message; the confirmation has nobody to go to
            without_message(record.start_event)
        if session_row is not None and not await PaymentRepository(services.db).use_session(session_row):
            raise Refused(Code.PAYMENT_METHOD_NOT_FOUND, SESSION_USED, ["input", "paymentSession", "sessionId"])
        await PurchaseRepository(services.db).write(record)
    except BaseException as error:
        if isinstance(error, UpstreamError):
            log.warning("purchase %s failed upstream: %s", key, error)
        await undo.run()
        raise
    ebill = await _opt_in_to_ebill(context, subscription_id, email, owner_crid, keys) if input.ebill else None
    # BUY-10: an anonymous buyer's answer names no registration and no link that sets a password, whichever way
    # the e-mail went, so it is the same for a known and a new e-mail
    return {"subscriptionId": subscription_id, "crid": None if anonymous else owner_crid,
            "charged": str(quote.total if sale else Decimal("0.00")), "customerReferenceNumber": crn,
            "changePasswordUrl": prepared.change_password_url if prepared and not anonymous else None, "ebill": ebill}


async def _opt_in_to_ebill(context, subscription_id: str, email: str, owner_crid: Optional[str],
                           keys: dict[str, str]) -> dict[str, Any]:
    """EBL-5 (decision): after the start is written, never before, so a failed opt-in leaves it standing; the
    failure is reported in the payload (and logged), the success recorded as EBILLSIGNUP (EBL-2). A new start is
    never on auto-pay, so EZ-3 allows it; the bills go to the subscriber's e-mail, the owner's."""
    tenant = context.tenant
    async def sign_up() -> dict[str, Any]:
        return await context.services.circulation.sign_up_ebill(tenant.code, subscription_id, email,
                                                                idempotency_key=keys["create"] + ":ebill")

    try:
        try:
            result = await sign_up()
        except (UpstreamTimeout, UpstreamUnavailable):  # the answer was lost: the same key makes it once
            result = await sign_up()
    except UpstreamError as error:
        log.info("purchase: eBill opt-in failed (%s); the start stands", error.code)
        message = getattr(error, "upstream_message", None) or "The circulation system could not sign up to eBill now"
        return {"signedUp": False, "message": f"{message}. Sign up to eBill later from the subscription."}
    await AdministrationRepository(context.services.db).record_upstream_change(Event(
        tenant_id=tenant.id, type_code=EBILL_EVENT, subscription_id=subscription_id, crid=owner_crid,
        source="PURCHASE", details={"circulationTransactionId": result.get("transactionId"), "email": email},
        created_at=utcnow()))
    return {"signedUp": True}


SESSION_USED = "This payment session paid for a purchase already: start another"


async def tokenized_by_session(context, given: PurchasePaymentSessionInput, offer_id: int, term: str):
    """BUY-11: the new-start session for this offer and term started by this caller, completed at the gateway with
    what its page posted: (session row, masked profile)."""
    from datasources.base import UpstreamNotFound

    tenant, services = context.tenant, context.services
    row = await PaymentRepository(services.db).session(tenant.id, given.session_id.strip())
    field = ["input", "paymentSession", "sessionId"]
    if row is None or row.subscription_id or (row.offer_id, row.term) != (offer_id, term):
        raise Refused(Code.PAYMENT_METHOD_NOT_FOUND, "No payment session for this offer and term has this id", field)
    if row.started_by != principal_key(context.principal):  # started by this caller (anonymous: None)
        raise Refused(Code.PAYMENT_METHOD_NOT_FOUND, "No payment session for this offer and term has this id", field)
    if row.used_at is not None:
        raise Refused(Code.PAYMENT_METHOD_NOT_FOUND, SESSION_USED, field)
    if row.profile_id is not None and row.profile_id != given.profile_id.strip():
        raise Refused(Code.PAYMENT_METHOD_NOT_FOUND, "The session tokenized another payment method",
                      ["input", "paymentSession", "profileId"])
    try:
        profile = await services.navigapay.complete_session(row.session_id, given.profile_id.strip(),
                                                            given.group_id.strip(), row.payment_type)
    except (UpstreamRejected, UpstreamNotFound) as error:
        raise Refused(Code.PAYMENT_METHOD_NOT_FOUND, getattr(error, "upstream_message", "") or
                      "The payment gateway did not tokenize a method in this session",
                      ["input", "paymentSession"])
    if profile.get("merchant") != tenant.code:
        raise Refused(Code.PAYMENT_METHOD_NOT_FOUND, "The profile is not of this session",
                      ["input", "paymentSession", "profileId"])
    await PaymentRepository(services.db).tokenized(row, given.profile_id.strip())
    return row, profile


async def _validation_failures(circulation, paper_code: str, validation: SubscriptionValidation,
                               criteria: CheckCriteria, applicant: Applicant, today) -> set[ValidationFlag]:
    """BUY-1/BUY-7: every candidate the circulation search finds is compared, page after page (a common last name
    has more than a page of namesakes), until every flag the offer sets has tripped; at most SEARCH_PAGES pages."""
    search = check_search_criteria(criteria, applicant)
    tripped: set[ValidationFlag] = set()
    if not search:
        return tripped
    wanted = set(validation.flags())
    for page in range(SEARCH_PAGES):
        found = await circulation.search_subscriptions(paper_code, limit=SEARCH_LIMIT, offset=page * SEARCH_LIMIT,
                                                       **search)
        tripped |= validation_failures(validation, criteria, applicant, found["subscriptions"], today)
        if tripped == wanted:
            return tripped
        if (page + 1) * SEARCH_LIMIT >= found["total"] or not found["subscriptions"]:
            return tripped
    log.warning("purchase check stopped after %d candidates of %s", SEARCH_PAGES * SEARCH_LIMIT, paper_code)
    return tripped
