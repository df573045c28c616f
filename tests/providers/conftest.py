"""Provider wallet fixtures: an aggregator with a real RSA key pair, a SoftSwiss-style provider with a
shared secret, funded players with game sessions inserted directly, and a client that signs like the
aggregator does."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from core.clock import clock
from tests.conftest import fund  # the one money factory (also importable from here, as before)

HUB88 = "hub88"
SOFTSWISS = "swiss"
SOFTSWISS_SECRET = "test-softswiss-secret"
GAME = "slot-fortune"


def _keypair() -> tuple[rsa.RSAPrivateKey, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return key, pem


@pytest.fixture(scope="session")
def aggregator_key() -> tuple[rsa.RSAPrivateKey, str]:
    return _keypair()


@pytest.fixture(scope="session")
def stranger_key() -> rsa.RSAPrivateKey:
    return _keypair()[0]


def sign(key: rsa.RSAPrivateKey, raw: bytes) -> str:
    return base64.b64encode(key.sign(raw, padding.PKCS1v15(), hashes.SHA256())).decode()


@dataclass
class Aggregator:
    """Calls our Hub88 endpoints the way the aggregator does: JSON bytes, signed as sent."""

    http: httpx.AsyncClient
    key: rsa.RSAPrivateKey
    code: str = HUB88

    async def send(self, endpoint: str, raw: bytes, headers: dict[str, str] | None = None) -> dict[str, Any]:
        response = await self.http.post(
            f"/providers/{self.code}/{endpoint}",
            content=raw,
            headers={"content-type": "application/json", **(headers or {})},
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def call(
        self, endpoint: str, body: dict[str, Any], *, key: rsa.RSAPrivateKey | None = None
    ) -> dict[str, Any]:
        raw = json.dumps(body).encode()
        return await self.send(endpoint, raw, {"X-Hub88-Signature": sign(key or self.key, raw)})


@dataclass
class Seat:
    """A funded player at a game: what the aggregator knows (user, token) and builders for its calls."""

    user: str
    player_id: uuid.UUID
    token: str
    currency: str = "EUR"
    rounds: int = 0
    sent: list[str] = field(default_factory=list)

    def base(self, **extra: Any) -> dict[str, Any]:
        return {"user": self.user, "request_uuid": str(uuid.uuid4()), **extra}

    def bet(
        self, amount: int, *, tx: str | None = None, round_ref: str = "r-1", closed: bool = False, **extra: Any
    ) -> dict[str, Any]:
        return {
            **self.base(),
            "transaction_uuid": tx or str(uuid.uuid4()),
            "supplier_transaction_id": "s-1",
            "token": self.token,
            "supplier_user": None,
            "round": round_ref,
            "round_closed": closed,
            "reward_uuid": None,
            "is_free": False,
            "is_supplier_promo": False,
            "is_aggregated": False,
            "game_code": GAME,
            "currency": self.currency,
            "bet": None,
            "amount": amount,
            "meta": None,
            **extra,
        }

    def win(
        self,
        amount: int,
        reference: str,
        *,
        tx: str | None = None,
        round_ref: str = "r-1",
        closed: bool = True,
        **extra: Any,
    ) -> dict[str, Any]:
        return {
            **self.bet(amount, tx=tx, round_ref=round_ref, closed=closed),
            "reference_transaction_uuid": reference,
            **extra,
        }

    def rollback(
        self, reference: str, *, tx: str | None = None, round_ref: str = "r-1", **extra: Any
    ) -> dict[str, Any]:
        return {
            **self.base(),
            "transaction_uuid": tx or str(uuid.uuid4()),
            "reference_transaction_uuid": reference,
            "token": self.token,
            "round": round_ref,
            "round_closed": True,
            "game_code": GAME,
            **extra,
        }


async def _insert_provider(rt: Any, code: str, protocol: str, pem: str | None) -> Any:
    from models.games import Game, Provider

    async with rt.database.transaction() as db:
        provider = Provider(
            code=code, name=code.title(), protocol=protocol, public_key_pem=pem, launch_url="http://games.test/play"
        )
        db.add(provider)
        await db.flush()
        db.add(
            Game(
                provider_id=provider.id,
                code=GAME,
                title="Slot Fortune",
                type="slot",
                rtp_basis_points=9600,
                volatility="medium",
                min_bet={"EUR": "0.10"},
                max_bet={"EUR": "500.00", "SEK": "5000"},
                currencies=["EUR", "SEK"],
            )
        )
        db.add(
            Game(
                provider_id=provider.id,
                code="retired",
                title="Retired",
                type="slot",
                rtp_basis_points=9600,
                volatility="low",
                currencies=["EUR"],
                enabled=False,
            )
        )
    return provider


@pytest.fixture
async def hub88_provider(rt: Any, aggregator_key: tuple[rsa.RSAPrivateKey, str]) -> Any:
    return await _insert_provider(rt, HUB88, "hub88", aggregator_key[1])


@pytest.fixture
async def aggregator(
    client: httpx.AsyncClient, hub88_provider: Any, aggregator_key: tuple[rsa.RSAPrivateKey, str]
) -> Aggregator:
    return Aggregator(client, aggregator_key[0])


async def open_session(
    rt: Any,
    provider: Any,
    player_id: uuid.UUID | None,
    *,
    currency: str = "EUR",
    ttl: timedelta = timedelta(hours=4),
    mode: str = "real",
) -> str:
    from sqlalchemy import select

    from models.games import Game, GameSession
    from models.players import Player

    async with rt.database.transaction() as db:
        game_id = (
            await db.execute(select(Game.id).where(Game.provider_id == provider.id, Game.code == GAME))
        ).scalar_one()
        brand_id = (
            (await db.execute(select(Player.brand_id).where(Player.id == player_id))).scalar_one()
            if player_id
            else (await db.execute(select(Player.brand_id))).scalars().first()
        )
        token = uuid.uuid4().hex
        db.add(
            GameSession(
                token=token,
                mode=mode,
                player_id=player_id,
                brand_id=brand_id,
                game_id=game_id,
                currency=currency,
                expires_at=clock.now() + ttl,
            )
        )
    return token


@pytest.fixture
def seat(rt: Any, make_player: Any, hub88_provider: Any) -> Any:
    """`await seat(balance=10_000)`: a player with that much cash (minor units) and a live session."""

    async def make(
        *, balance: int = 10_000, currency: str = "EUR", provider: Any = None, ttl: timedelta = timedelta(hours=4)
    ) -> Seat:
        player = await make_player(currency=currency)
        if balance:
            await fund(rt, player.uuid, balance, currency)
        token = await open_session(rt, provider or hub88_provider, player.uuid, currency=currency, ttl=ttl)
        return Seat(str(player.uuid), player.uuid, token, currency)

    return make


def one_call_decisions(monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    """From now on, what each one call (services/provider_wallet/one_call.py) decided: its neutral status, or None
    where it left the call to the Python path."""
    from services.provider_wallet import one_call

    decided: list[str | None] = []
    original = one_call.play

    async def counted(*args: Any) -> Any:
        result = await original(*args)
        decided.append(result.status.value if result is not None else None)
        return result

    monkeypatch.setattr(one_call, "play", counted)
    return decided


async def cash(rt: Any, player_id: uuid.UUID, currency: str = "EUR") -> int:
    from services import wallet

    async with rt.database.session() as db:
        for balance in await wallet.balances(db, player_id):
            if balance.currency == currency:
                return balance.cash
    return 0


# ---- SoftSwiss-style -------------------------------------------------------------------------------


@dataclass
class SoftswissProvider:
    http: httpx.AsyncClient
    secret: str = SOFTSWISS_SECRET
    code: str = SOFTSWISS

    async def play(
        self, body: dict[str, Any], *, secret: str | None = None, raw: bytes | None = None
    ) -> httpx.Response:
        raw = raw if raw is not None else json.dumps(body).encode()
        signature = hmac.new((secret or self.secret).encode(), raw, hashlib.sha256).hexdigest()
        return await self.http.post(
            f"/providers/{self.code}/play",
            content=raw,
            headers={"content-type": "application/json", "X-Request-Sign": signature},
        )


@pytest.fixture
async def softswiss_provider(rt: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setitem(rt.settings.provider_secrets, SOFTSWISS, SOFTSWISS_SECRET)
    return await _insert_provider(rt, SOFTSWISS, "softswiss", None)


@pytest.fixture
def softswiss(client: httpx.AsyncClient, softswiss_provider: Any) -> SoftswissProvider:
    return SoftswissProvider(client)


# ---- Pragmatic Play (tests/providers/pragmatic_fixtures.py) -----------------------------------------

from tests.providers.pragmatic_fixtures import pp_seat, pragmatic, pragmatic_provider  # noqa: E402, F401
