"""The demo game provider's FastAPI app: a game client page, rounds, and the wallet calls it makes.

It plays the aggregator's side of the Hub88 wallet contract (docs: /work/shared/providers/hub88-wallet.md):
each round is `POST {platform}/providers/demo/transaction/bet`, then `/transaction/win` when the
round wins something (`round_closed: true` on the last call of the round — on the bet itself when
the outcome is no win). Bodies are signed (`X-Hub88-Signature`) over their exact bytes; amounts are
integers in 1/100000 of the currency. Every call has its own `request_uuid` and every money
movement its own `transaction_uuid`; a call that times out is resent with the same bytes (so the
same uuids), three times at most, as Hub88 does; a bet that never got an answer is rolled back, and
a win that never got one is retried in the background, since the player already won it.

Demo mode (`mode=demo`, currency `XXX`) touches no wallet: the play-money balance lives here.
State is in memory, one instance per process. Run it with
`python -m integrations.demo.provider --port N --platform-url URL --private-key PATH`.
"""

from __future__ import annotations

import asyncio
import html
import json
import uuid
from collections import deque
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI, HTTPException, Query
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from integrations.demo.provider import fair, rewards
from integrations.demo.provider.game_list import mount_game_list
from integrations.demo.provider.keys import SIGNATURE_HEADER, load_private_key, sign
from integrations.demo.provider.pragmatic import mount as mount_pragmatic

PROVIDER_CODE = "demo"
UNITS = 100_000  # Hub88 amounts: 1/100000 of the currency
DEMO_CURRENCY = "XXX"
DEMO_START_BALANCE = 1000 * UNITS
# Minor-unit exponents the provider needs to round wins to what the wallet can book (2 elsewhere).
EXPONENTS = {"JPY": 0, "KRW": 0, "USDT": 6, "BTC": 8, "ETH": 8, DEMO_CURRENCY: 2}


def step_of(currency: str) -> int:
    """The smallest amount of a currency, in Hub88 units (1000 for EUR's cent)."""
    return int(10 ** max(0, 5 - EXPONENTS.get(currency, 2)))


def to_units(amount: str, currency: str) -> int:
    try:
        value = Decimal(amount) * UNITS
    except InvalidOperation as exc:
        raise HTTPException(422, "bet must be a decimal string") from exc
    if not value.is_finite():  # "NaN", "Infinity": not an amount (and would crash the checks below)
        raise HTTPException(422, "bet must be a finite decimal string")
    if value <= 0 or value != value.to_integral_value() or int(value) % step_of(currency):
        raise HTTPException(422, f"bet {amount} is not a positive amount of {currency}")
    return int(value)


def from_units(units: int) -> str:
    return f"{Decimal(units) / UNITS:.2f}" if units % 1000 == 0 else str(Decimal(units) / UNITS)


@dataclass
class PlayerSession:
    token: str
    mode: str  # real | demo
    currency: str
    user: str | None
    server_seed: str = field(default_factory=fair.new_server_seed)
    client_seed: str = field(default_factory=fair.new_client_seed)
    nonce: int = 0
    balance: int | None = None  # last known (real) or the play money (demo), in Hub88 units
    revealed: list[dict[str, Any]] = field(default_factory=list)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # A bonus grant's free rounds, passed at launch: played first, as `is_free` bets naming the grant.
    reward_uuid: str | None = None
    free_rounds: int = 0
    free_round_bet: int = 0  # Hub88 units

    def fairness(self) -> dict[str, Any]:
        return {
            "server_seed_hash": fair.seed_hash(self.server_seed),
            "client_seed": self.client_seed,
            "nonce": self.nonce,
        }


class WalletUnavailable(Exception):
    """No answer after every attempt (timeouts, connection errors, 5xx)."""


@dataclass
class SentCall:
    path: str
    body: bytes
    signature: str
    status: str | None


