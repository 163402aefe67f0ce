"""Account servicing as papergraph shows it: a subscription's bill statements (EBL-4) and its current plan (EZ-4),
both read live from the circulation system, one upstream call per subscription (it has no batch endpoint for
either), through the request's loaders (resolvers/dataloaders/account.py)."""

from __future__ import annotations

from datetime import date
from typing import Any, Optional
from urllib.parse import quote

import strawberry
from strawberry.types import Info

from auth.permissions import PAYMENTS, SUBSCRIPTIONS, allow, customer_linked, customer_owner, parent, reads, staff_read
from schema.common import Money

STATEMENT_ROUTE = "/statements"  # GET /statements/{subscriptionId}/{statementId}: server/statements.py


def statement_path(subscription_id: str, statement_id: str) -> str:
    return f"{STATEMENT_ROUTE}/{quote(subscription_id, safe='')}/{quote(statement_id, safe='')}"


@strawberry.type(description="A bill statement of the subscription, as the circulation system issued it (EBL-4).")
class BillStatement:
    id: strawberry.ID = strawberry.field(description="The circulation system's id of the statement.")
    issue_date: date = strawberry.field(description="When it was issued, in the tenant's calendar.")
    period_start: date = strawberry.field(description="The first day the statement bills.")
    period_end: date = strawberry.field(description="The last day the statement bills.")
    amount_due: Money = strawberry.field(description="What the statement asks for.")
    download_url: str = strawberry.field(description=(
        "Where the statement's PDF is downloaded: a GET with the same `Authorization` header as GraphQL, allowed to "
        "the subscription's owners and staff; any other caller, or another subscription's statement, gets 404 "
        "NOT_FOUND (EBL-4)."))

    @classmethod
    def from_record(cls, record: dict[str, Any], subscription_id: str, base_url: str) -> "BillStatement":
        return cls(id=strawberry.ID(str(record["id"])), issue_date=date.fromisoformat(record["issueDate"]),
                   period_start=date.fromisoformat(record["periodStart"]),
                   period_end=date.fromisoformat(record["periodEnd"]),
                   amount_due=Money.of(record["amountDue"], record["currency"]),
                   download_url=base_url + statement_path(subscription_id, str(record["id"])))


@strawberry.type(description=(
    "The plan the subscription is on, read live from the circulation system in one shape for every circulation "
    "system, active or stopped (EZ-4). Amounts have two decimals."))
class CurrentPlan:
    term: Optional[str] = strawberry.field(description="The billing option's term code, e.g. 1M; null without one.")
    length: Optional[int] = strawberry.field(description="The term's length, in `lengthUnit`s.")
    length_unit: Optional[str] = strawberry.field(description="DAY, WEEK, MONTH or YEAR.")
    paid_through_date: Optional[date] = strawberry.field(description="The last day paid for.")
    rate: Money = strawberry.field(description="The term's rate.")
    tax: Money = strawberry.field(description="The tax on the rate.")
    other_costs: Money = strawberry.field(description="Other costs of the term.")
    amount: Money = strawberry.field(description="What one term costs in all.")
    auto_renew: bool = strawberry.field(description="True when the term renews by itself (auto-pay, not stopped).")
    balance: Money = strawberry.field(description="> 0 is a credit, < 0 a debt.")

    @classmethod
    def from_plan(cls, plan: dict[str, Any], currency: str) -> "CurrentPlan":
        paid = plan.get("paidThroughDate")
        length = plan.get("length")
        return cls(term=plan.get("term"), length=int(length) if length is not None else None,
                   length_unit=plan.get("lengthUnit"), paid_through_date=date.fromisoformat(paid) if paid else None,
                   rate=Money.of(plan["rate"], currency), tax=Money.of(plan["tax"], currency),
                   other_costs=Money.of(plan["otherCosts"], currency), amount=Money.of(plan["amount"], currency),
                   auto_renew=bool(plan.get("autoRenew")), balance=Money.of(plan["balance"], currency))


@strawberry.type(description=(
    "How a purchase's eBill opt-in went (EBL-5): a failed opt-in leaves the purchase standing and says why here."))
class EBillOptIn:
    signed_up: bool = strawberry.field(description="True when the new subscription is on eBill.")
    message: Optional[str] = strawberry.field(default=None, description=(
        "Why the opt-in failed, when it did; sign up later with `signUpEBill`."))


async def _bill_statements(root: Any, info: Info) -> Optional[list[BillStatement]]:
    return await info.context.loaders.bill_statements_by_subscription_id.load(str(root.id))


async def _current_plan(root: Any, info: Info) -> Optional[CurrentPlan]:
    return await info.context.loaders.current_plan_by_subscription_id.load(str(root.id))


def subscription_bill_statements_field():
    return strawberry.field(resolver=_bill_statements, description=(
        "The subscription's bill statements, newest first, each with its PDF's download URL (EBL-4), read live from "
        "the circulation system. Owners and staff. One upstream call per subscription."),
        extensions=allow(staff_read(SUBSCRIPTIONS), customer_owner(parent("id"))))


def subscription_current_plan_field():
    return strawberry.field(resolver=_current_plan, description=(
        "The plan the subscription is on, active or stopped, read live in one shape for every circulation system "
        "(EZ-4). One upstream call per subscription."),
        extensions=allow(reads(SUBSCRIPTIONS), reads(PAYMENTS), customer_linked(parent("id"))))
