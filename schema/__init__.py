"""papergraph's GraphQL schema: an Apollo Federation v2 subgraph.

The root `Query` is composed of one query class per domain (in `resolvers/queries/`), so each domain
owns its fields; the root `Mutation` of one class per mutation (`resolvers/mutations/<name>.py`, each a
strawberry type with its one field), listed in `MUTATIONS`. Entity types are listed in `ENTITY_TYPES`
so `_entities` can resolve them.
"""

from __future__ import annotations

import functools
from decimal import Decimal
from typing import Any, Literal

import strawberry
from opentelemetry.trace import Tracer
from strawberry.federation.schema import FederationAny
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types import Info

from resolvers.errors import CodedError, ErrorCodes, log_graphql_errors
from resolvers.mutations.add_tip import AddTip
from resolvers.mutations.cancel_auto_pay import CancelAutoPay
from resolvers.mutations.cancel_subscription import CancelSubscription
from resolvers.mutations.cancel_temporary_stop import CancelTemporaryStop
from resolvers.mutations.change_temporary_stop_restart import ChangeTemporaryStopRestart
from resolvers.mutations.change_customer_registration_id import ChangeCustomerRegistrationId
from resolvers.mutations.change_email import ChangeEmail
from resolvers.mutations.claim_purchase import ClaimPurchase
from resolvers.mutations.change_password import ChangePassword
from resolvers.mutations.complete_payment_session import CompletePaymentSession
from resolvers.mutations.create_temporary_entitlement import CreateTemporaryEntitlement
from resolvers.mutations.create_user import CreateUser
from resolvers.mutations.disable_manager_mfa import DisableManagerMfa
from resolvers.mutations.enroll_manager_mfa import EnrollManagerMfa
from resolvers.mutations.file_complaint import FileComplaint
from resolvers.mutations.finish_forgot_password import FinishForgotPassword
from resolvers.mutations.link_subscription import LinkSubscription
from resolvers.mutations.make_payment import MakePayment
from resolvers.mutations.move_subscriber import MoveSubscriber
from resolvers.mutations.purchase_subscription import PurchaseSubscription
from resolvers.mutations.request_access import RequestAccess
from resolvers.mutations.resend_message import ResendMessage
from resolvers.mutations.restart_subscription import RestartSubscription
from resolvers.mutations.schedule_temporary_stop import ScheduleTemporaryStop
from resolvers.mutations.stop_saver import StopSaverMutations
from resolvers.mutations.send_verification_code import SendVerificationCode
from resolvers.mutations.set_manager_access_levels import SetManagerAccessLevels
from resolvers.mutations.set_offer_allowed_registrations import SetOfferAllowedRegistrations
from resolvers.mutations.set_offer_check_criteria import SetOfferCheckCriteria
from resolvers.mutations.accept_invitation import AcceptInvitation
from resolvers.mutations.cancel_invitation import CancelInvitation
from resolvers.mutations.invite_guests import InviteGuests
from resolvers.mutations.update_invitation import UpdateInvitation
from resolvers.mutations.refresh_session import RefreshSession
from resolvers.mutations.sign_in import SignIn
from resolvers.mutations.sign_out import SignOut
from resolvers.mutations.sign_out_e_bill import SignOutEBill
from resolvers.mutations.sign_up_auto_pay import SignUpAutoPay
from resolvers.mutations.sign_up_e_bill import SignUpEBill
from resolvers.mutations.start_forgot_password import StartForgotPassword
from resolvers.mutations.start_payment_session import StartPaymentSession
from resolvers.mutations.transfer_subscription_link import TransferSubscriptionLink
from resolvers.mutations.unlink_subscription import UnlinkSubscription
from resolvers.mutations.update_auto_pay import UpdateAutoPay
from resolvers.mutations.update_household_level import UpdateHouseholdLevel
from resolvers.mutations.update_user import UpdateUser
from resolvers.mutations.verify_email import VerifyEmail
from resolvers.mutations.verify_manager_mfa import VerifyManagerMfa
from resolvers.queries.claims import ClaimQueries
from resolvers.queries.entitlements import EntitlementQueries
from resolvers.queries.households import HouseholdQueries
from resolvers.queries.invitations import InvitationQueries
from resolvers.queries.managers import ManagerQueries
from resolvers.queries.tenant_settings import TenantSettingsQueries
from resolvers.mutations.update_settings import UpdateSettings
from resolvers.mutations.update_subscriber_details import UpdateSubscriberDetails
from resolvers.queries.offers import OfferQueries
from resolvers.queries.payments import PaymentQueries
from resolvers.queries.registrations import RegistrationQueries
from resolvers.queries.servicing import ServicingQueries
from resolvers.queries.subscriptions import SubscriptionQueries
from resolvers.queries.users import UserLinkQueries
from resolvers.queries.viewer import ViewerQueries
from schema.common import AmountScalar
from schema.descriptions import describe
from schema.entitlements import Entitlement
from schema.households import HouseholdLevel
from schema.offers import Offer
from schema.registrations import Registration
from schema.subscriptions import CustomerSubscription
from server.execution import FastExecutionContext
from server.inputs import InputPolicy
from server.limits import OperationPolicy, policy_extensions
from server.throttle import SensitiveMutationLimits, spend_from_context
from server.observe import ObserveOperation
from telemetry.tracing import trace_resolvers

