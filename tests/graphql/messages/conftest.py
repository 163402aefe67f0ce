"""Messages are read from the mail emulator's inbox after a real SMTP delivery (no mock): the app runs its
delivery worker in-process, retrying quickly."""

from __future__ import annotations

import pytest

from settings import Settings
from tests.graphql.own_tenant import own_tenant  # noqa: F401  (fixture)


@pytest.fixture
def settings(database_url) -> Settings:
    return Settings(environment="test", database_url=database_url, upstreams="embedded", seed_demo_data=False,
                    upstream_timeout=2.0, upstream_read_retries=1, mail_retry_base_seconds=0.05,
                    mail_poll_interval=0.05, frontend_url="https://front.example.test/default")
