"""Descriptions for the schema elements that do not carry their own (issue 19 item 15).

A description given in code (`strawberry.field(description=…)`, `strawberry.enum_value(…, description=…)`) wins;
this module fills the rest once the schema is built, in four layers, most specific first:

1. `MEMBERS`: one element, `Type`, `Type.field`, `Type.field(argument)` or `Enum.VALUE`;
2. `ERROR_CODES`: a user-error code, whatever mutation's enum lists it: when it happens, said once;
3. `BY_NAME`: a field, argument or input field name that means the same wherever it appears (`first`, `after`,
   `subscriptionId`, `idempotencyKey`, …);
4. the shapes every mutation and connection share (`<Name>Input`, `<Name>Payload`, `<Name>Error`,
   `<Name>ErrorCode`, `<X>Connection`, `<X>Edge`).

`describe` returns the entries naming an element the schema does not have, and
`tests/graphql/test_schema_descriptions.py` fails on them (a rename must not leave a stale description behind) and on
any public element still without a description. Error codes
are explained here rather than in each enum because one code (`TOTAL_MISMATCH`, `PAYMENT_WINDOW`, …) appears in
up to nine mutations' enums and means the same in each.
"""

from __future__ import annotations

import re

from graphql import (
    GraphQLEnumType, GraphQLInputObjectType, GraphQLInterfaceType, GraphQLNamedType, GraphQLObjectType,
    GraphQLSchema, is_specified_scalar_type,
)

RULES = "docs/rules.md"

QUERY = (
    "papergraph's read side: subscriptions, registrations, links, household levels, offers and the catalog, "
    "entitlements, payment quotes and staff access. Rule ids in these descriptions (PAY-1, LNK-3, …) are "
    f"defined in the repository's {RULES}. Who may resolve each field is decided per field: a refused one "
    "answers null with an error coded UNAUTHENTICATED or FORBIDDEN.")
MUTATION = (
    "papergraph's changes, one field per mutation. Each takes one input and answers a payload with what it changed "
    "and `userErrors { code field message }`, empty on success; a rule violation is a user error, never a GraphQL "
    f"error. Rule ids are defined in {RULES}.")

