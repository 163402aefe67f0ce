"""The datasources over real loopback HTTP, on both clients (datasources/transport.py: aiohttp called directly, and
httpx's own): the same answers, the same headers and bodies sent, and the same classification of failures (a
refused connection, a hung upstream, a dropped connection), so the circuit breaker and retries behave alike
whatever carries the call. The direct client's URLs are the ones httpx builds, and its request heads are the
bytes httpx's client over aiohttp sent before it."""

from __future__ import annotations

import asyncio
import gzip
import socket
import threading
import time
from decimal import Decimal

import httpx
import pytest
import uvicorn

from datasources.auth0 import Auth0DataSource, InvalidCredentials
from datasources.base import RestDataSource, UpstreamRejected, UpstreamTimeout, UpstreamUnavailable
from datasources.circulation import CirculationDataSource
from datasources.transport import AiohttpClient
from sandbox.circulation import create_app, load_demo
from sandbox.demo import generate
from sandbox.faults import FaultRule
from tests.datasources.test_circulation import active_payable

NCS = "NCSDEMO"
SUBSCRIPTION = "NCS-0000001"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def upstream():
    """The circulation emulator served by uvicorn on a loopback port, in a thread."""
    app = create_app()
    load_demo(app.state.store, generate(1), paper_codes=[NCS])
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error", lifespan="off",
                                           timeout_graceful_shutdown=0.5))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield app, f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=5)


@pytest.fixture(params=["aiohttp", "httpx"])
async def client_factory(request):
    clients: list[httpx.AsyncClient | AiohttpClient] = []

    def make(base_url: str, timeout: float = 2.0) -> httpx.AsyncClient | AiohttpClient:
        if request.param == "aiohttp":
            client = AiohttpClient(base_url, httpx.Timeout(timeout))
        else:
            client = httpx.AsyncClient(base_url=base_url, timeout=timeout)
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


async def test_reads_and_writes_round_trip(upstream, client_factory):
    app, url = upstream
    circulation = CirculationDataSource(client_factory(url), read_retries=0)

    record = await circulation.get_subscription(NCS, SUBSCRIPTION)
    many = await circulation.get_subscriptions(NCS, [SUBSCRIPTION, "NCS-0000002", "NCS-MISSING"])
    changed = await circulation.update_subscription(NCS, SUBSCRIPTION, {"name": "Kitchen paper"})

    assert record["id"] == SUBSCRIPTION and isinstance(record["balance"], Decimal)
    assert sorted(many) == [SUBSCRIPTION, "NCS-0000002"]
    assert changed["name"] == "Kitchen paper"
    assert (await circulation.get_subscription(NCS, SUBSCRIPTION))["name"] == "Kitchen paper"


async def test_json_bodies_and_idempotency_keys_reach_the_upstream(upstream, client_factory, request):
    """A payment applied twice with one key is applied once (the emulator honours the key it received) and
    the amount sent is the amount recorded."""
    app, url = upstream
    circulation = CirculationDataSource(client_factory(url), read_retries=0)
    record = active_payable(app)
    option = record["billingOptions"][0]
    body = {"optionTerm": option["term"], "amount": option["amount"], "tip": Decimal("0"), "donation": Decimal("0"),
            "paymentType": "CREDIT_CARD", "gatewayTransactionId": "gw-t", "activationFee": Decimal("0")}
    key = f"transport-{request.node.callspec.id}"

    first = await circulation.apply_payment(NCS, record["id"], body, idempotency_key=key)
    again = await circulation.apply_payment(NCS, record["id"], body, idempotency_key=key)

    assert again["transactionId"] == first["transactionId"]
    transactions = [t for t in await circulation.get_transactions(NCS, record["id"])
                    if t["transactionId"] == first["transactionId"]]
    assert len(transactions) == 1 and transactions[0]["amount"] == option["amount"]


async def test_a_refused_connection_is_unavailable(client_factory):
    circulation = CirculationDataSource(client_factory(f"http://127.0.0.1:{_free_port()}"), read_retries=0)

    with pytest.raises(UpstreamUnavailable) as refused:
        await circulation.get_subscription(NCS, SUBSCRIPTION)
    assert circulation.breaker.consecutive_failures == 1
    assert refused.value.sent is False  # nothing was written: a payment refused so certainly did nothing (PAY-4)


