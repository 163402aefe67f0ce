"""papergraph in a real federated graph: @apollo/gateway composes it with a small second subgraph written
in Node (tests/node/gateway.mjs, "delivery", which extends CustomerSubscription and Registration by key)
and serves the supergraph on loopback. The queries need both subgraphs, so entity resolution (`_entities`)
runs for real, in batches, both ways; the gateway forwards the caller's Authorization to both, and
papergraph authorizes `_entities` like any field (a staff token here, and a customer's in one test)."""

from __future__ import annotations

import json
from dataclasses import dataclass

import httpx
import pytest

from sandbox.demo import crid_for
from tests.http.conftest import Recorder
from tests.support import node_process

ROUTE_STOPS = ["NCS-0000001", "NCS-0000002", "NCS-0000003"]
ROUTE_READERS = [crid_for("NCSDEMO", 0, "Auth0"), crid_for("NCSDEMO", 1, "Auth0")]
READER = ROUTE_READERS[0]

READER_WITH_DELIVERY = """
query ReaderWithDelivery($crid: String!) {
  registration(crid: $crid) {
    crid email loyaltyPoints
    linkedSubscriptions { id status deliveryNotes }
  }
}
"""
READER_FROM_PAPERGRAPH = """
query Reader($crid: String!) {
  registration(crid: $crid) { crid email linkedSubscriptions { id status } }
}
"""
ROUTE = """
query Route {
  deliveryRoute(code: "NORTH") {
    code
    stops { id status accountNumber deliveryNotes }
    readers { crid email loyaltyPoints }
  }
}
"""
STOPS_FROM_PAPERGRAPH = """
query Stops($a: ID!, $b: ID!, $c: ID!) {
  a: subscription(id: $a) { id status accountNumber }
  b: subscription(id: $b) { id status accountNumber }
  c: subscription(id: $c) { id status accountNumber }
}
"""


@dataclass
class Federation:
    gateway: str
    delivery: str
    papergraph: str
    recorder: Recorder
    auth0: object  # the Auth0 emulator's store of the papergraph under test: it signs the tokens

    def token(self, **claims) -> str:
        """A staff token with READ_ONLY of every section (or the claims given), signed by the Auth0 emulator."""
        from auth.principals import CLAIM_NAMESPACE as CLAIM, SECTIONS

        sub = claims.pop("sub", "auth0|gateway-test-staff")
        return "Bearer " + self.auth0.issue_token(sub=sub, audience="https://api.papergraph.dev", claims={
            CLAIM + "tenant": "NCSDEMO", CLAIM + "principal": "staff",
            CLAIM + "access": {section: "READ_ONLY" for section in SECTIONS}, **claims})

    def query(self, query: str, variables: dict | None = None, **headers: str) -> dict:
        headers.setdefault("authorization", self.token())
        response = httpx.post(self.gateway, json={"query": query, "variables": variables or {}},
                              headers=headers, timeout=30)
        assert response.status_code == 200, response.text
        return response.json()

    def papergraph_query(self, query: str, variables: dict | None = None) -> dict:
        response = httpx.post(f"{self.papergraph}/graphql", json={"query": query, "variables": variables or {}},
                              headers={"authorization": self.token()}, timeout=30)
        assert response.status_code == 200, response.text
        return response.json()

    def entity_requests(self, since: int) -> list[dict]:
        """The `_entities` requests papergraph served after the `since`-th request."""
        bodies = [json.loads(r["body"]) for r in self.recorder.requests[since:] if r["body"]]
        return [body for body in bodies if "_entities" in body.get("query", "")]


@pytest.fixture(scope="module")
def federation(papergraph_on_loopback) -> Federation:
    base_url, recorder = papergraph_on_loopback
    config = {"papergraph": f"{base_url}/graphql", "route": {"stops": ROUTE_STOPS, "readers": ROUTE_READERS}}
    with node_process("gateway.mjs", json.dumps(config)) as started:
        if "error" in started:
            pytest.fail("the gateway could not compose papergraph with the delivery subgraph: "
                        + "\n".join([started["error"], *started["errors"]]), pytrace=False)
        yield Federation(gateway=started["gateway"], delivery=started["delivery"], papergraph=base_url,
                         recorder=recorder, auth0=recorder.app.state.sandboxes["auth0"].state.store)


def loyalty_points(crid: str) -> int:
    """What the delivery subgraph answers (tests/node/gateway.mjs)."""
    return sum(ord(char) for char in crid) % 1000