ERROR_CODES: dict[str, str] = {
    # input and lookups
    "INVALID": "The input breaks a rule the message names (a malformed value, a missing or conflicting field).",
    "INVALID_AMOUNT": "An amount is negative, has more than two decimals or is out of range (MNY-1).",
    "NOT_FOUND": "The subscription, session or object named by the input does not exist in this tenant.",
    "SUBSCRIPTION_NOT_FOUND": "No subscription of this tenant has the given id.",
    "REGISTRATION_NOT_FOUND": "No registration of this tenant has the given CRID.",
    "OFFER_NOT_FOUND": "No offer of this tenant has the given id.",
    "TERM_NOT_FOUND": "The offer has no term with the given id.",
    "ENTITLEMENT_NOT_FOUND": "No entitlement has the given code (ENT-1).",
    "PAYMENT_METHOD_NOT_FOUND": "The subscription has no payment method to use.",
    "NEW_CRID_NOT_FOUND": "The identity provider has no user with the new CRID (USR-6).",
    # users
    "INVALID_EMAIL": "The e-mail address is malformed or contains invisible or control characters (USR-4).",
    "PASSWORD_TOO_WEAK": "The password has fewer than 8 characters, or lacks a digit or a special character (USR-5).",
    "EMAIL_ALREADY_REGISTERED": "A registration of this tenant already uses the e-mail address.",
    "UNVERIFIED_REGISTRATION_EXISTS": "An unverified registration already holds the e-mail address (USR-3).",
    "CRID_ALREADY_REGISTERED": "A registration of this tenant already has the CRID.",
    "PROVIDER_NOT_SUPPORTED": "The tenant's identity provider (`Flow.UserProvider`) does not offer this operation "
                              "(USR-1).",
    "INVALID_LINK": "The password-reset link is invalid, has expired or was used already (USR-7).",
    "INVALID_CODE": "The code is wrong, has expired or was used already.",
    "MFA_ALREADY_ENABLED": "The manager's second factor is already enabled (MGR-2).",
    "MFA_NOT_ENROLLED": "The manager has not enrolled a second factor yet: call `enrollManagerMfa` first (MGR-2).",
    "MFA_NOT_ENABLED": "The manager has no second factor enabled to disable (MGR-2).",
    # links and subscriptions
    "ALREADY_LINKED": "The registration is already linked to the subscription (LNK-1).",
    "LINK_LIMIT_REACHED": "The subscription already has as many owners, guests or links as allowed (LNK-2, OFR-5).",
    "ALREADY_STOPPED": "The subscription is already stopped: there is nothing to cancel (SUB-4).",
    "SUBSCRIPTION_STOPPED": "The subscription is stopped, and this flow needs an active one (TIP-1).",
    "RESTART_NOT_AVAILABLE": "The subscription cannot be restarted: not stopped, a TRIAL, a restart already scheduled, "
                             "or a circulation system without restarts (RST-1).",
    "INVALID_RESTART_DATE": "The restart date is in the past, or in the future on a circulation system that allows "
                            "only today (RST-2).",
    "ALREADY_ON_AUTO_PAY": "The subscription is already on auto-pay: use `updateAutoPay` (EZ-1).",
    "NOT_ON_AUTO_PAY": "The subscription is not on auto-pay, and this needs it (TIP-1, EZ-5).",
    "AUTO_PAY_SETUP_FAILED": "The debt was paid and stays paid, but the circulation system refused to set up auto-pay; "
                             "signing up again charges nothing more (EZ-1).",
    # purchase
    "OFFER_NOT_AVAILABLE": "The offer is not on sale today, or does not deliver to the address (OFR-2, OFR-3).",
    "OFFER_CHECK_MISCONFIGURED": "The offer's active-subscription check criteria are invalid, so no purchase can pass "
                                 "it (OFR-4).",
    "ACTIVE_SUBSCRIPTION_EXISTS": "The offer's active-subscription check found a matching ACTIVE, PAUSED or "
                                  "IN_GRACE subscription (flag \"no existing subscription\"): nothing is created "
                                  "(BUY-1, BUY-7).",
    "SUBSCRIPTION_STOPPED_RECENTLY": "The offer refuses subscribers whose matching subscription stopped in the last "
                                     "30 days, tenant time, and one did: nothing is created (BUY-7).",
    "OUTSTANDING_BALANCE": "The offer refuses subscribers with an outstanding balance, and a matching subscription "
                           "owes money (balance below zero, any status): nothing is created (BUY-7).",
    "SIGN_IN_REQUIRED": "The publication creates no accounts at purchase (`Config.System.RestrictCreateUser`): sign "
                        "in first; every anonymous purchase gets this answer, whatever its e-mail (SET-4, BUY-10).",
    "USER_CREATION_RESTRICTED": "No registration has the subscriber's e-mail and the publication creates none at "
                                "purchase (`Config.System.RestrictCreateUser`, SET-4).",
    "INVALID_ADDRESS": "The address is incomplete, or country-only on a tenant that is not MATRIX (BUY-2).",
    # payment methods and sessions
    "FLOW_NOT_SUPPORTED": "The tenant's circulation system does not offer this flow (PM-1).",
    "PAYMENT_METHOD_NOT_ALLOWED": "The flow does not accept this payment method on this circulation system (PM-1), or "
                                  "the card is a Diners Club (PM-3).",
    "PAYMENT_METHOD_REQUIRED": "The subscription has no payment method attached and the flow charges something: "
                               "attach one with a payment session first (GW-1).",
    "PAYMENT_METHOD_MISMATCH": "The payment type given is not the type of the subscription's attached method.",
    "PAYMENT_METHOD_CHANGE_WINDOW": "The subscription's payment method changed less than 24 hours ago (PM-5, EZ-6).",
    "SESSION_NOT_FOUND": "The gateway knows no payment session with this id.",
    "SESSION_MISMATCH": "The group id or payment type is not the session's, or the session belongs to another "
                        "subscription (GW-1).",
    "SESSION_NOT_TOKENIZED": "The card or account has not been entered in the hosted page yet (GW-1).",
    # amounts
    "PROCESSING_FEE_NOT_ALLOWED": "A non-zero processing fee or fee tax was sent for a payment that is not by credit "
                                  "card (FEE-3).",
    "TIP_NOT_SUPPORTED": "The circulation system accepts no tips or donations (PM-2, PM-1).",
    "TIP_NOT_ALLOWED": "A tip is not allowed for this subscription: digital or stopped for a one-time tip, not on "
                       "auto-pay for a recurring one (TIP-1).",
    "TIP_TOO_LARGE": "A tip or donation is zero or less, or above the tenant's `Payments.MaximumTipAmountAllowed` "
                     "(TIP-2, TIP-3).",
    "INVALID_OPTION": "The option is not one of the subscription's current billing options (PAY-3).",
    "TOTAL_MISMATCH": "The total sent differs from the server's by any amount: nothing is charged; ask "
                      "`paymentQuote` again (PAY-1).",
    "PAYMENT_WINDOW": "The subscription accepted a payment less than 24 hours ago (PM-5).",
    # upstream outcomes (PAY-4)
    "PAYMENT_DECLINED": "The gateway declined the card or account: nothing was charged.",
    "GATEWAY_REFUSED": "The gateway refused the request (not a decline): nothing was charged.",
    "GATEWAY_UNAVAILABLE": "The gateway could not be reached or did not answer in time; nothing was charged, or a "
                           "charge found later is given back or applied by reconciliation (PAY-4).",
    "CIRCULATION_REFUSED": "The circulation system refused to apply the payment: the charge was voided or refunded "
                           "(PAY-4).",
    "CIRCULATION_UNAVAILABLE": "The circulation system could not be reached; any charge was given back, or is kept "
                               "pending and applied later (PAY-4).",
    "PAYMENT_PENDING": "The charge was taken and could be neither applied nor given back yet: it is kept pending and "
                       "reconciliation applies it (PAY-4). Do not pay again.",
    "INTERRUPTED": "The request ended (a shutdown, a crash) before the flow finished; reconciliation finished the "
                   "attempt without charging (PAY-4).",
    "IDEMPOTENCY_KEY_REUSED": "The idempotency key was used before with different input: use a new key for new input.",
    "IDEMPOTENCY_KEY_IN_PROGRESS": "A request with the same idempotency key is still running: retry later with the "
                                   "same key to get its answer.",
}

