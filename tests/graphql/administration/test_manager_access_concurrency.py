"""setManagerAccessLevels under concurrency (MGR-1, NOT-1): a database-semantics test, on both backends."""

from __future__ import annotations

import asyncio
import uuid

from sqlmodel import select

from datasources.models import Event
from tests.conftest import graphql

SET_ACCESS = """
mutation ($input: SetManagerAccessLevelsInput!) {
  setManagerAccessLevels(input: $input) { managerAccess { sections { section level } } userErrors { code } }
}
"""


async def test_mgr1_concurrent_first_levels_of_one_manager_are_all_applied(staff_api_client, own_tenant, services):
    # given: a manager without any stored level, and six changes of the same sections at once
    tenant = await own_tenant()
    manager = f"auth0|manager-{uuid.uuid4().hex[:8]}"
    levels = ["READ_ONLY", "FULL_CONTROL", "NO_ACCESS"] * 2
    # when
    answers = await asyncio.gather(*(graphql(staff_api_client, SET_ACCESS, {"input": {"managerSubject": manager, "levels": [
        {"section": "OFFERS", "level": level}, {"section": "PAYMENTS", "level": level}]}}, **tenant.headers)
        for level in levels))
    # then: every change answered and recorded; one level per section remains
    assert [a.get("errors") for a in answers] == [None] * 6
    assert all(a["data"]["setManagerAccessLevels"]["userErrors"] == [] for a in answers)
    async with services.db.session() as session:
        events = (await session.execute(select(Event).where(
            Event.tenant_id == tenant.id, Event.type_code == "UPDATEMANAGERACCESS"))).scalars().all()
    assert len(events) == 6
    read = await graphql(staff_api_client, "query ($s: String!) { managerAccess(managerSubject: $s) { sections "
                                           "{ section level } } }", {"s": manager}, **tenant.headers)
    sections = {s["section"]: s["level"] for s in read["data"]["managerAccess"]["sections"]}
    assert sections["OFFERS"] == sections["PAYMENTS"] and sections["OFFERS"] in levels
