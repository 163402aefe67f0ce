"""papergraph's own tables (SQLModel). Upstream data (subscriptions, identities, gateway profiles) is not
copied here; these tables hold what papergraph itself owns: tenants and settings, registrations and
their links to subscriptions, household levels, entitlements, offers, masked payment methods, the
payment ledger and the event log.

Money columns use `Money`, an exact decimal on every backend (MNY-1).
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any, Optional

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator
from sqlmodel import JSON, Column, Field, SQLModel

TWO_PLACES = Decimal("0.01")


class Money(TypeDecorator):
    """An exact two-place decimal: NUMERIC(20, 2) on PostgreSQL; on SQLite, whose NUMERIC is a float,
    a canonical decimal string, so amounts above 2,147,483,647 round-trip exactly (MNY-1)."""

    impl = sa.Numeric(20, 2)
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.String(32))
        return dialect.type_descriptor(sa.Numeric(20, 2, asdecimal=True))

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        amount = Decimal(value).quantize(TWO_PLACES)
        return str(amount) if dialect.name == "sqlite" else amount

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return Decimal(value).quantize(TWO_PLACES)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def money_column(nullable: bool = False) -> Any:
    return Field(default=Decimal("0.00"), sa_column=Column(Money(), nullable=nullable))


def created_column() -> Any:
    return Field(default_factory=utcnow, sa_column=Column(sa.DateTime(timezone=True), nullable=False, default=utcnow))


# -- tenants (TEN-1, TEN-2) -----------------------------------------------------------------------
class Tenant(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True, index=True, description="paper code")
    name: str = Field(max_length=200)
    circulation_kind: str = Field(max_length=16, description="NCS, MATRIX, CIRCPRO or SAXO")
    time_zone: str = Field(max_length=64)
    currency: str = Field(max_length=3, default="USD")
    settings_version: int = Field(default=0, sa_column_kwargs={"server_default": "0"},
                                  description="SET-3: raised by every settings change; each request compares it "
                                              "with its process's cached tenant")


class TenantSetting(SQLModel, table=True):
    __tablename__ = "tenant_setting"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "key"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenant.id", index=True)
    key: str = Field(max_length=128)
    value: str = Field(max_length=1000)


# -- registrations and links (USR, LNK) -------------------------------------------------------------
class Registration(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("tenant_id", "crid"), sa.Index("ix_registration_email", "tenant_id", "email"))
    id: Optional[int] = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenant.id", index=True)
    crid: str = Field(max_length=128, description="customer registration id (identity provider's user id)")
    email: str = Field(max_length=320)
    first_name: Optional[str] = Field(default=None, max_length=100)
    last_name: Optional[str] = Field(default=None, max_length=100)
    password_hash: Optional[str] = Field(default=None, max_length=255, description="MG2 provider only")
    has_password: bool = True
    email_verified: bool = True
    user_metadata: dict = Field(default_factory=dict, sa_column=Column("metadata", JSON, nullable=False))
    created_at: datetime = created_column()
    updated_at: datetime = created_column()
    last_logout_at: Optional[datetime] = Field(
        default=None, sa_column=Column(sa.DateTime(timezone=True), nullable=True),
        description="LastLogoutDate (SSN-4): papergraph's tokens issued before it are refused")


class SubscriptionLink(SQLModel, table=True):
    __tablename__ = "subscription_link"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "registration_id", "subscription_id"),
        sa.Index("ix_link_subscription", "tenant_id", "subscription_id"),
    )
    id: Optional[int] = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenant.id")
    registration_id: int = Field(foreign_key="registration.id", index=True)
    subscription_id: str = Field(max_length=64)
    role: str = Field(max_length=8, description="OWNER or GUEST")
    created_at: datetime = created_column()


# -- household levels (HHL) ------------------------------------------------------------------------
class HouseholdLevel(SQLModel, table=True):
    __tablename__ = "household_level"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "level_id"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenant.id", index=True)
    level_id: int
    description: str = Field(default="", max_length=50)
    active: bool = True


# -- entitlements (ENT) ----------------------------------------------------------------------------
class Entitlement(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("tenant_id", "code"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenant.id", index=True)
    code: str = Field(max_length=64)
    description: str = Field(default="", max_length=200)


class EntitlementSetting(SQLModel, table=True):
    __tablename__ = "entitlement_setting"
    id: Optional[int] = Field(default=None, primary_key=True)
    entitlement_id: int = Field(foreign_key="entitlement.id", unique=True)
    redirect_url: Optional[str] = Field(default=None, max_length=2000)


class AccessLog(SQLModel, table=True):
    __tablename__ = "access_log"
    id: Optional[int] = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenant.id", index=True)
    entitlement_code: str = Field(max_length=64)
    crid: Optional[str] = Field(default=None, max_length=128)
    platform: Optional[str] = Field(default=None, max_length=64)
    user_agent: Optional[str] = Field(default=None, max_length=512)
    access_level: str = Field(max_length=16)
    created_at: datetime = created_column()


class TemporaryEntitlement(SQLModel, table=True):
    __tablename__ = "temporary_entitlement"
    __table_args__ = (sa.Index("ix_temporary_entitlement_crid", "tenant_id", "crid"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenant.id")
    crid: str = Field(max_length=128)
    entitlement_code: str = Field(max_length=64)
    starts_at: datetime = Field(sa_column=Column(sa.DateTime(timezone=True), nullable=False))
    expires_at: datetime = Field(sa_column=Column(sa.DateTime(timezone=True), nullable=False))
    reason: str = Field(default="PURCHASE", max_length=32)
    # CMP-2: the event that granted it (a complaint resolved with e-edition access); access comes from this row
    event_id: Optional[int] = Field(default=None, foreign_key="event.id")
    created_at: datetime = created_column()


# -- offers (OFR) ----------------------------------------------------------------------------------
class OfferGroup(SQLModel, table=True):
    __tablename__ = "offer_group"
    id: Optional[int] = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenant.id", index=True)
    name: str = Field(max_length=200)
    category: str = Field(max_length=64)


class Offer(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenant.id", index=True)
    group_id: int = Field(foreign_key="offer_group.id", index=True)
    name: str = Field(max_length=200)
    vendor: str = Field(max_length=200)
    logo_url: Optional[str] = Field(default=None, max_length=2000)
    short_description: str = Field(default="", max_length=500)
    category: str = Field(max_length=64)
    trial_available: bool = False
    digital: bool = False
    activation_fee: Decimal = money_column()
    valid_from: date
    valid_to: Optional[date] = None
    allowed_registrations: int = 1
    # active-subscription-check criteria (OFR-4); the product itself is always part of the check
    check_last_name: bool = False
    check_phone: bool = False
    check_email: bool = False
    check_address: bool = False
    check_postal_code: bool = False
    # subscription validation (BUY-6, BUY-7): the check runs only when one is set, and refuses naming it
    validate_no_existing: bool = False
    validate_stopped_recently: bool = False
    validate_outstanding_balance: bool = False
    # address requirements (BUY-8): either one makes Address the check's criterion, neither Postal code
    requires_delivery_address: bool = False
    requires_billing_address: bool = False


class OfferTerm(SQLModel, table=True):
    __tablename__ = "offer_term"
    id: Optional[int] = Field(default=None, primary_key=True)
    offer_id: int = Field(foreign_key="offer.id", index=True)
    code: str = Field(max_length=32)
    length: int
    length_unit: str = Field(max_length=8, description="DAY, WEEK, MONTH or YEAR")
    rate: Decimal = money_column()
    tax: Decimal = money_column()
    commercial: bool = True


class OfferDeliveryArea(SQLModel, table=True):
    __tablename__ = "offer_delivery_area"
    __table_args__ = (sa.UniqueConstraint("offer_id", "postal_code"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    offer_id: int = Field(foreign_key="offer.id", index=True)
    postal_code: str = Field(max_length=16)


# -- payment methods and payments (PM, PAY, GW) ------------------------------------------------------
class PaymentMethod(SQLModel, table=True):
    """Masked data and the gateway token only, never a card number or CVV (PM-4)."""

    __tablename__ = "payment_method"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "subscription_id"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenant.id")
    subscription_id: str = Field(max_length=64)
    type: str = Field(max_length=16, description="CREDIT_CARD or BANK")
    gateway_token: str = Field(max_length=128)
    gateway_customer_id: Optional[str] = Field(default=None, max_length=128)
    card_brand: Optional[str] = Field(default=None, max_length=32)
    card_last4: Optional[str] = Field(default=None, max_length=4)
    card_expiry: Optional[str] = Field(default=None, max_length=7)
    bank_name: Optional[str] = Field(default=None, max_length=200)
    bank_account_masked: Optional[str] = Field(default=None, max_length=34)
    bank_routing_number: Optional[str] = Field(default=None, max_length=34)
    attached_at: datetime = created_column()


class Payment(SQLModel, table=True):
    """One money-moving or auto-pay operation and its ledger state (PAY-4; the states and their order are
    in `domain/ledger.py`). `plan` holds everything needed to finish the operation after a crash: the
    gateway profile, papergraph's gateway reference and the circulation calls still to make. One attempt
    per client idempotency key and tenant."""

    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "idempotency_key", name="uq_payment_tenant_idempotency_key"),
        sa.Index("ix_payment_window", "tenant_id", "subscription_id", "created_at"),
    )
    id: Optional[int] = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenant.id", index=True)
    subscription_id: str = Field(max_length=64, index=True)
    crid: Optional[str] = Field(default=None, max_length=128)
    flow: str = Field(max_length=32, description="ONE_TIME, RESTART, AUTOPAY_SIGNUP, AUTOPAY_UPDATE, TIP, PURCHASE")
    state: str = Field(max_length=32, index=True)
    payment_type: Optional[str] = Field(default=None, max_length=16)
    currency: str = Field(max_length=3)
    option_term: Optional[str] = Field(default=None, max_length=32)
    option_amount: Decimal = money_column()
    option_tax: Decimal = money_column()
    tip: Decimal = money_column()
    donation: Decimal = money_column()
    activation_fee: Decimal = money_column()
    processing_fee: Decimal = money_column()
    fee_tax: Decimal = money_column()
    balance_applied: Decimal = money_column()
    total: Decimal = money_column()
    gateway_transaction_id: Optional[str] = Field(default=None, max_length=128)
    circulation_transaction_id: Optional[str] = Field(default=None, max_length=128)
    idempotency_key: Optional[str] = Field(default=None, max_length=255)
    plan: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False, default=dict))
    attempts: int = Field(default=0, sa_column=Column(sa.Integer, nullable=False, default=0))
    error_code: Optional[str] = Field(default=None, max_length=64, description="why it ended without its effect")
    error_message: Optional[str] = Field(default=None, max_length=500)
    last_error: Optional[str] = Field(default=None, max_length=1000, description="the last upstream failure")
    created_at: datetime = created_column()
    updated_at: datetime = created_column()
    charged_at: Optional[datetime] = Field(default=None, sa_column=Column(sa.DateTime(timezone=True), nullable=True))
    finished_at: Optional[datetime] = Field(default=None, sa_column=Column(sa.DateTime(timezone=True), nullable=True))


class PaymentSession(SQLModel, table=True):
    """A NavigaPay hosted-payment session started for a subscription (GW-1): completing it attaches the
    tokenized payment method to that subscription only."""

    __tablename__ = "payment_session"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "session_id"),
                      sa.Index("ix_payment_session_profile", "tenant_id", "profile_id"))
    id: Optional[int] = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenant.id", index=True)
    session_id: str = Field(max_length=128)
    group_id: str = Field(max_length=128)
    subscription_id: str = Field(max_length=64)
    payment_type: str = Field(max_length=16, description="CREDIT_CARD or BANK")
    profile_id: Optional[str] = Field(default=None, max_length=128, description="set when completed")
    created_at: datetime = created_column()
    completed_at: Optional[datetime] = Field(default=None, sa_column=Column(sa.DateTime(timezone=True), nullable=True))
    # BUY-11: a session for a new start (no subscription yet: `subscription_id` empty) names its offer and term;
    # the one purchase that uses it sets `used_at`
    offer_id: Optional[int] = Field(default=None, description="the offer of a new start")
    term: Optional[str] = Field(default=None, max_length=32, description="the offer term of a new start")
    used_at: Optional[datetime] = Field(default=None, sa_column=Column(sa.DateTime(timezone=True), nullable=True))

    started_by: Optional[str] = Field(default=None, max_length=160, description=(
        "who started it, `<principal kind>:<subject>`; null for an anonymous start (BUY-11)"))


class PendingClaim(SQLModel, table=True):
    """BUY-10: a subscription bought anonymously with a registered e-mail, linked to no registration, waiting for
    the owner of that e-mail to sign in and claim it (`claimPurchase`, from the CLAIMPURCHASE message's link)."""

    __tablename__ = "pending_claim"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "subscription_id"),
                      sa.Index("ix_pending_claim_email", "tenant_id", "email"))
    id: Optional[int] = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenant.id")
    subscription_id: str = Field(max_length=64)
    email: str = Field(max_length=320, description="the purchase's subscriber e-mail, trimmed (USR-4)")
    created_at: datetime = created_column()
    claimed_at: Optional[datetime] = Field(default=None, sa_column=Column(sa.DateTime(timezone=True), nullable=True))
    claimed_by_registration_id: Optional[int] = Field(default=None, foreign_key="registration.id")