BY_NAME: dict[str, str] = {
    "first": "How many items to return (at most PAPERGRAPH_MAX_PAGE_SIZE; larger values are clamped).",
    "after": "Return the items after this cursor (an `endCursor` of an earlier page); omit for the first page.",
    "id": "The object's id, stable and unique within the tenant.",
    "subscriptionId": "The subscription's id.",
    "registrationId": "The registration's id in papergraph.",
    "crid": "The registration's CRID (customer registration id: the identity provider's user id).",
    "customerRegistrationId": "The CRID (customer registration id) of the registration concerned.",
    "idempotencyKey": "A key the client makes once per intended operation (at most 255 characters): sent again with "
                      "the same input it answers the first answer and does nothing more.",
    "createdAt": "When it was created (UTC).",
    "updatedAt": "When it last changed (UTC).",
    "firstName": "First (given) name.",
    "lastName": "Last (family) name.",
    "companyName": "Company name, when the subscriber is a company.",
    "email": "E-mail address.",
    "postalCode": "Postal code.",
    "houseNumber": "House number.",
    "streetName": "Street name.",
    "city": "City.",
    "country": "Country.",
    "ignoreProvider": "True: change papergraph's own registration only, not the identity provider's user.",
    "paymentType": "CREDIT_CARD or BANK (PM-1).",
    "offerId": "The offer's id.",
    "termId": "The offer term's id.",
    "entitlementCode": "The entitlement's code.",
    "optionTerm": "The billing option's term, as the circulation system names it (PAY-3).",
    "optionAmount": "The billing option's amount, tax included (PAY-3).",
    "tip": "A tip, more than zero and at most the tenant's maximum (TIP-2); omit for none.",
    "donation": "A donation, within the same bounds as a tip (TIP-3); omit for none.",
    "term": "The renewal term, as the circulation system names it (EZ-2).",
    "length": "The renewal length, in the term's units (EZ-2).",
    "tax": "Tax on the amount.",
    "rate": "The rate before tax.",
    "vendor": "Who sells the offer.",
    "logoUrl": "URL of the vendor's or offer's logo.",
    "shortDescription": "One or two sentences for a product card.",
    "category": "The catalog category.",
    "trialAvailable": "Whether a trial of the offer exists.",
    "name": "Its name, for people.",
    "input": "The mutation's input (see its type).",
    "role": "OWNER or GUEST (LNK-1).",
    "linkId": "The link's id.",
    "sessionId": "The payment session's id at the gateway (GW-1).",
    "groupId": "The gateway's group id of the session (GW-1).",
    "registration": "The registration as it is after the change; null when the mutation refused.",
    "subscription": "The subscription as it is after the change (re-read); null when the mutation refused.",
    "event": "The event recorded for the change (NOT-1); null when nothing changed.",
    "offer": "The offer as it is after the change; null when the mutation refused.",
    "link": "The link as it is after the change; null when the mutation refused.",
    "code": "Its code.",
    "message": "A message for a person, in English.",
}