ENTITY_TYPES: list[type] = [CustomerSubscription, HouseholdLevel, Registration, Offer, Entitlement]


# one class per mutation, in the order they appear in the SDL
MUTATIONS: list[type] = []
# registrations (USR), purchase (BUY), links (LNK), cancellation (SUB-4), catalog and staff administration
# (HHL-4, OFR-4, OFR-5, MGR-1), entitlements (ENT)
MUTATIONS += [CreateUser, UpdateUser, ChangeEmail, ChangePassword, ChangeCustomerRegistrationId,
              StartForgotPassword, FinishForgotPassword, SendVerificationCode, VerifyEmail, PurchaseSubscription,
              CancelSubscription, LinkSubscription, UnlinkSubscription, TransferSubscriptionLink,
              UpdateHouseholdLevel, SetOfferCheckCriteria, SetOfferAllowedRegistrations, SetManagerAccessLevels,
              RequestAccess, CreateTemporaryEntitlement]
# sign-in of own-auth (MG2) tenants (SSN)
MUTATIONS += [SignIn, RefreshSession, SignOut]
# invitations of guests (INV)
MUTATIONS += [InviteGuests, UpdateInvitation, CancelInvitation, AcceptInvitation]
# claiming an anonymous purchase (BUY-10)
MUTATIONS += [ClaimPurchase]
# messages: staff resend one (MSG-1)
MUTATIONS += [ResendMessage]
# tenant settings (SET-1..3)
MUTATIONS += [UpdateSettings]
# staff second factor (MGR-2)
MUTATIONS += [EnrollManagerMfa, VerifyManagerMfa, DisableManagerMfa]
# payments (PAY, RST, EZ, TIP, GW-1): exactly once per idempotency key, recorded in the ledger (PAY-4)
MUTATIONS += [StartPaymentSession, CompletePaymentSession, MakePayment, RestartSubscription, SignUpAutoPay,
              UpdateAutoPay, AddTip]
# servicing: temporary stops (STP-1, STP-2), complaints (CMP-1..3)
MUTATIONS += [ScheduleTemporaryStop, ChangeTemporaryStopRestart, CancelTemporaryStop, FileComplaint]
MUTATIONS += [StopSaverMutations]  # STP-4
# account servicing: eBill (EBL-1, EBL-2), auto-pay cancel (EZ-5)
MUTATIONS += [SignUpEBill, SignOutEBill, CancelAutoPay]
# subscriber details and address (ADR-1..5)
MUTATIONS += [UpdateSubscriberDetails, MoveSubscriber]


@strawberry.type
class Query(SubscriptionQueries, HouseholdQueries, RegistrationQueries, OfferQueries, EntitlementQueries,
            UserLinkQueries, ManagerQueries, ViewerQueries, PaymentQueries, InvitationQueries, ServicingQueries,
            TenantSettingsQueries, ClaimQueries):
    pass


def _mutation_type() -> type | None:
    if not MUTATIONS:
        return None
    return strawberry.type(type("Mutation", tuple(MUTATIONS), {}))


