"""How the datasources call remote upstreams: aiohttp called directly, without httpx's client layer.

A datasource (`datasources/base.py`) makes one kind of call: `client.request(method, path, params=,
content=, data=, headers=)`, and reads back the status, the content type and the body. For the in-process
emulators (embedded mode, most tests) that client is an `httpx.AsyncClient` over `httpx.ASGITransport`;
for remote upstreams it is `AiohttpClient`, which hands the call straight to one aiohttp session (its
keep-alive pool and C HTTP parser). httpx's client layer — building and merging `Request`, `URL` and
`Headers`, cookies, auth and event hooks, wrapping the `Response` — is skipped: under load it cost more
CPU than the bytes on the wire. Measured against the circulation emulator on loopback (client CPU only,
1,000 GETs after a warm-up, the three alternated on the shared machine at load 7, medians of three): a
`client.request` cost 0.85 ms with httpx's own transport (httpcore, anyio, h11), 0.40 ms with aiohttp under
httpx's client (the transport papergraph used before; an earlier, quieter measurement had 1.58 and 0.27),
0.16 ms with aiohttp called directly; a whole datasource read (`get_subscription`: budget, breaker, JSON,
money) 0.90, 0.53 and 0.20 ms. `tests/datasources/test_transport.py` proves the two clients alike.

What goes on the wire is what httpx over aiohttp sent: the URL is the one httpx makes of `base_url` and
`path` (the path appended to the base's, the query string encoded as `httpx.QueryParams` encodes it; a
path or parameter outside the common case is built by httpx's own `URL` to stay exact), and aiohttp
reads it the same way; httpx's default headers (`Accept`, `Accept-Encoding: gzip, deflate`,
`Connection`, `User-Agent`) under the datasource's own; a `data=` form encoded as httpx encodes it. No
cookie jar: each datasource call stands alone (httpx's client kept the cookies an upstream set; none of
the emulators sets any). The answer (`UpstreamResponse`) is read whole and decompressed once, by aiohttp.

aiohttp's errors become the httpx exceptions the datasources classify: a connect failure `ConnectError`,
connect and read timeouts `ConnectTimeout`/`ReadTimeout`, a connection the upstream dropped
`RemoteProtocolError`/`ReadError`; so the circuit breaker and retries see the same failures whichever
client carries the call.
"""

from __future__ import annotations

import asyncio
import codecs
import email.message
import re
from typing import Any, Mapping
from urllib.parse import urlencode

import aiohttp
import httpx

# httpx's client defaults (httpx/_client.py), as it sent them; the Accept-Encoding is what aiohttp decodes
DEFAULT_HEADERS = {
    "Accept": "*/*",
    "Accept-Encoding": "gzip, deflate",
    "Connection": "keep-alive",
    "User-Agent": f"python-httpx/{httpx.__version__}",
}
_DEFAULT_NAMES = {name.lower(): name for name in DEFAULT_HEADERS}
# a path httpx leaves as it is: its path-safe set (httpx/_urlparse.py PATH_SAFE), which keeps a '%' as given
_PLAIN_PATH = re.compile(r"/[!$%&'()*+,\-./0-9:;=@A-Z\[\\\]^_a-z|~]*")


class UpstreamResponse:
    """What a datasource reads of an answer, as `httpx.Response` offers it: `status_code`, `headers` (case-
    insensitive), `content`, `text`, and `request.url.path`."""

    __slots__ = ("status_code", "headers", "content", "request")

    def __init__(self, status_code: int, headers: Any, content: bytes, request: Any) -> None:
        self.status_code = status_code
        self.headers = headers
        self.content = content
        self.request = request  # aiohttp's RequestInfo: `.method`, `.url` (a yarl URL, `.path` decoded)

    @property
    def text(self) -> str:
        """Decoded as httpx decodes: the Content-Type's charset when Python knows it, else UTF-8; bad bytes
        replaced."""
        if not self.content:
            return ""
        encoding = "utf-8"
        charset = _charset(self.headers.get("content-type", ""))
        if charset:
            try:
                encoding = codecs.lookup(charset).name
            except LookupError:
                pass
        return codecs.getincrementaldecoder(encoding)(errors="replace").decode(self.content, final=True)


