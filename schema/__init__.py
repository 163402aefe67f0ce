"""papergraph's GraphQL schema: an Apollo Federation v2 subgraph.

The root `Query` is composed of one query class per domain (in `resolvers/queries/`), so each domain
owns its fields; the root `Mutation` of one class per mutation (`resolvers/mutations/<name>.py`, each a
strawberry type with its one field), listed in `MUTATIONS`. Entity types are listed in `ENTITY_TYPES`
so `_entities` can resolve them.
"""

from __future__ import annotations

import strawberry
from opentelemetry.trace import Tracer
from strawberry.federation.schema import FederationAny
from strawberry.types import Info

from resolvers.errors import CodedError, ErrorCodes
from resolvers.mutations.add_tip import AddTip
from resolvers.mutations.cancel_subscription import CancelSubscription
from resolvers.mutations.change_customer_registration_id import ChangeCustomerRegistrationId
from resolvers.mutations.change_email import ChangeEmail
from resolvers.mutations.change_password import ChangePassword
from resolvers.mutations.complete_payment_session import CompletePaymentSession
from resolvers.mutations.create_temporary_entitlement import CreateTemporaryEntitlement
from resolvers.mutations.create_user import CreateUser
from resolvers.mutations.disable_manager_mfa import DisableManagerMfa
from resolvers.mutations.enroll_manager_mfa import EnrollManagerMfa
from resolvers.mutations.finish_forgot_password import FinishForgotPassword
from resolvers.mutations.link_subscription import LinkSubscription
from resolvers.mutations.make_payment import MakePayment
from resolvers.mutations.purchase_subscription import PurchaseSubscription
from resolvers.mutations.request_access import RequestAccess
from resolvers.mutations.restart_subscription import RestartSubscription
from resolvers.mutations.send_verification_code import SendVerificationCode
from resolvers.mutations.set_manager_access_levels import SetManagerAccessLevels
from resolvers.mutations.set_offer_allowed_registrations import SetOfferAllowedRegistrations
from resolvers.mutations.set_offer_check_criteria import SetOfferCheckCriteria
from resolvers.mutations.sign_up_auto_pay import SignUpAutoPay
from resolvers.mutations.start_forgot_password import StartForgotPassword
from resolvers.mutations.start_payment_session import StartPaymentSession
from resolvers.mutations.transfer_subscription_link import TransferSubscriptionLink
from resolvers.mutations.unlink_subscription import UnlinkSubscription
from resolvers.mutations.update_auto_pay import UpdateAutoPay
from resolvers.mutations.update_household_level import UpdateHouseholdLevel
from resolvers.mutations.update_user import UpdateUser
from resolvers.mutations.verify_email import VerifyEmail
from resolvers.mutations.verify_manager_mfa import VerifyManagerMfa
from resolvers.queries.entitlements import EntitlementQueries
from resolvers.queries.households import HouseholdQueries
from resolvers.queries.managers import ManagerQueries
from resolvers.queries.tenant_settings import TenantSettingsQueries
from resolvers.mutations.update_settings import UpdateSettings
from resolvers.queries.offers import OfferQueries
from resolvers.queries.payments import PaymentQueries
from resolvers.queries.registrations import RegistrationQueries
from resolvers.queries.subscriptions import SubscriptionQueries
from resolvers.queries.users import UserLinkQueries
from resolvers.queries.viewer import ViewerQueries
from schema.entitlements import Entitlement
from schema.households import HouseholdLevel
from schema.offers import Offer
from schema.registrations import Registration
from schema.subscriptions import CustomerSubscription
from server.execution import FastExecutionContext
from server.limits import OperationPolicy, policy_extensions
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
# tenant settings (SET-1..3)
MUTATIONS += [UpdateSettings]
# staff second factor (MGR-2)
MUTATIONS += [EnrollManagerMfa, VerifyManagerMfa, DisableManagerMfa]
# payments (PAY, RST, EZ, TIP, GW-1): exactly once per idempotency key, recorded in the ledger (PAY-4)
MUTATIONS += [StartPaymentSession, CompletePaymentSession, MakePayment, RestartSubscription, SignUpAutoPay,
              UpdateAutoPay, AddTip]


@strawberry.type
class Query(SubscriptionQueries, HouseholdQueries, RegistrationQueries, OfferQueries, EntitlementQueries,
            UserLinkQueries, ManagerQueries, ViewerQueries, PaymentQueries, TenantSettingsQueries):
    pass


def _mutation_type() -> type | None:
    if not MUTATIONS:
        return None
    return strawberry.type(type("Mutation", tuple(MUTATIONS), {}))


class Subgraph(strawberry.federation.Schema):
    """strawberry's federation schema, with `_entities` refusing a representation that names no entity type of
    this subgraph as BAD_USER_INPUT in its own slot (strawberry raises a KeyError for the whole field)."""

    def entities_resolver(self, info: Info, representations: list[FederationAny]) -> list[FederationAny]:
        entities = {klass.__strawberry_definition__.name for klass in ENTITY_TYPES}
        known = [isinstance(r, dict) and r.get("__typename") in entities for r in representations]
        resolved = iter(super().entities_resolver(info, [r for r, ok in zip(representations, known) if ok]))
        return [next(resolved) if ok else CodedError(
            f"representations[{index}] must be an object whose __typename is one of {', '.join(sorted(entities))}",
            field=["representations", index]) for index, ok in enumerate(known)]


def build_schema(*, mask_errors: bool = True, policy: OperationPolicy | None = None,
                 tracer: Tracer | None = None) -> strawberry.federation.Schema:
    """The subgraph, executed by `server.execution.FastExecutionContext` (basic fields skip per-field
    machinery), with parse and validation cached per document and the operation limits of `policy`
    (`server/limits.py`; the settings' defaults when not given). With a `tracer`, operations and the fields
    that have resolvers get spans (telemetry/tracing.py)."""
    schema = Subgraph(
        query=Query,
        mutation=_mutation_type(),
        types=ENTITY_TYPES,
        extensions=[*policy_extensions(policy or OperationPolicy.defaults()), lambda: ObserveOperation(tracer=tracer),
                    lambda: ErrorCodes(mask_unexpected=mask_errors)],
        execution_context_class=FastExecutionContext,
    )
    if tracer is not None:
        trace_resolvers(schema._schema, tracer)
    return schema
