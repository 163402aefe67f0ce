"""What every request does around execution, done once where once is enough (issue 18, part 3): the work
remembered per process, per policy or per document must answer exactly what doing it again would."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from graphql import DocumentNode, build_schema, parse

from server.inputs import MAX_STRING_LENGTH, InputPolicy
from server.limits import OperationPolicy, limit_rules
from server.throttle import client_address

SCHEMA = build_schema("type Query { echo(text: String): String }")


def _input_policy() -> InputPolicy:
    policy = InputPolicy()
    policy.execution_context = SimpleNamespace(schema=SimpleNamespace(_schema=SCHEMA))
    return policy


def test_a_documents_literal_checks_are_found_again_without_hashing_the_document(monkeypatch):
    # graphql-core's nodes are frozen dataclasses: hashing one walks the whole tree (twice a request before)
    document = parse('{ echo(text: "%s") }' % ("x" * (MAX_STRING_LENGTH + 1)))
    policy = _input_policy()
    first = policy._texts(document)
    monkeypatch.setattr(DocumentNode, "__hash__", lambda self: pytest.fail("the document was hashed"))

    again = policy._texts(document)

    assert again is first
    assert [error.extensions["code"] for error in again.errors] == ["BAD_USER_INPUT"]


def test_an_equal_document_parsed_again_gets_the_same_verdict():
    text = '{ echo(text: "%s") }' % ("x" * (MAX_STRING_LENGTH + 1))
    policy = _input_policy()
    verdict = [error.message for error in policy._texts(parse(text)).errors]

    assert verdict and [error.message for error in policy._texts(parse(text)).errors] == verdict
    assert policy._texts(parse("{ echo(text: \"short\") }")).errors == []


def test_the_limit_rules_of_a_policy_are_built_once():
    policy = OperationPolicy.defaults()
    stricter = OperationPolicy(**{**vars(policy), "max_depth": 2})

    assert limit_rules(policy) is limit_rules(OperationPolicy.defaults())
    assert limit_rules(stricter) is not limit_rules(policy)


@pytest.mark.parametrize(("peer", "key"), [
    ("203.0.113.7", "203.0.113.7"),
    ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
    ("::ffff:203.0.113.7", "203.0.113.7"),
    ("not-an-address" * 10, ("not-an-address" * 10)[:64]),
])
def test_a_client_address_is_keyed_the_same_each_time_it_is_asked(peer, key):
    request = SimpleNamespace(client=SimpleNamespace(host=peer))

    assert client_address(request, 0) == key
    assert client_address(request, 0) == key  # remembered: the same answer


def test_a_forwarded_address_counts_only_behind_trusted_proxies():
    class Headers:
        def getlist(self, name):
            return ["198.51.100.1, 2001:db8::9"] if name == "x-forwarded-for" else []

    request = SimpleNamespace(client=SimpleNamespace(host="10.0.0.1"), headers=Headers())

    assert client_address(request, 0) == "10.0.0.1"
    assert client_address(request, 1) == "2001:db8::/64"
    assert client_address(request, 2) == "198.51.100.1"
    assert client_address(request, 3) == "10.0.0.1"
    assert client_address(None, 0) == "unknown"


def _access_record(created: float):
    import logging

    record = logging.getLogger("papergraph.access").makeRecord(
        "papergraph.access", logging.INFO, "observe.py", 1, "%s %s %d", ("POST", "/graphql", 200), None, None,
        {"request_id": "4111 1111 1111 1111", "status": 200})
    record.created = created
    return record


def test_a_log_lines_time_is_written_as_is_unless_a_secret_is_in_it():
    import json
    from datetime import datetime, timezone

    from telemetry.logs import JsonFormatter

    created = datetime(2026, 12, 7, 5, 38, 27, 123000, tzinfo=timezone.utc).timestamp()

    plain = json.loads(JsonFormatter(["not-in-the-line"]).format(_access_record(created)))
    secret = json.loads(JsonFormatter(["12-07T05:38"]).format(_access_record(created)))

    assert list(plain)[:2] == ["time", "level"]
    assert plain["time"] == "2026-12-07T05:38:27.123+00:00"
    assert plain["request_id"] == "[REDACTED]"  # the other strings are still redacted (a card number)
    assert secret["time"] == "2026-[REDACTED]:27.123+00:00"


def test_a_generated_request_id_is_a_uuid4_in_hex_as_uuid_writes_it(monkeypatch):
    import os
    import uuid

    import app

    for raw in (bytes(16), b"\xff" * 16, bytes(range(16)), os.urandom(16)):
        monkeypatch.setattr(app.os, "urandom", lambda size, raw=raw: raw)
        assert app.new_request_id() == uuid.UUID(bytes=raw, version=4).hex.encode()
    monkeypatch.undo()
    ids = {app.new_request_id() for _ in range(100)}
    assert len(ids) == 100
    assert all(uuid.UUID(i.decode()).version == 4 for i in ids)


def test_a_requests_record_and_budget_hold_inside_and_are_undone_after_even_on_an_error():
    from datasources.budget import request_budget, time_left
    from telemetry.context import RequestRecord, current_operation, current_request, operation, serving

    record = RequestRecord(request_id="r-1", method="POST", path="/graphql")
    with pytest.raises(RuntimeError):
        with serving(record) as served, request_budget(30.0):
            assert served is record and current_request() is record
            assert 29.0 < time_left() <= 30.0
            with operation("first") as first:
                assert current_operation() is first and first.name == "first"
            with pytest.raises(ValueError), operation(None):
                raise ValueError("a failed operation is still recorded")
            assert current_operation() is None
            raise RuntimeError("the request fails")

    assert current_request() is None and time_left() is None
    assert [o.name for o in record.operations] == ["first", None]


def test_an_operation_outside_a_request_is_recorded_nowhere():
    from telemetry.context import current_operation, operation

    with operation("alone") as record:
        assert current_operation() is record
    assert current_operation() is None


async def test_an_accepted_tokens_verifier_is_found_again_without_decoding_the_token(monkeypatch):
    import auth.tokens as tokens
    from auth.tokens import InvalidToken, IssuerRouter

    class Verifier:
        def __init__(self, issuer, accepts=True):
            self.issuer, self.accepts, self.calls = issuer, accepts, 0

        async def verify(self, token):
            self.calls += 1
            if not self.accepts:
                raise InvalidToken("refused")
            return {"iss": self.issuer, "token": token}

    own, default = Verifier("https://own.papergraph/"), Verifier("https://auth.example/")
    router = IssuerRouter(default, [own])
    picked = {"good": own, "bad": default}
    decoded = []
    monkeypatch.setattr(router, "for_token", lambda token: decoded.append(token) or picked[token])

    assert await router.verify("good") == {"iss": own.issuer, "token": "good"}
    assert await router.verify("good") == {"iss": own.issuer, "token": "good"}
    assert own.calls == 2 and decoded == ["good"]  # the verifier still answers each time; the route is remembered

    default.accepts = False
    for _ in range(2):
        with pytest.raises(InvalidToken):
            await router.verify("bad")
    assert decoded == ["good", "bad", "bad"]  # a refused token is routed afresh each time, never remembered

    monkeypatch.setattr(tokens, "VERIFIED_CACHE_SIZE", 1)
    picked["other"] = own
    await router.verify("other")
    assert list(router._routes) == ["other"]  # bounded, the oldest first out


def test_an_extra_field_named_time_still_replaces_the_lines_time_and_is_redacted():
    import json
    import logging

    from telemetry.logs import JsonFormatter

    record = logging.getLogger("papergraph.test").makeRecord(
        "papergraph.test", logging.INFO, "x.py", 1, "hello", (), None, None, {"time": "Bearer abcdefghijkl"})

    assert json.loads(JsonFormatter().format(record))["time"] == "Bearer [REDACTED]"