MEMBERS: dict[str, str] = {
    "PageInfo": "Where a page of a connection sits: whether more items follow and the cursors of its ends.",
    "PageInfo.hasNextPage": "True when items follow this page: ask again with `after: endCursor`.",
    "PageInfo.hasPreviousPage": "True when items precede this page.",
    "PageInfo.startCursor": "The cursor of the page's first item; null for an empty page.",
    "PageInfo.endCursor": "The cursor of the page's last item; pass it as `after` for the next page.",
    # subscriptions (SUB)
    "CustomerSubscription.id": "The subscription's id (its id in the circulation system).",
    "CustomerSubscription.accountNumber": "The subscriber's account number in the circulation system.",
    "CustomerSubscription.status": "Whether it is active, stopped, paused or in grace (SUB-1).",
    "CustomerSubscription.kind": "Regular, trial, complimentary, gift or paid pass (SUB-1).",
    "CustomerSubscription.digital": "True for a digital subscription, false for print.",
    "CustomerSubscription.startDate": "The date the subscription started.",
    "CustomerSubscription.autoPay": "True when it renews by auto-pay (EZPay).",
    "CustomerSubscription.ebill": "True when bills go by e-mail (eBill, EZ-3).",
    "CustomerSubscription.billingMethod": "How the subscription is billed, e.g. CARRIER_COLLECT.",
    "CustomerSubscription.householdLevelId": "The id of its household level (HHL-1).",
    "CustomerSubscription.events(first)": BY_NAME["first"],
    "SubscriptionStatus.ACTIVE": "Delivered and billed.",
    "SubscriptionStatus.STOPPED": "Stopped; it may be restarted (RST-1).",
    "SubscriptionStatus.PERMANENTLY_STOPPED": "Stopped for good: no restart, no usable credit (RST-3).",
    "SubscriptionStatus.PAUSED": "Delivery suspended for a while (a temporary stop).",
    "SubscriptionStatus.IN_GRACE": "Past its paid-through date but still delivered while payment is awaited.",
    "SubscriptionKind.REGULAR": "A paid subscription.",
    "SubscriptionKind.TRIAL": "A trial; it cannot be restarted (RST-1).",
    "SubscriptionKind.COMPLIMENTARY": "Given free by the publisher.",
    "SubscriptionKind.GIFT": "Bought by someone for someone else.",
    "SubscriptionKind.PAID_PASS": "A day pass (SUB-5, BUY-9).",
    "Subscriber.firstName": "The subscriber's first name, as the circulation system has it.",
    "Subscriber.lastName": "The subscriber's last name, as the circulation system has it.",
    "Subscriber.email": "The subscriber's e-mail address, as the circulation system has it.",
    "Subscriber.companyName": "The company's name, for a company subscriber.",
    "Subscriber.postalCode": "The delivery postal code.",
    "Subscriber.address": "The delivery address.",
    "SubscriberAddress.country": "Country; alone, a country-only address (BUY-2).",
    "Availability.available": "True when the action may be taken now.",
    "Availability.reasons": "Why not, when `available` is false; empty otherwise.",
    "AvailabilityReason.code": "Why the action is unavailable.",
    "AvailabilityReason.message": "The same, for a person.",
    "AvailabilityReasonCode.NOT_STOPPED": "Only a stopped subscription can be restarted (RST-1).",
    "AvailabilityReasonCode.TRIAL": "A trial cannot be restarted (RST-1).",
    "AvailabilityReasonCode.RESTART_SCHEDULED": "A restart is already scheduled (RST-1).",
    "AvailabilityReasonCode.NOT_SUPPORTED_BY_CIRCULATION_SYSTEM": "The circulation system does not offer this (PM-1).",
    "AvailabilityReasonCode.NOT_ON_AUTO_PAY": "A recurring tip needs auto-pay (TIP-1).",
    "AvailabilityReasonCode.DIGITAL": "Not for a digital subscription (TIP-1).",
    "AvailabilityReasonCode.STOPPED": "Not for a stopped subscription (TIP-1, EZ-3).",
    "AvailabilityReasonCode.ON_AUTO_PAY": "Not for a subscription on auto-pay (EZ-3).",
    "AvailabilityReasonCode.ALREADY_ON_EBILL": "The subscription is on eBill already (EZ-3).",
    "TipAvailability.oneTime": "Whether a one-time tip may be given now (TIP-1).",
    "TipAvailability.recurring": "Whether a recurring tip may be set up now (TIP-1).",
    "EbillAvailability.signUpAllowed": "True when eBill is possible and the subscription is not on it yet (EZ-3).",
    "EbillAvailability.manageAllowed": "True when the subscription is on eBill (EZ-3).",
    "EbillAvailability.reason": "Why eBill is not possible, when it is not (EZ-3).",
    "SubscriptionLink.id": "The link's id.",
    "SubscriptionLink.role": "OWNER or GUEST (LNK-1, LNK-3).",
    "SubscriptionLink.subscriptionId": "The linked subscription's id.",
    "SubscriptionLink.registrationId": "The linked registration's id.",
    "SubscriptionLink.createdAt": "When the link was made.",
    "LinkRole.OWNER": "May pay, restart, cancel and change auto-pay (LNK-3).",
    "LinkRole.GUEST": "May read the subscription, nothing more (LNK-3).",
    "Event.id": "The event's id.",
    "Event.subscriptionId": "The subscription concerned, if any.",
    "Event.crid": "The CRID of the registration concerned, if any.",
    "Event.amount": "The amount the event records, if any (e.g. a payment's option amount, PAY-4).",
    "Event.reason": "The reason code recorded with it (e.g. RST-5's).",
    "Event.source": "The source code recorded with it (e.g. RST-5's).",
    "Event.parentId": "The event this one follows from, if any.",
    "Event.details": "Further facts of the event, as a JSON object.",
    "Event.createdAt": "When the event was recorded (UTC).",
    "Payment.id": "The attempt's id in papergraph's ledger.",
    "Payment.subscriptionId": "The subscription paid for.",
    "Payment.flow": "Which flow made the attempt.",
    "Payment.state": "Where the attempt stands (CREATED, CHARGED, APPLIED, VOIDED, …; docs/payments.md).",
    "Payment.optionTerm": "The billing option's term paid for (PAY-3).",
    "Payment.donation": "The donation in the total.",
    "Payment.gatewayTransactionId": "The gateway's sale id, once charged.",
    "Payment.circulationTransactionId": "The circulation system's transaction id, once applied.",
    "Payment.errorMessage": "Why the attempt failed, when it did.",
    "Payment.createdAt": "When the attempt was recorded.",
    "Payment.updatedAt": "When its state last changed.",
    "Payment.chargedAt": "When the gateway charged it, if it did.",
    "Payment.finishedAt": "When it reached a final state.",
    "PaymentFlow.ONE_TIME": "A one-time payment (`makePayment`, PAY).",
    "PaymentFlow.RESTART": "A restart (`restartSubscription`, RST).",
    "PaymentFlow.AUTOPAY_SIGNUP": "An auto-pay sign-up, paying the debt first (`signUpAutoPay`, EZ-1).",
    "PaymentFlow.AUTOPAY_UPDATE": "An auto-pay update (`updateAutoPay`, EZ-2).",
    "PaymentFlow.TIP": "A tip (`addTip`, TIP).",
    "PaymentFlow.PURCHASE": "A new subscription's first payment (`purchaseSubscription`, BUY).",
    "PaymentMethodType.CREDIT_CARD": "A credit card: the processing fee may apply (FEE-1).",
    "PaymentMethodType.BANK": "A bank account: no processing fee (FEE-3).",
    "PaymentMethod.type": "Credit card or bank account.",
    "PaymentMethod.attachedAt": "When it was attached to the subscription (PM-5 counts from here).",
    "BillingOption.length": "The term's length, in its units.",
    "BillingOption.otherCosts": "Other costs included in the amount.",
    "BillingOption.autoRenew": "Whether the option renews automatically.",
    "ScheduledStop.id": "The stop's id in the circulation system.",
    "ScheduledStop.startDate": "First day without delivery.",
    "ScheduledStop.endDate": "Day delivery resumes; null for none scheduled.",
    "HouseholdLevel.id": "The level's integer id (HHL-1).",
    "HouseholdLevel.active": "Whether the level may be chosen (HHL-2).",
    "Registration.crid": "The CRID: the identity provider's user id.",
    "Registration.email": "The registration's e-mail address (USR-4).",
    "Registration.firstName": "First name.",
    "Registration.lastName": "Last name.",
    "Registration.createdAt": "When the registration was created.",
    "Registration.updatedAt": "When it last changed.",
    "Registration.linkedSubscriptions(role)": "Only the links of this role; omit for both.",
    "RegistrationState.STANDARD": "A complete registration that may sign in (USR-1).",
    "RegistrationState.LITE": "No password yet (own identity provider only): may not sign in (USR-1, USR-8).",
    "RegistrationState.UNVERIFIED": "E-mail not verified yet: may not sign in (USR-1, USR-8).",
    "TemporaryEntitlement.id": "The temporary entitlement's id.",
    "TemporaryEntitlement.crid": "The CRID it gives access to.",
    "TemporaryEntitlement.entitlementCode": "The entitlement it grants (ENT-3).",
    "TemporaryEntitlement.startsAt": "When access begins.",
    "TemporaryEntitlement.expiresAt": "When access ends.",
    "TemporaryEntitlement.createdAt": "When it was created (by a purchase or a complaint, ENT-3).",
    # offers (OFR)
    "Offer.id": "The offer's id.",
    "Offer.name": "The offer's name.",
    "Offer.validFrom": "First day the offer is on sale.",
    "Offer.allowedRegistrations": "How many registrations may be linked to a subscription of this offer (OFR-5).",
    "Offer.activeSubscriptionCheck": "The criteria of its active-subscription check (OFR-4).",
    "ActiveSubscriptionCheck.lastName": "Compare last names (OFR-4).",
    "ActiveSubscriptionCheck.email": "Compare e-mail addresses (OFR-4).",
    "ActiveSubscriptionCheck.address": "Compare addresses; never with postal code (OFR-4).",
    "ActiveSubscriptionCheck.postalCode": "Compare postal codes; never with address (OFR-4).",
    "OfferGroup.id": "The group's id.",
    "OfferGroup.name": "The group's name.",
    "OfferTerm.id": "The term's id.",
    "OfferTerm.offerId": "The offer it belongs to.",
    "OfferTerm.length": "The term's length, in its units.",
    "Entitlement.code": "The entitlement's code.",
    "Entitlement.description": "What the entitlement gives access to.",
    "CatalogCard.offerId": "The offer the card shows.",
    "CatalogCard.name": "The offer's name.",
    "ZipDeliverability.deliverable": "True when the offer delivers to the postal code (OFR-2).",
    "ZipDeliverabilityReason.NO_ACTIVE_OFFERS": "No offer is on sale (OFR-3).",
    "ZipDeliverabilityReason.OUTSIDE_DELIVERY_AREA": "The postal code is outside every delivery area (OFR-3).",
    "ZipDeliverabilityReason.VALIDITY_PAST": "The offer's validity has ended (OFR-3).",
    "SubscriptionCost.offerId": "The offer quoted.",
    "SubscriptionCost.termId": "The term quoted.",
    "SubscriptionCost.activationFee": "The offer's activation fee, whatever the payment type (FEE-5).",
    "SubscriptionCost.total": "What the customer pays: rate, tax, activation fee, fee and fee tax.",
    "SubscriptionCost.term": "The term quoted.",
    "ProcessingFee.applies": "Whether a processing fee applies (FEE-1).",
    "ProcessingFee.processingFee": "The fee, rounded once (FEE-1, MNY-2).",
    "ProcessingFee.taxApplies": "Whether the fee is taxed (FEE-2).",
    "ProcessingFee.processingFeeTax": "The fee's tax (FEE-2).",
    "AccessLevelResult.entitlementCode": "The entitlement asked about.",
    "AccessLevelResult.crid": "The registration asked about.",
    "AccessLevelResult.accessLevel": "Its access level (ENT-2).",
    "AccessLevel.PREMIUM": "Has access (ENT-2).",
    "AccessLevel.UPGRADE": "Subscribes, but not to what gives this access (ENT-2).",
    "AccessLevel.PURCHASE": "Subscribes to nothing (ENT-2).",
    # staff (MGR)
    "ManagerAccess.managerSubject": "The staff member's subject (Auth0 user id).",
    "ManagerAccess.sections": "Their level in each section (MGR-1).",
    "SectionAccess.section": "The section.",
    "SectionAccess.level": "The level in it.",
    "SectionAccessInput": "A level for one section (MGR-1).",
    "SectionAccessInput.section": "The section.",
    "SectionAccessInput.level": "The level to set in it.",
    "StaffSection.SUBSCRIPTIONS": "Subscriptions, their links and cancellations.",
    "StaffSection.REGISTRATIONS": "Registrations (users).",
    "StaffSection.PAYMENTS": "Payments, quotes and payment methods.",
    "StaffSection.HOUSEHOLD_LEVELS": "Household levels (HHL-4).",
    "StaffSection.ENTITLEMENTS": "Entitlements and temporary entitlements.",
    "StaffSection.OFFERS": "Offers and their check criteria.",
    "StaffSection.SETTINGS": "Tenant settings and managers' access.",
    "ManagerAccessLevel.NO_ACCESS": "Neither reads nor changes the section (MGR-1).",
    "ManagerAccessLevel.READ_ONLY": "Reads the section (MGR-1).",
    "ManagerAccessLevel.FULL_CONTROL": "Reads and changes the section (MGR-1).",
    "Viewer.kind": "Which kind of principal the request acts as.",
    "ViewerKind.ANONYMOUS": "No token: the public fields only.",
    "ViewerKind.CUSTOMER": "A signed-in customer (a registration).",
    "ViewerKind.STAFF": "A signed-in staff member, with a level per section (MGR-1).",
    "ViewerKind.PARTNER": "A partner application with scopes (MGR-3).",
    # root fields' arguments
    "Query": QUERY,
    "Query.subscription(id)": "The subscription's id.",
    "Query.subscriptions(search)": "The criteria; at least one (SUB-2).",
    "Query.expiringSubscriptions(daysAhead)": "How many days ahead the end date falls (NOT-2).",
    "Query.householdLevels(search)": "A word of the description or a numeral of the id (HHL-2).",
    "Query.householdLevels(onlyActive)": "True: active levels only; false: active and inactive (HHL-2).",
    "Query.registration(crid)": "The registration's CRID.",
    "Query.users(email)": "Find by e-mail address; not with `metadata` (USR-2).",
    "Query.users(metadata)": "Find by metadata key/value filters, at most 10; not with `email` (USR-2).",
    "Query.users(encryptedCrid)": "Find by encrypted CRID (USR-2).",
    "Query.subscriptionLinks(crid)": "Links of the registration with this CRID (LNK-1).",
    "Query.subscriptionLinks(registrationId)": "Links of this registration (LNK-1).",
    "Query.subscriptionLinks(subscriptionId)": "Links of this subscription (LNK-1).",
    "Query.catalog(category)": "Only this category (OFR-6).",
    "Query.catalog(vendor)": "Only this vendor (OFR-6).",
    "Query.catalog(trialAvailable)": "Only offers with (true) or without (false) a trial (OFR-6).",
    "Query.offer(id)": "The offer's id.",
    "Query.zipDeliverable(zip)": "The postal code (OFR-2).",
    "Query.zipDeliverable(offerId)": "The offer (OFR-2).",
    "Query.subscriptionCost(paymentType)": "1 credit card, 2 bank account, 3 cash, 4 check (FEE-5).",
    "Query.processingFee(amount)": "The amount the customer pays before the fee (FEE-1).",
    "Query.processingFee(paymentType)": "1 credit card, 2 bank account, 3 cash, 4 check (FEE-5).",
    "Query.entitlement(code)": "The entitlement's code.",
    "Query.accessLevel(entitlementCode)": "The entitlement asked about (ENT-2).",
    "Query.accessLevel(crid)": "The registration asked about (ENT-2).",
    "Query.forgotPasswordLinkValid(token)": "The token of the password-reset link (USR-7).",
    "Query.managerAccess(managerSubject)": "The staff member's subject (Auth0 user id).",
    "Query.paymentQuote(subscriptionId)": "The subscription to quote for.",
    "Query.paymentQuote(input)": "The flow to quote, exactly one of its fields.",
    "SubscriptionSearchInput.accountNumber": "The account number (SUB-2).",
    "ExpiringSubscriptionGroup": "An account's subscriptions ending on the same date, announced together (NOT-2).",
    "ExpiringSubscriptionGroup.accountNumber": "The account.",
    "ExpiringSubscriptionGroup.endDate": "The date they end.",
    "ExpiringSubscriptionGroup.subscriptions": "The subscriptions ending that day.",
    "Mutation": MUTATION,
    # payment quotes
    "PaymentQuotePayload": "What `paymentQuote` answers: the quote, or `userErrors` saying why the flow cannot be "
                           "quoted (the same refusals the mutation would give).",
    "PaymentQuotePayload.userErrors": "Why the flow cannot be quoted; empty when `quote` is set.",
    "PaymentQuoteError.field": "The path of the input field concerned, or null when no one field is.",
    "PaymentQuotePayload.quote": "The quote; null when `userErrors` refused it.",
    "PaymentQuote.tip": "The tip in the total (TIP-2).",
    "PaymentQuote.donation": "The donation in the total (TIP-3).",
    "PaymentQuoteInput.makePayment": "Quote a one-time payment (PAY-1).",
    "PaymentQuoteInput.restart": "Quote a restart (RST-3).",
    "PaymentQuoteInput.autoPaySignUp": "Quote an auto-pay sign-up (EZ-1, FEE-4).",
    "PaymentQuoteInput.addTip": "Quote a tip (TIP-1, FEE-4).",
    "AutoPayQuoteInput.paymentType": "CREDIT_CARD or BANK: how the customer will pay, which decides the fee (PM-1, FEE-1).",
    "TipQuoteInput.paymentType": "CREDIT_CARD or BANK: how the customer will pay, which decides the fee (PM-1, FEE-1).",
    # mutation inputs and payloads
    "CreateUserInput.firstName": "First name (a top-level field, not metadata, USR-3).",
    "CreateUserInput.lastName": "Last name (a top-level field, not metadata, USR-3).",
    "UpdateUserInput.customerRegistrationId": "The CRID of the registration to update.",
    "UpdateUserInput.metadata": "Metadata to set: a camelCase object within USR-3's limits.",
    "UpdateUserInput.verified": "Staff and partners: mark the e-mail verified or not (USR-1).",
    "ChangeCustomerRegistrationIdInput.currentCustomerRegistrationId": "The registration's CRID now (USR-6).",
    "StartForgotPasswordInput.email": "The e-mail address of the registration whose password is forgotten (USR-7).",
    "SendVerificationCodeInput.email": "The e-mail address to verify (MSG-2).",
    "VerifyEmailInput.email": "The e-mail address being verified.",
    "PurchaseSubscriptionPayload.registration": "The registration the subscription belongs to, when the buyer may "
                                                "see it (BUY-10).",
    "PurchaseSubscriptionInput.offerId": "The offer bought.",
    "PurchaseSubscriptionInput.subscriber": "Who the subscription is for.",
    "PurchaseSubscriberInput.address": "The delivery address (BUY-2 for country-only).",
    "CancelSubscriptionInput.subscriptionId": "The subscription to cancel (SUB-4).",
    "LinkSubscriptionInput.subscriptionId": "The subscription to link.",
    "LinkSubscriptionInput.customerRegistrationId": "The registration to link; a customer may name only their own "
                                                    "(LNK-4).",
    "LinkSubscriptionInput.role": "OWNER or GUEST (LNK-1, LNK-2).",
    "UnlinkSubscriptionPayload.removedLinkId": "The id of the link removed; null when refused.",
    "UnlinkSubscriptionInput.linkId": "The link to remove.",
    "TransferSubscriptionLinkInput.linkId": "The link to move to another CRID (LNK-1).",
    "UpdateHouseholdLevelPayload.householdLevel": "The level as it is after the change.",
    "SetOfferCheckCriteriaInput.offerId": "The offer whose check is set (OFR-4).",
    "SetOfferCheckCriteriaInput.lastName": "Compare last names (OFR-4).",
    "SetOfferCheckCriteriaInput.phone": "Compare phones (OFR-4).",
    "SetOfferCheckCriteriaInput.email": "Compare e-mail addresses (OFR-4).",
    "SetOfferCheckCriteriaInput.address": "Compare addresses; not with postal code (OFR-4).",
    "SetOfferCheckCriteriaInput.postalCode": "Compare postal codes; not with address (OFR-4).",
    "SetOfferAllowedRegistrationsInput.offerId": "The offer to change (OFR-5).",
    "SetManagerAccessLevelsPayload.managerAccess": "The manager's levels after the change (MGR-1).",
    "RequestAccessPayload.message": "The access code's message (ENT-4).",
    "RequestAccessInput.entitlementCode": "The entitlement asked for (ENT-2).",
    "CreateTemporaryEntitlementPayload.temporaryEntitlement": "The temporary entitlement created (ENT-3).",
    "CreateTemporaryEntitlementInput.customerRegistrationId": "Who gets access (ENT-3).",
    "CreateTemporaryEntitlementInput.entitlementCode": "The entitlement granted (ENT-3).",
    "VerifyManagerMfaPayload.enabled": "True once the second factor is enabled (MGR-2).",
    "DisableManagerMfaPayload.disabled": "True once the second factor is disabled (MGR-2).",
    "StartPaymentSessionPayload.session": "The session: open its hosted page to enter the card (GW-1).",
    "PaymentSession.sessionId": "The session's id at the gateway.",
    "PaymentSession.groupId": "The session's group id, sent back to `completePaymentSession`.",
    "PaymentSession.paymentType": "CREDIT_CARD or BANK.",
    "StartPaymentSessionInput.subscriptionId": "The subscription the method will be attached to (GW-1).",
    "CompletePaymentSessionInput.subscriptionId": "The subscription the session was started for.",
    "CompletePaymentSessionInput.paymentType": "The payment type the hosted page tokenized.",
    "RestartSubscriptionInput.subscriptionId": "The stopped subscription to restart (RST-1).",
    "SignUpAutoPayInput.paymentType": "CREDIT_CARD or BANK; must be the attached method's (PM-1).",
    "UpdateAutoPayInput.paymentType": "CREDIT_CARD or BANK; must be the attached method's (PM-1).",
    "AddTipInput.paymentType": "CREDIT_CARD or BANK; must be the attached method's (PM-1).",
}