async def test_a_hung_upstream_times_out(upstream, client_factory):
    app, url = upstream
    app.state.control.rules.append(FaultRule(method="GET", path="/subscriptions/", timeout=True, times=1))
    circulation = CirculationDataSource(client_factory(url, timeout=0.3), timeout=0.3, read_retries=0)

    with pytest.raises(UpstreamTimeout) as hung:
        await circulation.get_subscription(NCS, SUBSCRIPTION)
    assert hung.value.sent is True


async def test_a_dropped_connection_is_unavailable_and_a_retry_succeeds(upstream, client_factory):
    app, url = upstream
    app.state.control.rules.append(FaultRule(method="GET", path="/subscriptions/", drop=True, times=1))
    strict = CirculationDataSource(client_factory(url), read_retries=0)
    with pytest.raises(UpstreamUnavailable) as dropped:
        await strict.get_subscription(NCS, SUBSCRIPTION)
    assert dropped.value.sent is True and dropped.value.status is None

    app.state.control.rules.append(FaultRule(method="GET", path="/subscriptions/", drop=True, times=1))
    retrying = CirculationDataSource(client_factory(url), read_retries=1, backoff_base=0.001)
    assert (await retrying.get_subscription(NCS, SUBSCRIPTION))["id"] == SUBSCRIPTION


# the direct client against httpx's client: URLs, request heads, answers -------------------------------------------

BASES = ["http://127.0.0.1:8101", "http://127.0.0.1:8101/", "http://upstream.example/prefix",
         "https://Upstream.Example:443/a%20b/"]
PATHS = ["/api/v1/papers/NCSDEMO/subscriptions/NCS-0000001", "/api/v1/papers/NCS%2FX/subscriptions/a%20b",
         "/.well-known/jwks.json", "/a/./b/../c", "/odd path/ü/{x}|^`", "/q?x=1", "/lone%/~!$&'()*+,;=:@[]"]
PARAMS = [None, {}, {"ids": "NCS-1,NCS-2", "limit": 50, "offset": 0},
          {"q": 'email:"a b@x.com" AND user_id:(x/y)', "u": "é~*'()!$#&=+", "n": -3},
          {"flag": True, "off": False, "several": ["1", "2"], "none": None, "ratio": 1.5}, {"empty": ""}]


@pytest.mark.parametrize("base", BASES)
def test_the_direct_client_requests_the_url_httpx_builds(base):
    httpx_client = httpx.AsyncClient(base_url=base)
    direct = AiohttpClient(base)

    for path in PATHS:
        for params in PARAMS:
            expected = str(httpx_client.build_request("GET", path, params=params).url)
            assert direct.url(path, params) == expected, (path, params)


async def _recording_upstream(answer):
    """A raw HTTP/1.1 server on loopback: records each request's head and body, answers `answer(target)`."""
    heads: list[tuple[str, bytes]] = []

    async def handle(reader, writer):
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                break
            length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                           if line.lower().startswith(b"content-length:")), 0)
            body = await reader.readexactly(length) if length else b""
            heads.append((head.decode("latin-1"), body))
            writer.write(answer(head.split(b" ")[1].decode()))
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, f"127.0.0.1:{server.sockets[0].getsockname()[1]}", heads


def _answer(status: str, content_type: str, body: bytes, *extra: str) -> bytes:
    lines = [f"HTTP/1.1 {status}", f"Content-Type: {content_type}", f"Content-Length: {len(body)}", *extra]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class _Upstream(RestDataSource):
    service = "circulation"

    async def auth_headers(self):
        return {"authorization": "Bearer k"}


