"""Reconciliation (PAY-4): finishes every payment attempt a request left unfinished, and keeps the
idempotency keys tidy. Run by hand or on a schedule: `papergraph reconcile [--every SECONDS]`.

The ledger's states and transitions are in `domain/ledger.py`; `LedgerRunner` (resolvers/payment_ledger.py)
moves an attempt, here with `resuming=True`: the request is gone, so a sale is looked for by papergraph's
reference and never made again. Every upstream call carries the key derived from the client's, so a step
repeated here is replayed by NavigaPay or the circulation system, never done twice.

Where a process can die, and how the next run finishes it:
- after claiming the key, before recording the attempt: the key is IN_PROGRESS with no attempt. Nothing
  was charged: the key is released, and the client's retry runs afresh.
- after recording the attempt (CREATED), before, during or after the sale: the gateway is asked for a
  sale with the attempt's reference: captured → CHARGED and then applied; declined → DECLINED; none →
  FAILED (INTERRUPTED).
- after the sale was recorded (CHARGED), before, during or after the circulation application: applied
  again with the same key; the circulation system applies it once, or replays its answer → APPLIED.
- after the application, before APPLIED was written: as above, the replayed answer makes it APPLIED.
- EZ-1 after the debt payment (PAID): auto-pay is set up with the same key → APPLIED.
- after a refusal, before the charge was given back, and PENDING_APPLY: applied again; refused again →
  voided (refunded once settled) with the same void and refund keys; the give-back failing again leaves
  it PENDING_APPLY for the next run.
- after the final state, before the key was completed: the key is completed with the attempt's id, so
  the client's retry answers the outcome.
- a purchase (purchaseSubscription) killed after its sale and before its database write: its key is in
  progress with no ledger row. Its sale is found by the attempt's reference and voided (refunded once
  settled) before the key is released; if that fails, the key stays for the next run.
An attempt is taken over once older than `stale_after` (a request may still be working on it until then);
PENDING_APPLY at once. Completed keys older than `idempotency_retention_hours` (at least 24) are deleted.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Callable

import sqlalchemy as sa

from datasources.base import UpstreamError, UpstreamRejected
from datasources.models import Tenant, utcnow
from datasources.repositories.idempotency import IdempotencyRepository
from datasources.repositories.payments import PaymentRepository, as_utc
from domain.ledger import due_for_reconciliation, is_final
from domain.purchases import upstream_keys
from resolvers.payment_ledger import PAYMENT_OPERATIONS, LedgerRunner

if TYPE_CHECKING:
    from services import Services

log = logging.getLogger("papergraph.reconcile")
PURCHASE = "purchaseSubscription"


@dataclass
class ReconcileReport:
    examined: int = 0
    finished: Counter = field(default_factory=Counter)  # final state → attempts that reached it
    unfinished: int = 0  # examined and still waiting (an upstream still cannot say or do)
    failed: int = 0  # examined and broke with an unexpected error (logged)
    keys_completed: int = 0
    keys_released: int = 0
    keys_deleted: int = 0

    def line(self) -> str:
        finished = ", ".join(f"{state.lower()} {count}" for state, count in sorted(self.finished.items())) or "none"
        return (f"reconcile: {self.examined} attempts examined, finished: {finished}; still unfinished "
                f"{self.unfinished}, errors {self.failed}; keys completed {self.keys_completed}, released "
                f"{self.keys_released}, deleted {self.keys_deleted}")


async def reconcile(services: "Services", *, stale_after: timedelta | None = None,
                    now: datetime | None = None) -> ReconcileReport:
    """One reconciliation run over every tenant."""
    settings = services.settings
    stale_after = stale_after if stale_after is not None else timedelta(seconds=settings.reconcile_stale_after_seconds)
    now = now or utcnow()
    ledger, keys = PaymentRepository(services.db), IdempotencyRepository(services.db)
    report = ReconcileReport()
    for payment, tenant_code in await ledger.unfinished():
        if not due_for_reconciliation(payment.state, as_utc(payment.updated_at), now, stale_after):
            continue
        report.examined += 1
        try:
            result = await LedgerRunner(services, tenant_code).advance(payment, resuming=True)
        except Exception:  # one attempt's trouble must not stop the others; it is tried again next run
            log.exception("reconciling payment %s failed", payment.id)
            report.failed += 1
            continue
        if is_final(result.state):
            report.finished[result.state] += 1
        else:
            report.unfinished += 1
            log.warning("payment %s is still %s: %s", result.id, result.state, result.last_error)
    for record in await keys.stale_in_progress(now - stale_after):
        attempt = await ledger.by_key(record.tenant_id, record.key)
        if attempt is None:
            if record.operation == PURCHASE and not await _give_back_purchase_sale(services, record):
                report.failed += 1
                continue  # the next run tries again; the key stays claimed meanwhile
            await keys.release(record.id)  # nothing was recorded, and nothing charged is kept
            report.keys_released += 1
        elif record.operation in PAYMENT_OPERATIONS:
            await keys.complete(record.id, {"paymentId": attempt.id, "subscriptionId": attempt.subscription_id})
            report.keys_completed += 1
    report.keys_deleted = await keys.delete_completed_before(now - timedelta(hours=settings.idempotency_retention_hours))
    return report


async def _give_back_purchase_sale(services: "Services", record) -> bool:
    """A purchase attempt that died between its sale and its database write: void (or, once settled, refund)
    what NavigaPay charged under the attempt's reference. True when nothing charged is left."""
    async with services.db.session() as session:
        tenant_code = (await session.execute(sa.select(Tenant.code).where(Tenant.id == record.tenant_id))).scalar_one()
    keys = upstream_keys(tenant_code, record.key, record.id)
    try:
        for sale in await services.navigapay.find_transactions(keys["reference"], merchant=tenant_code):
            if sale.get("status") in ("AUTHORIZED", "CAPTURED"):
                try:
                    await services.navigapay.void(sale["transactionId"], idempotency_key=keys["void"])
                except UpstreamRejected:  # settled already: give the money back instead
                    await services.navigapay.refund(sale["transactionId"], idempotency_key=keys["void"] + ":refund")
                log.warning("purchase %s of %s died after its sale %s: given back", record.key, tenant_code,
                            sale["transactionId"])
    except UpstreamError:
        log.exception("could not give back the sale of the unfinished purchase %s of %s", record.key, tenant_code)
        return False
    return True


async def reconcile_every(services: "Services", seconds: float, stop: asyncio.Event,
                          report: Callable[[str], object] = print) -> None:
    """Run `reconcile` every `seconds` until `stop` is set (SIGTERM or Ctrl-C in the command)."""
    while not stop.is_set():
        try:
            report((await reconcile(services)).line())
        except Exception:  # a database or network hiccup: log it and try again at the next tick
            log.exception("reconciliation run failed")
        try:
            await asyncio.wait_for(stop.wait(), timeout=seconds)
        except TimeoutError:
            pass