# -- events (NOT-1) --------------------------------------------------------------------------------
class Event(SQLModel, table=True):
    __table_args__ = (
        sa.Index("ix_event_subscription", "tenant_id", "subscription_id"),
        sa.Index("ix_event_crid", "tenant_id", "crid"),
    )
    id: Optional[int] = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenant.id")
    type_code: str = Field(max_length=32)
    subscription_id: Optional[str] = Field(default=None, max_length=64)
    crid: Optional[str] = Field(default=None, max_length=128)
    amount: Optional[Decimal] = Field(default=None, sa_column=Column(Money(), nullable=True))
    reason: Optional[str] = Field(default=None, max_length=64)
    source: Optional[str] = Field(default=None, max_length=64)
    parent_id: Optional[int] = Field(default=None, foreign_key="event.id")
    payment_id: Optional[int] = Field(default=None, foreign_key="payment.id")
    details: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = created_column()


# -- offers → entitlements (ENT-2) -------------------------------------------------------------------
class OfferEntitlement(SQLModel, table=True):
    """The entitlements a subscription to an offer includes: PREMIUM for an active subscriber of the offer,
    UPGRADE for a subscriber of another offer (ENT-2). Codes are the tenant's `entitlement.code`."""

    __tablename__ = "offer_entitlement"
    __table_args__ = (sa.UniqueConstraint("offer_id", "entitlement_code"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    offer_id: int = Field(foreign_key="offer.id", index=True)
    entitlement_code: str = Field(max_length=64)


# -- registrations: single-use links (USR-7, USR-9) ------------------------------------------------
class ConsumedToken(SQLModel, table=True):
    """A forgot-password or verification link that has been used: the unique key makes it single-use
    even when two requests race to finish with the same link (USR-7)."""

    __tablename__ = "consumed_token"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "purpose", "event_id"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenant.id")
    purpose: str = Field(max_length=32, description="forgot-password or verify-email")
    event_id: int = Field(foreign_key="event.id")
    created_at: datetime = created_column()


# -- idempotency of mutations (BUY-4, PAY-4) --------------------------------------------------------
class IdempotencyRecord(SQLModel, table=True):
    """One client idempotency key of a tenant, bound to the request it first came with (a hash of the
    operation and its input) and, once the operation succeeded, to its answer."""

    __tablename__ = "idempotency_record"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "key"),
                      sa.Index("ix_idempotency_record_state_created", "state", "created_at"))
    id: Optional[int] = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenant.id")
    key: str = Field(max_length=255)
    operation: str = Field(max_length=64)
    request_hash: str = Field(max_length=64)
    state: str = Field(default="IN_PROGRESS", max_length=16, description="IN_PROGRESS or COMPLETED")
    response: Optional[dict] = Field(default=None, sa_column=Column(JSON, nullable=True))
    created_at: datetime = created_column()
    completed_at: Optional[datetime] = Field(default=None, sa_column=Column(sa.DateTime(timezone=True), nullable=True))


