"""CirculationDataSource against the circulation emulator: in-process, and over a real loopback socket."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import httpx
import pytest

from datasources.base import UpstreamNotFound, UpstreamRejected, UpstreamTimeout, UpstreamUnavailable
from datasources.circulation import CirculationDataSource
from sandbox.circulation import create_app, load_demo
from sandbox.demo import generate
from tests.support import serve_on_loopback

ANCHOR = date(2026, 3, 10)
DATA = generate(5, anchor=ANCHOR)  # 1,250 subscriptions per paper: enough for three batch chunks
NCS, MATRIX = "NCSDEMO", "MTXDEMO"


@pytest.fixture(scope="module")
def loaded_app():
    """One loaded emulator for the read-only tests; tests that write build their own `app`."""
    app = create_app()
    load_demo(app.state.store, DATA)
    return app


@pytest.fixture
def app():
    app = create_app()
    load_demo(app.state.store, DATA, paper_codes=[NCS])
    app.state.store.clock = lambda: datetime(ANCHOR.year, ANCHOR.month, ANCHOR.day, 12, tzinfo=UTC)
    return app


@pytest.fixture
async def datasource_for():
    """Builds datasources on an emulator in-process, and closes their clients after the test."""
    clients: list[httpx.AsyncClient] = []

    def build(app, *, timeout: float = 2.0, read_retries: int = 2, api_key: str | None = None):
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://circulation")
        clients.append(client)
        return CirculationDataSource(client, timeout=timeout, read_retries=read_retries, api_key=api_key,
                                     backoff_base=0.001)

    yield build
    for client in clients:
        await client.aclose()


@pytest.fixture
def circulation(app, datasource_for):
    return datasource_for(app)


@pytest.fixture
def reader(loaded_app, datasource_for):
    loaded_app.state.control.reset()
    return datasource_for(loaded_app)


def active_payable(app, paper: str = NCS) -> dict:
    return next(r for r in sorted(app.state.store.papers[paper].subscriptions.values(), key=lambda r: r["id"])
                if r["status"] == "ACTIVE" and not r["autoPay"])


# reads ---------------------------------------------------------------------------------------------
async def test_get_subscription_converts_money_to_decimal(reader):
    record = await reader.get_subscription(NCS, "NCS-0000001")
    assert record["id"] == "NCS-0000001"
    assert isinstance(record["balance"], Decimal) and record["balance"] == Decimal("-3.45")


async def test_get_subscription_of_an_unknown_id_is_none(reader):
    assert await reader.get_subscription(NCS, "NCS-9999999") is None


async def test_ten_1_get_subscription_of_another_paper_is_none(reader):
    assert await reader.get_subscription(MATRIX, "NCS-0000001") is None


async def test_unknown_paper_raises_not_found(reader):
    with pytest.raises(UpstreamNotFound) as caught:
        await reader.get_subscription("NOPAPER", "NCS-0000001")
    assert caught.value.body["code"] == "UNKNOWN_PAPER"


async def test_get_subscriptions_chunks_by_500(reader, loaded_app):
    # given 1,200 distinct ids, one unknown and one repeated
    ids = [f"NCS-{i:07d}" for i in range(1, 1200)] + ["NCS-unknown", "NCS-0000001"]
    # when
    records = await reader.get_subscriptions(NCS, ids)
    # then
    assert len(records) == 1199 and "NCS-unknown" not in records
    assert isinstance(records["NCS-0000600"]["balance"], Decimal)
    assert loaded_app.state.control.count("GET", "/subscriptions") == 3


async def test_get_billing_options_batch_converts_amounts(reader):
    options = await reader.get_billing_options(NCS, ["NCS-0000001", "NCS-0000002", "nope"])
    assert set(options) == {"NCS-0000001", "NCS-0000002"}
    assert options["NCS-0000001"][0]["amount"] == Decimal("70.20")


async def test_sub_2_search_and_not_2_expiring(reader):
    found = await reader.search_subscriptions(NCS, lastName="ANDERSEN", limit=2)
    expiring = await reader.expiring_subscriptions(NCS, ANCHOR, ANCHOR + timedelta(days=7))
    assert found["total"] > 2 and len(found["subscriptions"]) == 2
    assert all(r["subscriber"]["lastName"] == "Andersen" for r in found["subscriptions"])
    assert expiring and all(ANCHOR <= date.fromisoformat(r["endDate"]) <= ANCHOR + timedelta(days=7)
                            for r in expiring)


async def test_sub_2_empty_search_is_rejected(reader):
    with pytest.raises(UpstreamRejected) as caught:
        await reader.search_subscriptions(NCS, lastName=None)
    assert caught.value.status == 400


async def test_sub_4_scheduled_stops(reader):
    stops = await reader.get_scheduled_stops(NCS, "NCS-0000001")
    assert stops and stops[0]["reason"] == "VACATION"


# mutations -----------------------------------------------------------------------------------------
async def test_apply_payment_and_read_its_transaction(circulation, app):
    # given
    record = active_payable(app)
    option = record["billingOptions"][0]
    body = {"optionTerm": option["term"], "amount": option["amount"], "tip": Decimal("0"), "donation": Decimal("0"),
            "paymentType": "CREDIT_CARD", "gatewayTransactionId": "gw-1", "activationFee": Decimal("0")}
    # when
    result = await circulation.apply_payment(NCS, record["id"], body, idempotency_key="pay-1")
    # then
    assert result["subscription"]["balance"] == record["balance"]
    transactions = await circulation.get_transactions(NCS, record["id"])
    assert transactions[0]["transactionId"] == result["transactionId"]
    assert transactions[0]["amount"] == option["amount"]


async def test_business_refusal_maps_to_upstream_rejected_with_its_code(circulation, app):
    record = active_payable(app)
    body = {"optionTerm": "nope", "amount": Decimal("1.00"), "paymentType": "CREDIT_CARD",
            "gatewayTransactionId": "gw-2"}
    with pytest.raises(UpstreamRejected) as caught:
        await circulation.apply_payment(NCS, record["id"], body, idempotency_key="pay-2")
    assert caught.value.status == 422 and caught.value.upstream_code == "INVALID_OPTION"


async def test_restart_returns_what_was_charged(circulation, app):
    record = next(r for r in app.state.store.papers[NCS].subscriptions.values()
                  if r["status"] == "STOPPED" and r["kind"] != "TRIAL" and not r["restartScheduled"])
    # the longest option, so the demo credit (at most 26.10) leaves something to pay (RST-3)
    option, credit = record["billingOptions"][-1], record["balance"]
    body = {"restartDate": ANCHOR, "optionTerm": option["term"], "amount": option["amount"],
            "paymentType": "BANK", "gatewayTransactionId": "gw-3", "applyCredit": True,
            "reasonCode": "payment", "sourceCode": "MG2"}
    result = await circulation.restart(NCS, record["id"], body, idempotency_key="rst-1")
    assert result["charged"] == option["amount"] - credit
    assert result["subscription"]["status"] == "ACTIVE"


async def test_auto_pay_tip_cancel_create_and_update(circulation, app):
    # given
    record = next(r for r in app.state.store.papers[NCS].subscriptions.values()
                  if r["status"] == "ACTIVE" and not r["autoPay"] and not r["digital"])
    option = record["billingOptions"][0]
    plan = {"paymentType": "CREDIT_CARD", "term": option["term"], "length": option["length"],
            "paymentToken": "prof_1", "tip": Decimal("1.00"), "donation": Decimal("0.00")}
    # when
    signed = await circulation.sign_up_auto_pay(NCS, record["id"], plan, idempotency_key="ez-1")
    updated = await circulation.update_auto_pay(NCS, record["id"], {**plan, "tip": Decimal("2.50")},
                                                idempotency_key="ez-2")
    tipped = await circulation.add_tip(NCS, record["id"], {"amount": Decimal("3.00"), "recurring": False,
                                                           "paymentType": "BANK", "gatewayTransactionId": "gw-t"},
                                       idempotency_key="tip-1")
    renamed = await circulation.update_subscription(NCS, record["id"], {"name": "Porch"})
    cancelled = await circulation.cancel(NCS, record["id"], "moving")
    created = await circulation.create_subscription(NCS, {
        "productCode": record["productCode"], "term": option["term"], "digital": False,
        "subscriber": {**record["subscriber"]}}, idempotency_key="start-1")
    # then
    assert signed["subscription"]["autoPay"] is True
    assert updated["subscription"]["autoPayPlan"]["tip"] == Decimal("2.50")
    assert tipped["subscription"]["id"] == record["id"]
    assert renamed["name"] == "Porch"
    assert cancelled["subscription"]["status"] == "STOPPED"
    assert created["status"] == "ACTIVE" and created["balance"] == Decimal("0.00")
    assert [e["operation"] for e in app.state.store.ledger] == [
        "AUTOPAY_SIGNUP", "AUTOPAY_UPDATE", "TIP", "CANCEL", "START"]


async def test_api_key_is_sent_as_a_bearer_token(datasource_for):
    app = create_app(api_key="k3y")
    load_demo(app.state.store, DATA, paper_codes=[NCS])
    with_key, without_key = datasource_for(app, api_key="k3y"), datasource_for(app)
    assert (await with_key.get_subscription(NCS, "NCS-0000001"))["id"] == "NCS-0000001"
    with pytest.raises(UpstreamRejected) as caught:
        await without_key.get_subscription(NCS, "NCS-0000001")
    assert caught.value.status == 401


# error mapping and retries -------------------------------------------------------------------------
async def add_fault(app, **rule) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://circulation") as admin:
        (await admin.post("/_sandbox/faults", json={"rules": [rule]})).raise_for_status()


async def test_5xx_maps_to_unavailable_after_read_retries(circulation, app):
    await add_fault(app, method="GET", path="/subscriptions/", status=503)
    with pytest.raises(UpstreamUnavailable) as caught:
        await circulation.get_subscription(NCS, "NCS-0000001")
    assert caught.value.status == 503
    assert app.state.control.count("GET") == 3  # one try and two retries


async def test_a_read_succeeds_on_retry_after_one_503(circulation, app):
    await add_fault(app, method="GET", path="/subscriptions/", status=503, times=1)
    record = await circulation.get_subscription(NCS, "NCS-0000001")
    assert record["id"] == "NCS-0000001"
    assert app.state.control.count("GET") == 2


async def test_a_post_without_idempotency_key_is_not_retried(circulation, app):
    # given
    await add_fault(app, method="POST", path="/cancel$", status=503, times=1)
    record = active_payable(app)
    # when
    with pytest.raises(UpstreamUnavailable):
        await circulation.cancel(NCS, record["id"], "moving")
    # then
    assert app.state.control.count("POST") == 1
    assert app.state.store.papers[NCS].subscriptions[record["id"]]["status"] == "ACTIVE"


async def test_a_keyed_payment_retried_after_a_503_is_applied_once(circulation, app):
    await add_fault(app, method="POST", path="/payments$", status=503, times=1)
    record = active_payable(app)
    option = record["billingOptions"][0]
    body = {"optionTerm": option["term"], "amount": option["amount"], "paymentType": "CREDIT_CARD",
            "gatewayTransactionId": "gw-9"}
    await circulation.apply_payment(NCS, record["id"], body, idempotency_key="pay-9")
    assert app.state.control.count("POST") == 2
    assert [e["operation"] for e in app.state.store.ledger] == ["PAYMENT"]


async def test_dropped_connection_maps_to_unavailable(app, datasource_for):
    datasource = datasource_for(app, read_retries=0)
    await add_fault(app, path="/subscriptions/", drop=True)
    with pytest.raises(UpstreamUnavailable):
        await datasource.get_subscription(NCS, "NCS-0000001")


async def test_hang_maps_to_timeout(app, datasource_for):
    datasource = datasource_for(app, timeout=0.2)
    await add_fault(app, path="/subscriptions/", timeout=True)
    with pytest.raises(UpstreamTimeout):
        await datasource.get_subscription(NCS, "NCS-0000001")


# over a real socket --------------------------------------------------------------------------------
async def test_over_loopback_reads_and_maps_a_dropped_connection(app):
    # a hang is tested in-process only: uvicorn would wait for the hanging handler on shutdown
    with serve_on_loopback(app) as base_url:
        async with httpx.AsyncClient(base_url=base_url) as client:
            circulation = CirculationDataSource(client, timeout=2.0, read_retries=0)
            # when the upstream answers normally
            record = await circulation.get_subscription(NCS, "NCS-0000001")
            records = await circulation.get_subscriptions(NCS, ["NCS-0000001", "NCS-0000002"])
            # and when it drops the connection mid-body
            await client.post("/_sandbox/faults", json={"rules": [{"path": "/subscriptions/", "drop": True}]})
            with pytest.raises(UpstreamUnavailable):
                await circulation.get_subscription(NCS, "NCS-0000002")
    assert record["balance"] == Decimal("-3.45")
    assert set(records) == {"NCS-0000001", "NCS-0000002"}


def test_money_fields_become_decimal_at_any_depth_and_nothing_else_changes():
    """MNY-1: every money field of an answer is an exact Decimal, in lists of dicts of lists too."""
    from datasources.circulation import _money

    answer = {"id": "S-1", "balance": "-0.10", "name": "12.50",
              "billingOptions": [{"term": "1M", "rate": "10.79", "tax": "0.75", "nested": [{"amount": "0.005"}]}],
              "counts": [1, "2.00", None], "amount": None}
    converted = _money(answer)
    assert converted["balance"] == Decimal("-0.10") and isinstance(converted["balance"], Decimal)
    option = converted["billingOptions"][0]
    assert (option["rate"], option["tax"]) == (Decimal("10.79"), Decimal("0.75"))
    assert option["nested"][0]["amount"] == Decimal("0.005")
    assert converted["name"] == "12.50" and converted["counts"] == [1, "2.00", None]
    assert converted["amount"] is None and option["term"] == "1M"


# -- account servicing (EZ-4, EBL-4) ---------------------------------------------------------------------------
@pytest.mark.parametrize("paper,kind", [("NCSDEMO", "NCS"), ("MTXDEMO", "MATRIX"), ("CPRDEMO", "CIRCPRO"),
                                        ("SAXDEMO", "SAXO")])
async def test_ez_4_current_plan_is_one_shape_whatever_the_kind_calls_its_fields(reader, loaded_app, paper, kind):
    # given: a subscription on auto-pay
    record = next(r for r in loaded_app.state.store.papers[paper].subscriptions.values() if r["autoPay"])
    # when
    plan = await reader.get_current_plan(paper, record["id"], kind)
    # then
    assert set(plan) == {"term", "length", "lengthUnit", "paidThroughDate", "rate", "tax", "otherCosts", "amount",
                         "autoRenew", "balance"}
    assert plan["paidThroughDate"] == record["endDate"] and plan["autoRenew"] is True
    assert isinstance(plan["amount"], Decimal) and plan["balance"] == record["balance"]


async def test_ebl_4_a_statement_comes_back_as_its_bytes(reader, loaded_app):
    record = next(r for r in loaded_app.state.store.papers[NCS].subscriptions.values() if r["startDate"] < "2025-06-01")
    statements = await reader.get_statements(NCS, record["id"])
    pdf = await reader.get_statement_pdf(NCS, record["id"], statements[0]["id"])
    assert isinstance(statements[0]["amountDue"], Decimal)
    assert isinstance(pdf, bytes) and pdf.startswith(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3")  # binary, not decoded as text
    with pytest.raises(UpstreamNotFound) as missing:
        await reader.get_statement_pdf(NCS, record["id"], "ST-nope")
    assert missing.value.body["code"] == "STATEMENT_NOT_FOUND"