CONNECTION = re.compile(r"^(?P<item>\w+?)Connection$")
EDGE = re.compile(r"^(?P<item>\w+?)Edge$")


def _words(name: str) -> str:
    """`CustomerSubscription` → `customer subscription`."""
    return re.sub(r"(?<!^)(?=[A-Z])", " ", name).lower()


def _mutation(type_name: str, suffix: str, mutations: set[str]) -> str | None:
    if not type_name.endswith(suffix):
        return None
    stem = type_name[: -len(suffix)]
    field = stem[:1].lower() + stem[1:]
    return field if field in mutations else None


def _shape(type_name: str, member: str | None, mutations: set[str]) -> str | None:
    """The description of an element of a shape shared by every mutation or connection."""
    if (field := _mutation(type_name, "ErrorCode", mutations)) is not None:
        return f"Why `{field}` refused its input or ended without its effect." if member is None else None
    if (field := _mutation(type_name, "Error", mutations)) is not None:
        return {
            None: f"A reason `{field}` refused or ended without its effect: its code, the input field concerned and "
                  "a message.",
            "code": "What happened; each value of the enum says when it happens.",
            "field": "The path of the input field concerned (e.g. `[\"input\", \"total\"]`), or null when no one "
                     "field is.",
            "message": "The same, for a person, in English.",
        }.get(member)
    if (field := _mutation(type_name, "Payload", mutations)) is not None:
        return {
            None: f"What `{field}` answers: what it changed, and `userErrors`, empty when it succeeded.",
            "userErrors": "Why the mutation refused its input or ended without its effect; empty on success.",
        }.get(member)
    if (field := _mutation(type_name, "Input", mutations)) is not None and member is None:
        return f"The input of `{field}`."
    if (match := CONNECTION.match(type_name)) is not None:
        item = _words(match["item"])
        return {
            None: f"A page of {item} items, Relay style: follow `pageInfo.endCursor` for the next page.",
            "edges": f"The page's {item} items, each with its cursor.",
            "nodes": f"The page's {item} items.",
            "pageInfo": "Whether more follow, and the cursors of the page's ends.",
            "totalCount": "How many items match, across every page.",
        }.get(member)
    if (match := EDGE.match(type_name)) is not None:
        item = _words(match["item"])
        return {
            None: f"One {item} in a page, with its cursor.",
            "node": f"The {item}.",
            "cursor": "Its position: pass it as `after` to continue after it.",
        }.get(member)
    return None