class Hub88Client:
    """Signed calls to the operator's wallet, resent with the same bytes when no answer comes."""

    def __init__(self, base_url: str, key: rsa.RSAPrivateKey, *, timeout: float, attempts: int = 3) -> None:
        self.base_url = base_url.rstrip("/") + f"/providers/{PROVIDER_CODE}"
        self.key = key
        self.timeout = timeout
        self.attempts = attempts
        self.sent: deque[SentCall] = deque(maxlen=500)  # for /control/calls (tests, support)

    async def call(self, path: str, body: dict[str, Any], *, attempts: int | None = None) -> dict[str, Any]:
        raw = json.dumps(body, separators=(",", ":")).encode()
        signature = sign(self.key, raw)
        headers = {"content-type": "application/json", SIGNATURE_HEADER: signature}
        async with httpx.AsyncClient(timeout=self.timeout) as client:
            for _ in range(attempts or self.attempts):
                try:
                    response = await client.post(self.base_url + path, content=raw, headers=headers)
                except httpx.TransportError:  # timeouts and refused connections: send the same call again
                    self.sent.append(SentCall(path, raw, signature, None))
                    continue
                if response.status_code >= 500:
                    self.sent.append(SentCall(path, raw, signature, f"HTTP {response.status_code}"))
                    continue
                try:
                    answer: dict[str, Any] = response.json()
                except ValueError:
                    answer = {"status": f"HTTP {response.status_code}"}
                self.sent.append(SentCall(path, raw, signature, str(answer.get("status"))))
                return answer
        raise WalletUnavailable(path)


class SpinRequest(BaseModel):
    token: str
    game: str = fair.SLOT
    bet: str = "1.00"
    client_seed: str | None = Field(default=None, max_length=64)
    target: int | None = None  # dice: win below this roll (100 … 9800)
    # Optional when the session was opened with GET /play; lets a client play without it.
    currency: str | None = None
    mode: str | None = None
    user: str | None = None


class RotateRequest(BaseModel):
    token: str
    client_seed: str | None = Field(default=None, max_length=64)


class VerifyRequest(BaseModel):
    game: str = fair.SLOT
    server_seed: str
    client_seed: str
    nonce: int = Field(ge=0)
    bet: int = Field(default=100, gt=0)
    target: int | None = None
    server_seed_hash: str | None = None


# Answers after which a win is final either way; anything else (RS_ERROR_UNKNOWN, an HTTP error, a
# status we do not know) leaves the win undecided, so it is resent with the same transaction_uuid.
FINAL_WIN_STATUSES = frozenset(
    {
        "RS_OK",
        "RS_ERROR_DUPLICATE_TRANSACTION",
        "RS_ERROR_TRANSACTION_DOES_NOT_EXIST",
        "RS_ERROR_INVALID_TOKEN",
        "RS_ERROR_TOKEN_EXPIRED",
        "RS_ERROR_INVALID_GAME",
        "RS_ERROR_WRONG_CURRENCY",
        "RS_ERROR_USER_DISABLED",
        "RS_ERROR_INVALID_PARTNER",
        "RS_ERROR_INVALID_SIGNATURE",
        "RS_ERROR_WRONG_SYNTAX",
        "RS_ERROR_WRONG_TYPES",
        "RS_ERROR_LIMIT_REACHED",
        "RS_ERROR_NOT_ENOUGH_MONEY",
    }
)
CONTROL_ENV = "DEMO_PROVIDER_CONTROL"  # "1": serve /control/* (tests and `croupier demo` only)


