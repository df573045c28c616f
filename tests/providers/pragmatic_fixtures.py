"""Pragmatic Play fixtures: a provider of protocol `pragmatic` with its secret key in PROVIDER_SECRETS, a
client that posts forms with the protocol's MD5 hash as Pragmatic Play does, and funded players with a game
session (imported by the tests/providers/test_pragmatic_*.py modules)."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from core.clock import clock
from tests.providers.conftest import _insert_provider

PRAGMATIC = "pp"
PRAGMATIC_SECRET = "test-pragmatic-secret"
PROVIDER_ID = "PragmaticPlay"


def pp_hash(params: dict[str, str], secret: str) -> str:
    """Written from the specification, not from the server's code: sorted `name=value` joined by '&', the key
    appended, MD5 in hex."""
    text = "&".join(f"{name}={params[name]}" for name in sorted(params))
    return hashlib.md5((text + secret).encode()).hexdigest()


@dataclass
class PragmaticProvider:
    http: httpx.AsyncClient
    secret: str = PRAGMATIC_SECRET
    code: str = PRAGMATIC

    async def post(self, method: str, raw: bytes) -> dict[str, Any]:
        response = await self.http.post(
            f"/providers/{self.code}/{method}.html",
            content=raw,
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def call(self, method: str, params: dict[str, Any], *, secret: str | None = None) -> dict[str, Any]:
        form = {"providerId": PROVIDER_ID, **{k: str(v) for k, v in params.items() if v is not None}}
        form["hash"] = pp_hash(form, secret or self.secret)
        return await self.post(method, urlencode(form).encode())


@dataclass
class PragmaticSeat:
    """A funded player at a game, as Pragmatic Play knows them: userId and the launch token."""

    user: str
    player_id: uuid.UUID
    token: str
    currency: str = "EUR"
    game: str = "slot-fortune"
    sent: list[str] = field(default_factory=list)

    def bet(self, amount: str, *, reference: str | None = None, round_id: str = "1001", **extra: Any) -> dict[str, Any]:
        return {
            "userId": self.user,
            "gameId": self.game,
            "roundId": round_id,
            "amount": amount,
            "reference": reference or uuid.uuid4().hex,
            "timestamp": str(int(clock.now().timestamp() * 1000)),
            "roundDetails": "spin",
            "token": self.token,
            "platform": "WEB",
            **extra,
        }

    def result(self, amount: str, *, round_id: str = "1001", **extra: Any) -> dict[str, Any]:
        return self.bet(amount, round_id=round_id, roundDetails="spin", **extra)

    def refund(self, reference: str, **extra: Any) -> dict[str, Any]:
        return {"userId": self.user, "reference": reference, **extra}

    def end_round(self, round_id: str = "1001", **extra: Any) -> dict[str, Any]:
        return {"userId": self.user, "gameId": self.game, "roundId": round_id, "token": self.token, **extra}

    def award(self, method: str, amount: str, *, reference: str | None = None, **extra: Any) -> dict[str, Any]:
        """bonusWin, jackpotWin or promoWin with what each requires (no token: they come when they come)."""
        params: dict[str, Any] = {
            "userId": self.user,
            "amount": amount,
            "reference": reference or uuid.uuid4().hex,
            "timestamp": str(int(clock.now().timestamp() * 1000)),
        }
        if method == "bonusWin":
            params.update(bonusCode="frb-1", gameId=self.game, roundId="2001")
        elif method == "jackpotWin":
            params.update(gameId=self.game, roundId="2002", jackpotId="jp-1")
        else:
            params.update(campaignId="77", campaignType="T", currency=self.currency)
        return {**params, **extra}


@pytest.fixture
async def pragmatic_provider(rt: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setitem(rt.settings.provider_secrets, PRAGMATIC, PRAGMATIC_SECRET)
    return await _insert_provider(rt, PRAGMATIC, "pragmatic", None)


@pytest.fixture
def pragmatic(client: httpx.AsyncClient, pragmatic_provider: Any) -> PragmaticProvider:
    return PragmaticProvider(client)


@pytest.fixture
def pp_seat(seat: Any, pragmatic_provider: Any) -> Any:
    """`await pp_seat(balance=10_000)`: a player with that much cash (minor units) and a live session."""

    async def make(
        *, balance: int = 10_000, currency: str = "EUR", ttl: timedelta = timedelta(hours=4)
    ) -> PragmaticSeat:
        made = await seat(balance=balance, currency=currency, provider=pragmatic_provider, ttl=ttl)
        return PragmaticSeat(made.user, made.player_id, made.token, made.currency)

    return make
