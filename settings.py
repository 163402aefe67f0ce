"""papergraph's settings: one pydantic-settings class, read from the environment and an optional `.env`.

Every setting has a default that runs the embedded development set-up (SQLite file, in-process upstream
emulators, demo data). Environment variables are the field names upper-cased with the `PAPERGRAPH_`
prefix, except `DATABASE_URL`, which keeps its conventional name.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEVELOPMENT_SECRET = "development-only-secret-change-me"


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class UpstreamMode(StrEnum):
    EMBEDDED = "embedded"  # the sandbox emulators mounted in-process through httpx.ASGITransport
    REMOTE = "remote"  # real HTTP to the configured base URLs (real upstreams or emulators on loopback)


class LogLevel(StrEnum):
    DEBUG = "DEBUG"
    INFO = "INFO"
    WARNING = "WARNING"
    ERROR = "ERROR"


class LogFormat(StrEnum):
    AUTO = "auto"
    JSON = "json"
    TEXT = "text"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="PAPERGRAPH_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    environment: Environment = Field(
        Environment.DEVELOPMENT,
        description="development, test or production. Production masks errors and switches off introspection, "
                    "field suggestions and GraphiQL.",
    )
    database_url: str = Field(
        "sqlite+aiosqlite:///./papergraph.db",
        validation_alias=AliasChoices("DATABASE_URL", "PAPERGRAPH_DATABASE_URL"),
        description="SQLAlchemy async URL: sqlite+aiosqlite:///path or postgresql+asyncpg://user@host/db.",
    )
    database_pool_size: Annotated[int, Field(ge=1, le=200)] = Field(
        10, description="Connections kept per process (PostgreSQL only)."
    )
    upstreams: UpstreamMode = Field(
        UpstreamMode.EMBEDDED, description="embedded: in-process emulators; remote: HTTP to the base URLs."
    )
    circulation_base_url: str = Field(
        "http://127.0.0.1:8101", description="Base URL of the circulation system REST API."
    )
    auth0_base_url: str = Field("http://127.0.0.1:8102", description="Base URL of the Auth0 tenant.")
    auth0_audience: str = Field(
        "https://api.papergraph.dev", description="API identifier expected in access tokens' `aud`."
    )
    auth0_issuer: str | None = Field(
        None, description="`iss` expected in access tokens; default: the Auth0 base URL with a trailing slash."
    )
    token_leeway_seconds: Annotated[int, Field(ge=0, le=300)] = Field(
        30, description="Clock skew allowed when checking an access token's `exp` and `nbf`."
    )
    jwks_refetch_interval: Annotated[float, Field(ge=1, le=3600)] = Field(
        30.0, description="Least seconds between two JWKS fetches caused by unknown `kid`s (a flood of bad tokens)."
    )
    auth0_client_id: str = Field(
        "papergraph-m2m", description="Client id papergraph uses for the Auth0 Management API."
    )
    auth0_client_secret: str = Field(
        DEVELOPMENT_SECRET, description="Client secret for the Auth0 Management API."
    )
    navigapay_base_url: str = Field("http://127.0.0.1:8103", description="Base URL of NavigaPay.")
    navigapay_api_key: str = Field(DEVELOPMENT_SECRET, description="NavigaPay API key (Bearer).")
    upstream_connect_timeout: Annotated[float, Field(gt=0, le=60)] = Field(
        2.0, description="Seconds to establish an upstream connection."
    )
    upstream_timeout: Annotated[float, Field(gt=0, le=120)] = Field(
        5.0, description="Overall deadline in seconds for one upstream call, retries included."
    )
    upstream_read_retries: Annotated[int, Field(ge=0, le=5)] = Field(
        2, description="Retries (with jittered backoff) for idempotent upstream reads; writes never retry."
    )
    request_timeout: Annotated[float, Field(gt=0, le=600)] = Field(
        10.0,
        description="Time budget in seconds of one request: every upstream call it makes waits at most the time "
                    "left (and at most its own PAPERGRAPH_UPSTREAM_TIMEOUT); once spent, calls fail at once with "
                    "UPSTREAM_TIMEOUT.",
    )
    upstream_breaker_failures: Annotated[int, Field(ge=1, le=1000)] = Field(
        5, description="Consecutive failed calls (5xx, timeout, connection error) that open an upstream's circuit "
                       "breaker; while open, its calls answer UPSTREAM_UNAVAILABLE at once."
    )
    upstream_breaker_cooldown: Annotated[float, Field(gt=0, le=3600)] = Field(
        10.0, description="Seconds an open circuit breaker waits before letting one probe call through."
    )
    upstream_max_connections: Annotated[int, Field(ge=1, le=1000)] = Field(
        100, description="Pooled connections per upstream."
    )
    upstream_transport: Literal["aiohttp", "httpx"] = Field(
        "aiohttp", description="What carries the datasources' calls to remote upstreams: aiohttp called directly "
                               "(datasources/transport.py; about a fifth of httpx's CPU per call) or an httpx "
                               "client with its own transport."
    )
    execution: Literal["stock", "fast"] = Field(
        "fast", description="How GraphQL operations are executed: `fast`, papergraph's fast path for plain fields "
                            "(server/execution.py; graphql-core's semantics, proven by tests/test_execution.py), or "
                            "`stock`, strawberry's own execution context (to measure what the fast path buys)."
    )
    upstream_concurrency: Annotated[int, Field(ge=1, le=100)] = Field(
        10, description="Concurrent single calls a loader may issue where an upstream has no batch endpoint."
    )
    public_url: str = Field(
        "", description="Where browsers reach papergraph (hosted payment pages and the Auth0 pages in embedded "
                        "mode); empty: `http://<host>:<port>` of the settings in use (0.0.0.0 read as 127.0.0.1)."
    )
    frontend_url: str = Field(
        "", description="Where browsers reach the customer front end: a new user's password-change page returns "
                        "there (USR-3), and message links (reset, verification, invitation, account) point there "
                        "when a tenant sets no `Site.FrontEndUrl`, never at papergraph's internal host; empty: the "
                        "demo, `<public URL>/demo/`."
    )
    host: str = Field("127.0.0.1", description="Interface `papergraph run` listens on.")
    port: Annotated[int, Field(ge=1, le=65535)] = Field(8000, description="Port `papergraph run` listens on.")
    workers: Annotated[int, Field(ge=1, le=64)] = Field(
        1, description="uvicorn worker processes (embedded mode always runs one)."
    )
    reuse_port: bool = Field(
        True, description="With several workers, each listens on a socket of its own (SO_REUSEPORT) and the kernel "
                          "spreads new connections over them; false: one socket shared by every worker, whose accept "
                          "queue the first worker to wake drains (server/listen.py)."
    )
    default_tenant: str = Field(
        "NCSDEMO", description="Paper code used when a request names no tenant (development and tests)."
    )
    seed_demo_data: bool = Field(
        True, description="On start-up, seed the demo data when the database is empty (embedded mode)."
    )
    sandbox_scale: Annotated[int, Field(ge=1, le=10000)] = Field(
        1, description="Scale of the demo data loaded into in-process emulators."
    )
    max_page_size: Annotated[int, Field(ge=1, le=1000)] = Field(
        100, description="Largest `first` a connection accepts."
    )
    secret_key: str = Field(
        DEVELOPMENT_SECRET, description="Key for encrypted links and tokens papergraph issues itself."
    )
    idempotency_wait_seconds: Annotated[float, Field(gt=0, le=300)] = Field(
        30.0, description="Longest a payment request waits for a concurrent request with its idempotency key to finish."
    )
    idempotency_retention_hours: Annotated[int, Field(ge=24, le=24 * 365)] = Field(
        72, description="Hours an idempotency key is kept (at least 24); `papergraph reconcile` deletes older ones."
    )
    reconcile_stale_after_seconds: Annotated[float, Field(ge=0, le=86400)] = Field(
        300.0, description="Age after which `papergraph reconcile` finishes an unfinished payment attempt (a pending one at once)."
    )
    version: str = Field("0.1.0", description="Reported in the X-Version header.")
    debug_stats: bool = Field(
        False, description="Serve this process's SQL and upstream call counters at /_debug/stats (loopback only; benchmarks)."
    )
    log_level: LogLevel = Field(LogLevel.INFO, description="Least level logged: DEBUG, INFO, WARNING, ERROR.")
    log_format: LogFormat = Field(
        LogFormat.AUTO, description="auto: text when the log stream (stdout) is a terminal outside production, json "
                                    "otherwise; json: one JSON object per line (request id, tenant, operation, …); "
                                    "text: one plain line, for a terminal. All redact secrets, tokens, passwords and "
                                    "card numbers."
    )
    access_log: bool = Field(True, description="One log line per request (not for /ping, /ready, /metrics).")
    shutdown_timeout: Annotated[float, Field(ge=0, le=3600)] = Field(
        30.0, description="On SIGTERM, seconds to let requests in flight finish (no new connection is accepted "
                          "meanwhile) before they are cancelled; the pools are closed after them."
    )
    metrics: bool = Field(True, description="Serve Prometheus metrics at /metrics (outside /graphql, no authentication).")
    metrics_allowed_networks: str = Field(
        "", description="Comma-separated networks (CIDR) allowed to read /metrics, e.g. `10.0.0.0/8,127.0.0.1`; "
                        "empty: every client."
    )
    cors_allowed_origins: str = Field(
        "", description="Comma-separated origins (scheme://host[:port]) whose browser apps may call papergraph "
                        "(CORS), besides each tenant's `Portal.Url` setting; `*` alone: every origin, without "
                        "credentials; empty: the tenants' only."
    )
    cors_max_age: Annotated[int, Field(ge=0, le=86400)] = Field(
        600, description="Seconds a browser may cache a CORS preflight answer."
    )
    readiness_timeout: Annotated[float, Field(gt=0, le=60)] = Field(
        2.0, description="Seconds /ready waits for the database's `SELECT 1` before answering 503."
    )

    # -- messages (MSG, docs/messages.md) ------------------------------------------------------------
    mail_worker: bool = Field(
        True, description="Run the message delivery worker inside the server process; off when `papergraph deliver` "
                          "runs it in a process of its own."
    )
    smtp_host: str = Field("127.0.0.1", description="SMTP server messages are sent to (remote mode; embedded mode "
                                                    "sends to the mail emulator).")
    smtp_port: Annotated[int, Field(ge=1, le=65535)] = Field(1025, description="Port of the SMTP server.")
    smtp_username: str = Field("", description="SMTP login (empty: no authentication).")
    smtp_password: str = Field("", description="SMTP password.")
    smtp_start_tls: bool = Field(False, description="Upgrade the SMTP connection with STARTTLS.")
    smtp_timeout: Annotated[float, Field(gt=0, le=300)] = Field(10.0, description="Seconds one SMTP delivery may take.")
    mail_from: str = Field("no-reply@papergraph.dev", description="Sender address of messages (the tenant's name is "
                                                                 "the display name).")
    mail_domain: str = Field("papergraph.dev", description="Domain of the Message-IDs papergraph gives its messages.")
    mail_retry_base_seconds: Annotated[float, Field(gt=0, le=3600)] = Field(
        30.0, description="Wait before the first retry of a failed delivery; doubled at each further attempt."
    )
    mail_max_attempts: Annotated[int, Field(ge=1, le=100)] = Field(
        8, description="Delivery attempts of one message before it is marked FAILED."
    )
    mail_poll_interval: Annotated[float, Field(gt=0, le=3600)] = Field(
        5.0, description="Seconds between two looks at the outbox for due retries (a new message wakes the worker at once)."
    )
    expiry_notice_days: Annotated[int, Field(ge=1, le=365)] = Field(
        14, description="NOT-2: expiry notices announce subscriptions expiring this many days ahead."
    )
    expiry_notice_every: Annotated[float, Field(ge=0, le=7 * 86400)] = Field(
        0.0, description="Seconds between two runs of the expiry notices inside the server (0: off; run "
                         "`papergraph notify-expiring` from a scheduler instead)."
    )

    # -- sign-in of own-auth tenants (SSN, docs/sign-in.md) -----------------------------------------
    access_token_seconds: Annotated[int, Field(ge=60, le=86400)] = Field(
        900, description="Lifetime of the access tokens papergraph issues to MG2 customers."
    )
    session_idle_minutes: Annotated[int, Field(ge=1, le=1440)] = Field(
        30, description="SSN-5: an MG2 session not refreshed for this long ends."
    )
    session_absolute_hours: Annotated[int, Field(ge=1, le=720)] = Field(
        24, description="SSN-5: an MG2 session ends this long after its sign-in, however active."
    )

    # -- the GraphQL endpoint on the open internet (server/): defaults are the production values, after
    # graphql-armor's and Apollo Router's defaults --------------------------------------------------------
    max_depth: Annotated[int, Field(ge=1, le=100)] = Field(
        12, description="Deepest field nesting an operation may select (introspection fields excepted)."
    )
    max_aliases: Annotated[int, Field(ge=0, le=1000)] = Field(
        15, description="Aliased fields a document may contain."
    )
    max_root_fields: Annotated[int, Field(ge=1, le=1000)] = Field(
        20, description="Fields an operation may select at its root (fragments included)."
    )
    max_tokens: Annotated[int, Field(ge=10, le=100_000)] = Field(
        1000, description="Lexical tokens a document may contain; parsing stops past it."
    )
    max_document_bytes: Annotated[int, Field(ge=100, le=10_000_000)] = Field(
        32_768, description="Size of a document (the `query` text, UTF-8) in bytes."
    )
    max_cost: Annotated[int, Field(ge=1, le=10_000_000)] = Field(
        5000,
        description="Estimated cost an operation may reach: 1 per object field, 10 per mutation field, times "
                    "the list sizes above it (see PAPERGRAPH_COST_LIST_SIZE).",
    )
    cost_list_size: Annotated[int, Field(ge=1, le=10_000)] = Field(
        10,
        description="Items assumed for a list without a `first` argument when estimating cost.",
    )
    max_representations: Annotated[int, Field(ge=1, le=10_000)] = Field(
        100, description="Representations one `_entities` request may carry (Apollo Router's practice); each "
                         "counts in the operation's cost like an item of a list."
    )
    max_batch_operations: Annotated[int, Field(ge=1, le=1000)] = Field(
        10, description="Operations one batched POST (a JSON array) may carry."
    )
    max_request_bytes: Annotated[int, Field(ge=1024, le=100_000_000)] = Field(
        2_000_000, description="Size of a request body in bytes (413 past it)."
    )
    introspection: bool | None = Field(
        None, description="Answer `__schema` and `__type`. Unset: on, except in production."
    )
    field_suggestions: bool | None = Field(
        None, description="\"Did you mean …?\" hints in validation errors. Unset: on, except in production."
    )
    graphiql: bool | None = Field(
        None, description="Serve GraphiQL to browsers at /graphql. Unset: on, except in production."
    )
    demo: bool | None = Field(
        None, description="Serve the browser demo (a subscriber's account page, demo/) at /demo. Unset: on, except "
                          "in production."
    )
    operation_safelist: bool = Field(
        False,
        description="Accept only the operations registered with `papergraph register-operations` (by hash or "
                    "identical text); automatic persisted queries stop registering new ones.",
    )


    # -- rate limits and the cost budget (server/throttle.py, docs/rate-limits.md) ----------------------------
    redis_url: str | None = Field(
        None, description="Redis holding the rate-limit buckets (`redis://host:6379/0`), shared by every process "
                          "and worker; unset: each process keeps its own buckets in memory. Redis unreachable: "
                          "requests pass unlimited (fail open), counted in papergraph_rate_limit_store_errors_total."
    )
    rate_limit_key_prefix: str = Field(
        "papergraph", description="Prefix of the rate-limit keys in Redis (several deployments on one Redis)."
    )
    trusted_proxies: Annotated[int, Field(ge=0, le=10)] = Field(
        0, description="Reverse proxies in front of papergraph that append to X-Forwarded-For: the client address "
                       "is the one that many entries from the header's right end. 0: X-Forwarded-For is ignored "
                       "and the client is the connection's peer."
    )
    cost_budget_maximum: Annotated[int, Field(ge=1, le=100_000_000)] = Field(
        20_000, description="Cost points a client's budget holds when full (`throttleStatus.maximumAvailable`); an "
                            "operation is refused THROTTLED when its cost exceeds what is left."
    )
    cost_budget_restore_rate: Annotated[int, Field(ge=1, le=10_000_000)] = Field(
        1000, description="Cost points per second a client's budget gets back (`throttleStatus.restoreRate`)."
    )
    rate_limit_per_address: Annotated[int, Field(ge=1, le=100_000)] = Field(
        10, description="Sign-ups, forgot-password, verification-code and password or MFA attempts one client "
                        "address may send per minute, each mutation counted apart (anonymous callers and "
                        "customers)."
    )
    rate_limit_per_identity: Annotated[int, Field(ge=1, le=100_000)] = Field(
        5, description="The same mutations naming one e-mail, registration or staff member, per hour, whoever "
                       "sends them."
    )

    @field_validator("log_level", mode="before")
    @classmethod
    def _level_in_any_case(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("metrics_allowed_networks")
    @classmethod
    def _networks_parse(cls, value: str) -> str:
        import ipaddress

        for item in filter(None, (part.strip() for part in value.split(","))):
            ipaddress.ip_network(item, strict=False)  # ValueError names the bad network
        return value

    @field_validator("cors_allowed_origins")
    @classmethod
    def _origins_parse(cls, value: str) -> str:
        parse_origins(value)  # ValueError names the bad origin
        return value

    @model_validator(mode="after")
    def _budget_holds_the_costliest_operation(self) -> "Settings":
        if self.cost_budget_maximum < self.max_cost:
            raise ValueError("cost_budget_maximum must be at least max_cost, or an operation within the limits could "
                             "never run (PAPERGRAPH_COST_BUDGET_MAXIMUM)")
        return self

    @model_validator(mode="after")
    def _refuse_placeholder_secrets_in_production(self) -> "Settings":
        if self.environment == Environment.PRODUCTION:
            for name in ("secret_key", "auth0_client_secret", "navigapay_api_key"):
                if getattr(self, name) == DEVELOPMENT_SECRET:
                    raise ValueError(f"{name} must be set in production (PAPERGRAPH_{name.upper()})")
            if self.upstreams == UpstreamMode.EMBEDDED:
                raise ValueError("upstreams must be 'remote' in production (PAPERGRAPH_UPSTREAMS)")
        return self

    @property
    def is_production(self) -> bool:
        return self.environment == Environment.PRODUCTION

    def development_feature(self, enabled: bool | None) -> bool:
        """Introspection, field suggestions, GraphiQL: on outside production and off in production, unless
        the setting says otherwise."""
        return (not self.is_production) if enabled is None else enabled

    @property
    def public_base_url(self) -> str:
        """Where browsers reach papergraph, derived from the host and port in use unless set (issue 17)."""
        if self.public_url.strip():
            return self.public_url.strip().rstrip("/")
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        return f"http://{host}:{self.port}"

    @property
    def frontend_base_url(self) -> str:
        """Where browsers reach the customer front end (USR-3 password-change pages return there)."""
        return self.frontend_url.strip() or self.public_base_url + "/demo/"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def describe_error(error: ValidationError) -> str:
    """One line naming the first bad setting, for start-up failures."""
    first = error.errors()[0]
    loc = ".".join(str(part) for part in first.get("loc", ())) or "settings"
    env_name = "DATABASE_URL" if loc == "database_url" else f"PAPERGRAPH_{loc.upper()}"
    message = first.get("msg", "invalid")
    if loc == "settings" or not first.get("loc"):
        return f"invalid settings: {message}"
    return f"invalid setting {env_name}: {message}"


def load_settings(**overrides) -> Settings:
    return Settings(**overrides)


# CORS origins (server/cors.py), parsed here so that a bad PAPERGRAPH_CORS_ALLOWED_ORIGINS stops start-up
def origin_of(url: str) -> str | None:
    """`https://portal.example.com/account/` → `https://portal.example.com`; None for what is not an http(s) URL."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    default_port = {"http": 80, "https": 443}[parts.scheme]
    port = f":{parts.port}" if parts.port and parts.port != default_port else ""
    return f"{parts.scheme}://{parts.hostname}{port}"


def parse_origins(value: str) -> list[str]:
    """The setting's comma-separated origins, normalised; `*` stays `*`. ValueError on anything else."""
    origins = []
    for item in filter(None, (part.strip() for part in value.split(","))):
        if item == "*":
            origins.append(item)
            continue
        origin = origin_of(item)
        if origin is None or urlsplit(item).path not in ("", "/"):
            raise ValueError(f"{item!r} is not an origin (scheme://host[:port])")
        origins.append(origin)
    if "*" in origins and len(origins) > 1:
        raise ValueError("'*' allows every origin and stands alone")
    return origins
