"""The NavigaPay emulator's in-memory state and the rules a real gateway enforces.

Every store method is synchronous: a handler parses and validates its request first, then calls one
method that checks and mutates without awaiting, so concurrent requests on the event loop never
interleave inside an operation (an authorization is never captured twice, a refund never overshoots).

What is kept is what a PCI-scoped gateway would let its merchants see (PM-4): a profile holds the brand,
the last four digits and the expiry of a card, or the bank name, routing number and masked account; the
full card number and the CVV are checked and then dropped, never stored. The only thing derived from
the full number and kept is the test card's scripted outcome (approve, decline, insufficient funds).

Money is `Decimal` throughout (MNY-1), serialised as exact strings by the HTTP layer.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Callable, Iterable

CREDIT_CARD = "CREDIT_CARD"
BANK = "BANK"
PAYMENT_TYPES = (CREDIT_CARD, BANK)
CENT = Decimal("0.01")
STATEMENT_DESCRIPTOR_MAX = 22  # GW-3: what card networks print on a statement
CARD_NUMBER_MAX_DIGITS = 19  # GW-4
CARD_NUMBER_MIN_DIGITS = 12
CVV_MIN_DIGITS, CVV_MAX_DIGITS = 3, 4  # GW-4: four for AMEX

# Test cards with a scripted outcome; every other Luhn-valid card approves.
DECLINED_CARDS = {
    "4000000000000002": ("CARD_DECLINED", "The card was declined."),
    "4000000000009995": ("INSUFFICIENT_FUNDS", "The card has insufficient funds."),
}

# Transaction statuses, and the lower-case state each shows in the sandbox ledger.
AUTHORIZED, CAPTURED, VOIDED = "AUTHORIZED", "CAPTURED", "VOIDED"
REFUNDED, PARTIALLY_REFUNDED, DECLINED = "REFUNDED", "PARTIALLY_REFUNDED", "DECLINED"


class GatewayError(Exception):
    """A refusal answered with `status` and `{"code", "message", **extra}`."""

    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, **self.extra}


@dataclass(frozen=True)
class FieldError:
    field: str
    code: str
    message: str


# card and bank checks (GW-4) -----------------------------------------------------------------------
def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        n = int(char)
        if index % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def card_brand(digits: str) -> str | None:
    """The brand from the number's issuer prefix (IIN ranges); None when no supported network matches."""
    two, three, four, six = int(digits[:2]), int(digits[:3]), int(digits[:4]), int(digits[:6])
    if digits[0] == "4":
        return "VISA"
    if 51 <= two <= 55 or 2221 <= four <= 2720:
        return "MASTERCARD"
    if two in (34, 37):
        return "AMEX"
    if four == 6011 or two == 65 or 644 <= three <= 649 or 622126 <= six <= 622925:
        return "DISCOVER"
    if 300 <= three <= 305 or four == 3095 or two in (36, 38, 39):
        return "DINERS"
    return None


def aba_routing_valid(digits: str) -> bool:
    """The ABA routing-number checksum: weights 3, 7, 1 repeated, total a multiple of ten."""
    weights = (3, 7, 1) * 3
    return len(digits) == 9 and sum(int(d) * w for d, w in zip(digits, weights)) % 10 == 0


def _digits(value: str) -> str:
    # people type card numbers in groups; spaces and dashes are presentation, not data
    return re.sub(r"[\s-]", "", value)