# -- staff access levels (MGR-1) -------------------------------------------------------------------
class ManagerAccess(SQLModel, table=True):
    """A manager's access level to one section, set by staff with full control of settings (MGR-1)."""

    __tablename__ = "manager_access"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "manager_subject", "section"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenant.id", index=True)
    manager_subject: str = Field(max_length=128, description="the manager's token subject (`sub`)")
    section: str = Field(max_length=32)
    level: str = Field(max_length=16, description="NO_ACCESS, READ_ONLY or FULL_CONTROL")
    updated_at: datetime = created_column()


# -- staff second factor (MGR-2) -------------------------------------------------------------------
class ManagerMfa(SQLModel, table=True):
    """A manager's TOTP authenticator: PENDING from enrolment until a first code verifies it, then ENABLED
    (and enrolled in the identity provider as `authenticator_id`). The secret is sealed with the
    secret key (domain/crypto.py), never stored in the clear."""

    __tablename__ = "manager_mfa"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "manager_subject"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenant.id")
    manager_subject: str = Field(max_length=128)
    sealed_secret: str = Field(max_length=512)
    state: str = Field(max_length=16, description="PENDING or ENABLED")
    authenticator_id: Optional[str] = Field(default=None, max_length=128)
    created_at: datetime = created_column()
    updated_at: datetime = created_column()


