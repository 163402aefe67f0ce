from tests.graphql.own_tenant import own_tenant  # noqa: F401  (fixture)