def create_demo_provider(
    *, platform_url: str, private_key_path: Path, timeout: float = 2.0, control: bool = False, resend_delay: float = 1.0
) -> FastAPI:
    """`control` serves /control/calls: the signed bodies sent, live session tokens included, so it is
    off unless asked for (tests and `croupier demo` turn it on)."""
    wallet = Hub88Client(platform_url, load_private_key(private_key_path), timeout=timeout)
    sessions: dict[str, PlayerSession] = {}
    background: set[asyncio.Task[None]] = set()
    app = FastAPI(title="Croupier demo game provider", docs_url=None, redoc_url=None)
    app.state.wallet = wallet
    app.state.sessions = sessions
    granted = rewards.mount(app, wallet, control=control)  # the free-rounds API (and the promo-win control)
    app.state.game_list = mount_game_list(app, control=control)  # GET /games/list: the catalogue sync's source

    def spawn(work: Any) -> None:
        task: asyncio.Task[None] = asyncio.create_task(work)
        background.add(task)
        task.add_done_callback(background.discard)

    async def keep_sending(path: str, body: dict[str, Any], tries: int) -> None:
        """A win or rollback the wallet has not acknowledged yet: resend (same uuids) with backoff until
        a final answer comes (a non-final one, e.g. RS_ERROR_UNKNOWN, is resent like no answer)."""
        delay = resend_delay
        for _ in range(tries):
            await asyncio.sleep(delay)
            try:
                answer = await wallet.call(path, {**body, "request_uuid": str(uuid.uuid4())}, attempts=1)
                if str(answer.get("status")) in FINAL_WIN_STATUSES:
                    return
            except WalletUnavailable:
                pass
            delay = min(delay * 2, 60)

    def open_session(token: str, *, mode: str, currency: str, user: str | None) -> PlayerSession:
        session = sessions.get(token)
        if session is None:
            demo = mode == "demo"
            session = PlayerSession(
                token=token,
                mode="demo" if demo else "real",
                currency=DEMO_CURRENCY if demo else currency.upper(),
                user=user,
                balance=DEMO_START_BALANCE if demo else None,
            )
            sessions[token] = session
        elif user and not session.user:
            session.user = user
        return session

    def base_body(session: PlayerSession, game: str, round_id: str, *, free: bool = False) -> dict[str, Any]:
        return {
            "user": session.user,
            "token": session.token,
            "supplier_user": session.user,
            "round": round_id,
            "reward_uuid": session.reward_uuid if free else None,
            "is_free": free,
            "is_supplier_promo": False,
            "is_aggregated": False,
            "game_code": game,
            "currency": session.currency,
        }

    @app.get("/health")
    async def health() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/play", response_class=HTMLResponse)
    async def play_page(
        token: str | None = None,
        game: str = fair.SLOT,
        mode: str = "real",
        currency: str = "EUR",
        user: str | None = None,
        lang: str = "en",
        reward_uuid: str | None = None,
        free_rounds: int = Query(default=0, ge=0, le=1000),
        free_round_bet: int = Query(default=0, ge=0),
    ) -> HTMLResponse:
        """The game client: a page with a spin button (plain JavaScript, no framework)."""
        if game not in fair.GAMES:
            raise HTTPException(404, f"unknown game {game}")
        if mode != "demo" and not token:
            raise HTTPException(400, "a real-money launch needs a token")
        session = open_session(token or f"demo-{uuid.uuid4().hex}", mode=mode, currency=currency, user=user)
        if session.mode == "real" and reward_uuid and free_rounds and session.reward_uuid is None:
            # The platform passes the grant's bet in its minor units; Hub88 amounts are 1/100000.
            session.reward_uuid = reward_uuid[:64]
            session.free_rounds = free_rounds
            session.free_round_bet = free_round_bet * step_of(session.currency)
        granted.attach(session, game)  # free rounds granted through the API are played first
        if session.mode == "real" and session.user and session.balance is None:
            try:
                answer = await wallet.call(
                    "/user/balance",
                    {
                        "user": session.user,
                        "token": session.token,
                        "request_uuid": str(uuid.uuid4()),
                        "game_code": game,
                    },
                )
                if answer.get("status") == "RS_OK":
                    session.balance = int(answer["balance"])
            except WalletUnavailable:
                pass
        return HTMLResponse(
            _PAGE.replace(
                "__CONFIG__",
                html.escape(
                    json.dumps(
                        {
                            "token": session.token,
                            "game": game,
                            "currency": session.currency,
                            "mode": session.mode,
                            "balance": None if session.balance is None else from_units(session.balance),
                            **session.fairness(),
                            "free_rounds": session.free_rounds,
                        }
                    ),
                    quote=True,
                ),
            )
        )

    @app.get("/api/session")
    async def session_state(token: str = Query()) -> dict[str, Any]:
        session = sessions.get(token)
        if session is None:
            raise HTTPException(404, "unknown session")
        return {
            "mode": session.mode,
            "currency": session.currency,
            "revealed": session.revealed,
            "free_rounds": session.free_rounds,
            "balance": None if session.balance is None else from_units(session.balance),
            **session.fairness(),
        }

    @app.post("/api/spin")
    async def spin(request: SpinRequest) -> dict[str, Any]:
        if request.game not in fair.GAMES:
            raise HTTPException(404, f"unknown game {request.game}")
        session = sessions.get(request.token) or open_session(
            request.token, mode=request.mode or "real", currency=request.currency or "EUR", user=request.user
        )
        if request.target is not None:
            try:
                fair.check_dice_target(request.target)
            except ValueError as exc:
                raise HTTPException(422, str(exc)) from exc
        async with session.lock:  # one round at a time per session: the nonce is the round's identity
            # Granted free rounds come first, at the grant's bet (the wallet debits nothing for them).
            free = session.mode == "real" and session.free_rounds > 0 and session.reward_uuid is not None
            bet = session.free_round_bet if free else to_units(request.bet, session.currency)
            if request.client_seed:
                session.client_seed = request.client_seed
            nonce = session.nonce
            outcome = fair.play(
                request.game,
                session.server_seed,
                session.client_seed,
                nonce,
                bet,
                target=request.target,
                unit=step_of(session.currency),
            )
            if session.mode == "demo":
                if session.balance is None or session.balance < bet:
                    return {"status": "RS_ERROR_NOT_ENOUGH_MONEY", "balance": from_units(session.balance or 0)}
                session.balance += outcome.win - bet
                session.nonce += 1
                return _round(session, request.game, bet, outcome, nonce, "RS_OK", None)
            if not session.user:
                raise HTTPException(400, "the launch did not name the player (`user`)")
            round_id = str(uuid.uuid4())
            bet_uuid = str(uuid.uuid4())
            bet_body = {
                **base_body(session, request.game, round_id, free=free),
                "transaction_uuid": bet_uuid,
                "supplier_transaction_id": f"demo-{bet_uuid}",
                "request_uuid": str(uuid.uuid4()),
                "round_closed": outcome.win == 0,
                "bet": _bet_label(request.game, outcome),
                "amount": bet,
                "meta": {"nonce": nonce, "server_seed_hash": fair.seed_hash(session.server_seed)},
            }
            try:
                answer = await wallet.call("/transaction/bet", bet_body)
            except WalletUnavailable:
                # Did the bet land? Nobody knows: roll it back (a rollback of an unknown bet is remembered).
                rollback = {
                    **base_body(session, request.game, round_id),
                    "transaction_uuid": str(uuid.uuid4()),
                    "reference_transaction_uuid": bet_uuid,
                    "round_closed": True,
                    "supplier_transaction_id": f"demo-rollback-{bet_uuid}",
                    "bet": _bet_label(request.game, outcome),
                    "amount": bet,
                    "meta": None,
                }
                spawn(keep_sending("/transaction/rollback", rollback, tries=50))
                raise HTTPException(503, "the wallet did not answer; the bet is being rolled back") from None
            if answer.get("status") != "RS_OK":
                if isinstance(answer.get("balance"), int):
                    session.balance = answer["balance"]
                return {
                    "status": answer.get("status"),
                    "round": round_id,
                    "balance": None if session.balance is None else from_units(session.balance),
                    "fairness": session.fairness(),
                }
            session.nonce += 1  # the round is played: its outcome is final
            if free:
                session.free_rounds -= 1
            session.balance = int(answer["balance"])
            status, pending = "RS_OK", None
            if outcome.win > 0:
                win_uuid = str(uuid.uuid4())
                win_body = {
                    **base_body(session, request.game, round_id, free=free),
                    "transaction_uuid": win_uuid,
                    "supplier_transaction_id": f"demo-{win_uuid}",
                    "request_uuid": str(uuid.uuid4()),
                    "reference_transaction_uuid": bet_uuid,
                    "round_closed": True,
                    "bet": _bet_label(request.game, outcome),
                    "amount": outcome.win,
                    "meta": {"nonce": nonce},
                }
                try:
                    answer = await wallet.call("/transaction/win", win_body)
                    status = str(answer.get("status"))
                    if status == "RS_OK":
                        session.balance = int(answer["balance"])
                    elif status not in FINAL_WIN_STATUSES:  # undecided: the player won it, keep sending
                        spawn(keep_sending("/transaction/win", win_body, tries=20))
                        pending = "the win is being delivered"
                except WalletUnavailable:
                    spawn(keep_sending("/transaction/win", win_body, tries=20))
                    pending = "the win is being delivered"
            played = _round(session, request.game, bet, outcome, nonce, status, pending, round_id)
            return {**played, "free": free}

    @app.post("/api/seed")
    async def rotate(request: RotateRequest) -> dict[str, Any]:
        """Reveal the current server seed (so past rounds can be checked) and commit to a new one."""
        session = sessions.get(request.token)
        if session is None:
            raise HTTPException(404, "unknown session")
        async with session.lock:
            revealed = {
                "server_seed": session.server_seed,
                "server_seed_hash": fair.seed_hash(session.server_seed),
                "client_seed": session.client_seed,
                "rounds": session.nonce,
            }
            session.revealed.append(revealed)
            session.server_seed = fair.new_server_seed()
            session.client_seed = request.client_seed or fair.new_client_seed()
            session.nonce = 0
            return {"revealed": revealed, **session.fairness()}

    @app.post("/api/verify")
    async def verify(request: VerifyRequest) -> dict[str, Any]:
        try:
            return fair.verify(
                request.game,
                request.server_seed,
                request.client_seed,
                request.nonce,
                bet=request.bet,
                target=request.target,
                committed_hash=request.server_seed_hash,
            )
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from exc

    mount_pragmatic(app, platform_url=platform_url, timeout=timeout, control=control)  # the Pragmatic Play games
    if control:

        @app.get("/control/calls")
        async def calls() -> list[dict[str, Any]]:
            """The wallet calls sent, newest last, with their exact bodies and signatures (tests, support)."""
            return [
                {"path": c.path, "body": c.body.decode(), "signature": c.signature, "status": c.status}
                for c in wallet.sent
            ]

    return app


