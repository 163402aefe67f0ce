"""The circulation emulator's in-memory state and the rules a real circulation system enforces.

Everything here is synchronous: a handler reads and validates its request first, then calls one store
method that checks and mutates without awaiting, so concurrent requests on the event loop can never
interleave inside an operation (no double application of a payment, no lost balance update).

Money is `Decimal` throughout (MNY-1); records keep the demo shape (`sandbox.demo`) except that money
fields hold `Decimal`s, serialised back to exact strings by the HTTP layer.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, Callable, Iterable
from zoneinfo import ZoneInfo

from sandbox.circulation.search import SearchIndex
from sandbox.circulation.statements import statement_pdf, statements as bill_statements

CC = "CREDIT_CARD"
BANK = "BANK"
STOPPED_STATUSES = frozenset({"STOPPED", "PERMANENTLY_STOPPED"})
ZERO = Decimal("0.00")
CENT = Decimal("0.01")

# PM-1: payment types accepted per flow and circulation system; an empty set is N/A (flow refused).
FLOW_PAYMENT_TYPES: dict[str, dict[str, frozenset[str]]] = {
    "payment": {"NCS": frozenset({CC, BANK}), "SAXO": frozenset({CC, BANK}),
                "CIRCPRO": frozenset({CC}), "MATRIX": frozenset({CC})},
    "autopay_signup": {"NCS": frozenset({CC, BANK}), "SAXO": frozenset({CC, BANK}),
                       "CIRCPRO": frozenset({CC, BANK}), "MATRIX": frozenset({CC})},
    "autopay_update": {"NCS": frozenset({CC, BANK}), "SAXO": frozenset({CC, BANK}),
                       "CIRCPRO": frozenset({CC, BANK}), "MATRIX": frozenset({CC})},
    "restart": {"NCS": frozenset({CC, BANK}), "SAXO": frozenset({CC, BANK}),
                "CIRCPRO": frozenset(), "MATRIX": frozenset({CC})},
    "tip": {"NCS": frozenset({CC, BANK}), "SAXO": frozenset(), "CIRCPRO": frozenset(), "MATRIX": frozenset()},
}
TIP_AND_DONATION_KINDS = frozenset({"NCS", "SAXO"})  # PM-2
FUTURE_RESTART_KINDS = frozenset({"MATRIX", "CIRCPRO"})  # RST-2
MONEY_KEYS = ("rate", "tax", "otherCosts", "amount")  # money fields of a billing option
# STP-1: the window of start (and restart) dates the circulation system offers for a temporary stop, counted
# from today in the paper's time zone: delivery of today (and, for MATRIX/SAXO, tomorrow) is already planned.
TEMPORARY_STOP_LEAD_DAYS = {"NCS": 1, "CIRCPRO": 1, "MATRIX": 2, "SAXO": 2}
TEMPORARY_STOP_WINDOW_DAYS = 90
# CMP-1: delivery-complaint categories (the tenant's list, as the circulation system keeps it)
COMPLAINT_CATEGORIES = (
    ("MISSED", "Paper not delivered"), ("WET", "Wet paper"), ("DAMAGED", "Damaged paper"),
    ("LATE", "Delivered late"), ("WRONG_ADDRESS", "Delivered to the wrong address"),
)
# STP-5: the reasons a subscriber may give for stopping (the tenant's stop-reason list)
STOP_REASONS = (
    ("PRICE", "Too expensive"), ("MOVING", "Moving away"), ("NO_TIME", "No time to read"),
    ("DELIVERY", "Delivery problems"), ("DIGITAL_ONLY", "Reads online only"), ("DECEASED", "Subscriber deceased"),
    ("OTHER", "Another reason"),
)
# EZ-4: the current plan as each circulation system names its fields (canonical name → the kind's)
_PLAN_KEYS = ("term", "length", "lengthUnit", "paidThroughDate", "rate", "tax", "otherCosts", "amount", "autoRenew",
              "balance")
PLAN_FIELDS: dict[str, dict[str, str]] = {
    "NCS": {k: k for k in _PLAN_KEYS},
    "MATRIX": dict(zip(_PLAN_KEYS, ("termCode", "termLength", "termUnit", "paidThru", "rateAmount", "taxAmount",
                                    "otherCharges", "totalAmount", "autoRenew", "accountBalance"))),
    "CIRCPRO": {k: k[0].upper() + k[1:] for k in _PLAN_KEYS},
    "SAXO": dict(zip(_PLAN_KEYS, ("term", "periodLength", "periodUnit", "expiryDate", "price", "vat", "fees", "total",
                                  "renewAutomatically", "balance"))),
}
SEARCH_FIELDS = ("firstName", "lastName", "accountNumber", "email", "phone", "postalCode", "companyName")
# ADR-4: an NCS comp-subscription move may carry its billing method and rate code (both or neither: papergraph sends
# them when the tenant's `Flow.AddressMove` is RealTime, NCS's AddMove accepts a comp move without them and keeps the
# subscription's own); the other kinds, and NCS moves of billable subscriptions, have no such fields and refuse them.
MOVE_BILLING_KINDS = frozenset({"NCS"})
ADDRESS_FIELDS = ("houseNumber", "streetName", "city", "postalCode", "country")
LEVEL_FIELDS = ("levelDesignator", "levelNumber")  # ADR-4: Australian level from address standardization
DETAIL_FIELDS = ("firstName", "lastName", "companyName", "phones")


class CirculationError(Exception):
    """A refusal the circulation system answers with `status` and `{"code", "message"}`."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def to_money(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(CENT)


