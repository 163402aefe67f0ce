"""Persisted operations (server/persisted.py): automatic persisted queries for every client, shared through
the database, and the safelist filled by `papergraph register-operations`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

from datasources.repositories.persisted_operations import PersistedOperationRepository
from server.persisted import sha256_hex
from tests.http.conftest import codes, post
from tests.support import without_cost

ROOT = Path(__file__).resolve().parents[2]
STATUS_QUERY = 'query Status%s { subscription(id: "NCS-0000001") { id status } }'
INVALID_QUERY = "query Broken%s { subscriptionn { id } }"
FRONT_END_OPERATIONS = """
query Dashboard%(tag)s($id: ID!) {
  subscription(id: $id) { ...SubscriptionCard%(tag)s }
}
"""
FRONT_END_FRAGMENTS = """
fragment SubscriptionCard%(tag)s on CustomerSubscription {
  id
  status
}
"""


def _unique(template: str) -> str:
    """Each test persists its own documents: the database is shared by the session."""
    return template % uuid.uuid4().hex[:12]


def _apq(sha256: str, query: str | None = None) -> dict:
    body: dict = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha256}}}
    if query is not None:
        body["query"] = query
    return body


def _register_cli(database_url: str, *paths: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cli", "register-operations", *map(str, paths)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "DATABASE_URL": database_url, "PAPERGRAPH_ENVIRONMENT": "test"})


def _front_end(tmp_path: Path, tag: str) -> Path:
    (tmp_path / "src" / "fragments").mkdir(parents=True)
    (tmp_path / "src" / "dashboard.graphql").write_text(FRONT_END_OPERATIONS % {"tag": tag})
    (tmp_path / "src" / "fragments" / "card.graphql").write_text(FRONT_END_FRAGMENTS % {"tag": tag})
    return tmp_path / "src"


async def test_an_unknown_hash_asks_for_the_document(staff_api_client):
    # given
    query = _unique(STATUS_QUERY)

    # when
    response = await post(staff_api_client, _apq(sha256_hex(query)))

    # then
    assert response.status_code == 404
    assert codes(response) == ["PERSISTED_QUERY_NOT_FOUND"]
    assert response.json()["errors"][0]["message"] == "PersistedQueryNotFound"
    assert response.headers["cache-control"] == "private, no-cache, must-revalidate"


async def test_a_legacy_client_is_told_not_found_with_200(staff_api_client):
    # when
    response = await post(staff_api_client, _apq(sha256_hex(_unique(STATUS_QUERY))), accept="application/json")

    # then
    assert response.status_code == 200
    assert codes(response) == ["PERSISTED_QUERY_NOT_FOUND"]


async def test_a_document_sent_with_its_hash_is_registered_for_every_process(staff_api_client, client_with):
    # given
    query = _unique(STATUS_QUERY)
    sha256 = sha256_hex(query)

    # when: registered through one app, then asked by hash alone of another (another server process)
    registered = await post(staff_api_client, _apq(sha256, query))
    other_process = await client_with()
    by_hash = await other_process.get("/graphql", params={"extensions": json.dumps(_apq(sha256)["extensions"])})

    # then
    assert registered.status_code == 200
    assert by_hash.status_code == 200
    assert without_cost(by_hash.json()) == without_cost(registered.json()) == {"data": {"subscription": {"id": "NCS-0000001", "status": "ACTIVE"}}}


async def test_a_hash_that_does_not_match_the_document_is_refused(staff_api_client):
    # given
    query = _unique(STATUS_QUERY)

    # when
    response = await post(staff_api_client, _apq(sha256_hex(query + " "), query))

    # then
    assert response.status_code == 400
    assert codes(response) == ["PERSISTED_QUERY_HASH_MISMATCH"]


async def test_a_document_that_fails_validation_is_not_registered(staff_api_client, services):
    # given
    query = _unique(INVALID_QUERY)
    sha256 = sha256_hex(query)

    # when
    response = await post(staff_api_client, _apq(sha256, query))

    # then
    assert response.status_code == 400
    assert codes(response) == ["GRAPHQL_VALIDATION_FAILED"]
    assert await PersistedOperationRepository(services.db).by_sha256(sha256) is None


async def test_an_unsupported_persisted_query_version_is_refused(staff_api_client):
    # when
    response = await post(staff_api_client, {"query": "{ __typename }",
                                       "extensions": {"persistedQuery": {"version": 2, "sha256Hash": "0" * 64}}})

    # then
    assert response.status_code == 400
    assert codes(response) == ["BAD_REQUEST"]


def test_register_operations_safelists_each_operation_with_its_fragments(tmp_path, database_url):
    # given: a front end's operation and, in another file, the fragment it spreads
    tag = uuid.uuid4().hex[:12]
    source = _front_end(tmp_path, tag)

    # when
    result = _register_cli(database_url, source)

    # then
    assert result.returncode == 0, result.stderr
    [line] = result.stdout.splitlines()
    sha256, name, _origin = line.split(maxsplit=2)
    assert name == f"Dashboard{tag}"
    assert "registered 1 operations (1 new)" in result.stderr
    again = _register_cli(database_url, source)
    assert "registered 1 operations (0 new)" in again.stderr


def test_register_operations_refuses_invalid_operations_and_registers_nothing(tmp_path, database_url):
    # given: one valid operation, one selecting an unknown field, one without a name
    tag = uuid.uuid4().hex[:12]
    source = _front_end(tmp_path, tag)
    (source / "broken.graphql").write_text(f"query Broken{tag} {{ subscriptionn {{ id }} }}\n{{ __typename }}\n")

    # when
    result = _register_cli(database_url, source)

    # then
    assert result.returncode == 1
    problems = result.stderr.strip().splitlines()
    assert len(problems) == 2
    assert f"broken.graphql:1: operation Broken{tag}: Cannot query field 'subscriptionn'" in problems[1]
    assert "broken.graphql:2: an operation without a name cannot be registered" in problems[0]
    assert result.stdout == ""


def _safelist(database_url: str, tmp_path: Path) -> str:
    """Register a front end's operation with the command; the tag that names it."""
    tag = uuid.uuid4().hex[:12]
    result = _register_cli(database_url, _front_end(tmp_path, tag))
    assert result.returncode == 0, result.stderr
    return tag