def _public(schema: GraphQLSchema) -> list[GraphQLNamedType]:
    return [named for name, named in schema.type_map.items()
            if not name.startswith("_") and not name.startswith("link__") and not is_specified_scalar_type(named)]


def describe(schema: GraphQLSchema) -> list[str]:
    """Give every public element without a description its description from this module (in place); returns the
    `MEMBERS` entries that name nothing in the schema (stale ones)."""
    mutations = set(schema.mutation_type.fields) if schema.mutation_type else set()
    used: set[str] = set()

    def fill(element, path: str, type_name: str, member: str | None, name: str | None,
             code: str | None = None) -> None:
        if path in MEMBERS:
            used.add(path)
        if (element.description or "").strip():
            return
        element.description = (
            MEMBERS.get(path)
            or (ERROR_CODES.get(code) if code else None)
            or _shape(type_name, member, mutations)
            or (BY_NAME.get(name) if name else None)
        )

    for named in _public(schema):
        fill(named, named.name, named.name, None, None)
        if isinstance(named, (GraphQLObjectType, GraphQLInterfaceType)):
            for field_name, field in named.fields.items():
                fill(field, f"{named.name}.{field_name}", named.name, field_name, field_name)
                for arg_name, arg in field.args.items():
                    fill(arg, f"{named.name}.{field_name}({arg_name})", named.name, None, arg_name)
        elif isinstance(named, GraphQLInputObjectType):
            for field_name, field in named.fields.items():
                fill(field, f"{named.name}.{field_name}", named.name, field_name, field_name)
        elif isinstance(named, GraphQLEnumType):
            is_codes = named.name.endswith("ErrorCode")
            for value_name, value in named.values.items():
                fill(value, f"{named.name}.{value_name}", named.name, None, None, value_name if is_codes else None)
    return sorted(set(MEMBERS) - used)
