"""Structured logs (telemetry/logs.py): JSON lines with the request's id, tenant, operation and outcome, and no
secret, token, password or card number in any of them, whatever the code below logs."""

from __future__ import annotations

import io
import json
import logging
import uuid

import pytest

from telemetry.logs import REDACTED, JsonFormatter, Redactor, logging_config, settings_secrets
from tests.conftest import bearer, graphql

pytestmark = pytest.mark.sqlite_only

PASSWORD = "Correct-horse-9!battery"
CARD = "4111 1111 1111 1111"
CARD_DIGITS = "4111111111111111"
CVV = "737"

CREATE_USER = """
mutation CreateUser($input: CreateUserInput!) {
  createUser(input: $input) { registration { crid } userErrors { code field message } }
}
"""
CHANGE_PASSWORD = """
mutation ChangePassword($input: ChangePasswordInput!) {
  changePassword(input: $input) { userErrors { code field message } }
}
"""
FINISH_FORGOT_PASSWORD = """
mutation FinishForgotPassword($input: FinishForgotPasswordInput!) {
  finishForgotPassword(input: $input) { userErrors { code field message } }
}
"""


@pytest.fixture
def captured_logs(settings):
    """Every log line of the test, from every logger at every level, through the production formatter."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter(settings_secrets(settings)))
    root = logging.getLogger()
    previous_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(previous_level)


def lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


async def test_mutations_carrying_secrets_leave_none_of_them_in_the_logs(api_client, staff_api_client, tokens,
                                                                        services, settings, captured_logs,
                                                                        monkeypatch):
    # given: a customer token, and an identity provider whose failure message repeats what it was sent
    email = f"log.secrecy.{uuid.uuid4().hex[:8]}@example.com"
    customer_token = tokens.customer("auth0|not-registered")
    original_create = services.auth0.create_user

    async def failing_create_user(*args, **kwargs):
        raise RuntimeError(f"auth0 exploded on {kwargs} with Authorization: Bearer {customer_token}")

    # when: sign-ups carrying a password and card data (metadata), one of which fails unexpectedly; a password
    # change; a forgot-password finish with a token; a request with a forged token
    await graphql(api_client, CREATE_USER, {"input": {
        "email": email, "password": PASSWORD,
        "metadata": {"cardNumber": CARD, "cvv": CVV, "note": f"card {CARD_DIGITS}"}}})
    monkeypatch.setattr(services.auth0, "create_user", failing_create_user)
    failed = await graphql(api_client, CREATE_USER, {"input": {
        "email": "x" + email, "password": PASSWORD, "metadata": {"cardNumber": CARD, "cvv": CVV}}})
    monkeypatch.setattr(services.auth0, "create_user", original_create)
    await graphql(staff_api_client, CHANGE_PASSWORD, {"input": {"customerRegistrationId": "auth0|nobody",
                                                                "password": PASSWORD}})
    await graphql(api_client, FINISH_FORGOT_PASSWORD, {"input": {"token": customer_token, "password": PASSWORD}})
    await api_client.post("/graphql", json={"query": "{ viewer { kind } }"}, headers=bearer(customer_token + "x"))
    await api_client.post("/graphql", json={"query": "{ viewer { kind } }"}, headers=bearer(customer_token))

    # then: the unexpected failure was logged (with its traceback), and nothing secret is anywhere
    assert failed["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    text = captured_logs.getvalue()
    logged = lines(captured_logs)
    assert any(line.get("traceback") and "auth0 exploded" in line["traceback"] for line in logged)
    for secret in (PASSWORD, CARD, CARD_DIGITS, customer_token, customer_token.split(".")[1],
                   *settings_secrets(settings)):
        assert secret not in text, secret
    assert f'"cvv": "{CVV}"' not in text and f"'cvv': '{CVV}'" not in text


async def test_one_access_line_per_request_with_its_id_tenant_principal_operation_and_outcome(staff_api_client,
                                                                                             captured_logs):
    # when
    await staff_api_client.post("/graphql", json={"query": "query Levels { householdLevels { id } }"},
                                headers={"X-Request-Id": "req-log-1", "X-Tenant": "MTXDEMO"})

    # then
    access = [line for line in lines(captured_logs) if line["logger"] == "papergraph.access"]
    assert len(access) == 1
    line = access[0]
    assert (line["request_id"], line["tenant"], line["principal"], line["operation"], line["outcome"],
            line["status"], line["method"], line["path"]) == (
        "req-log-1", "MTXDEMO", "staff", "Levels", "success", 200, "POST", "/graphql")
    assert line["level"] == "info" and line["error_codes"] == [] and line["duration_ms"] >= 0


async def test_errors_are_logged_with_their_codes_and_every_line_of_a_request_names_it(staff_api_client, services,
                                                                                        captured_logs, monkeypatch):
    # given: an unexpected failure inside a resolver
    async def broken(*args, **kwargs):
        raise RuntimeError("database on fire")

    monkeypatch.setattr(services.db, "list_household_levels", broken)

    # when
    await staff_api_client.post("/graphql", json={"query": "{ householdLevels { id } }"},
                                headers={"X-Request-Id": "req-log-2"})

    # then: the error line and the access line both carry the request id; the access line has the code
    of_request = [line for line in lines(captured_logs) if line.get("request_id") == "req-log-2"]
    assert {line["logger"] for line in of_request} >= {"papergraph.errors", "papergraph.access"}
    access = next(line for line in of_request if line["logger"] == "papergraph.access")
    assert (access["outcome"], access["error_codes"], access["principal"]) == (
        "partial", ["INTERNAL_SERVER_ERROR"], "staff")


async def test_probes_are_not_in_the_access_log(api_client, captured_logs):
    for path in ("/ping", "/ready", "/metrics"):
        await api_client.get(path)

    assert [line for line in lines(captured_logs) if line["logger"] == "papergraph.access"] == []


@pytest.mark.parametrize(("text", "expected"), [
    ("Authorization: Bearer abc.def-ghi_123", f"Authorization: Bearer {REDACTED}"),
    ('{"password": "hunter2hunter2", "email": "a@b.c"}', f'{{"password": "{REDACTED}", "email": "a@b.c"}}'),
    ("newPassword=s3cret!! next", f"newPassword={REDACTED} next"),
    ("{'client_secret': 'abc', 'cvv': '123'}", f"{{'client_secret': '{REDACTED}', 'cvv': '{REDACTED}'}}"),
    ("card 4111-1111-1111-1111 declined", f"card {REDACTED} declined"),
    ("token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl ok", f"token {REDACTED} ok"),
    ("total 1234567890123 is not a card (Luhn)", "total 1234567890123 is not a card (Luhn)"),
    ("POST /graphql 200 in 12.5 ms, code UPSTREAM_UNAVAILABLE", "POST /graphql 200 in 12.5 ms, code UPSTREAM_UNAVAILABLE"),
    ("subscription NCS-0000001 owes 2147483648.00", "subscription NCS-0000001 owes 2147483648.00"),
])
def test_redactor(text, expected):
    assert Redactor()(text) == expected


def test_redactor_removes_the_settings_secrets_and_the_database_password(settings):
    chosen = settings.model_copy(update={"navigapay_api_key": "live-key-0123456789",
                                         "database_url": "postgresql+asyncpg://app:db-pass-9876@db/papergraph"})

    redact = Redactor(settings_secrets(chosen))

    assert redact("sent live-key-0123456789 to postgresql://app:db-pass-9876@db") == \
        f"sent {REDACTED} to postgresql://app:{REDACTED}@db"


def test_logging_config_sends_every_logger_through_the_formatter_and_silences_uvicorns_access_log(settings):
    config = logging_config(settings)

    assert config["handlers"]["stdout"]["formatter"] == "json"
    assert config["formatters"]["json"]["secrets"] == settings_secrets(settings)
    assert config["loggers"]["uvicorn.access"]["propagate"] is False
    assert config["loggers"]["httpx"]["level"] == "WARNING"


# -- issue 14 #7: expected refusals are quiet, and no log line quotes a document or its variables ------------------
INLINE_PASSWORD = "Wrapped-secret-7!pw"
TOTP = "914273"
INLINE_EMAIL = "zebediah.inline@example.com"
INLINE_FIRST_NAME = "Zebediah"


def _wrapped_password_documents() -> list[str]:
    """Documents on one long line whose error graphql-core reports with a source excerpt that wraps the line
    every 80 columns: shifted by 1 to 10 characters, `password: "…"` falls across the wrap at each offset."""
    documents = []
    for offset in range(1, 11):
        padding = " " * (62 + offset)
        documents.append('mutation Wrap { createUser(input: {email: "a@b.c",' + padding + 'password: "'
                         + INLINE_PASSWORD + '", unknownField: 1}) { userErrors { code } } }')
    return documents


async def test_expected_refusals_are_info_or_debug_without_traceback_and_quote_no_inline_value(
        api_client, staff_api_client, tokens, captured_logs):
    # when: validation errors wrapping an inline password (offsets 1-10), an inline TOTP code refused for an
    # anonymous caller (UNAUTHENTICATED) and for a customer (FORBIDDEN), an inline e-mail and first name with a
    # variable error, and a misspelt variable field carrying the same values
    for document in _wrapped_password_documents():
        await api_client.post("/graphql", json={"query": document})
    totp = 'mutation Totp { verifyManagerMfa(input: {code: "%s"}) { userErrors { code } } }' % TOTP
    await api_client.post("/graphql", json={"query": totp})
    await api_client.post("/graphql", json={"query": totp}, headers=bearer(tokens.customer("auth0|log-totp")))
    await api_client.post("/graphql", json={"query": 'mutation Person($p: String) { createUser(input: {email: "%s", '
                                                     'firstName: "%s", password: $p}) { userErrors { code } } }'
                                                     % (INLINE_EMAIL, INLINE_FIRST_NAME),
                                            "variables": {"p": 12}})
    await api_client.post("/graphql", json={"query": CREATE_USER, "variables": {"input": {
        "email": INLINE_EMAIL, "firstNme": INLINE_FIRST_NAME, "password": INLINE_PASSWORD}}})
    await api_client.post("/graphql", json={"query": "{ viewer { kind } }"}, headers=bearer("not-a-token"))
    await api_client.post("/graphql", json={"query": "query Fee($a: Decimal!) { processingFee(amount: $a, paymentType: 1) "
                                                     "{ total { amount } } }", "variables": {"a": "sNaN"}})
    await api_client.post("/graphql", json={"query": 'query Fee { processingFee(amount: "1e999", paymentType: 1) '
                                                     "{ total { amount } } }"})

    # then: nothing quoted; refusals at INFO or DEBUG, without a traceback, naming the operation and a hash
    text = captured_logs.getvalue()
    for value in (INLINE_PASSWORD, TOTP, INLINE_EMAIL, INLINE_FIRST_NAME):
        assert value not in text, value
    logged = lines(captured_logs)
    assert [line for line in logged if line["level"] in ("warning", "error", "critical")] == []
    assert [line for line in logged if "traceback" in line] == []
    refusals = [line for line in logged if line["logger"] == "papergraph.errors"]
    assert {line["error_code"] for line in refusals} >= {"GRAPHQL_VALIDATION_FAILED", "UNAUTHENTICATED",
                                                         "FORBIDDEN", "BAD_USER_INPUT"}
    totp_lines = [line for line in refusals if line["operation"] == "Totp"]
    assert totp_lines and all(line["level"] == "info" and len(line["document_hash"]) == 16 for line in totp_lines)


async def test_an_unexpected_error_keeps_its_traceback_at_error_level(staff_api_client, services, captured_logs,
                                                                      monkeypatch):
    # given
    async def broken(*args, **kwargs):
        raise RuntimeError("levels on fire")

    monkeypatch.setattr(services.db, "list_household_levels", broken)

    # when
    await staff_api_client.post("/graphql", json={"query": '{ householdLevels(search: "inline-search") { id } }'})

    # then: one ERROR line with the traceback; the document's inline value is in no line
    errors = [line for line in lines(captured_logs) if line["level"] == "error" and line["logger"] == "papergraph.errors"]
    assert len(errors) == 1 and "levels on fire" in errors[0]["traceback"]
    assert "inline-search" not in captured_logs.getvalue()
