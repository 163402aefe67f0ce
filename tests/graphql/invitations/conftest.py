from tests.graphql.messages.conftest import settings  # noqa: F401  (fixture: quick mail delivery)
from tests.graphql.own_tenant import own_tenant  # noqa: F401  (fixture)
