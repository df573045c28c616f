"""The demo provider speaking Pragmatic Play's seamless wallet (integrations/pragmatic.py is the platform's side).

Mounted on the demo provider's app (`mount`), under `/pragmatic/`: `POST /pragmatic/api/spin`
`{token, game, bet}` plays one round of a provably fair game (fair.py) as Pragmatic Play's game server does
against the operator's wallet: `authenticate.html` the first time a launch token is seen (the platform answers
who the player is and their currency), then `bet.html`, `result.html` (with the win, 0 included) and
`endRound.html`. Calls are form posts with the protocol's MD5 hash (`hash_of`), to
`{platform}/providers/{code}/{method}.html`; one that gets no answer is resent with the same bytes (so the same
reference), as Pragmatic Play does, and a bet that never got an answer is refunded in the background.

With `control` on (tests and `croupier demo`), `POST /pragmatic/control/award` `{method, userId, amount, ...}`
sends what Pragmatic Play sends on its own when a promotion, a jackpot or free rounds end (bonusWin,
jackpotWin, promoWin: the player may be long gone), and `GET /pragmatic/control/calls` lists the calls sent.

The provider's code is `PROVIDER_CODE` and its secret key `DEMO_PRAGMATIC_SECRET` (the platform holds the same
key in `PROVIDER_SECRETS` under that code); without a key every route answers 503.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import os
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

import httpx
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel, Field

from integrations.demo.provider import fair

PROVIDER_CODE = "demo-pragmatic"
PROVIDER_ID = "PragmaticPlay"  # the providerId Pragmatic Play sends in every call
SECRET_ENV = "DEMO_PRAGMATIC_SECRET"
EXPONENTS = {"JPY": 0, "KRW": 0, "USDT": 6, "BTC": 8, "ETH": 8}  # 2 elsewhere
RETRY_CODES = frozenset({100, 130})  # "internal error, retry": resent like no answer


def hash_of(params: dict[str, str], secret: str) -> str:
    """MD5 over the parameters sorted by name as `name=value` joined by '&', the secret key appended."""
    text = "&".join(f"{name}={params[name]}" for name in sorted(params) if name != "hash")
    return hashlib.md5((text + secret).encode()).hexdigest()  # noqa: S324  (the protocol's)


def to_minor(amount: str, currency: str) -> int:
    exponent = EXPONENTS.get(currency, 2)
    try:
        value = Decimal(amount).scaleb(exponent)
    except InvalidOperation as exc:
        raise HTTPException(422, "bet must be a decimal string") from exc
    if not value.is_finite() or value <= 0 or value != value.to_integral_value():
        raise HTTPException(422, f"bet {amount} is not a positive amount of {currency}")
    return int(value)


def decimal_text(minor: int, currency: str) -> str:
    exponent = EXPONENTS.get(currency, 2)
    return f"{Decimal(minor).scaleb(-exponent):.{exponent}f}"


class WalletUnavailable(Exception):
    """No answer after every attempt."""


@dataclass
class SentCall:
    method: str
    body: str
    error: int | None


class PragmaticWallet:
    """Hashed form posts to the operator's wallet, resent with the same bytes when no answer comes."""

    def __init__(
        self,
        platform_url: str,
        secret: str,
        *,
        code: str = PROVIDER_CODE,
        timeout: float = 2.0,
        attempts: int = 3,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = platform_url.rstrip("/") + f"/providers/{code}/"
        self.secret = secret
        self.timeout = timeout
        self.attempts = attempts
        self.transport = transport
        self.sent: deque[SentCall] = deque(maxlen=500)

    async def call(self, method: str, params: dict[str, Any], *, attempts: int | None = None) -> dict[str, Any]:
        form = {"providerId": PROVIDER_ID, **{k: str(v) for k, v in params.items() if v is not None}}
        form["hash"] = hash_of(form, self.secret)
        raw = urlencode(form)
        headers = {"content-type": "application/x-www-form-urlencoded"}
        async with httpx.AsyncClient(timeout=self.timeout, transport=self.transport) as client:
            for _ in range(attempts or self.attempts):
                try:
                    response = await client.post(f"{self.base_url}{method}.html", content=raw, headers=headers)
                except httpx.TransportError:
                    self.sent.append(SentCall(method, raw, None))
                    continue
                try:
                    answer: dict[str, Any] = response.json()
                except ValueError:
                    answer = {"error": 100, "description": f"HTTP {response.status_code}"}
                error = answer.get("error")
                self.sent.append(SentCall(method, raw, error if isinstance(error, int) else None))
                if response.status_code >= 500 or error in RETRY_CODES:
                    continue
                return answer
        raise WalletUnavailable(method)


@dataclass
class Seat:
    """A launch token as the game server knows it after authenticate.html."""

    token: str
    user: str
    currency: str
    server_seed: str = field(default_factory=fair.new_server_seed)
    client_seed: str = field(default_factory=fair.new_client_seed)
    nonce: int = 0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class PragmaticSpin(BaseModel):
    token: str = Field(max_length=128)
    game: str = fair.SLOT
    bet: str = "1.00"


class PragmaticAward(BaseModel):
    method: str  # bonusWin | jackpotWin | promoWin
    userId: str = Field(max_length=100)
    amount: str
    currency: str | None = None  # promoWin: the player's currency
    game: str = fair.SLOT
    reference: str | None = None


def mount(
    app: FastAPI,
    *,
    platform_url: str,
    timeout: float = 2.0,
    control: bool = False,
    secret: str | None = None,
    code: str = PROVIDER_CODE,
    transport: httpx.AsyncBaseTransport | None = None,
) -> PragmaticWallet | None:
    """Serve the Pragmatic Play routes on the demo provider's app; returns its wallet client (None: no key)."""
    key = secret or os.environ.get(SECRET_ENV)
    wallet = PragmaticWallet(platform_url, key, code=code, timeout=timeout, transport=transport) if key else None
    seats: dict[str, Seat] = {}
    rounds = itertools.count(int(uuid.uuid4().int % 10**9) * 1000)  # round ids are numbers (Long) in this protocol
    background: set[asyncio.Task[None]] = set()

    def connected() -> PragmaticWallet:
        if wallet is None:
            raise HTTPException(503, f"no Pragmatic Play key: set {SECRET_ENV}")
        return wallet

    async def refund_later(client: PragmaticWallet, user: str, reference: str) -> None:
        for delay in (1, 2, 4, 8, 16):
            await asyncio.sleep(delay)
            try:
                await client.call("refund", {"userId": user, "reference": reference}, attempts=1)
                return
            except WalletUnavailable:
                continue

    async def seat_for(client: PragmaticWallet, token: str, game: str) -> Seat | dict[str, Any]:
        seat = seats.get(token)
        if seat is not None:
            return seat
        answer = await client.call("authenticate", {"token": token, "gameId": game})
        if answer.get("error") != 0:
            return answer
        seat = Seat(token, str(answer["userId"]), str(answer["currency"]))
        seats[token] = seat
        return seat

    @app.post("/pragmatic/api/spin")
    async def pragmatic_spin(request: PragmaticSpin) -> dict[str, Any]:
        client = connected()
        if request.game not in fair.GAMES:
            raise HTTPException(404, f"unknown game {request.game}")
        try:
            found = await seat_for(client, request.token, request.game)
        except WalletUnavailable:
            raise HTTPException(503, "the wallet did not answer") from None
        if not isinstance(found, Seat):
            return {"error": found.get("error"), "description": found.get("description")}
        seat = found
        async with seat.lock:
            bet = to_minor(request.bet, seat.currency)
            outcome = fair.play(request.game, seat.server_seed, seat.client_seed, seat.nonce, bet)
            round_id, reference = str(next(rounds)), uuid.uuid4().hex
            common = {"userId": seat.user, "gameId": request.game, "roundId": round_id, "token": seat.token}
            stamp = {"timestamp": str(int(time.time() * 1000)), "platform": "WEB"}
            try:
                placed = await client.call(
                    "bet",
                    {**common, **stamp, "amount": request.bet, "reference": reference, "roundDetails": "spin"},
                )
            except WalletUnavailable:
                task = asyncio.create_task(refund_later(client, seat.user, reference))
                background.add(task)
                task.add_done_callback(background.discard)
                raise HTTPException(503, "the wallet did not answer; the bet is being refunded") from None
            if placed.get("error") != 0:
                return {"error": placed.get("error"), "description": placed.get("description"), "round": round_id}
            seat.nonce += 1
            win = decimal_text(outcome.win, seat.currency)
            settled = await client.call(
                "result",
                {**common, **stamp, "amount": win, "reference": uuid.uuid4().hex, "roundDetails": "spin"},
            )
            ended = await client.call("endRound", {**common, "roundDetails": "spin"})
            return {
                "error": settled.get("error"),
                "round": round_id,
                "bet": decimal_text(bet, seat.currency),
                "win": win,
                "currency": seat.currency,
                "cash": ended.get("cash", settled.get("cash")),
                "outcome": outcome.details,
            }

    if control:

        @app.post("/pragmatic/control/award")
        async def pragmatic_award(request: PragmaticAward) -> dict[str, Any]:
            """What Pragmatic Play sends when free rounds, a jackpot or a campaign end (tests and demos)."""
            client = connected()
            params: dict[str, Any] = {
                "userId": request.userId,
                "amount": request.amount,
                "reference": request.reference or uuid.uuid4().hex,
                "timestamp": str(int(time.time() * 1000)),
            }
            if request.method == "bonusWin":
                params.update(bonusCode=f"demo-frb-{params['reference']}", gameId=request.game)
            elif request.method == "jackpotWin":
                params.update(gameId=request.game, roundId=str(next(rounds)), jackpotId="demo-jackpot")
            elif request.method == "promoWin":
                params.update(campaignId="1", campaignType="T", currency=request.currency or "EUR")
            else:
                raise HTTPException(422, "method: bonusWin, jackpotWin or promoWin")
            try:
                return await client.call(request.method, params)
            except WalletUnavailable:
                raise HTTPException(503, "the wallet did not answer") from None

        @app.get("/pragmatic/control/calls")
        async def pragmatic_calls() -> list[dict[str, Any]]:
            return [{"method": c.method, "body": c.body, "error": c.error} for c in connected().sent]

    return wallet