def check_card(fields: dict[str, str], today: datetime) -> tuple[list[FieldError], dict[str, Any]]:
    """Validate a card form (GW-4) and return (errors, masked card). The full number and the CVV do not
    leave this function: the masked card carries brand, last4, expiry and the test outcome only."""
    errors: list[FieldError] = []
    number = _digits(fields.get("cardNumber", ""))
    brand = None
    if not number.isdigit() or not CARD_NUMBER_MIN_DIGITS <= len(number) <= CARD_NUMBER_MAX_DIGITS:
        errors.append(FieldError("cardNumber", "INVALID_CARD_NUMBER",
                                 f"The card number must have {CARD_NUMBER_MIN_DIGITS} to "
                                 f"{CARD_NUMBER_MAX_DIGITS} digits."))
    elif not luhn_valid(number):
        errors.append(FieldError("cardNumber", "INVALID_CARD_NUMBER", "The card number is not valid."))
    else:
        brand = card_brand(number)
        if brand is None:
            errors.append(FieldError("cardNumber", "CARD_BRAND_NOT_SUPPORTED", "This card network is not accepted."))
    cvv = fields.get("cvv", "").strip()
    if not cvv.isdigit() or not CVV_MIN_DIGITS <= len(cvv) <= CVV_MAX_DIGITS:
        errors.append(FieldError("cvv", "INVALID_CVV",
                                 f"The security code must have {CVV_MIN_DIGITS} or {CVV_MAX_DIGITS} digits."))
    expiry = fields.get("expiry", "").strip()
    match = re.fullmatch(r"(0[1-9]|1[0-2])/(\d{2})", expiry)
    if match is None:
        errors.append(FieldError("expiry", "INVALID_EXPIRY", "The expiry date must be MM/YY."))
    elif (2000 + int(match[2]), int(match[1])) < (today.year, today.month):
        # a card is valid through the last day of its expiry month
        errors.append(FieldError("expiry", "CARD_EXPIRED", "The card has expired."))
    name = fields.get("cardholderName", "").strip()
    if not name or len(name) > 100:
        errors.append(FieldError("cardholderName", "INVALID_NAME", "Enter the name on the card (at most 100 characters)."))
    if errors:
        return errors, {}
    outcome = DECLINED_CARDS.get(number)
    return [], {"brand": brand, "last4": number[-4:], "expiry": expiry, "holderName": name, "outcome": outcome}


def check_bank(fields: dict[str, str]) -> tuple[list[FieldError], dict[str, Any]]:
    errors: list[FieldError] = []
    routing = _digits(fields.get("routingNumber", ""))
    if not routing.isdigit() or not aba_routing_valid(routing):
        errors.append(FieldError("routingNumber", "INVALID_ROUTING_NUMBER", "The routing number is not valid."))
    account = _digits(fields.get("accountNumber", ""))
    if not account.isdigit() or not 4 <= len(account) <= 17:
        errors.append(FieldError("accountNumber", "INVALID_ACCOUNT_NUMBER", "The account number must have 4 to 17 digits."))
    bank_name = fields.get("bankName", "").strip()
    if not bank_name or len(bank_name) > 100:
        errors.append(FieldError("bankName", "INVALID_BANK_NAME", "Enter the bank's name (at most 100 characters)."))
    if errors:
        return errors, {}
    return [], {"bankName": bank_name, "routingNumber": routing, "accountMasked": "****" + account[-4:],
                "last4": account[-4:]}


# money (MNY-1, GW-2) -------------------------------------------------------------------------------
def parse_amount(value: Any, field: str) -> Decimal:
    """An amount > 0 with at most two decimals, from an exact decimal string (or a JSON number parsed
    as `Decimal`); never through float, so 2,147,483,648.01 stays exactly that."""
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        raise GatewayError(400, "INVALID_AMOUNT", f"{field}: must be a decimal string such as \"12.30\"")
    try:
        amount = Decimal(value.strip() if isinstance(value, str) else value)
    except InvalidOperation:
        raise GatewayError(400, "INVALID_AMOUNT", f"{field}: not a decimal number") from None
    if not amount.is_finite() or amount.as_tuple().exponent < -2:  # type: ignore[operator]
        raise GatewayError(400, "INVALID_AMOUNT", f"{field}: at most two decimal places")
    if amount <= 0:
        raise GatewayError(422, "INVALID_AMOUNT", f"{field}: must be greater than zero")
    try:
        return amount.quantize(CENT)
    except InvalidOperation:  # more digits than the decimal context holds: no real charge is that large
        raise GatewayError(400, "INVALID_AMOUNT", f"{field}: too large") from None


