"""A world to play in, for the benchmarks and the fault tests: one brand, a Hub88 aggregator with its
own RSA key, a catalogue of games, and many funded players with live game sessions; login tokens for
players and a superadmin; and the signed Hub88 calls an aggregator sends.

Players, accounts and sessions are written with set-based SQL (thousands in well under a second);
their money arrives through `services.wallet.adjust`, so the ledger stays exactly what the platform
writes itself and `croupier ledger verify` is clean from the first moment.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import text

from integrations.demo.provider.keys import SIGNATURE_HEADER, public_pem, sign

PROVIDER = "hub88"
GAME = "bench-slot"
BRAND = "bench"
CURRENCY = "EUR"
UNITS_PER_MINOR = 1000  # Hub88 amounts are 1/100000 of a unit; EUR's minor unit is 1/100
# Argon2 of a throw-away password: bench players never log in with a password (tokens are issued directly).
PASSWORD_HASH = "$argon2id$v=19$m=65536,t=3,p=4$YmVuY2hiZW5jaA$9hJ1ZxS8E9Xq3Kq0hXb0Qm0Yk8n6a9m8l3u1r7Qb8kE"


@dataclass(frozen=True)
class Seat:
    """A funded player at the game: what the aggregator knows of them."""

    user: str
    token: str


@dataclass
class World:
    brand_id: uuid.UUID
    provider_id: uuid.UUID
    key: rsa.RSAPrivateKey
    seats: list[Seat] = field(default_factory=list)


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


async def build(
    rt: Any,
    *,
    players: int,
    balance: int,
    key: rsa.RSAPrivateKey | None = None,
    games: int = 1,
    email_prefix: str = "bench",
) -> World:
    """Brand, provider and games (created once), then `players` new players with `balance` minor units."""
    key = key or new_key()
    brand_id, provider_id = await _catalogue(rt, key, games)
    world = World(brand_id, provider_id, key)
    world.seats = await add_players(rt, world, players, balance, email_prefix=email_prefix)
    return world


async def _catalogue(rt: Any, key: rsa.RSAPrivateKey, games: int) -> tuple[uuid.UUID, uuid.UUID]:
    from services import brands

    async with rt.database.transaction() as db:
        brand_id = (await db.execute(text("SELECT id FROM brands WHERE code = :c"), {"c": BRAND})).scalar()
        if brand_id is None:
            brand_id = (
                await brands.create_brand(
                    db,
                    code=BRAND,
                    name="Bench Casino",
                    default_currency=CURRENCY,
                    currencies=[CURRENCY],
                    countries=["MT"],
                )
            ).id
        await db.execute(
            text("""
            INSERT INTO game_providers (id, code, name, protocol, enabled, public_key_pem, launch_url, created_at)
            VALUES (gen_random_uuid(), :code, 'Bench aggregator', 'hub88', true, :pem, 'http://games.test', now())
            ON CONFLICT (code) DO UPDATE SET public_key_pem = EXCLUDED.public_key_pem"""),
            {"code": PROVIDER, "pem": public_pem(key)},
        )
        provider_id = (
            await db.execute(text("SELECT id FROM game_providers WHERE code = :c"), {"c": PROVIDER})
        ).scalar_one()
        await db.execute(
            text("""
            INSERT INTO games (id, provider_id, code, title, type, rtp_basis_points, volatility, min_bet, max_bet,
                               contribution_category, countries, currencies, demo_available, image_url, tags,
                               enabled, created_at)
            SELECT gen_random_uuid(), :provider, CASE WHEN n = 1 THEN :game ELSE :game || '-' || n END,
                   'Bench Slot ' || n, 'slot', 9600, 'medium', '{}'::jsonb, '{}'::jsonb, 'slots', '{}',
                   ARRAY[:currency]::varchar[], true, '/static/games/bench.svg', ARRAY['bench']::varchar[], true,
                   now() - n * interval '1 second'
            FROM generate_series(1, :games) AS n
            ON CONFLICT (provider_id, code) DO NOTHING"""),
            {"provider": provider_id, "game": GAME, "currency": CURRENCY, "games": games},
        )
    return brand_id, provider_id


async def add_players(rt: Any, world: World, count: int, balance: int, *, email_prefix: str = "bench") -> list[Seat]:
    """`count` players with cash accounts, `balance` minor units each and a 4-hour game session."""
    from services import wallet

    tag = uuid.uuid4().hex[:8]
    async with rt.database.transaction() as db:
        rows = (
            (
                await db.execute(
                    text("""
            INSERT INTO players (id, brand_id, email, password_hash, first_name, last_name, phone, date_of_birth,
                                 country, currency, marketing_consent, status, jurisdiction, created_at, updated_at)
            SELECT gen_random_uuid(), :brand, :prefix || '-' || :tag || '-' || n || '@example.com', :hash,
                   'Bench', 'Player ' || n, '+3567' || lpad(n::text, 7, '0'), date '1990-01-01', 'MT', :currency,
                   false, 'active', 'DEFAULT', now(), now()
            FROM generate_series(1, :count) AS n
            RETURNING id"""),
                    {
                        "brand": world.brand_id,
                        "prefix": email_prefix,
                        "tag": tag,
                        "hash": PASSWORD_HASH,
                        "currency": CURRENCY,
                        "count": count,
                    },
                )
            )
            .scalars()
            .all()
        )
        game_id = (
            await db.execute(
                text("SELECT id FROM games WHERE provider_id = :p AND code = :g"), {"p": world.provider_id, "g": GAME}
            )
        ).scalar_one()
        tokens = {player: uuid.uuid4().hex for player in rows}
        await db.execute(
            text("""
            INSERT INTO game_sessions (id, token, mode, player_id, brand_id, game_id, currency, created_at, expires_at)
            SELECT gen_random_uuid(), t.token, 'real', t.player, :brand, :game, :currency, now(), now() + :ttl
            FROM unnest(CAST(:players AS uuid[]), CAST(:tokens AS text[])) AS t(player, token)"""),
            {
                "brand": world.brand_id,
                "game": game_id,
                "currency": CURRENCY,
                "ttl": timedelta(hours=4),
                "players": list(tokens),
                "tokens": list(tokens.values()),
            },
        )
    players = list(tokens)
    for start in range(0, len(players), 200):  # funded through the wallet: the ledger stays the platform's own
        async with rt.database.transaction() as db:
            for player in players[start : start + 200]:
                await wallet.adjust(
                    db,
                    player_id=player,
                    currency=CURRENCY,
                    amount=balance,
                    adjustment_id=uuid.uuid4(),
                    actor=wallet.Actor("system"),
                    reason="bench funding",
                )
    return [Seat(str(player), token) for player, token in tokens.items()]


async def player_tokens(rt: Any, world: World, seats: list[Seat]) -> list[str]:
    """An access token (a login session) for each of these players, as the player frontend holds."""
    from authz.subjects import RequestMeta
    from services import auth

    meta = RequestMeta(ip="127.0.0.1", user_agent="bench")
    tokens = []
    async with rt.database.transaction() as db:
        for seat in seats:
            issued = await auth.start_session(
                db, rt, subject_type="player", subject_id=uuid.UUID(seat.user), brand_id=world.brand_id, meta=meta
            )
            tokens.append(issued.access_token)
    return tokens


async def superadmin_token(rt: Any) -> str:
    """A new staff member with the superadmin role on every brand, logged in: the back office's token."""
    from authz.subjects import SYSTEM, RequestMeta
    from services import auth, staff
    from services.staff import RoleGrant

    created = await staff.create_staff(
        rt,
        SYSTEM,
        email=f"bench-{uuid.uuid4().hex[:6]}@croupier.dev",
        display_name="Bench Admin",
        password="bench-password-42",
        grants=[RoleGrant("superadmin", None)],
    )
    meta = RequestMeta(ip="127.0.0.1", user_agent="bench")
    async with rt.database.transaction() as db:
        issued = await auth.start_session(
            db, rt, subject_type="staff", subject_id=created.staff.id, brand_id=None, meta=meta
        )
    return str(issued.access_token)