# -- persisted operations (server/persisted.py) ------------------------------------------------------
class PersistedOperation(SQLModel, table=True):
    """A GraphQL document known by its SHA-256: registered by a client through automatic persisted queries,
    or safelisted by `papergraph register-operations` from a front end's `.graphql` files. Shared by every
    server process; not per tenant (the schema is the same for all)."""

    __tablename__ = "persisted_operation"
    id: Optional[int] = Field(default=None, primary_key=True)
    sha256: str = Field(max_length=64, unique=True, description="hex SHA-256 of `document`")
    document: str = Field(sa_column=Column(sa.Text, nullable=False))
    operation_name: Optional[str] = Field(default=None, max_length=200)
    safelisted: bool = Field(default=False, description="registered by the command: accepted in safelist mode")
    created_at: datetime = created_column()


# -- messages (MSG, NOT-1) ---------------------------------------------------------------------------
class MessageTemplate(SQLModel, table=True):
    """A tenant's template for the message an event type sends (MSG-1): no template, no message. Jinja2
    sources for the subject, the text part and the HTML part (messages/render.py)."""

    __tablename__ = "message_template"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "event_type"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenant.id", index=True)
    event_type: str = Field(max_length=32, description="the event type code that sends it, e.g. PWDREQ")
    subject: str = Field(max_length=500)
    text_body: str = Field(sa_column=Column(sa.Text, nullable=False))
    html_body: str = Field(sa_column=Column(sa.Text, nullable=False))
    updated_at: datetime = created_column()