def fingerprint(method: str, path: str, payload: Any) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{method} {path} {canonical}".encode()).hexdigest()


@dataclass
class StoredAnswer:
    """What an idempotency key is bound to: the request it came with and the answer it got."""

    fingerprint: str
    status: int
    body: Any


class NavigaPayStore:
    """Sessions, profiles, transactions and idempotency keys of one emulated gateway.

    `clock` is replaceable so tests can pin "today" for card expiry.
    """

    def __init__(self, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.clock = clock
        self.reset()

    def reset(self) -> None:
        self.sessions: dict[str, dict[str, Any]] = {}
        self.profiles: dict[str, dict[str, Any]] = {}
        self.transactions: dict[str, dict[str, Any]] = {}
        self.idempotency: dict[str, StoredAnswer] = {}
        self.refused_brands: dict[str, set[str]] = {}
        self._sequence = itertools.count(1)

    def _id(self, prefix: str) -> str:
        # a counter keeps ids ordered in the ledger; the random tail keeps them unguessable like real ones
        return f"{prefix}_{next(self._sequence):08d}{secrets.token_hex(6)}"

    def _now(self) -> str:
        return self.clock().isoformat()

    # idempotency ---------------------------------------------------------------------------------
    def remembered(self, key: str, request_print: str) -> StoredAnswer | None:
        stored = self.idempotency.get(key)
        if stored is not None and stored.fingerprint != request_print:
            raise GatewayError(409, "IDEMPOTENCY_KEY_REUSED",
                               "this Idempotency-Key was already used with a different request")
        return stored

    def remember(self, key: str, request_print: str, status: int, body: Any) -> None:
        self.idempotency[key] = StoredAnswer(request_print, status, body)

    # merchants -----------------------------------------------------------------------------------
    def refuse_brands(self, merchant: str, brands: Iterable[str]) -> None:
        """Per-merchant card networks the gateway refuses at tokenization (e.g. DINERS, as PM-3 asks)."""
        self.refused_brands[merchant] = {b.upper() for b in brands}

    # sessions (GW-1) -----------------------------------------------------------------------------
    def start_session(self, merchant: str, subscription_id: str, payment_type: str, return_url: str | None,
                      customer_id: str | None) -> dict[str, Any]:
        session = {
            "sessionId": self._id("ses"), "groupId": self._id("grp"), "merchant": merchant,
            "subscriptionId": subscription_id, "paymentType": payment_type, "returnUrl": return_url,
            "customerId": customer_id, "profileId": None, "completed": False, "createdAt": self._now(),
        }
        self.sessions[session["sessionId"]] = session
        return session

    def session(self, session_id: str) -> dict[str, Any]:
        try:
            return self.sessions[session_id]
        except KeyError:
            raise GatewayError(404, "SESSION_NOT_FOUND", f"no session {session_id}") from None

    def tokenize(self, session_id: str, fields: dict[str, str]) -> tuple[list[FieldError], dict[str, Any] | None]:
        """Check the entered card or bank account and turn it into a profile bound to the session.
        Returns (errors, None) when the input is invalid, so the hosted page can show them."""
        session = self.session(session_id)
        if session["profileId"] is not None:
            raise GatewayError(409, "SESSION_ALREADY_TOKENIZED", "this session already produced a payment profile")
        if session["paymentType"] == CREDIT_CARD:
            errors, masked = check_card(fields, self.clock())
            if not errors and masked["brand"] in self.refused_brands.get(session["merchant"], ()):
                errors = [FieldError("cardNumber", "CARD_BRAND_NOT_SUPPORTED",
                                     f"{masked['brand']} cards are not accepted.")]
        else:
            errors, masked = check_bank(fields)
        if errors:
            return errors, None
        profile = {
            "profileId": self._id("prof"),
            "customerId": session["customerId"] or self._id("cus"),
            "merchant": session["merchant"], "paymentType": session["paymentType"],
            "brand": masked.get("brand"), "last4": masked["last4"], "expiry": masked.get("expiry"),
            "holderName": masked.get("holderName"), "bankName": masked.get("bankName"),
            "routingNumber": masked.get("routingNumber"), "accountMasked": masked.get("accountMasked"),
            "_outcome": masked.get("outcome"),
        }
        self.profiles[profile["profileId"]] = profile
        session["profileId"] = profile["profileId"]
        return [], profile

    def complete_session(self, session_id: str, profile_id: str, group_id: str, payment_type: str) -> dict[str, Any]:
        """GW-1: the consumer ends the session with what the hosted page posted back. Completing twice with
        the same data answers the same profile, so a retried completion is harmless."""
        session = self.session(session_id)
        if session["profileId"] is None:
            raise GatewayError(409, "SESSION_NOT_TOKENIZED", "no card or account has been entered in this session")
        if (profile_id, group_id, payment_type) != (session["profileId"], session["groupId"], session["paymentType"]):
            raise GatewayError(422, "SESSION_MISMATCH", "profileId, groupId or paymentType do not match the session")
        session["completed"] = True
        return public_profile(self.profiles[profile_id])

    # profiles (PM-4) -----------------------------------------------------------------------------
    def add_profile(self, record: dict[str, Any]) -> None:
        """Load an already-tokenized profile (demo data); loading the same id again replaces it."""
        payment_type = record["paymentType"]
        if payment_type not in PAYMENT_TYPES:
            raise ValueError(f"paymentType {payment_type!r}")
        last4 = record["last4"]
        account_masked = record.get("accountMasked") or ("****" + last4 if payment_type == BANK else None)
        self.profiles[record["profileId"]] = {
            "profileId": record["profileId"], "customerId": record["customerId"], "merchant": record["merchant"],
            "paymentType": payment_type, "brand": record.get("brand"), "last4": last4,
            "expiry": record.get("expiry"), "holderName": record.get("holderName"),
            "bankName": record.get("bankName"), "routingNumber": record.get("routingNumber"),
            "accountMasked": account_masked, "_outcome": None,
        }

    def profile(self, profile_id: str, merchant: str | None = None) -> dict[str, Any]:
        profile = self.profiles.get(profile_id)
        # another merchant's profile is answered exactly like a missing one (TEN-1)
        if profile is None or (merchant is not None and profile["merchant"] != merchant):
            raise GatewayError(404, "PROFILE_NOT_FOUND", f"no profile {profile_id}")
        return profile

    # transactions (GW-2, GW-3) -------------------------------------------------------------------
    def authorize(self, request: dict[str, Any], *, capture: bool) -> dict[str, Any]:
        """An authorization, or with `capture` a sale. A scripted decline is recorded (state declined) and
        raised as 402, so the ledger shows every attempt the gateway saw."""
        profile = self.profile(request["profileId"], request.get("merchant"))
        txn = {
            "transactionId": self._id("txn"), "kind": "SALE" if capture else "AUTHORIZATION",
            "status": AUTHORIZED, "merchant": profile["merchant"], "profileId": profile["profileId"],
            "customerId": profile["customerId"], "paymentType": profile["paymentType"],
            "amount": request["amount"], "capturedAmount": Decimal("0.00"), "refundedAmount": Decimal("0.00"),
            "currency": request["currency"], "statementDescriptor": request["statementDescriptor"],
            "reference": request["reference"], "settled": False, "declineCode": None, "refunds": [],
            "createdAt": self._now(), "updatedAt": self._now(),
        }
        self.transactions[txn["transactionId"]] = txn
        if profile["_outcome"] is not None:
            code, message = profile["_outcome"]
            txn.update(status=DECLINED, declineCode=code)
            raise GatewayError(402, code, message, transactionId=txn["transactionId"])
        if capture:
            txn.update(status=CAPTURED, capturedAmount=txn["amount"])
        return txn

    def transaction(self, transaction_id: str) -> dict[str, Any]:
        try:
            return self.transactions[transaction_id]
        except KeyError:
            raise GatewayError(404, "TRANSACTION_NOT_FOUND", f"no transaction {transaction_id}") from None

    def capture(self, transaction_id: str, amount: Decimal | None) -> dict[str, Any]:
        txn = self.transaction(transaction_id)
        if txn["status"] != AUTHORIZED:
            raise GatewayError(409, "INVALID_TRANSACTION_STATE",
                               f"only an authorized, uncaptured transaction can be captured (it is {txn['status']})")
        amount = txn["amount"] if amount is None else amount
        if amount > txn["amount"]:
            raise GatewayError(422, "AMOUNT_EXCEEDS_AUTHORIZED", f"{amount} is more than the authorized {txn['amount']}")
        txn.update(status=CAPTURED, capturedAmount=amount, updatedAt=self._now())
        return txn

    def void(self, transaction_id: str) -> dict[str, Any]:
        txn = self.transaction(transaction_id)
        if txn["status"] == CAPTURED and txn["settled"]:
            raise GatewayError(409, "TRANSACTION_SETTLED", "a settled transaction cannot be voided: refund it")
        if txn["status"] not in (AUTHORIZED, CAPTURED):
            raise GatewayError(409, "INVALID_TRANSACTION_STATE", f"a {txn['status']} transaction cannot be voided")
        txn.update(status=VOIDED, updatedAt=self._now())
        return txn

    def refund(self, transaction_id: str, amount: Decimal | None) -> dict[str, Any]:
        txn = self.transaction(transaction_id)
        if txn["status"] not in (CAPTURED, PARTIALLY_REFUNDED):
            raise GatewayError(409, "INVALID_TRANSACTION_STATE", f"a {txn['status']} transaction cannot be refunded")
        refundable = txn["capturedAmount"] - txn["refundedAmount"]
        amount = refundable if amount is None else amount
        if amount > refundable:
            raise GatewayError(422, "AMOUNT_EXCEEDS_REFUNDABLE", f"{amount} is more than the refundable {refundable}")
        txn["refundedAmount"] += amount
        txn["refunds"].append({"refundId": self._id("ref"), "amount": amount, "createdAt": self._now()})
        txn.update(status=REFUNDED if txn["refundedAmount"] == txn["capturedAmount"] else PARTIALLY_REFUNDED,
                   updatedAt=self._now())
        return txn

    def settle(self, transaction_ids: Iterable[str] | None = None) -> int:
        """The nightly batch: captured transactions become settled, after which only a refund undoes them."""
        wanted = None if transaction_ids is None else set(transaction_ids)
        settled = 0
        for txn in self.transactions.values():
            if txn["status"] == CAPTURED and not txn["settled"] and (wanted is None or txn["transactionId"] in wanted):
                txn["settled"] = True
                settled += 1
        return settled

    def by_reference(self, reference: str, merchant: str | None = None) -> list[dict[str, Any]]:
        return [t for t in self.transactions.values()
                if t["reference"] == reference and (merchant is None or t["merchant"] == merchant)]

    def ledger(self, merchant: str | None = None) -> list[dict[str, Any]]:
        return [{**public_transaction(t), "state": t["status"].lower()} for t in self.transactions.values()
                if merchant is None or t["merchant"] == merchant]


def public_profile(profile: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in profile.items() if not k.startswith("_")}


def public_transaction(txn: dict[str, Any]) -> dict[str, Any]:
    return {**txn, "refunds": [dict(r) for r in txn["refunds"]]}