async def test_the_direct_client_sends_the_request_heads_httpx_over_aiohttp_sent():
    """Request line, header names, values and order, and bodies as httpx's client over the aiohttp transport sent
    them (recorded from it before it was replaced), but for the cookie that client echoed: none is sent back."""
    server, host, heads = await _recording_upstream(
        lambda target: _answer("200 OK", "application/json", b"{}", "Set-Cookie: a=b; Path=/"))
    client = AiohttpClient(f"http://{host}/prefix", httpx.Timeout(2.0))
    upstream = _Upstream(client, read_retries=0)
    try:
        await upstream.get("/api/v1/papers/NCS%2FX/subscriptions/a%20b",
                           {"q": 'email:"a b@x.com" AND x/y', "ids": "A,B;C", "n": 3, "t": True, "none": None,
                            "u": "é~*'()!$", "l": ["1", "2"]})
        await upstream.get("/api/v1/odd path/ü/{x}|^`")
        await upstream.post("/api/v1/pay", {"amount": Decimal("1.10"), "s": "é"}, idempotency_key="key-1")
        await upstream.post("/api/v1/form", data={"a": "1 2", "b": ["x", "y"], "c": True})
        await upstream.post("/api/v1/empty")
        await upstream.delete("/api/v1/del")
    finally:
        await client.aclose()
        server.close()

    common = [f"Host: {host}", "Accept-Encoding: gzip, deflate", "Connection: keep-alive",
              f"User-Agent: python-httpx/{httpx.__version__}", "accept: application/json", "authorization: Bearer k"]
    assert [(head.split("\r\n")[:-2], body) for head, body in heads] == [
        (["GET /prefix/api/v1/papers/NCS%2FX/subscriptions/a%20b?q=email:%22a+b@x.com%22+AND+x/y&ids=A,B%3BC&n=3"
          "&t=true&u=%C3%A9~*'()!$&l=1&l=2 HTTP/1.1", *common], b""),
        (["GET /prefix/api/v1/odd%20path/%C3%BC/%7Bx%7D%7C%5E%60 HTTP/1.1", *common], b""),
        (["POST /prefix/api/v1/pay HTTP/1.1", *common, "idempotency-key: key-1", "content-type: application/json",
          "Content-Length: 26"], b'{"amount":"1.10","s":"\xc3\xa9"}'),
        (["POST /prefix/api/v1/form HTTP/1.1", *common, "Content-Type: application/x-www-form-urlencoded",
          "Content-Length: 20"], b"a=1+2&b=x&b=y&c=true"),
        (["POST /prefix/api/v1/empty HTTP/1.1", *common, "Content-Length: 0",
          "Content-Type: application/octet-stream"], b""),
        (["DELETE /prefix/api/v1/del HTTP/1.1", *common, "Content-Length: 0"], b""),
    ]


async def test_a_compressed_answer_is_decoded_once(client_factory):
    """httpx's client over the aiohttp transport decoded a gzip body aiohttp had already decoded (a DecodingError
    no error class caught); each client now decodes it once."""
    payload = gzip.compress(b'{"ok": true}')
    server, host, _ = await _recording_upstream(
        lambda target: _answer("200 OK", "application/json", payload, "Content-Encoding: gzip"))
    try:
        assert await _Upstream(client_factory(f"http://{host}"), read_retries=0).get("/x") == {"ok": True}
    finally:
        server.close()


async def test_an_error_body_that_is_not_json_is_read_as_its_charset_says(client_factory):
    server, host, _ = await _recording_upstream(lambda target: _answer(
        "400 Bad Request", "text/plain; charset=latin-1" if "latin" in target else "text/plain",
        "café refusé".encode("latin-1" if "latin" in target else "utf-8") + (b"\xff" if "bad" in target else b"")))
    upstream = _Upstream(client_factory(f"http://{host}"), read_retries=0)
    try:
        for path, body in [("/latin", "café refusé"), ("/utf8", "café refusé"), ("/utf8-bad", "café refusé\ufffd")]:
            with pytest.raises(UpstreamRejected) as refused:
                await upstream.get(path)
            assert (refused.value.status, refused.value.body) == (400, body)
    finally:
        server.close()


async def test_auth0_tells_a_refused_sign_in_by_the_path_it_called(client_factory):
    """Auth0DataSource.error_from_response reads `response.request.url.path`: a refused grant on /oauth/token is
    InvalidCredentials, the same answer elsewhere a plain rejection."""
    refusal = b'{"error": "invalid_grant", "error_description": "Wrong email or password."}'
    server, host, _ = await _recording_upstream(lambda target: _answer("403 Forbidden", "application/json", refusal))
    auth0 = Auth0DataSource(client_factory(f"http://{host}/tenant"), client_id="c", client_secret="s",
                            audience="a", read_retries=0)
    try:
        with pytest.raises(InvalidCredentials):
            await auth0.password_grant("someone@example.com", "wrong", "spa")
        with pytest.raises(UpstreamRejected) as other:
            await auth0.openid_configuration()
        assert type(other.value) is UpstreamRejected
    finally:
        server.close()