def test_a_query_starting_in_papergraph_gets_the_delivery_fields(federation):
    # given
    expected = federation.papergraph_query(READER_FROM_PAPERGRAPH, {"crid": READER})["data"]["registration"]
    assert len(expected["linkedSubscriptions"]) > 1

    # when
    answer = federation.query(READER_WITH_DELIVERY, {"crid": READER})

    # then
    assert "errors" not in answer
    registration = answer["data"]["registration"]
    assert (registration["email"], registration["loyaltyPoints"]) == (expected["email"], loyalty_points(READER))
    assert registration["linkedSubscriptions"] == [
        {**subscription, "deliveryNotes": f"Leave {subscription['id']} at the side door"}
        for subscription in expected["linkedSubscriptions"]
    ]


def test_a_query_starting_in_the_other_subgraph_resolves_papergraph_entities_in_batches(federation):
    # given
    stops = federation.papergraph_query(STOPS_FROM_PAPERGRAPH, dict(zip("abc", ROUTE_STOPS)))["data"]
    readers = [federation.papergraph_query(READER_FROM_PAPERGRAPH, {"crid": crid})["data"]["registration"]
               for crid in ROUTE_READERS]
    served_before = len(federation.recorder.requests)

    # when
    answer = federation.query(ROUTE)

    # then: one `_entities` request per path of the plan, each carrying every key of that path (the
    # route's subscriptions in one, its readers in the other), never one request per key
    assert "errors" not in answer
    route = answer["data"]["deliveryRoute"]
    assert route["stops"] == [{**stops[key], "deliveryNotes": f"Leave {stops[key]['id']} at the side door"}
                              for key in "abc"]
    assert route["readers"] == [{"crid": r["crid"], "email": r["email"], "loyaltyPoints": loyalty_points(r["crid"])}
                                for r in readers]
    batches = sorted([r["__typename"] for r in request["variables"]["representations"]]
                     for request in federation.entity_requests(since=served_before))
    assert batches == [["CustomerSubscription"] * len(ROUTE_STOPS), ["Registration"] * len(ROUTE_READERS)]


def test_the_gateway_forwards_the_callers_authorization_to_both_subgraphs(federation):
    # given
    token = federation.token(sub="auth0|forwarded-staff")
    served_before = len(federation.recorder.requests)
    delivery_before = len(httpx.get(f"{federation.delivery}/seen", timeout=10).json())

    # when
    answer = federation.query(READER_WITH_DELIVERY, {"crid": READER}, authorization=token)

    # then
    assert "errors" not in answer
    papergraph_saw = [r["authorization"] for r in federation.recorder.requests[served_before:]]
    delivery_saw = httpx.get(f"{federation.delivery}/seen", timeout=10).json()[delivery_before:]
    assert papergraph_saw and set(papergraph_saw) == {token}
    assert delivery_saw and set(delivery_saw) == {token}


def test_a_customer_through_the_gateway_gets_its_own_data_and_no_one_elses(federation):
    # given: the route's first reader signed in as a customer
    from auth.principals import CLAIM_NAMESPACE as CLAIM

    customer = "Bearer " + federation.auth0.issue_token(sub=READER, audience="https://api.papergraph.dev", claims={
        CLAIM + "tenant": "NCSDEMO", CLAIM + "principal": "customer"})
    other = federation.papergraph_query(READER_FROM_PAPERGRAPH, {"crid": ROUTE_READERS[1]})["data"]["registration"]

    # when: its own registration (papergraph, then the delivery subgraph's fields), another reader's, and the
    # route whose stops and readers papergraph resolves through _entities
    own = federation.query(READER_WITH_DELIVERY, {"crid": READER}, authorization=customer)
    theirs = federation.query(READER_WITH_DELIVERY, {"crid": ROUTE_READERS[1]}, authorization=customer)
    route = federation.query(ROUTE, authorization=customer)

    # then: papergraph authorizes `_entities` like its own fields; nothing of the other reader leaks
    assert "errors" not in own and own["data"]["registration"]["loyaltyPoints"] == loyalty_points(READER)
    assert theirs["data"]["registration"] is None
    assert [e["extensions"]["code"] for e in theirs["errors"]] == ["FORBIDDEN"]
    assert any(e.get("extensions", {}).get("code") == "FORBIDDEN" and "_entities" in e["message"]
               for e in route["errors"])
    assert other["email"] not in json.dumps(route)
