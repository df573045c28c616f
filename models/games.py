"""Games: providers, the catalog, lobby categories, game sessions, rounds, and the provider wallet's
record of every call and transaction.

Invariants the database enforces: a provider's `transaction_uuid` is recorded once (its retries are
answered from the record, also months later); a round is unique per provider and round id; a game
code is unique per provider; a session token is unique.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, Column, Index, String, Text, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlmodel import Field, SQLModel

from models.base import created_at_field, id_field, timestamp_field


class GameType(StrEnum):
    SLOT = "slot"
    LIVE = "live"
    CRASH = "crash"
    TABLE = "table"
    LOTTERY = "lottery"


class Volatility(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class ProviderProtocol(StrEnum):
    """The wallet protocols we serve (an adapter each in integrations/)."""

    HUB88 = "hub88"  # signed with RSA: the provider's public key is on its row
    SOFTSWISS = "softswiss"  # signed with HMAC: the secret is in settings, its name on the row
    PRAGMATIC = "pragmatic"  # Pragmatic Play: an MD5 hash with a secret key in settings, its name on the row


class Provider(SQLModel, table=True):
    """A game provider or aggregator, speaking one wallet protocol (an adapter in integrations/)."""

    __tablename__ = "game_providers"
    __table_args__ = (
        CheckConstraint("protocol IN ('hub88', 'softswiss', 'pragmatic')", name="ck_game_providers_protocol"),
    )

    id: uuid.UUID = id_field()
    code: str = Field(max_length=32, unique=True)
    name: str = Field(max_length=120)
    protocol: str = Field(max_length=16)
    enabled: bool = True
    # Public key (PEM) that verifies the provider's request signatures (RSA, Hub88). Shared secrets
    # (HMAC protocols) are settings, never in the database: `secret_ref` names the entry of
    # PROVIDER_SECRETS to use (null: the entry named after `code`).
    public_key_pem: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    secret_ref: str | None = Field(default=None, max_length=64)
    launch_url: str | None = Field(default=None, max_length=500)  # where the provider's game client lives
    # The provider's free-rounds API (Hub88 Freebets API base, e.g. https://api.hub88.io/operator/generic/v2):
    # free-spins bonuses on its games are granted there (services/free_rounds). Null: granted at launch only.
    free_rounds_url: str | None = Field(default=None, max_length=500)
    # Where its game list is pulled from on a schedule (services/providers/catalogue_sync.py); null: never.
    game_list_url: str | None = Field(default=None, max_length=500)
    created_at: datetime = created_at_field()


class Game(SQLModel, table=True):
    __tablename__ = "games"
    __table_args__ = (
        UniqueConstraint("provider_id", "code", name="uq_games_provider_code"),
        CheckConstraint("type IN ('slot', 'live', 'crash', 'table', 'lottery')", name="ck_games_type"),
        CheckConstraint("volatility IN ('low', 'medium', 'high')", name="ck_games_volatility"),
        CheckConstraint("rtp_basis_points BETWEEN 0 AND 10000", name="ck_games_rtp"),
        Index("ix_games_title", "title"),
    )

    id: uuid.UUID = id_field()
    provider_id: uuid.UUID = Field(foreign_key="game_providers.id", index=True)
    code: str = Field(max_length=64)  # the provider's game_code
    title: str = Field(max_length=200)
    type: str = Field(max_length=16)
    rtp_basis_points: int  # 9612 = 96.12 %
    volatility: str = Field(max_length=8)
    # Per currency, decimal strings: {"EUR": "0.10"}.
    min_bet: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    max_bet: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    contribution_category: str = Field(default="slots", max_length=32)  # for bonus wagering
    countries: list[str] = Field(default_factory=list, sa_column=Column(ARRAY(String(2)), nullable=False))  # empty: all
    currencies: list[str] = Field(default_factory=list, sa_column=Column(ARRAY(String(8)), nullable=False))
    demo_available: bool = True
    image_url: str | None = Field(default=None, max_length=500)
    tags: list[str] = Field(default_factory=list, sa_column=Column(ARRAY(String(32)), nullable=False))
    enabled: bool = True
    created_at: datetime = created_at_field()
    # From the provider's game list (services/providers/imports.py): what the game offers ("free-spins",
    # "buy-feature", …) and where it is certified (country codes; empty: not declared, so not restricted).
    features: list[str] = Field(
        default_factory=list, sa_column=Column(ARRAY(String(32)), nullable=False, server_default=text("'{}'"))
    )
    jurisdictions: list[str] = Field(
        default_factory=list, sa_column=Column(ARRAY(String(16)), nullable=False, server_default=text("'{}'"))
    )
    # Set when the provider's list stopped naming the game (it was switched off then); cleared when it returns.
    withdrawn_at: datetime | None = timestamp_field()


class CatalogueSyncRun(SQLModel, table=True):
    """One pull of a provider's game list: what it added, changed, withdrew and restored, or why it failed."""

    __tablename__ = "catalogue_sync_runs"
    __table_args__ = (
        CheckConstraint("status IN ('succeeded', 'failed')", name="ck_catalogue_sync_runs_status"),
        CheckConstraint("trigger IN ('schedule', 'cli', 'staff')", name="ck_catalogue_sync_runs_trigger"),
        Index("ix_catalogue_sync_runs_started", "started_at", "id"),
        Index("ix_catalogue_sync_runs_provider", "provider_id", "started_at"),
    )

    id: uuid.UUID = id_field()
    provider_id: uuid.UUID = Field(foreign_key="game_providers.id")
    provider_code: str = Field(max_length=32)  # a provider's code never changes: the report names it without a join
    trigger: str = Field(max_length=16)  # schedule | cli | staff
    status: str = Field(max_length=16)  # succeeded | failed
    started_at: datetime = timestamp_field(nullable=False)
    finished_at: datetime = timestamp_field(nullable=False)
    added: int = 0
    changed: int = 0
    withdrawn: int = 0
    restored: int = 0
    unchanged: int = 0
    # {"added": [{code, title, changes: [{field, old, new}]}], "changed": [...], "withdrawn": [{code, title}],
    #  "restored": [{code, title}]}
    report: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class BrandGame(SQLModel, table=True):
    """A brand's switch for a game: off for the brand, or off in some countries (staff, audited)."""

    __tablename__ = "brand_games"

    brand_id: uuid.UUID = Field(foreign_key="brands.id", primary_key=True)
    game_id: uuid.UUID = Field(foreign_key="games.id", primary_key=True)
    enabled: bool = True
    disabled_countries: list[str] = Field(default_factory=list, sa_column=Column(ARRAY(String(2)), nullable=False))
    updated_at: datetime = created_at_field()