async def test_safelist_mode_accepts_registered_operations_by_hash_and_by_text(client_with, database_url, tmp_path,
                                                                               services):
    # given: the operation registered by the command, as printed with its fragment
    tag = _safelist(database_url, tmp_path)
    registered = _registered_text(tag)
    row = await PersistedOperationRepository(services.db).by_sha256(sha256_hex(registered))
    assert (row.operation_name, row.safelisted) == (f"Dashboard{tag}", True)
    client = await client_with(operation_safelist=True)
    variables = {"id": "NCS-0000001"}
    as_written = FRONT_END_OPERATIONS % {"tag": tag} + FRONT_END_FRAGMENTS % {"tag": tag}

    # when
    by_hash = await post(client, {**_apq(sha256_hex(registered)), "variables": variables})
    by_text = await post(client, {"query": registered, "variables": variables})
    reformatted = await post(client, {"query": as_written, "variables": variables})

    # then
    expected = {"data": {"subscription": {"id": "NCS-0000001", "status": "ACTIVE"}}}
    assert [r.status_code for r in (by_hash, by_text, reformatted)] == [200, 200, 200]
    assert without_cost(by_hash.json()) == without_cost(by_text.json()) == without_cost(reformatted.json()) == expected


async def test_safelist_mode_refuses_other_operations_and_registers_none(client_with, services):
    # given
    client = await client_with(operation_safelist=True)
    query = _unique(STATUS_QUERY)

    # when
    by_text = await post(client, {"query": query})
    by_apq = await post(client, _apq(sha256_hex(query), query))

    # then
    assert (by_text.status_code, by_apq.status_code) == (422, 422)
    assert codes(by_text) == codes(by_apq) == ["OPERATION_NOT_IN_SAFELIST"]
    assert "PAPERGRAPH_OPERATION_SAFELIST" in by_text.json()["errors"][0]["message"]
    assert await PersistedOperationRepository(services.db).by_sha256(sha256_hex(query)) is None


def _registered_text(tag: str) -> str:
    """What the command registers: the operation and its fragments, printed by graphql-core."""
    from graphql import parse, print_ast

    return print_ast(parse(FRONT_END_OPERATIONS % {"tag": tag} + FRONT_END_FRAGMENTS % {"tag": tag}))
