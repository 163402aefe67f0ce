"""What a subscription may do, and how it may be searched: pure rules, no I/O.

- PM-1: which payment methods each flow accepts per circulation system (`allowed_payment_methods`), used by
  the availabilities below and by the mutations that take a payment.
- RST-1: restart availability, TIP-1 (with PM-1, PM-2): one-time and recurring tip availability, EZ-3: eBill
  availability. Each answers with stable reason codes and messages, computed from the subscription's own
  facts and the tenant's circulation kind only, so a list of subscriptions costs no I/O for them.
- SUB-2, SUB-3: subscription search validation and postal-code masks.
- NOT-2: expiring subscriptions grouped by account and end date.

A rule violation raises `SubscriptionRuleError`, which names the argument at fault (`field`, a path such as
`["search", "postalCode"]`) so the GraphQL layer can turn it into a BAD_USER_INPUT error.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import Enum
from typing import Callable, Generic, Iterable, Mapping, Sequence, TypeVar

T = TypeVar("T")

NCS, MATRIX, CIRCPRO, SAXO = "NCS", "MATRIX", "CIRCPRO", "SAXO"
STOPPED_STATUSES = frozenset({"STOPPED", "PERMANENTLY_STOPPED"})
TRIAL = "TRIAL"


class SubscriptionRuleError(ValueError):
    """Input that breaks a subscription rule; `field` is the path of the argument at fault, `rule` the id."""

    def __init__(self, message: str, field: Sequence[str], rule: str) -> None:
        super().__init__(message)
        self.field = list(field)
        self.rule = rule


# -- PM-1: payment methods per flow and circulation system ------------------------------------------
class PaymentFlow(Enum):
    ONE_TIME_PAYMENT = "ONE_TIME_PAYMENT"
    AUTO_PAY_SIGN_UP = "AUTO_PAY_SIGN_UP"
    AUTO_PAY_UPDATE = "AUTO_PAY_UPDATE"
    RESTART = "RESTART"
    TIP = "TIP"


class PaymentMethodKind(Enum):
    CREDIT_CARD = "CREDIT_CARD"
    BANK = "BANK"


_CC = frozenset({PaymentMethodKind.CREDIT_CARD})
_CC_BANK = frozenset({PaymentMethodKind.CREDIT_CARD, PaymentMethodKind.BANK})
_NONE: frozenset[PaymentMethodKind] = frozenset()

# PM-1, as in domain.md: an empty set is N/A (the flow is refused for that system).
PAYMENT_METHODS_BY_FLOW: Mapping[PaymentFlow, Mapping[str, frozenset[PaymentMethodKind]]] = {
    PaymentFlow.ONE_TIME_PAYMENT: {NCS: _CC_BANK, SAXO: _CC_BANK, CIRCPRO: _CC, MATRIX: _CC},
    PaymentFlow.AUTO_PAY_SIGN_UP: {NCS: _CC_BANK, SAXO: _CC_BANK, CIRCPRO: _CC_BANK, MATRIX: _CC},
    PaymentFlow.AUTO_PAY_UPDATE: {NCS: _CC_BANK, SAXO: _CC_BANK, CIRCPRO: _CC_BANK, MATRIX: _CC},
    PaymentFlow.RESTART: {NCS: _CC_BANK, SAXO: _CC_BANK, CIRCPRO: _NONE, MATRIX: _CC},
    PaymentFlow.TIP: {NCS: _CC_BANK, SAXO: _NONE, CIRCPRO: _NONE, MATRIX: _NONE},
}
TIP_AND_DONATION_KINDS = frozenset({NCS, SAXO})  # PM-2


def allowed_payment_methods(flow: PaymentFlow, circulation_kind: str) -> frozenset[PaymentMethodKind]:
    """PM-1: the payment methods `flow` accepts on `circulation_kind`; empty when the flow is refused there
    (an unknown kind accepts nothing rather than everything)."""
    return PAYMENT_METHODS_BY_FLOW[flow].get(circulation_kind, _NONE)


def flow_supported(flow: PaymentFlow, circulation_kind: str) -> bool:
    return bool(allowed_payment_methods(flow, circulation_kind))


def tips_and_donations_accepted(circulation_kind: str) -> bool:
    """PM-2: tips and donations inside a payment, NCS and SAXO only."""
    return circulation_kind in TIP_AND_DONATION_KINDS


# -- availability answers ---------------------------------------------------------------------------
class ReasonCode(Enum):
    """Stable codes of why something is not available; clients switch on these, never on messages."""

    NOT_STOPPED = "NOT_STOPPED"
    TRIAL = "TRIAL"
    RESTART_SCHEDULED = "RESTART_SCHEDULED"
    NOT_SUPPORTED_BY_CIRCULATION_SYSTEM = "NOT_SUPPORTED_BY_CIRCULATION_SYSTEM"
    NOT_ON_AUTO_PAY = "NOT_ON_AUTO_PAY"
    DIGITAL = "DIGITAL"
    STOPPED = "STOPPED"
    ON_AUTO_PAY = "ON_AUTO_PAY"
    ALREADY_ON_EBILL = "ALREADY_ON_EBILL"


@dataclass(frozen=True)
class Reason:
    code: ReasonCode
    message: str


@dataclass(frozen=True)
class Availability:
    """`available` is true exactly when `reasons` is empty; every reason that applies is listed."""

    available: bool
    reasons: tuple[Reason, ...] = ()

    @classmethod
    def of(cls, reasons: Iterable[Reason]) -> "Availability":
        found = tuple(reasons)
        return cls(available=not found, reasons=found)


@dataclass(frozen=True)
class TipAvailability:
    one_time: Availability
    recurring: Availability


@dataclass(frozen=True)
class EbillAvailability:
    sign_up_allowed: bool
    manage_allowed: bool
    reason: Reason | None = None


@dataclass(frozen=True)
class SubscriptionFacts:
    """What the availability rules read from a subscription (its circulation record)."""

    status: str
    kind: str
    digital: bool
    auto_pay: bool
    ebill: bool
    restart_scheduled: bool = False

    @property
    def stopped(self) -> bool:
        return self.status in STOPPED_STATUSES


def _not_supported(circulation_kind: str, what: str) -> Reason:
    return Reason(ReasonCode.NOT_SUPPORTED_BY_CIRCULATION_SYSTEM,
                  f"The {circulation_kind} circulation system does not support {what}.")


def restart_availability(facts: SubscriptionFacts, circulation_kind: str) -> Availability:
    """RST-1: a restart is available only when the subscription is stopped, is not a TRIAL, has no restart
    scheduled already, and its circulation system allows restarts (PM-1)."""
    reasons = []
    if not flow_supported(PaymentFlow.RESTART, circulation_kind):
        reasons.append(_not_supported(circulation_kind, "restarts"))
    if not facts.stopped:
        reasons.append(Reason(ReasonCode.NOT_STOPPED, "Only a stopped subscription can be restarted."))
    if facts.kind == TRIAL:
        reasons.append(Reason(ReasonCode.TRIAL, "A trial subscription cannot be restarted."))
    if facts.restart_scheduled:
        reasons.append(Reason(ReasonCode.RESTART_SCHEDULED, "A restart is already scheduled."))
    return Availability.of(reasons)


def tip_availability(facts: SubscriptionFacts, circulation_kind: str) -> TipAvailability:
    """TIP-1 with PM-1: tips exist on NCS only. A one-time tip is refused for digital and stopped
    subscriptions (active, paused and in-grace ones may tip); a recurring tip needs auto-pay, which a
    stopped subscription cannot have."""
    unsupported = [] if flow_supported(PaymentFlow.TIP, circulation_kind) else [_not_supported(circulation_kind, "tips")]
    stopped = Reason(ReasonCode.STOPPED, "A stopped subscription cannot receive a tip.")
    one_time = list(unsupported)
    if facts.digital:
        one_time.append(Reason(ReasonCode.DIGITAL, "A one-time tip is not available for a digital subscription."))
    if facts.stopped:
        one_time.append(stopped)
    recurring = list(unsupported)
    if facts.stopped:
        recurring.append(stopped)
    if not facts.auto_pay:
        recurring.append(Reason(ReasonCode.NOT_ON_AUTO_PAY, "A recurring tip needs the subscription to be on auto-pay."))
    return TipAvailability(one_time=Availability.of(one_time), recurring=Availability.of(recurring))


def ebill_availability(facts: SubscriptionFacts) -> EbillAvailability:
    """EZ-3: eBill may be used when the subscription is not stopped and not on auto-pay. Sign-up is allowed
    when it may and is not on eBill yet; managing when it may and is on eBill. `reason` says why sign-up is
    not allowed: STOPPED or ON_AUTO_PAY (the validation error a sign-up gets), or ALREADY_ON_EBILL."""
    if facts.stopped:
        return EbillAvailability(False, False, Reason(ReasonCode.STOPPED,
                                                      "eBill is not available: the subscription is stopped."))
    if facts.auto_pay:
        return EbillAvailability(False, False, Reason(ReasonCode.ON_AUTO_PAY,
                                                      "eBill is not available: the subscription is on auto-pay."))
    if facts.ebill:
        return EbillAvailability(False, True, Reason(ReasonCode.ALREADY_ON_EBILL,
                                                     "The subscription is already on eBill."))
    return EbillAvailability(True, False, None)


# -- SUB-2, SUB-3: search ---------------------------------------------------------------------------
SEARCH_FIELDS = ("firstName", "lastName", "accountNumber", "email", "phone", "postalCode", "companyName")
EMPTY_SEARCH_MESSAGE = "Please enter a value in at least one of the input fields."
MAX_CRITERION_LENGTH = 100
DEFAULT_POSTAL_CODE_MASK = "99999"


def postal_code_matches_mask(postal_code: str, mask: str) -> bool:
    """SUB-3: `9` is a digit (0-9), `A` a letter (a-z, A-Z), `*` any character; any other mask character
    must appear as is (e.g. the space of `A9A 9A9`). Lengths must be equal."""
    if len(postal_code) != len(mask):
        return False
    for char, slot in zip(postal_code, mask):
        if slot == "9":
            if char not in "0123456789":
                return False
        elif slot == "A":
            if not (char.isascii() and char.isalpha()):
                return False
        elif slot != "*" and char != slot:
            return False
    return True


def validate_subscription_search(criteria: Mapping[str, str | None], postal_code_mask: str | None,
                                 field_prefix: Sequence[str] = ("search",)) -> dict[str, str]:
    """SUB-2: the criteria with blanks dropped and values trimmed; at least one must remain. SUB-3: a postal
    code must match the tenant's `PostalCodeMask`. A phone must contain a digit (phones compare by digits).
    Returns the criteria to send upstream, keyed by their camelCase names."""
    prefix = list(field_prefix)
    unknown = sorted(set(criteria) - set(SEARCH_FIELDS))
    if unknown:
        raise SubscriptionRuleError(f"`{unknown[0]}` is not a search criterion", prefix + [unknown[0]], "SUB-2")
    cleaned: dict[str, str] = {}
    for name in SEARCH_FIELDS:
        value = criteria.get(name)
        if value is None or not value.strip():
            continue
        value = value.strip()
        if len(value) > MAX_CRITERION_LENGTH:
            raise SubscriptionRuleError(f"`{name}` must be at most {MAX_CRITERION_LENGTH} characters",
                                        prefix + [name], "SUB-2")
        cleaned[name] = value
    if not cleaned:
        raise SubscriptionRuleError(EMPTY_SEARCH_MESSAGE, prefix, "SUB-2")
    if "phone" in cleaned and not any(char in "0123456789" for char in cleaned["phone"]):
        raise SubscriptionRuleError("`phone` must contain at least one digit", prefix + ["phone"], "SUB-2")
    mask = (postal_code_mask or "").strip() or DEFAULT_POSTAL_CODE_MASK
    if "postalCode" in cleaned and not postal_code_matches_mask(cleaned["postalCode"], mask):
        raise SubscriptionRuleError(f"`postalCode` must match the postal code format {mask} "
                                    "(9 a digit, A a letter, * any character)", prefix + ["postalCode"], "SUB-3")
    return cleaned


# -- NOT-2: expiring subscriptions --------------------------------------------------------------------
MIN_DAYS_AHEAD = 1
MAX_DAYS_AHEAD = 90


def expiry_window(today: date, days_ahead: int, field: Sequence[str] = ("daysAhead",)) -> tuple[date, date]:
    """NOT-2: the end dates announced `days_ahead` days ahead: from `today` (the tenant's) to
    `today + days_ahead`, both inclusive. `days_ahead` is 1..90."""
    if isinstance(days_ahead, bool) or not MIN_DAYS_AHEAD <= days_ahead <= MAX_DAYS_AHEAD:
        raise SubscriptionRuleError(f"`daysAhead` must be between {MIN_DAYS_AHEAD} and {MAX_DAYS_AHEAD}",
                                    field, "NOT-2")
    return today, today + timedelta(days=days_ahead)


@dataclass(frozen=True)
class ExpiringGroup(Generic[T]):
    account_number: str
    end_date: date
    items: tuple[T, ...]


def group_expiring(items: Iterable[T], account_number: Callable[[T], str],
                   end_date: Callable[[T], date]) -> list[ExpiringGroup[T]]:
    """NOT-2: one group per (account number, end date), ordered by end date then account number; items
    keep their order inside a group."""
    groups: dict[tuple[date, str], list[T]] = {}
    for item in items:
        groups.setdefault((end_date(item), account_number(item)), []).append(item)
    return [ExpiringGroup(account_number=account, end_date=end, items=tuple(members))
            for (end, account), members in sorted(groups.items(), key=lambda entry: entry[0])]