class LobbyCategory(SQLModel, table=True):
    __tablename__ = "lobby_categories"
    __table_args__ = (
        UniqueConstraint("brand_id", "code", name="uq_lobby_categories_code", postgresql_nulls_not_distinct=True),
    )

    id: uuid.UUID = id_field()
    brand_id: uuid.UUID | None = Field(default=None, foreign_key="brands.id")  # null: every brand
    code: str = Field(max_length=32)
    title: str = Field(max_length=120)
    position: int = 0


class LobbyCategoryGame(SQLModel, table=True):
    __tablename__ = "lobby_category_games"

    category_id: uuid.UUID = Field(foreign_key="lobby_categories.id", primary_key=True)
    game_id: uuid.UUID = Field(foreign_key="games.id", primary_key=True)
    position: int = 0


class GameMode(StrEnum):
    REAL = "real"
    DEMO = "demo"


class GameSession(SQLModel, table=True):
    """A launched game: the provider calls our wallet with its token. It takes bets until it expires or
    ends (`ended_at`: its login session ended); wins and rollbacks settle regardless."""

    __tablename__ = "game_sessions"
    __table_args__ = (
        CheckConstraint("mode IN ('real', 'demo')", name="ck_game_sessions_mode"),
        Index("ix_game_sessions_player", "player_id", "created_at"),
        # Ending a login session ends the game sessions launched from it (services/game_sessions.py).
        Index("ix_game_sessions_open_by_login", "auth_session_id", postgresql_where=text("ended_at IS NULL")),
    )

    id: uuid.UUID = id_field()
    token: str = Field(max_length=128, unique=True)
    mode: str = Field(max_length=8)
    player_id: uuid.UUID | None = Field(default=None, foreign_key="players.id")  # null in demo mode
    brand_id: uuid.UUID = Field(foreign_key="brands.id")
    game_id: uuid.UUID = Field(foreign_key="games.id")
    currency: str = Field(max_length=8)
    country: str | None = Field(default=None, max_length=2)
    ip: str | None = Field(default=None, max_length=64)
    auth_session_id: uuid.UUID | None = None  # the player's login session: it ends with it
    created_at: datetime = created_at_field()
    expires_at: datetime = timestamp_field(nullable=False)
    ended_at: datetime | None = timestamp_field()