# ---- the aggregator's calls ------------------------------------------------------------------------


def bet(seat: Seat, amount: int, *, tx: str, round_ref: str, closed: bool = False) -> dict[str, Any]:
    """A Hub88 bet of `amount` minor units."""
    return {
        "user": seat.user,
        "transaction_uuid": tx,
        "supplier_transaction_id": tx,
        "token": seat.token,
        "supplier_user": None,
        "round": round_ref,
        "round_closed": closed,
        "reward_uuid": None,
        "request_uuid": str(uuid.uuid4()),
        "is_free": False,
        "is_supplier_promo": False,
        "is_aggregated": False,
        "game_code": GAME,
        "currency": CURRENCY,
        "bet": None,
        "amount": amount * UNITS_PER_MINOR,
        "meta": None,
    }


def win(seat: Seat, amount: int, *, tx: str, reference: str, round_ref: str) -> dict[str, Any]:
    return {**bet(seat, amount, tx=tx, round_ref=round_ref, closed=True), "reference_transaction_uuid": reference}


def rollback(seat: Seat, *, tx: str, reference: str, round_ref: str) -> dict[str, Any]:
    return {
        "user": seat.user,
        "transaction_uuid": tx,
        "reference_transaction_uuid": reference,
        "request_uuid": str(uuid.uuid4()),
        "token": seat.token,
        "round": round_ref,
        "round_closed": True,
        "game_code": GAME,
        "currency": CURRENCY,
    }


@dataclass(frozen=True)
class Signed:
    """A call ready to send, as the aggregator sends it: exact bytes and their signature."""

    endpoint: str  # "transaction/bet", …
    raw: bytes
    headers: dict[str, str]

    @property
    def body(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.raw)
        return loaded


def signed(key: rsa.RSAPrivateKey, endpoint: str, body: dict[str, Any]) -> Signed:
    raw = json.dumps(body).encode()
    return Signed(endpoint, raw, {"content-type": "application/json", SIGNATURE_HEADER: sign(key, raw)})


def path(endpoint: str) -> str:
    return f"/providers/{PROVIDER}/{endpoint}"