def _bet_label(game: str, outcome: fair.Outcome) -> str:
    return f"under {outcome.details['target']}" if game == fair.DICE else "line 1"


def _round(
    session: PlayerSession,
    game: str,
    bet: int,
    outcome: fair.Outcome,
    nonce: int,
    status: str,
    pending: str | None,
    round_id: str | None = None,
) -> dict[str, Any]:
    return {
        "status": status,
        "round": round_id,
        "game": game,
        "bet": from_units(bet),
        "win": from_units(outcome.win),
        "outcome": outcome.details,
        "nonce": nonce,
        "currency": session.currency,
        "pending": pending,
        "balance": None if session.balance is None else from_units(session.balance),
        "fairness": session.fairness(),
        "free_rounds_left": session.free_rounds,
    }


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Croupier demo games</title>
<style>
body { font-family: system-ui, sans-serif; background: #14161d; color: #eee; text-align: center; }
#reels { font-size: 2rem; margin: 1rem; letter-spacing: .3rem; } button { font-size: 1.2rem; padding: .4rem 1.2rem; }
small { color: #999; word-break: break-all; } .error { color: #f77; }
</style></head>
<body data-config="__CONFIG__">
<h1 id="title"></h1>
<p>Balance: <b id="balance">–</b> <span id="currency"></span></p>
<div id="reels">? ? ?</div>
<p><label>Bet <input id="bet" value="1.00" size="6"></label>
   <label id="target-box" hidden>Win below <input id="target" value="4950" size="5"> / 10000</label>
   <button id="spin">Spin</button></p>
<p id="result"></p>
<p><label>Client seed <input id="client-seed" size="20"></label> <button id="rotate">New server seed</button></p>
<p><small>Server seed hash (committed before play): <span id="hash"></span> · nonce <span id="nonce"></span></small></p>
<p><small id="revealed"></small></p>
<script>
const config = JSON.parse(document.body.dataset.config);
const $ = (id) => document.getElementById(id);
const show = (fairness) => { $("hash").textContent = fairness.server_seed_hash; $("nonce").textContent = fairness.nonce;
  $("client-seed").value = fairness.client_seed; };
$("title").textContent = config.game === "demo-dice" ? "Demo Dice (RTP 99%)" : "Demo Slot (RTP 96.33%)";
$("currency").textContent = config.currency; $("balance").textContent = config.balance ?? "–";
$("target-box").hidden = config.game !== "demo-dice"; show(config);
$("spin").onclick = async () => {
  const body = { token: config.token, game: config.game, bet: $("bet").value, client_seed: $("client-seed").value };
  if (config.game === "demo-dice") body.target = parseInt($("target").value, 10);
  const response = await fetch("api/spin", { method: "POST", headers: { "content-type": "application/json" },
                                             body: JSON.stringify(body) });
  const round = await response.json();
  if (!response.ok || round.status !== "RS_OK") {
    $("result").className = "error"; $("result").textContent = round.detail || round.status; return; }
  $("result").className = ""; $("reels").textContent = round.outcome.symbols ? round.outcome.symbols.join(" ")
    : `roll ${round.outcome.roll} (target ${round.outcome.target})`;
  $("result").textContent = round.win !== "0.00" && round.win !== "0" ? `You win ${round.win}!` : "No win";
  if (round.balance !== null) $("balance").textContent = round.balance;
  show(round.fairness);
};
$("rotate").onclick = async () => {
  const response = await fetch("api/seed", { method: "POST", headers: { "content-type": "application/json" },
                                             body: JSON.stringify({ token: config.token }) });
  const answer = await response.json();
  const seed = answer.revealed;
  $("revealed").textContent = `Revealed server seed ${seed.server_seed} (hash ${seed.server_seed_hash}, `
    + `client seed ${seed.client_seed}, ${seed.rounds} rounds)`;
  show(answer);
};
</script></body></html>
"""
