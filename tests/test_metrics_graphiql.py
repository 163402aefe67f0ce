"""`papergraph_graphql_requests_total{operation="-",outcome="rejected"}` counts refusals only: a browser loading
GraphiQL's page is not one (issue 19 item 11: every page load counted as a rejected request)."""

from __future__ import annotations

from telemetry.metrics import sample

REJECTED = {"operation": "-", "outcome": "rejected"}


def rejected() -> float:
    return sample("papergraph_graphql_requests_total", **REJECTED)


async def test_a_graphiql_page_load_is_not_counted_as_a_rejected_request(api_client):
    # given
    before = rejected()
    pages_before = sample("papergraph_http_requests_total", route="/graphql", status="200")

    # when: a browser opens /graphql
    page = await api_client.get("/graphql", headers={"accept": "text/html,application/xhtml+xml,*/*;q=0.8"})

    # then: served, counted as an HTTP request, not as a refused GraphQL request
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert rejected() == before
    assert sample("papergraph_http_requests_total", route="/graphql", status="200") == pages_before + 1


async def test_a_refused_request_is_still_counted_as_rejected(api_client):
    # given
    before = rejected()

    # when: a body that is not JSON, refused before any operation
    refused = await api_client.post("/graphql", content=b"{not json", headers={"content-type": "application/json"})

    # then
    assert refused.status_code == 400
    assert rejected() == before + 1
