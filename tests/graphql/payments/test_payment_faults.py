"""PAY-4 under failure: gateway and circulation faults at every step, and processes killed between steps.

Faults are injected in the in-process emulators (`sandbox/faults.py` rules: before the upstream does the
work, or `after` it did and only its answer is lost). A killed process is simulated by making one ledger
write (or one call) raise, with nothing cleaned up, then running reconciliation. After each, papergraph's
ledger, NavigaPay's and the circulation system's must agree: no charge without an application or a
give-back, every state recorded with its event.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from pydantic import ValidationError
from sqlmodel import select

from datasources.models import IdempotencyRecord
from datasources.repositories.idempotency import IdempotencyRepository
from datasources.repositories.payments import PaymentRepository
from domain.ledger import LedgerState
from resolvers.reconciliation import reconcile, reconcile_every
from sandbox.faults import FaultRule
from settings import Settings
from tests.conftest import graphql
from tests.graphql.payments.support import (
    MAKE_PAYMENT, SIGN_UP_AUTO_PAY, assert_ledgers_agree, circulation_entries, circulation_record, codes,
    gateway_entries, ledger_rows, paying,
)

SALES = "^/api/v1/sales$"
VOIDS = "/void$"
PAYMENTS = "/payments$"
PAYMENT = {"optionTerm": "1M", "optionAmount": "10.79", "paymentType": "CREDIT_CARD", "total": "10.79"}
NOW = timedelta(0)


@pytest.fixture
def settings(database_url) -> Settings:
    # short deadlines, so a hanging upstream or a key held by a dead request costs a fraction of a second; the
    # circuit breakers out of the way (these tests inject failure after failure to walk the ledger's states;
    # test_a_breaker_opening_mid_payment_degrades_only_the_subscription_field has one open on purpose)
    return Settings(environment="test", database_url=database_url, upstreams="embedded", seed_demo_data=False,
                    upstream_timeout=0.5, upstream_read_retries=1, idempotency_wait_seconds=0.3,
                    upstream_breaker_failures=1000)


def fault(sandboxes, upstream: str, **rule) -> None:
    sandboxes[upstream].state.control.rules.append(FaultRule(method="POST", **rule))


def clear_faults(sandboxes) -> None:
    for name in ("navigapay", "circulation"):
        sandboxes[name].state.control.rules.clear()


async def make_payment(client, setup, key: str | None = None) -> dict:
    data = setup.sub(**PAYMENT)
    if key:
        data["idempotencyKey"] = key
    return await graphql(client, MAKE_PAYMENT, {"input": data}, **setup.headers)


def payload_of(answer: dict) -> dict:
    assert "errors" not in answer, answer
    return answer["data"]["makePayment"]


async def only_row(services, setup):
    [row] = await ledger_rows(services, setup.tenant)
    return row


# -- the gateway ---------------------------------------------------------------------------------------
async def test_pay4_sale_fails_nothing_is_charged_and_the_attempt_fails(api_client, own_tenant, sandboxes, services,
                                                                       tokens):
    # given: NavigaPay answers 503 to every sale, before charging
    setup = await paying(own_tenant, sandboxes, tokens)
    fault(sandboxes, "navigapay", path=SALES, status=503)
    # when
    payload = payload_of(await make_payment(api_client, setup))
    # then
    assert codes(payload) == ["GATEWAY_UNAVAILABLE"] and payload["payment"]["state"] == "FAILED"
    assert gateway_entries(sandboxes, setup.tenant) == [] and circulation_entries(sandboxes, setup.tenant) == []
    await assert_ledgers_agree(services, sandboxes, setup.tenant)


@pytest.mark.parametrize("lost", ["drop", "timeout"])
async def test_pay4_sale_charged_but_its_answer_lost_is_found_and_applied(api_client, own_tenant, sandboxes,
                                                                         services, tokens, lost):
    # given: the sale is made, then its answer is lost (connection dropped, or no answer in time)
    setup = await paying(own_tenant, sandboxes, tokens)
    fault(sandboxes, "navigapay", path=SALES, after=True, **{lost: True})
    # when
    payload = payload_of(await make_payment(api_client, setup))
    # then: found by papergraph's reference, applied once
    assert payload["userErrors"] == [] and payload["payment"]["state"] == "APPLIED"
    [sale] = gateway_entries(sandboxes, setup.tenant)
    assert sale["state"] == "captured"
    assert len(circulation_entries(sandboxes, setup.tenant)) == 1
    await assert_ledgers_agree(services, sandboxes, setup.tenant)


async def test_pay4_sale_without_answer_and_not_found_stays_pending_until_reconciliation(api_client, own_tenant,
                                                                                        sandboxes, services, tokens):
    # given: the sale hangs and is never made; the lookup finds nothing, so it may still be in flight
    setup = await paying(own_tenant, sandboxes, tokens)
    fault(sandboxes, "navigapay", path=SALES, timeout=True)
    answer = payload_of(await make_payment(api_client, setup, key="hanging-sale"))
    assert codes(answer) == ["PAYMENT_PENDING"] and answer["payment"]["state"] == "CREATED"
    # when: reconciliation, once the request is long gone
    clear_faults(sandboxes)
    report = await reconcile(services, stale_after=NOW)
    # then: nothing was charged, so it failed; the key answers that
    assert report.finished["FAILED"] >= 1
    replay = payload_of(await make_payment(api_client, setup, key="hanging-sale"))
    assert codes(replay) == ["INTERRUPTED"] and replay["payment"]["state"] == "FAILED"
    assert gateway_entries(sandboxes, setup.tenant) == []
    await assert_ledgers_agree(services, sandboxes, setup.tenant)


async def test_pay4_declined_card_charges_and_applies_nothing(api_client, own_tenant, sandboxes, services, tokens):
    # given
    setup = await paying(own_tenant, sandboxes, tokens)
    sandboxes["navigapay"].state.store.profiles[setup.profile_id]["_outcome"] = ("CARD_DECLINED", "Declined.")
    # when
    payload = payload_of(await make_payment(api_client, setup))
    # then
    assert codes(payload) == ["PAYMENT_DECLINED"] and payload["payment"]["state"] == "DECLINED"
    assert payload["event"]["typeCode"] == "PAYMENTDECLINED"
    assert circulation_entries(sandboxes, setup.tenant) == []
    await assert_ledgers_agree(services, sandboxes, setup.tenant)


# -- the circulation system ------------------------------------------------------------------------------
async def test_pay4_circulation_5xx_the_charge_is_voided(api_client, own_tenant, sandboxes, services, tokens):
    # given: every application answers 503 without applying
    setup = await paying(own_tenant, sandboxes, tokens)
    fault(sandboxes, "circulation", path=PAYMENTS, status=503)
    # when
    payload = payload_of(await make_payment(api_client, setup))
    # then
    assert codes(payload) == ["CIRCULATION_UNAVAILABLE"] and payload["payment"]["state"] == "VOIDED"
    [sale] = gateway_entries(sandboxes, setup.tenant)
    assert sale["state"] == "voided"
    await assert_ledgers_agree(services, sandboxes, setup.tenant)


async def test_pay4_circulation_refusal_the_charge_is_voided(api_client, own_tenant, sandboxes, services, tokens):
    # given
    setup = await paying(own_tenant, sandboxes, tokens)
    fault(sandboxes, "circulation", path=PAYMENTS, status=422,
          body={"code": "SUBSCRIPTION_STOPPED", "message": "stopped meanwhile"})
    # when
    payload = payload_of(await make_payment(api_client, setup))
    # then
    assert codes(payload) == ["CIRCULATION_REFUSED"] and payload["payment"]["state"] == "VOIDED"
    assert "stopped meanwhile" in payload["userErrors"][0]["message"]
    await assert_ledgers_agree(services, sandboxes, setup.tenant)


async def test_pay4_applied_but_its_answer_lost_is_recognised_as_applied(api_client, own_tenant, sandboxes, services,
                                                                        tokens):
    # given: the circulation system applies, then every answer (retries' replays too) is lost
    setup = await paying(own_tenant, sandboxes, tokens)
    fault(sandboxes, "circulation", path=PAYMENTS, after=True, drop=True)
    # when
    payload = payload_of(await make_payment(api_client, setup))
    # then: its own transactions show the gateway transaction: applied, once
    assert payload["userErrors"] == [] and payload["payment"]["state"] == "APPLIED"
    assert len(circulation_entries(sandboxes, setup.tenant)) == 1
    await assert_ledgers_agree(services, sandboxes, setup.tenant)


async def test_pay4_applied_then_refused_on_the_retry_is_applied_not_given_back(api_client, own_tenant, sandboxes,
                                                                               services, tokens):
    # given: the circulation system applies and its answer is lost; the retry of the same call (same key) is then
    # refused before it reaches the application's replay (found by the soak test: a refusal answered to a retry
    # says nothing about the first call)
    setup = await paying(own_tenant, sandboxes, tokens)
    fault(sandboxes, "circulation", path=PAYMENTS, after=True, drop=True, times=1)
    fault(sandboxes, "circulation", path=PAYMENTS, status=422, body={"code": "INVALID_REQUEST", "message": "no"})
    # when
    payload = payload_of(await make_payment(api_client, setup))
    # then: the circulation system's transactions show the payment applied, so the charge is kept
    assert payload["userErrors"] == [] and payload["payment"]["state"] == "APPLIED"
    assert [s["state"] for s in gateway_entries(sandboxes, setup.tenant)] == ["captured"]
    assert len(circulation_entries(sandboxes, setup.tenant)) == 1
    await assert_ledgers_agree(services, sandboxes, setup.tenant)


async def test_pay4_application_unknown_stays_pending_and_reconciliation_applies_it(api_client, own_tenant, sandboxes,
                                                                                   services, tokens):
    # given: the application gets no answer and the circulation system cannot be read either
    setup = await paying(own_tenant, sandboxes, tokens)
    fault(sandboxes, "circulation", path=PAYMENTS, drop=True)
    sandboxes["circulation"].state.control.rules.append(FaultRule(method="GET", path="/transactions$", status=503))
    payload = payload_of(await make_payment(api_client, setup, key="unknown-apply"))
    assert codes(payload) == ["PAYMENT_PENDING"] and payload["payment"]["state"] == "PENDING_APPLY"
    assert [s["state"] for s in gateway_entries(sandboxes, setup.tenant)] == ["captured"]  # not given back
    # when
    clear_faults(sandboxes)
    await reconcile(services, stale_after=NOW)
    # then
    replay = payload_of(await make_payment(api_client, setup, key="unknown-apply"))
    assert replay["userErrors"] == [] and replay["payment"]["state"] == "APPLIED"
    await assert_ledgers_agree(services, sandboxes, setup.tenant)


async def test_a_breaker_opening_mid_payment_degrades_only_the_subscription_field(api_client, own_tenant, sandboxes,
                                                                                  services, tokens):
    # given: the circulation system's breaker opens while the payment is being applied (the application gets
    # no answer, nor does the lookup of its transactions)
    setup = await paying(own_tenant, sandboxes, tokens)
    services.circulation.breaker.failure_threshold = 3
    fault(sandboxes, "circulation", path=PAYMENTS, drop=True)
    sandboxes["circulation"].state.control.rules.append(FaultRule(method="GET", path="/transactions$", status=503))

    # when
    answer = await make_payment(api_client, setup, key="breaker-opens")

    # then: the attempt is answered — pending, not lost — and only the re-read subscription is missing
    payload = answer["data"]["makePayment"]
    assert payload["payment"]["state"] == "PENDING_APPLY" and codes(payload) == ["PAYMENT_PENDING"]
    assert payload["subscription"] is None
    assert [(e["path"], e["extensions"]["code"]) for e in answer["errors"]] == [
        (["makePayment", "subscription"], "UPSTREAM_UNAVAILABLE")]
    assert [s["state"] for s in gateway_entries(sandboxes, setup.tenant)] == ["captured"]  # not given back blindly


async def test_pay4_apply_fails_and_void_fails_pending_then_reconciliation_applies(api_client, own_tenant, sandboxes,
                                                                                  services, tokens):
    # given: the application and the void both fail
    setup = await paying(own_tenant, sandboxes, tokens)
    fault(sandboxes, "circulation", path=PAYMENTS, status=503)
    fault(sandboxes, "navigapay", path=VOIDS, status=503)
    payload = payload_of(await make_payment(api_client, setup))
    assert codes(payload) == ["PAYMENT_PENDING"] and payload["payment"]["state"] == "PENDING_APPLY"
    # when: the circulation system is back
    clear_faults(sandboxes)
    report = await reconcile(services, stale_after=NOW)
    # then
    row = await only_row(services, setup)
    assert row.state == "APPLIED" and report.finished["APPLIED"] >= 1
    await assert_ledgers_agree(services, sandboxes, setup.tenant)


async def test_pay4_refused_and_void_fails_reconciliation_refunds_a_settled_charge(api_client, own_tenant, sandboxes,
                                                                                  services, tokens):
    # given: the circulation system refuses for good, the void fails, and the sale settles overnight
    setup = await paying(own_tenant, sandboxes, tokens)
    fault(sandboxes, "circulation", path=PAYMENTS, status=422, body={"code": "INVALID_OPTION", "message": "no"})
    fault(sandboxes, "navigapay", path=VOIDS, status=503)
    assert codes(payload_of(await make_payment(api_client, setup))) == ["PAYMENT_PENDING"]
    sandboxes["navigapay"].state.store.settle()
    sandboxes["navigapay"].state.control.rules.clear()
    # when
    await reconcile(services, stale_after=NOW)
    # then: settled, so refunded rather than voided
    row = await only_row(services, setup)
    assert (row.state, row.error_code) == ("REFUNDED", "CIRCULATION_REFUSED")
    assert [s["state"] for s in gateway_entries(sandboxes, setup.tenant)] == ["refunded"]
    await assert_ledgers_agree(services, sandboxes, setup.tenant)


async def test_pay4_pending_stays_pending_while_upstreams_still_fail(api_client, own_tenant, sandboxes, services,
                                                                    tokens):
    # given
    setup = await paying(own_tenant, sandboxes, tokens)
    fault(sandboxes, "circulation", path=PAYMENTS, status=503)
    fault(sandboxes, "navigapay", path=VOIDS, status=503)
    await make_payment(api_client, setup)
    # when
    report = await reconcile(services, stale_after=NOW)
    # then
    row = await only_row(services, setup)
    assert row.state == "PENDING_APPLY" and row.attempts >= 2 and report.unfinished >= 1
    assert "503" in (row.last_error or "") or "unavailable" in (row.last_error or "")


# -- processes killed between steps ------------------------------------------------------------------------
def kill_before_writing(monkeypatch, state: LedgerState) -> None:
    """The process dies right before the ledger records `state` (the upstream step before it happened)."""
    original = PaymentRepository.transition

    async def transition(self, payment, target, event, **changes):
        if target is state:
            raise RuntimeError(f"killed before writing {state.value}")
        return await original(self, payment, target, event, **changes)

    monkeypatch.setattr(PaymentRepository, "transition", transition)


def internal_error(answer: dict) -> bool:
    return answer.get("errors", [{}])[0].get("extensions", {}).get("code") == "INTERNAL_SERVER_ERROR"


@pytest.mark.parametrize("killed_before", [LedgerState.CHARGED, LedgerState.APPLIED])
async def test_pay4_killed_after_an_upstream_step_reconciliation_finishes_it_once(api_client, own_tenant, sandboxes,
                                                                                  services, tokens, monkeypatch,
                                                                                  killed_before):
    # given: the sale (CHARGED) or the application (APPLIED) happened, then the process died
    setup = await paying(own_tenant, sandboxes, tokens)
    kill_before_writing(monkeypatch, killed_before)
    assert internal_error(await make_payment(api_client, setup, key="killed"))
    monkeypatch.undo()
    # when
    await reconcile(services, stale_after=NOW)
    # then: applied, charged once and applied once; the key answers the outcome
    replay = payload_of(await make_payment(api_client, setup, key="killed"))
    assert replay["userErrors"] == [] and replay["payment"]["state"] == "APPLIED"
    assert len(gateway_entries(sandboxes, setup.tenant)) == 1
    assert len(circulation_entries(sandboxes, setup.tenant)) == 1
    await assert_ledgers_agree(services, sandboxes, setup.tenant)


async def test_pay4_killed_after_claiming_the_key_the_key_is_released(api_client, own_tenant, sandboxes, services,
                                                                     tokens, monkeypatch):
    # given: the process dies after claiming the key, before recording the attempt (no clean-up runs)
    setup = await paying(own_tenant, sandboxes, tokens)

    async def killed(*args, **kwargs):
        raise RuntimeError("killed")

    async def no_cleanup(*args, **kwargs):
        return None

    monkeypatch.setattr(PaymentRepository, "create_attempt", killed)
    monkeypatch.setattr(IdempotencyRepository, "release", no_cleanup)
    assert internal_error(await make_payment(api_client, setup, key="claimed"))
    monkeypatch.undo()
    held = payload_of(await make_payment(api_client, setup, key="claimed"))
    assert codes(held) == ["IDEMPOTENCY_KEY_IN_PROGRESS"]
    # when
    report = await reconcile(services, stale_after=NOW)
    # then: nothing was charged, and the key may be used again
    assert report.keys_released >= 1
    retried = payload_of(await make_payment(api_client, setup, key="claimed"))
    assert retried["userErrors"] == [] and retried["payment"]["state"] == "APPLIED"
    assert len(gateway_entries(sandboxes, setup.tenant)) == 1
    await assert_ledgers_agree(services, sandboxes, setup.tenant)


async def test_pay4_killed_before_giving_back_reconciliation_gives_it_back(api_client, own_tenant, sandboxes,
                                                                          services, tokens, monkeypatch):
    # given: the circulation system refuses; the process dies calling the void
    setup = await paying(own_tenant, sandboxes, tokens)
    fault(sandboxes, "circulation", path=PAYMENTS, status=422, body={"code": "INVALID_OPTION", "message": "no"})

    async def killed(*args, **kwargs):
        raise RuntimeError("killed")

    monkeypatch.setattr(type(services.navigapay), "void", killed)
    assert internal_error(await make_payment(api_client, setup))
    monkeypatch.undo()
    assert (await only_row(services, setup)).state == "CHARGED"
    # when
    await reconcile(services, stale_after=NOW)
    # then
    assert (await only_row(services, setup)).state == "VOIDED"
    await assert_ledgers_agree(services, sandboxes, setup.tenant)


async def test_pay4_killed_before_completing_the_key_reconciliation_completes_it(api_client, own_tenant, sandboxes,
                                                                                services, tokens, monkeypatch):
    # given: everything happened and was recorded; the process died before completing the key
    setup = await paying(own_tenant, sandboxes, tokens)

    async def killed(*args, **kwargs):
        raise RuntimeError("killed")

    monkeypatch.setattr(IdempotencyRepository, "complete", killed)
    assert internal_error(await make_payment(api_client, setup, key="uncompleted"))
    monkeypatch.undo()
    # when
    report = await reconcile(services, stale_after=NOW)
    # then
    assert report.keys_completed >= 1
    replay = payload_of(await make_payment(api_client, setup, key="uncompleted"))
    assert replay["payment"]["state"] == "APPLIED" and len(gateway_entries(sandboxes, setup.tenant)) == 1
    await assert_ledgers_agree(services, sandboxes, setup.tenant)


async def test_ez1_killed_after_the_debt_was_paid_reconciliation_sets_up_auto_pay(api_client, own_tenant, sandboxes,
                                                                                  services, tokens, monkeypatch):
    # given: the debt is paid (PAID), the process dies before auto-pay is set up
    setup = await paying(own_tenant, sandboxes, tokens, balance="-20.45")
    kill_before_writing(monkeypatch, LedgerState.APPLIED)
    data = setup.sub(term="1M", length=1, paymentType="CREDIT_CARD", total="20.45")
    assert internal_error(await graphql(api_client, SIGN_UP_AUTO_PAY, {"input": data}, **setup.headers))
    monkeypatch.undo()
    assert (await only_row(services, setup)).state in ("PAID", "CHARGED")
    # when
    await reconcile(services, stale_after=NOW)
    # then
    row = await only_row(services, setup)
    assert (row.state, row.error_code) == ("APPLIED", None)
    record = circulation_record(sandboxes, setup)
    assert record["autoPay"] is True and record["balance"] == Decimal("0.00")
    await assert_ledgers_agree(services, sandboxes, setup.tenant)


async def test_pay4_reconciliation_leaves_a_running_request_alone(api_client, own_tenant, sandboxes, services, tokens,
                                                                 monkeypatch):
    # given: an attempt just left in CHARGED
    setup = await paying(own_tenant, sandboxes, tokens)
    kill_before_writing(monkeypatch, LedgerState.APPLIED)
    await make_payment(api_client, setup)
    monkeypatch.undo()
    # when: reconciliation with the default grace period
    await reconcile(services)
    # then: not taken over yet
    assert (await only_row(services, setup)).state == "CHARGED"


async def test_pay4_keys_live_at_least_24_hours_and_reconciliation_deletes_expired_ones(own_tenant, services):
    # given: completed keys 23 hours and 73 hours old (retention 72 hours by default, never under 24)
    tenant = await own_tenant()
    now = datetime.now(timezone.utc)
    for key, age in (("young", 23), ("old", 73)):
        await tenant.add(IdempotencyRecord(tenant_id=tenant.id, key=key, operation="makePayment", request_hash="h",
                                           state="COMPLETED", response={}, created_at=now - timedelta(hours=age)))
    # when
    report = await reconcile(services)
    # then
    async with services.db.session() as session:
        kept = [r.key for r in (await session.execute(select(IdempotencyRecord).where(
            IdempotencyRecord.tenant_id == tenant.id))).scalars()]
    assert kept == ["young"] and report.keys_deleted >= 1
    with pytest.raises(ValidationError):
        Settings(idempotency_retention_hours=23)


async def test_pay4_reconcile_every_runs_until_stopped(services):
    # given: a scheduler that stops after its second run
    stop, lines = asyncio.Event(), []

    def report(line: str) -> None:
        lines.append(line)
        if len(lines) == 2:
            stop.set()

    # when
    await asyncio.wait_for(reconcile_every(services, 0.01, stop, report), timeout=30)
    # then
    assert len(lines) == 2 and all(line.startswith("reconcile: ") for line in lines)