class GameSessionSpan(SQLModel, table=True):
    """An unbroken run of bets in one game session, counted as time played (session-time limits): a bet
    extends the current run by the idle window, a bet after a longer gap starts a new one
    (services/rg/activity.py `count_play_time`). The login session's spans count alongside."""

    __tablename__ = "game_session_spans"
    __table_args__ = (
        Index("ix_game_session_spans_session", "game_session_id", "ends_at"),
        Index("ix_game_session_spans_player", "player_id", "ends_at"),
    )

    id: uuid.UUID = id_field()
    game_session_id: uuid.UUID = Field(foreign_key="game_sessions.id", ondelete="CASCADE")
    player_id: uuid.UUID = Field(foreign_key="players.id")
    started_at: datetime = timestamp_field(nullable=False)
    ends_at: datetime = timestamp_field(nullable=False)


class RoundStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class GameRound(SQLModel, table=True):
    __tablename__ = "game_rounds"
    __table_args__ = (
        UniqueConstraint("provider_id", "round_ref", "player_id", name="uq_game_rounds_provider_round_player"),
        CheckConstraint("status IN ('open', 'closed')", name="ck_game_rounds_status"),
        Index("ix_game_rounds_player", "player_id", "opened_at"),
    )

    id: uuid.UUID = id_field()
    provider_id: uuid.UUID = Field(foreign_key="game_providers.id")
    round_ref: str = Field(max_length=128)  # the provider's round id
    player_id: uuid.UUID = Field(foreign_key="players.id")
    game_id: uuid.UUID | None = Field(default=None, foreign_key="games.id")
    session_id: uuid.UUID | None = Field(default=None, foreign_key="game_sessions.id")
    currency: str = Field(max_length=8)
    status: str = Field(default=RoundStatus.OPEN.value, max_length=8)
    total_bet: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))  # minor units
    total_win: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    opened_at: datetime = created_at_field()
    closed_at: datetime | None = timestamp_field()


class ProviderTransaction(SQLModel, table=True):
    """One bet, win or rollback as the provider sent it, with our answer: the idempotency record.

    Kept for as long as the ledger (never a TTL): a retry months later gets the original answer. A
    rollback of a transaction we never saw is recorded too, so the late original is refused.
    """

    __tablename__ = "provider_transactions"
    __table_args__ = (
        UniqueConstraint("provider_id", "transaction_uuid", name="uq_provider_transactions_uuid"),
        CheckConstraint("kind IN ('bet', 'win', 'rollback')", name="ck_provider_transactions_kind"),
        Index("ix_provider_transactions_reference", "provider_id", "reference_transaction_uuid"),
        Index("ix_provider_transactions_round", "round_id"),
        Index("ix_provider_transactions_player", "player_id", "created_at"),
    )

    id: uuid.UUID = id_field()
    provider_id: uuid.UUID = Field(foreign_key="game_providers.id")
    transaction_uuid: str = Field(max_length=128)
    kind: str = Field(max_length=16)
    reference_transaction_uuid: str | None = Field(default=None, max_length=128)
    request_hash: str = Field(max_length=64)  # what makes a retry "the same" (amount, currency, round, user, …)
    status: str = Field(max_length=48)  # the protocol status we answered (RS_OK, RS_ERROR_NOT_ENOUGH_MONEY, …)
    player_id: uuid.UUID | None = Field(default=None, foreign_key="players.id")
    round_id: uuid.UUID | None = Field(default=None, foreign_key="game_rounds.id")
    game_code: str | None = Field(default=None, max_length=64)
    currency: str | None = Field(default=None, max_length=8)
    amount: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))  # ledger minor units
    ledger_transaction_id: uuid.UUID | None = Field(default=None, foreign_key="ledger_transactions.id")
    rolled_back: bool = False
    balance_after: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    raw_request: str = Field(sa_column=Column(Text, nullable=False))  # the bytes as received
    response: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    created_at: datetime = created_at_field()


class ProviderCall(SQLModel, table=True):
    """Every call a provider made (balance, info, bet, …) with our answer: the call log behind a
    transaction, and the store that gives a repeated `request_uuid` the same answer."""

    __tablename__ = "provider_calls"
    __table_args__ = (
        UniqueConstraint("provider_id", "endpoint", "request_uuid", name="uq_provider_calls_request"),
        Index("ix_provider_calls_transaction", "provider_id", "transaction_uuid"),
    )

    id: uuid.UUID = id_field()
    provider_id: uuid.UUID = Field(foreign_key="game_providers.id")
    endpoint: str = Field(max_length=64)
    request_uuid: str = Field(max_length=128)
    transaction_uuid: str | None = Field(default=None, max_length=128)
    raw_request: str = Field(sa_column=Column(Text, nullable=False))
    response: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    http_status: int = 200
    created_at: datetime = created_at_field()