class AiohttpClient:
    """The datasources' client for one remote upstream: one aiohttp session (made in the running loop on
    first use) with a keep-alive pool of `limits.max_connections` connections."""

    def __init__(self, base_url: str, timeout: httpx.Timeout | float = 5.0,
                 limits: httpx.Limits | None = None) -> None:
        base = httpx.URL(base_url)
        if not base.raw_path.endswith(b"/"):  # as httpx.AsyncClient: a path is appended to the base's
            base = base.copy_with(raw_path=base.raw_path + b"/")
        self.base_url = base
        # what httpx writes before an appended path (a base with a query or fragment: httpx builds every URL)
        plain = not base.query and not base.fragment
        self._prefix = str(base.copy_with(raw_path=base.raw_path + b"x"))[:-1] if plain else None
        timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        self.timeout = timeout
        self._timeout = aiohttp.ClientTimeout(total=None, sock_connect=timeout.connect, sock_read=timeout.read)
        self.limits = limits or httpx.Limits(max_connections=100, max_keepalive_connections=100)
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(
            limit=self.limits.max_connections or 0,
            keepalive_timeout=self.limits.keepalive_expiry or 5.0,
            enable_cleanup_closed=False,
        )
        # no cookie jar: each datasource call stands alone; no proxies from the environment either
        return aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar(),
                                     auto_decompress=True, trust_env=False)

    def url(self, path: str, params: Mapping[str, Any] | None = None) -> str:
        """The URL httpx.AsyncClient(base_url=…).request(…, path, params=params) would request."""
        if (self._prefix is not None and _PLAIN_PATH.fullmatch(path) is not None and not path.startswith("//")
                and not ("/." in path and _dot_segments(path))
                and (params is None or all(type(k) is str and type(v) in (str, int) for k, v in params.items()))):
            url = self._prefix + path[1:]
            if params:
                url += "?" + urlencode(params)
            return url
        merge = httpx.URL(path)
        if merge.is_relative_url:
            merged = self.base_url.copy_with(raw_path=self.base_url.raw_path + merge.raw_path.lstrip(b"/"))
        else:
            merged = merge
        return str(merged if params is None else httpx.URL(merged, params=params))  # params replace a path's query

    async def request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
                      content: bytes | None = None, data: Mapping[str, Any] | None = None,
                      headers: Mapping[str, str] | None = None) -> UpstreamResponse:
        session = self._session
        if session is None or session.closed:
            session = self._session = self._open()
        sent = dict(DEFAULT_HEADERS)
        if headers:  # as httpx merges them: a default the datasource sets itself goes, the datasource's follow
            for name in headers:
                default = _DEFAULT_NAMES.get(name.lower())
                if default is not None:
                    sent.pop(default, None)
            sent.update(headers)
        if data is not None and content is None:
            content = _form(data)
            if not any(name.lower() == "content-type" for name in sent):
                sent["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            async with session.request(method, self.url(path, params), headers=sent, data=content or None,
                                       allow_redirects=False, timeout=self._timeout) as answer:
                body = await answer.read()
                return UpstreamResponse(answer.status, answer.headers, body, answer.request_info)
        except aiohttp.ConnectionTimeoutError as error:
            raise httpx.ConnectTimeout(str(error) or "connect timed out") from error
        except (aiohttp.SocketTimeoutError, asyncio.TimeoutError) as error:
            raise httpx.ReadTimeout(str(error) or "read timed out") from error
        except aiohttp.ClientConnectorError as error:
            raise httpx.ConnectError(str(error)) from error
        except aiohttp.ServerDisconnectedError as error:
            raise httpx.RemoteProtocolError(str(error) or "server disconnected") from error
        except (aiohttp.ClientPayloadError, aiohttp.ClientOSError) as error:
            raise httpx.ReadError(str(error)) from error
        except aiohttp.ClientError as error:
            raise httpx.NetworkError(str(error)) from error

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()


def _dot_segments(path: str) -> bool:
    segments = path.split("/")
    return "." in segments or ".." in segments


def _form(data: Mapping[str, Any]) -> bytes:
    """A form body as httpx encodes one (httpx/_content.py encode_urlencoded_data)."""
    pairs = []
    for key, value in data.items():
        for item in value if isinstance(value, (list, tuple)) else (value,):
            pairs.append((key, "true" if item is True else "false" if item is False else "" if item is None
                          else str(item)))
    return urlencode(pairs, doseq=True).encode("utf-8")


def _charset(content_type: str) -> str | None:
    """The charset parameter of a Content-Type, read as httpx reads it (with the email package)."""
    message = email.message.Message()
    message["content-type"] = content_type
    return message.get_content_charset(failobj=None)