class Subgraph(strawberry.federation.Schema):
    """strawberry's federation schema, with `_entities` refusing a representation that names no entity type of
    this subgraph as BAD_USER_INPUT in its own slot (strawberry raises a KeyError for the whole field); and
    without "Did you mean …?" in variable-coercion errors when the policy hides suggestions (issue 14 #14)."""

    hide_suggestions = False

    def process_errors(self, errors: list[Any], execution_context: Any = None) -> None:
        """Not strawberry's ERROR line with traceback and source excerpt per error: `log_graphql_errors`
        (resolvers/errors.py; issue 14 #7)."""
        log_graphql_errors(errors, execution_context)

    def _get_custom_context_kwargs(self, operation_extensions: dict[str, Any] | None = None, *,
                                   sync: bool = False) -> dict[str, Any]:
        kwargs = super()._get_custom_context_kwargs(operation_extensions, sync=sync)
        if self.hide_suggestions:
            kwargs["hide_suggestions"] = True  # graphql-core's execute: variable values and enum names
        return kwargs

    def entities_resolver(self, info: Info, representations: list[FederationAny]) -> list[FederationAny]:
        keys = entity_keys()
        refusals = [_representation_error(index, representation, keys)
                    for index, representation in enumerate(representations)]
        resolved = iter(super().entities_resolver(
            info, [r for r, refusal in zip(representations, refusals) if refusal is None]))
        return [next(resolved) if refusal is None else refusal for refusal in refusals]


@functools.cache
def entity_keys() -> dict[str, frozenset[str]]:
    """Each entity type's `@key` fields (its representation carries exactly those, and `__typename`)."""
    return {klass.__strawberry_definition__.name: frozenset(
        field for directive in klass.__strawberry_definition__.directives
        for field in str(getattr(directive, "fields", "")).split()) for klass in ENTITY_TYPES}


def _representation_error(index: int, representation: Any, keys: dict[str, frozenset[str]]) -> CodedError | None:
    """BAD_USER_INPUT in its own slot for a representation that names no entity type of this subgraph, or whose
    fields are not that type's key (strawberry would raise for the whole field, a KeyError or a TypeError)."""
    typename = representation.get("__typename") if isinstance(representation, dict) else None
    if typename not in keys:
        return CodedError(f"representations[{index}] must be an object whose __typename is one of "
                          f"{', '.join(sorted(keys))}", field=["representations", index])
    given = set(representation) - {"__typename"}
    if given != keys[typename]:
        return CodedError(f"representations[{index}] of {typename} must carry exactly its key: "
                          f"{', '.join(sorted(keys[typename]))}", field=["representations", index])
    return None


EXECUTION_CONTEXTS: dict[str, type[StrawberryGraphQLCoreExecutionContext]] = {
    "fast": FastExecutionContext, "stock": StrawberryGraphQLCoreExecutionContext}


def build_schema(*, mask_errors: bool = True, policy: OperationPolicy | None = None,
                 tracer: Tracer | None = None,
                 execution: Literal["stock", "fast"] = "fast") -> strawberry.federation.Schema:
    """The subgraph, executed by `server.execution.FastExecutionContext` (basic fields skip per-field
    machinery; `execution="stock"`, the `PAPERGRAPH_EXECUTION` setting, uses strawberry's own), with parse and
    validation cached per document and the operation limits of `policy`
    (`server/limits.py`; the settings' defaults when not given). With a `tracer`, operations and the fields
    that have resolvers get spans (telemetry/tracing.py). When the request's context carries a throttle, each
    operation spends its cost from the caller's budget and the sensitive mutations are rate-limited
    (server/throttle.py)."""
    policy = policy or OperationPolicy.defaults()
    schema = Subgraph(
        query=Query,
        mutation=_mutation_type(),
        types=ENTITY_TYPES,
        extensions=[*policy_extensions(policy, spend_from_context), InputPolicy, SensitiveMutationLimits,
                    lambda: ObserveOperation(tracer=tracer),
                    lambda: ErrorCodes(mask_unexpected=mask_errors)],
        execution_context_class=EXECUTION_CONTEXTS[execution],
        scalar_overrides={Decimal: AmountScalar},
    )
    schema.hide_suggestions = not policy.field_suggestions
    describe(schema._schema)  # descriptions for the elements that carry none in code (schema/descriptions.py)
    if tracer is not None:
        trace_resolvers(schema._schema, tracer)
    return schema
