from __future__ import annotations

import pytest

from tests.graphql.offers.own_rows import OwnRows


@pytest.fixture
async def own_rows(services):
    rows = OwnRows(services)
    yield rows
    await rows.cleanup()