@dataclass
class Paper:
    code: str
    kind: str
    currency: str
    time_zone: str
    subscriptions: dict[str, dict[str, Any]] = field(default_factory=dict)
    index: SearchIndex = field(default_factory=SearchIndex)  # SUB-2
    scheduled_moves: dict[str, dict[str, Any]] = field(default_factory=dict)  # subscription id → its pending move
    pending_downgrades: set[str] = field(default_factory=set)  # ids with a scheduledDowngrade (STP-4)

    def today(self, now: datetime) -> date:
        return now.astimezone(ZoneInfo(self.time_zone)).date()

    def public(self) -> dict[str, str]:
        return {"code": self.code, "kind": self.kind, "currency": self.currency, "timeZone": self.time_zone}


@dataclass
class StoredAnswer:
    """What an idempotency key is bound to: the request it came with and the answer it got."""

    fingerprint: str
    status: int
    body: Any


class CirculationStore:
    """Papers (tenants), their subscriptions, the ledger of applied operations and idempotency keys.

    `clock` is replaceable so tests can pin "today" in a paper's time zone (RST-2).
    """

    def __init__(self, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.clock = clock
        self.papers: dict[str, Paper] = {}
        self.ledger: list[dict[str, Any]] = []
        self.idempotency: dict[tuple[str, str], StoredAnswer] = {}
        self._transaction_seq = itertools.count(1)
        self._start_seq = itertools.count(1)
        self._stop_seq = itertools.count(1)
        self._complaint_seq = itertools.count(1)
        self._move_seq = itertools.count(1)

    # loading ---------------------------------------------------------------------------------------
    def reset(self) -> None:
        self.papers.clear()
        self.ledger.clear()
        self.idempotency.clear()

    def add_paper(self, code: str, kind: str, currency: str, time_zone: str) -> Paper:
        if kind not in FLOW_PAYMENT_TYPES["payment"]:
            raise CirculationError(400, "INVALID_REQUEST", f"papers: unknown circulation kind {kind!r}")
        ZoneInfo(time_zone)  # fail at load time, not at the first restart
        existing = self.papers.get(code)
        if existing:
            existing.kind, existing.currency, existing.time_zone = kind, currency, time_zone
            return existing
        paper = self.papers[code] = Paper(code, kind, currency, time_zone)
        return paper

    def add_subscriptions(self, records: Iterable[dict[str, Any]], *, owned: bool = False) -> int:
        """Insert or replace records (demo shape). All are checked before any is stored. `owned`: the records are
        the store's to keep as they are (just parsed from a request body), so they are not copied first."""
        prepared = []
        for record in records:
            paper = self.papers.get(record.get("paperCode"))
            if paper is None or not record.get("id"):
                raise CirculationError(400, "INVALID_REQUEST",
                                       f"subscriptions: record {record.get('id')!r} has no id or an unknown paperCode")
            prepared.append((paper, _internal(record, copy=not owned)))
        for paper, record in prepared:
            paper.subscriptions[record["id"]] = record
            paper.index.invalidate()
            pending = next((m for m in record["moves"] if m.get("status") == "SCHEDULED"), None)
            if pending is not None:
                paper.scheduled_moves[record["id"]] = pending
            else:
                paper.scheduled_moves.pop(record["id"], None)
            if record["scheduledDowngrade"]:
                paper.pending_downgrades.add(record["id"])
        return len(prepared)

    # reads -----------------------------------------------------------------------------------------
    def paper(self, code: str) -> Paper:
        paper = self.papers.get(code)
        if paper is None:
            raise CirculationError(404, "UNKNOWN_PAPER", f"no paper {code!r}")
        return paper

    @staticmethod
    def subscription(paper: Paper, subscription_id: str) -> dict[str, Any]:
        # Lookups go through the paper's own dict: another paper's subscription is simply not found (TEN-1).
        record = paper.subscriptions.get(subscription_id)
        if record is None:
            raise CirculationError(404, "SUBSCRIPTION_NOT_FOUND", f"no subscription {subscription_id!r}")
        return record

    @staticmethod
    def search(paper: Paper, criteria: dict[str, str]) -> list[dict[str, Any]]:
        """SUB-2: every given criterion must match, case-insensitively: names and company by prefix, phones by
        digits with or without the country code, the rest exactly (`sandbox.circulation.search`); by id."""
        if paper.index.stale:
            paper.index.rebuild(paper.subscriptions.values())
        return [paper.subscriptions[i] for i in paper.index.ids(criteria)]

    @staticmethod
    def expiring(paper: Paper, start: date, end: date) -> list[dict[str, Any]]:
        """NOT-2: subscriptions still running whose end date falls in [start, end], by account then id."""
        found = [r for r in paper.subscriptions.values()
                 if r["status"] not in STOPPED_STATUSES and r.get("endDate")
                 and start <= date.fromisoformat(r["endDate"]) <= end]
        return sorted(found, key=lambda r: (r["accountNumber"], r["id"]))

    def transactions(self, paper: Paper, subscription_id: str) -> list[dict[str, Any]]:
        self.subscription(paper, subscription_id)
        return [e for e in self.ledger if e["paperCode"] == paper.code and e["subscriptionId"] == subscription_id]

    # idempotency -----------------------------------------------------------------------------------
    def remembered(self, paper: Paper, key: str, fingerprint: str) -> StoredAnswer | None:
        stored = self.idempotency.get((paper.code, key))
        if stored is not None and stored.fingerprint != fingerprint:
            raise CirculationError(409, "IDEMPOTENCY_KEY_REUSED",
                                   "this Idempotency-Key was already used with a different request")
        return stored

    def remember(self, paper: Paper, key: str, fingerprint: str, status: int, body: Any) -> None:
        self.idempotency[(paper.code, key)] = StoredAnswer(fingerprint, status, body)

    # operations ------------------------------------------------------------------------------------
    def apply_payment(self, paper: Paper, subscription_id: str, p: dict[str, Any]) -> dict[str, Any]:
        record = self.subscription(paper, subscription_id)
        _require_payment_type(paper, "payment", p["paymentType"])
        if record["status"] in STOPPED_STATUSES:
            raise CirculationError(422, "SUBSCRIPTION_STOPPED", "a stopped subscription is paid through a restart")
        _require_tip_and_donation_allowed(paper, p["tip"], p["donation"])
        _require_fees_on_card(p)
        if p["activationFee"] and paper.kind != "NCS":
            raise CirculationError(422, "ACTIVATION_FEE_NOT_SUPPORTED", "an activation fee applies to NCS only (PAY-2)")
        before = record["balance"]
        if p["optionTerm"] is None:
            # a payment of the outstanding balance, not of an option (EZ-1: the debt paid before auto-pay)
            if p["tip"] or p["donation"] or p["activationFee"]:
                raise CirculationError(400, "INVALID_REQUEST", "optionTerm: required with a tip, donation or fee")
            if p["amount"] > -before:
                raise CirculationError(422, "INVALID_AMOUNT", f"amount: more than the outstanding balance ({-before})")
            option = {"term": None, "amount": p["amount"]}
        else:
            option = _billing_option(record, p["optionTerm"], p["amount"])
        # PAY-2: the activation fee is charged but is not part of the amount credited to the subscription.
        record["balance"] = before + option["amount"]
        entry = self._record("PAYMENT", paper, record, before, {
            "amount": option["amount"], "tip": p["tip"], "donation": p["donation"],
            "activationFee": p["activationFee"], "processingFee": p["processingFee"],
            "processingFeeTax": p["processingFeeTax"],
            "charged": option["amount"] + p["tip"] + p["donation"] + p["activationFee"] + p["processingFee"]
            + p["processingFeeTax"],
            "paymentType": p["paymentType"], "gatewayTransactionId": p["gatewayTransactionId"],
            "optionTerm": option["term"],
        })
        return {"transactionId": entry["transactionId"], "subscription": record}

    def restart(self, paper: Paper, subscription_id: str, r: dict[str, Any]) -> dict[str, Any]:
        record = self.subscription(paper, subscription_id)
        # RST-1
        if not FLOW_PAYMENT_TYPES["restart"][paper.kind]:
            raise CirculationError(422, "RESTART_NOT_AVAILABLE", f"{paper.kind} does not support restarts (PM-1)")
        if record["status"] not in STOPPED_STATUSES:
            raise CirculationError(422, "RESTART_NOT_AVAILABLE", "only a stopped subscription can be restarted")
        if record["kind"] == "TRIAL":
            raise CirculationError(422, "RESTART_NOT_AVAILABLE", "a trial subscription cannot be restarted")
        if record.get("restartScheduled"):
            raise CirculationError(422, "RESTART_NOT_AVAILABLE", "a restart is already scheduled")
        # RST-2
        today = paper.today(self.clock())
        restart_date = r["restartDate"] or today
        if restart_date < today:
            raise CirculationError(422, "INVALID_RESTART_DATE", f"restartDate is before today ({today})")
        if restart_date > today and paper.kind not in FUTURE_RESTART_KINDS:
            raise CirculationError(422, "INVALID_RESTART_DATE", f"{paper.kind} restarts only today ({today})")
        _require_tip_and_donation_allowed(paper, r["tip"], r["donation"])
        option = _billing_option(record, r["optionTerm"], r["amount"])
        # RST-3: a debt is always collected; a credit only when asked for and not after a permanent stop.
        before = record["balance"]
        credit_usable = r["applyCredit"] and record["status"] != "PERMANENTLY_STOPPED"
        usable_credit = before if before > 0 and credit_usable else ZERO
        debt = -before if before < 0 else ZERO
        cost = option["amount"] + r["tip"] + r["donation"]
        due = max(cost + debt - usable_credit, ZERO)
        if due and r["paymentType"] is None:
            raise CirculationError(422, "PAYMENT_REQUIRED",
                                   f"{due} is due: paymentType and gatewayTransactionId are needed")
        if not due and r["paymentType"] is not None:
            # RST-4: nothing is due, so a charge made for this restart would be money taken for nothing.
            raise CirculationError(422, "NO_PAYMENT_DUE", "the credit balance covers the restart: send no payment")
        if r["paymentType"] is not None:
            _require_payment_type(paper, "restart", r["paymentType"])
            _require_fees_on_card(r)
        elif r["processingFee"] or r["processingFeeTax"]:
            raise CirculationError(422, "NO_PAYMENT_DUE", "no payment, so no processing fee")
        # Whatever the customer paid plus the balance, less what the restart costs, stays on the account.
        record["balance"] = before + due - cost
        record["status"] = "ACTIVE"  # RST-2: active at once, even for a future date
        record["restartScheduled"] = False
        record.pop("stopDate", None)
        record["endDate"] = _add_term(restart_date, option).isoformat()
        entry = self._record("RESTART", paper, record, before, {
            "amount": option["amount"], "tip": r["tip"], "donation": r["donation"],
            "charged": due + r["processingFee"] + r["processingFeeTax"], "processingFee": r["processingFee"],
            "processingFeeTax": r["processingFeeTax"],
            "creditApplied": min(usable_credit, cost + debt), "paymentType": r["paymentType"],
            "gatewayTransactionId": r["gatewayTransactionId"], "optionTerm": option["term"],
            "restartDate": restart_date.isoformat(), "reasonCode": r["reasonCode"], "sourceCode": r["sourceCode"],
        })
        return {"transactionId": entry["transactionId"], "charged": entry["charged"], "subscription": record}

    def set_auto_pay(self, paper: Paper, subscription_id: str, a: dict[str, Any], *, sign_up: bool) -> dict[str, Any]:
        record = self.subscription(paper, subscription_id)
        _require_payment_type(paper, "autopay_signup" if sign_up else "autopay_update", a["paymentType"])
        if record["status"] in STOPPED_STATUSES:
            raise CirculationError(422, "SUBSCRIPTION_STOPPED", "a stopped subscription cannot be on auto-pay")
        if sign_up and record["autoPay"]:
            raise CirculationError(409, "ALREADY_ON_AUTO_PAY", "the subscription is already on auto-pay")
        if not sign_up and not record["autoPay"]:
            raise CirculationError(409, "NOT_ON_AUTO_PAY", "the subscription is not on auto-pay")
        _require_tip_and_donation_allowed(paper, a["tip"], a["donation"])
        option = next((o for o in record["billingOptions"]
                       if o["term"] == a["term"] and o["length"] == a["length"]), None)
        if option is None:
            raise CirculationError(422, "INVALID_OPTION", "term and length match none of the billing options (EZ-2)")
        record["autoPay"] = True
        record["ebill"] = False  # EZ-3: auto-pay and eBill exclude each other
        record["autoPayPlan"] = {k: a[k] for k in ("paymentType", "term", "length", "tip", "donation")}
        for o in record["billingOptions"]:
            o["autoRenew"] = True
        entry = self._record("AUTOPAY_SIGNUP" if sign_up else "AUTOPAY_UPDATE", paper, record, record["balance"], {
            "paymentType": a["paymentType"], "optionTerm": a["term"], "tip": a["tip"], "donation": a["donation"],
            "paymentToken": a["paymentToken"],
        })
        return {"transactionId": entry["transactionId"], "subscription": record}

    def add_tip(self, paper: Paper, subscription_id: str, t: dict[str, Any]) -> dict[str, Any]:
        record = self.subscription(paper, subscription_id)
        _require_payment_type(paper, "tip", t["paymentType"])
        if t["recurring"]:
            if not record["autoPay"]:
                raise CirculationError(422, "TIP_NOT_ALLOWED", "a recurring tip needs auto-pay (TIP-1)")
            record["autoPayPlan"] = {**(record.get("autoPayPlan") or {}), "tip": t["amount"]}
        else:
            if record["digital"] or record["status"] in STOPPED_STATUSES:
                raise CirculationError(422, "TIP_NOT_ALLOWED",
                                       "a one-time tip is refused for digital and stopped subscriptions (TIP-1)")
            if t["gatewayTransactionId"] is None:
                raise CirculationError(400, "INVALID_REQUEST", "gatewayTransactionId: required for a one-time tip")
        _require_fees_on_card(t)
        if t["recurring"] and (t["processingFee"] or t["processingFeeTax"]):
            raise CirculationError(422, "INVALID_REQUEST", "processingFee: a recurring tip charges nothing now (FEE-4)")
        charged = ZERO if t["recurring"] else t["amount"] + t["processingFee"] + t["processingFeeTax"]
        entry = self._record("TIP", paper, record, record["balance"], {
            "tip": t["amount"], "recurring": t["recurring"], "charged": charged,
            "processingFee": t["processingFee"], "processingFeeTax": t["processingFeeTax"],
            "paymentType": t["paymentType"], "gatewayTransactionId": t["gatewayTransactionId"],
        })
        return {"transactionId": entry["transactionId"], "subscription": record}

    def cancel(self, paper: Paper, subscription_id: str, reason: str) -> dict[str, Any]:
        record = self.subscription(paper, subscription_id)
        # SUB-4: an in-grace subscription may be cancelled whatever its end date, so no date check here.
        if record["status"] in STOPPED_STATUSES:
            raise CirculationError(409, "ALREADY_STOPPED", "the subscription is already stopped")
        today = paper.today(self.clock())
        record["status"] = "STOPPED"
        record["stopDate"] = today.isoformat()  # the day it stopped, paper time (BUY-7: "stopped recently")
        record["autoPay"] = record["ebill"] = False
        record["autoPayPlan"] = None
        record["scheduledDowngrade"] = None  # STP-4: a cancelled subscription never renews, so never downgrades
        paper.pending_downgrades.discard(record["id"])
        if record.get("endDate") and date.fromisoformat(record["endDate"]) > today:
            record["endDate"] = today.isoformat()
        entry = self._record("CANCEL", paper, record, record["balance"], {"reason": reason})
        return {"transactionId": entry["transactionId"], "subscription": record}

    # downgrades (STP-4) -------------------------------------------------------------------------------
    def schedule_downgrade(self, paper: Paper, subscription_id: str, d: dict[str, Any]) -> dict[str, Any]:
        """Record a downgrade to another product at a lower rate, applied at the next renewal (every kind)."""
        record = self.subscription(paper, subscription_id)
        if record["status"] in STOPPED_STATUSES:
            raise CirculationError(422, "SUBSCRIPTION_STOPPED", "a stopped subscription does not renew")
        if str(d["productCode"]) == str(record.get("productCode")):
            raise CirculationError(422, "SAME_PRODUCT", "productCode: the subscription already has this product")
        if record.get("scheduledDowngrade"):
            raise CirculationError(409, "DOWNGRADE_ALREADY_SCHEDULED", "a downgrade is already scheduled")
        current = [o["rate"] for o in record["billingOptions"]]
        if current and d["rate"] >= min(current):
            raise CirculationError(422, "NOT_A_DOWNGRADE", f"rate: not lower than the current rate ({min(current)})")
        today = paper.today(self.clock())
        end = date.fromisoformat(record["endDate"]) if record.get("endDate") else None
        effective = end if end is not None and end > today else today + timedelta(days=1)
        downgrade = {"productCode": str(d["productCode"]), "term": d["term"], "length": d["length"],
                     "lengthUnit": d["lengthUnit"], "rate": d["rate"], "tax": d["tax"], "reason": d["reason"],
                     "effectiveDate": effective.isoformat()}
        record["scheduledDowngrade"] = downgrade
        paper.pending_downgrades.add(record["id"])
        entry = self._record("DOWNGRADE", paper, record, record["balance"], {"downgrade": dict(downgrade)})
        return {"transactionId": entry["transactionId"], "downgrade": downgrade}

    def apply_due_downgrades(self, paper: Paper) -> None:
        """The renewal: a scheduled downgrade whose day has come replaces the product and its billing options."""
        if not paper.pending_downgrades:
            return
        today = paper.today(self.clock())
        for subscription_id in sorted(paper.pending_downgrades):
            record = paper.subscriptions.get(subscription_id)
            downgrade = (record or {}).get("scheduledDowngrade")
            if record is None or not downgrade:
                paper.pending_downgrades.discard(subscription_id)
                continue
            if date.fromisoformat(downgrade["effectiveDate"]) > today:
                continue
            auto_renew = any(o.get("autoRenew") for o in record["billingOptions"])
            record["productCode"] = downgrade["productCode"]
            record["billingOptions"] = [{
                "term": downgrade["term"], "length": downgrade["length"], "lengthUnit": downgrade["lengthUnit"],
                "rate": downgrade["rate"], "tax": downgrade["tax"], "otherCosts": ZERO,
                "amount": downgrade["rate"] + downgrade["tax"], "autoRenew": auto_renew}]
            record["scheduledDowngrade"] = None
            paper.pending_downgrades.discard(subscription_id)
            self._record("DOWNGRADE_APPLIED", paper, record, record["balance"], {"downgrade": dict(downgrade)})

    def cancel_auto_pay(self, paper: Paper, subscription_id: str) -> dict[str, Any]:
        """EZ-5: auto-pay ends with its recurring tip and donation; the subscription itself goes on (it renews
        by bill from now on)."""
        record = self.subscription(paper, subscription_id)
        if not record["autoPay"]:
            raise CirculationError(409, "NOT_ON_AUTO_PAY", "the subscription is not on auto-pay")
        plan = record.get("autoPayPlan") or {}
        record["autoPay"] = False
        record["autoPayPlan"] = None
        for o in record["billingOptions"]:
            o["autoRenew"] = False
        entry = self._record("AUTOPAY_CANCEL", paper, record, record["balance"], {
            "optionTerm": plan.get("term"), "tip": plan.get("tip", ZERO), "donation": plan.get("donation", ZERO)})
        return {"transactionId": entry["transactionId"], "subscription": record}

    def sign_up_ebill(self, paper: Paper, subscription_id: str, email: str) -> dict[str, Any]:
        """EZ-3, EBL-1, EBL-2: bills go by e-mail to `email` from now on."""
        record = self.subscription(paper, subscription_id)
        if record["status"] in STOPPED_STATUSES or record["autoPay"]:
            reason = "stopped" if record["status"] in STOPPED_STATUSES else "on auto-pay"
            raise CirculationError(422, "EBILL_NOT_AVAILABLE", f"eBill is not available: the subscription is {reason}")
        if record["ebill"]:
            raise CirculationError(409, "ALREADY_ON_EBILL", "the subscription is already on eBill")
        record["ebill"], record["ebillEmail"] = True, email
        entry = self._record("EBILL_SIGNUP", paper, record, record["balance"], {"email": email})
        return {"transactionId": entry["transactionId"], "subscription": record}

    def sign_out_ebill(self, paper: Paper, subscription_id: str) -> dict[str, Any]:
        record = self.subscription(paper, subscription_id)
        if not record["ebill"]:
            raise CirculationError(409, "NOT_ON_EBILL", "the subscription is not on eBill")
        record["ebill"], record["ebillEmail"] = False, None
        entry = self._record("EBILL_SIGNOUT", paper, record, record["balance"], {})
        return {"transactionId": entry["transactionId"], "subscription": record}

    def current_plan(self, paper: Paper, subscription_id: str) -> dict[str, Any]:
        """EZ-4: the plan the subscription is on, active or stopped, in the paper's own wire shape
        (`PLAN_FIELDS`): the auto-pay plan's option when on auto-pay, else the first billing option."""
        record = self.subscription(paper, subscription_id)
        options = record["billingOptions"]
        term = (record.get("autoPayPlan") or {}).get("term")
        option = next((o for o in options if o["term"] == term), options[0] if options else None)
        canonical = {
            "term": option["term"] if option else None, "length": option["length"] if option else None,
            "lengthUnit": option.get("lengthUnit") if option else None, "paidThroughDate": record.get("endDate"),
            "rate": option["rate"] if option else ZERO, "tax": option["tax"] if option else ZERO,
            "otherCosts": to_money(option.get("otherCosts") or 0) if option else ZERO,
            "amount": option["amount"] if option else ZERO,
            "autoRenew": bool(record["autoPay"]) and record["status"] not in STOPPED_STATUSES,
            "balance": record["balance"],
        }
        return {PLAN_FIELDS[paper.kind][k]: v for k, v in canonical.items()}

    def statements(self, paper: Paper, subscription_id: str) -> list[dict[str, Any]]:
        """EBL-4: newest first (sandbox/circulation/statements.py)."""
        return bill_statements(self.subscription(paper, subscription_id), paper.today(self.clock()))

    def statement_pdf(self, paper: Paper, subscription_id: str, statement_id: str) -> bytes:
        record = self.subscription(paper, subscription_id)
        statement = next((s for s in bill_statements(record, paper.today(self.clock())) if s["id"] == statement_id),
                         None)
        if statement is None:
            raise CirculationError(404, "STATEMENT_NOT_FOUND", f"the subscription has no statement {statement_id!r}")
        return statement_pdf(paper.kind, record, statement)

    # temporary stops (STP-1, STP-2) ------------------------------------------------------------------
    def temporary_stop_dates(self, paper: Paper, subscription_id: str) -> list[date]:
        """The start and restart dates offered for a temporary stop (STP-1), every date in the window."""
        self.subscription(paper, subscription_id)
        first = paper.today(self.clock()) + timedelta(days=TEMPORARY_STOP_LEAD_DAYS[paper.kind])
        return [first + timedelta(days=n) for n in range(TEMPORARY_STOP_WINDOW_DAYS)]

    def temporary_stops(self, paper: Paper, subscription_id: str) -> list[dict[str, Any]]:
        return sorted(self.subscription(paper, subscription_id)["temporaryStops"], key=lambda s: s["startDate"])

    def schedule_temporary_stop(self, paper: Paper, subscription_id: str, start: date, restart: date | None,
                                reason: str | None) -> dict[str, Any]:
        record = self.subscription(paper, subscription_id)
        if record["digital"]:
            raise CirculationError(422, "DIGITAL_SUBSCRIPTION", "a temporary stop suspends print delivery only")
        if record["status"] in STOPPED_STATUSES:
            raise CirculationError(422, "SUBSCRIPTION_STOPPED", "a stopped subscription has no delivery to stop")
        offered = self.temporary_stop_dates(paper, subscription_id)
        if start not in offered:
            raise CirculationError(422, "DATE_NOT_OFFERED", f"startDate must be from {offered[0]} to {offered[-1]}")
        self._require_restart(offered, start, restart)
        self._require_no_overlap(record, None, start, restart)
        stop = {"id": f"TS{next(self._stop_seq):07d}", "startDate": start.isoformat(),
                "restartDate": restart.isoformat() if restart else None, "reason": reason or "VACATION"}
        record["temporaryStops"].append(stop)
        entry = self._record("TEMPORARY_STOP", paper, record, record["balance"], {"temporaryStop": dict(stop)})
        return {"transactionId": entry["transactionId"], "temporaryStop": stop}

    def change_temporary_stop_restart(self, paper: Paper, subscription_id: str, stop_id: str,
                                      restart: date) -> dict[str, Any]:
        """STP-2 (TemporaryStopRestart): on every kind, not only SAXO; the restart is today or later."""
        record = self.subscription(paper, subscription_id)
        stop = self._stop(record, stop_id)
        start = date.fromisoformat(stop["startDate"])
        today = paper.today(self.clock())
        if restart < today:
            raise CirculationError(422, "DATE_IN_PAST", f"restartDate is before today ({today})")
        offered = self.temporary_stop_dates(paper, subscription_id)
        if restart > offered[-1]:
            raise CirculationError(422, "DATE_NOT_OFFERED", f"restartDate must be {offered[-1]} at the latest")
        if restart <= start:
            raise CirculationError(422, "RESTART_NOT_AFTER_START", "restartDate must be after startDate")
        self._require_no_overlap(record, stop_id, start, restart)
        before = stop["restartDate"]
        stop["restartDate"] = restart.isoformat()
        entry = self._record("TEMPORARY_STOP_RESTART", paper, record, record["balance"],
                             {"temporaryStop": dict(stop), "restartDateBefore": before})
        return {"transactionId": entry["transactionId"], "temporaryStop": stop}

    def cancel_temporary_stop(self, paper: Paper, subscription_id: str, stop_id: str) -> dict[str, Any]:
        """A stop not started yet is removed; one in progress is ended by bringing its restart forward."""
        record = self.subscription(paper, subscription_id)
        stop = self._stop(record, stop_id)
        today = paper.today(self.clock())
        if date.fromisoformat(stop["startDate"]) <= today:
            raise CirculationError(422, "STOP_ALREADY_STARTED",
                                   "the stop has started: bring its restart date forward instead")
        record["temporaryStops"].remove(stop)
        entry = self._record("TEMPORARY_STOP_CANCEL", paper, record, record["balance"], {"temporaryStop": dict(stop)})
        return {"transactionId": entry["transactionId"], "temporaryStop": stop}

    @staticmethod
    def _stop(record: dict[str, Any], stop_id: str) -> dict[str, Any]:
        stop = next((s for s in record["temporaryStops"] if s["id"] == stop_id), None)
        if stop is None:
            raise CirculationError(404, "TEMPORARY_STOP_NOT_FOUND", f"no temporary stop {stop_id!r}")
        return stop

    @staticmethod
    def _require_restart(offered: list[date], start: date, restart: date | None) -> None:
        if restart is None:
            return
        if restart <= start:
            raise CirculationError(422, "RESTART_NOT_AFTER_START", "restartDate must be after startDate")
        if restart > offered[-1]:
            raise CirculationError(422, "DATE_NOT_OFFERED", f"restartDate must be {offered[-1]} at the latest")

    @staticmethod
    def _require_no_overlap(record: dict[str, Any], ignored: str | None, start: date, restart: date | None) -> None:
        for other in record["temporaryStops"]:
            if other["id"] == ignored:
                continue
            other_start = date.fromisoformat(other["startDate"])
            other_restart = date.fromisoformat(other["restartDate"]) if other["restartDate"] else None
            if (restart is None or other_start < restart) and (other_restart is None or start < other_restart):
                raise CirculationError(409, "OVERLAPPING_STOP", f"overlaps temporary stop {other['id']}")

    # complaints (CMP-1, CMP-3) -----------------------------------------------------------------------
    def complaints(self, paper: Paper, subscription_id: str) -> list[dict[str, Any]]:
        return list(self.subscription(paper, subscription_id)["complaints"])

    def file_complaint(self, paper: Paper, subscription_id: str, category: str, delivery_date: date,
                       redelivery: bool) -> dict[str, Any]:
        record = self.subscription(paper, subscription_id)
        if category not in dict(COMPLAINT_CATEGORIES):
            raise CirculationError(422, "UNKNOWN_CATEGORY", f"category {category!r} is not one of this paper's")
        today = paper.today(self.clock())
        if delivery_date > today:
            raise CirculationError(422, "DATE_IN_FUTURE", f"deliveryDate is after today ({today})")
        if redelivery:  # CMP-3: print only, today's delivery, one per date
            if record["digital"]:
                raise CirculationError(422, "DIGITAL_SUBSCRIPTION", "a digital subscription has nothing to redeliver")
            if delivery_date != today:
                raise CirculationError(422, "REDELIVERY_TODAY_ONLY", f"only today's delivery ({today}) is redelivered")
            if any(c["redelivery"] and c["deliveryDate"] == delivery_date.isoformat() for c in record["complaints"]):
                raise CirculationError(409, "REDELIVERY_ALREADY_REQUESTED", "a redelivery is already requested for this date")
        complaint = {"id": f"CP{next(self._complaint_seq):07d}", "category": category,
                     "deliveryDate": delivery_date.isoformat(), "redelivery": redelivery}
        record["complaints"].append(complaint)
        entry = self._record("COMPLAINT", paper, record, record["balance"], {"complaint": dict(complaint)})
        return {"transactionId": entry["transactionId"], "complaint": complaint}

    def create(self, paper: Paper, c: dict[str, Any]) -> dict[str, Any]:
        # The emulator has no product catalog: a product's billing options are those of the paper's
        # existing subscriptions to it, so only products present in the loaded data can be bought.
        template = next((r for r in paper.subscriptions.values() if r.get("productCode") == c["productCode"]), None)
        if template is None:
            raise CirculationError(422, "UNKNOWN_PRODUCT", f"no product {c['productCode']!r} in this paper")
        options = [dict(o, autoRenew=False) for o in copy.deepcopy(template["billingOptions"])]
        option = next((o for o in options if o["term"] == c["term"]), None)
        if option is None:
            raise CirculationError(422, "INVALID_OPTION", f"term {c['term']!r} is not offered for this product")
        today = paper.today(self.clock())
        seq = next(self._start_seq)
        subscription_id = f"{paper.code[:3]}-N{seq:06d}"
        while subscription_id in paper.subscriptions:  # a reload may have brought an id in; bounded by the dict
            seq = next(self._start_seq)
            subscription_id = f"{paper.code[:3]}-N{seq:06d}"
        record = {
            "id": subscription_id, "paperCode": paper.code, "accountNumber": f"{9_000_000 + seq:07d}",
            "status": "ACTIVE", "kind": "REGULAR", "deliverySchedule": "Digital" if c["digital"] else "7-Day",
            "digital": c["digital"], "startDate": today.isoformat(), "endDate": _add_term(today, option).isoformat(),
            "balance": ZERO, "currency": paper.currency, "autoPay": False, "ebill": False, "billingMethod": "MAIL",
            "householdLevelId": None, "customerReferenceNumber": c["customerReferenceNumber"], "name": c["name"],
            "productCode": c["productCode"], "restartScheduled": False, "autoPayPlan": None,
            "subscriber": c["subscriber"], "billingOptions": options, "scheduledStops": [], "temporaryStops": [],
            "complaints": [],
        }
        paper.subscriptions[subscription_id] = record
        paper.index.put(record)
        self._record("START", paper, record, ZERO, {"optionTerm": c["term"], "productCode": c["productCode"]})
        return record

    def update(self, paper: Paper, subscription_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        record = self.subscription(paper, subscription_id)
        if changes.get("ebill") and (record["status"] in STOPPED_STATUSES or record["autoPay"]):
            # EZ-3
            reason = "stopped" if record["status"] in STOPPED_STATUSES else "on auto-pay"
            raise CirculationError(422, "EBILL_NOT_AVAILABLE", f"eBill is not available: the subscription is {reason}")
        details = changes.pop("subscriber", None) or {}
        record.update(changes)
        if details:
            subscriber = record.setdefault("subscriber", {})
            before = {k: copy.deepcopy(subscriber.get(k)) for k in details}
            subscriber.update(details)
            paper.index.put(record)
            # ADR-1: a details change is a change of the circulation subscriber, on the ledger like any other
            self._record("SUBSCRIBER_DETAILS", paper, record, record["balance"],
                         {"before": before, "after": copy.deepcopy(details)})
        return record

    # subscriber address moves (ADR-3, ADR-4) ---------------------------------------------------------
    def settle(self, paper: Paper) -> None:
        """Moves whose effective date has come (paper time zone) are applied before anything reads the paper."""
        if not paper.scheduled_moves:
            return
        today = paper.today(self.clock())
        for subscription_id, move in list(paper.scheduled_moves.items()):
            if date.fromisoformat(move["effectiveDate"]) <= today:
                record = paper.subscriptions.get(subscription_id)
                del paper.scheduled_moves[subscription_id]
                if record is not None:
                    self._apply_move(paper, record, move)

    def moves(self, paper: Paper, subscription_id: str) -> list[dict[str, Any]]:
        return list(self.subscription(paper, subscription_id).get("moves") or [])

    def move(self, paper: Paper, subscription_id: str, m: dict[str, Any]) -> dict[str, Any]:
        """ADR-3: effective today or later (paper time zone), applied at once when today, else scheduled (one
        pending move at a time). ADR-4: level designator/number stored with the address; NCS comp moves may carry
        `billingMethod` and `rateCode` (both or neither), which no other kind or subscription accepts."""
        record = self.subscription(paper, subscription_id)
        if record["status"] in STOPPED_STATUSES:
            raise CirculationError(422, "SUBSCRIPTION_STOPPED", "a stopped subscription has no delivery to move")
        today = paper.today(self.clock())
        if m["effectiveDate"] < today:
            raise CirculationError(422, "DATE_IN_PAST", f"effectiveDate is before today ({today})")
        billing = m["billingMethod"] is not None or m["rateCode"] is not None
        comp = record["kind"] == "COMPLIMENTARY" and paper.kind in MOVE_BILLING_KINDS
        if comp and billing and (m["billingMethod"] is None or m["rateCode"] is None):
            raise CirculationError(422, "MOVE_BILLING_REQUIRED",
                                   "billingMethod and rateCode come together on an NCS comp-subscription move (ADR-4)")
        if billing and not comp:
            raise CirculationError(422, "MOVE_BILLING_NOT_SUPPORTED",
                                   f"billingMethod and rateCode belong to NCS comp-subscription moves only, not "
                                   f"{paper.kind} {record['kind']} (ADR-4)")
        if subscription_id in paper.scheduled_moves and m["effectiveDate"] > today:
            raise CirculationError(409, "MOVE_ALREADY_SCHEDULED", "a move is already scheduled: it moves first")
        move = {"id": f"MV{next(self._move_seq):07d}", "effectiveDate": m["effectiveDate"].isoformat(),
                "address": dict(m["address"]), "billingMethod": m["billingMethod"], "rateCode": m["rateCode"],
                "status": "SCHEDULED"}
        record.setdefault("moves", []).append(move)
        entry = self._record("ADDRESS_MOVE", paper, record, record["balance"], {"move": copy.deepcopy(move)})
        if m["effectiveDate"] == today:
            self._apply_move(paper, record, move)
        else:
            paper.scheduled_moves[subscription_id] = move
        return {"transactionId": entry["transactionId"], "move": move}

    def _apply_move(self, paper: Paper, record: dict[str, Any], move: dict[str, Any]) -> None:
        record.setdefault("subscriber", {})["address"] = dict(move["address"])
        if move["billingMethod"] is not None:
            record["billingMethod"] = move["billingMethod"]
        if move["rateCode"] is not None:
            record["rateCode"] = move["rateCode"]
        move["status"] = "APPLIED"
        paper.index.put(record)

    # ledger ----------------------------------------------------------------------------------------
    def _record(self, operation: str, paper: Paper, record: dict[str, Any], before: Decimal,
                details: dict[str, Any]) -> dict[str, Any]:
        entry = {
            "transactionId": f"CT{next(self._transaction_seq):09d}", "operation": operation,
            "paperCode": paper.code, "subscriptionId": record["id"], "at": self.clock().isoformat(),
            "balanceBefore": before, "balanceAfter": record["balance"], **details,
        }
        self.ledger.append(entry)
        return entry


def public_view(record: dict[str, Any]) -> dict[str, Any]:
    """The subscription as `GET /subscriptions/...` shows it: billing options and scheduled stops have
    their own endpoints (stops are read live, SUB-4), so the view a dataloader batches stays small."""
    return {k: v for k, v in record.items()
            if k not in ("billingOptions", "scheduledStops", "temporaryStops", "complaints", "moves")}


def _copied(value: Any) -> Any:
    """A deep copy of JSON-shaped data (dicts, lists, immutable leaves): a third of `copy.deepcopy`'s time, which
    loading the demo data at every app start (1,000 records) made count."""
    if isinstance(value, dict):
        return {key: _copied(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copied(item) for item in value]
    return value


def _internal(record: dict[str, Any], *, copy: bool = True) -> dict[str, Any]:
    out = _copied(record) if copy else record
    out["balance"] = to_money(out.get("balance") or 0)
    out["billingOptions"] = [{**o, **{k: to_money(o[k]) for k in MONEY_KEYS if k in o}}
                             for o in out.get("billingOptions") or []]
    out.setdefault("scheduledStops", [])
    out.setdefault("temporaryStops", [])
    out.setdefault("complaints", [])
    out.setdefault("moves", [])
    out.setdefault("restartScheduled", False)
    out.setdefault("scheduledDowngrade", None)
    if out["scheduledDowngrade"]:
        out["scheduledDowngrade"] = {**out["scheduledDowngrade"],
                                     **{k: to_money(out["scheduledDowngrade"][k]) for k in ("rate", "tax")}}
    out.setdefault("autoPayPlan", None)
    return out


def _require_payment_type(paper: Paper, flow: str, payment_type: str) -> None:
    allowed = FLOW_PAYMENT_TYPES[flow][paper.kind]
    if not allowed:
        raise CirculationError(422, "FLOW_NOT_SUPPORTED", f"{paper.kind} does not support this flow (PM-1)")
    if payment_type not in allowed:
        raise CirculationError(422, "PAYMENT_TYPE_NOT_ALLOWED",
                               f"{paper.kind} accepts {', '.join(sorted(allowed))} for this flow (PM-1)")


def _require_fees_on_card(body: dict[str, Any]) -> None:
    """FEE-3: a processing fee or fee tax with any payment type but credit card is refused."""
    if (body["processingFee"] or body["processingFeeTax"]) and body["paymentType"] != CC:
        raise CirculationError(422, "PROCESSING_FEE_NOT_ALLOWED", "a processing fee applies to credit cards only (FEE-3)")


def _require_tip_and_donation_allowed(paper: Paper, tip: Decimal, donation: Decimal) -> None:
    if (tip or donation) and paper.kind not in TIP_AND_DONATION_KINDS:
        raise CirculationError(422, "TIP_NOT_SUPPORTED", f"{paper.kind} accepts no tip or donation (PM-2)")


def _billing_option(record: dict[str, Any], term: str, amount: Decimal) -> dict[str, Any]:
    """PAY-3: the payment must be for one of the subscription's current options, at its amount."""
    option = next((o for o in record["billingOptions"] if o["term"] == term), None)
    if option is None or option["amount"] != amount:
        raise CirculationError(422, "INVALID_OPTION", "optionTerm and amount match none of the billing options")
    return option


def _add_term(start: date, option: dict[str, Any]) -> date:
    length = int(option["length"])
    if option.get("lengthUnit") == "WEEK":
        return start + timedelta(weeks=length)
    if option.get("lengthUnit") == "DAY":
        return start + timedelta(days=length)
    months = start.month - 1 + length
    year, month = start.year + months // 12, months % 12 + 1
    for day in (start.day, 30, 29, 28):  # clamp the 31st to the target month's last day
        try:
            return date(year, month, day)
        except ValueError:
            continue
    raise AssertionError("unreachable")  # pragma: no cover


def _digits(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit())



def fingerprint(method: str, path: str, payload: Any) -> str:
    """Binds an idempotency key to the request's meaning, not its bytes (key order, spacing)."""
    canonical = json.dumps([method, path, payload], sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()