class MessageOutbox(SQLModel, table=True):
    """One message to send, written in the transaction of the event that causes it (NOT-1, MSG-1) and sent
    after commit by the delivery worker (messages/delivery.py). Rendered once, at its first attempt, and kept:
    every retry sends the same bytes under the same Message-ID, so a delivery that may have happened is never
    sent again as another message."""

    __tablename__ = "message_outbox"
    __table_args__ = (sa.Index("ix_message_outbox_due", "state", "next_attempt_at"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenant.id", index=True)
    # deleting an event deletes its message (the message exists because of the event)
    event_id: Optional[int] = Field(default=None, foreign_key="event.id", index=True, ondelete="CASCADE")
    event_type: str = Field(max_length=32)
    state: str = Field(default="PENDING", max_length=16, description="PENDING, SENT or FAILED")
    recipient: Optional[str] = Field(default=None, max_length=320)
    message_id: Optional[str] = Field(default=None, max_length=255, description="the RFC 5322 Message-ID")
    subject: Optional[str] = Field(default=None, max_length=500)
    text_body: Optional[str] = Field(default=None, sa_column=Column(sa.Text, nullable=True))
    html_body: Optional[str] = Field(default=None, sa_column=Column(sa.Text, nullable=True))
    sealed_data: Optional[str] = Field(default=None, sa_column=Column(sa.Text, nullable=True),
                                       description="secret message data (a change-password ticket), sealed")
    attempts: int = Field(default=0, sa_column=Column(sa.Integer, nullable=False, default=0))
    next_attempt_at: datetime = created_column()
    leased_until: Optional[datetime] = Field(default=None, sa_column=Column(sa.DateTime(timezone=True), nullable=True))
    last_error: Optional[str] = Field(default=None, max_length=1000)
    created_at: datetime = created_column()
    sent_at: Optional[datetime] = Field(default=None, sa_column=Column(sa.DateTime(timezone=True), nullable=True))


# -- sign-in and sessions of own-auth tenants (SSN) --------------------------------------------------
class SigningKey(SQLModel, table=True):
    """papergraph's own RS256 key for the access tokens it issues (SSN-3). The newest active key signs; every
    key not retired yet stays published at /.well-known/jwks.json, so tokens it signed verify until they
    expire. The private key is sealed with the secret key."""

    __tablename__ = "signing_key"
    id: Optional[int] = Field(default=None, primary_key=True)
    kid: str = Field(max_length=64, unique=True)
    sealed_private_key: str = Field(sa_column=Column(sa.Text, nullable=False))
    public_jwk: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = created_column()
    retired_at: Optional[datetime] = Field(default=None, sa_column=Column(sa.DateTime(timezone=True), nullable=True),
                                           description="set by rotation: signs no more; published until then + token lifetime")


class RefreshToken(SQLModel, table=True):
    """A refresh token of an MG2 session (SSN-3): only its SHA-256 is kept. Using one replaces it with the next
    of the same family; using a replaced one again revokes the whole family (reuse detection)."""

    __tablename__ = "refresh_token"
    id: Optional[int] = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenant.id", index=True)
    registration_id: int = Field(foreign_key="registration.id", index=True)
    family: str = Field(max_length=64, index=True)
    token_hash: str = Field(max_length=64, unique=True)
    session_started_at: datetime = Field(sa_column=Column(sa.DateTime(timezone=True), nullable=False))
    created_at: datetime = created_column()
    used_at: Optional[datetime] = Field(default=None, sa_column=Column(sa.DateTime(timezone=True), nullable=True))
    revoked_at: Optional[datetime] = Field(default=None, sa_column=Column(sa.DateTime(timezone=True), nullable=True))


# -- invitations (INV) -------------------------------------------------------------------------------
class Invitation(SQLModel, table=True):
    """An OWNER's (the host's) invitation of an e-mail address to join a subscription as GUEST (INV-1). PENDING
    until accepted (a link), cancelled, or past `expires_at`; pending ones count as links (INV-3)."""

    __table_args__ = (sa.Index("ix_invitation_subscription", "tenant_id", "subscription_id", "state"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenant.id")
    subscription_id: str = Field(max_length=64)
    host_crid: str = Field(max_length=128, description="HostUserCRID (INV-1)")
    email: str = Field(max_length=320)
    first_name: Optional[str] = Field(default=None, max_length=100)
    last_name: Optional[str] = Field(default=None, max_length=100)
    invitation_metadata: dict = Field(default_factory=dict, sa_column=Column("metadata", JSON, nullable=False))
    state: str = Field(default="PENDING", max_length=16, description="PENDING, ACCEPTED or CANCELLED")
    expires_at: datetime = Field(sa_column=Column(sa.DateTime(timezone=True), nullable=False))
    accepted_crid: Optional[str] = Field(default=None, max_length=128)
    created_at: datetime = created_column()
    updated_at: datetime = created_column()
