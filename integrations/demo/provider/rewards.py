"""The demo provider's free-rounds API, in the shape of Hub88's Freebets API (`/operator/generic/v2/freebet/
rewards/create|cancel`; services/free_rounds/client.py calls it): rewards are kept in memory per player, found
again by the operator's reference (a resent create makes no second reward), and played when the player's next
real-money session opens: its first rounds are `is_free` bets naming the reward's `reward_uuid`, at its bet.

With control on (tests, `croupier demo`), `POST /control/promo-win` makes the provider pay a supplier promotion:
a signed `/transaction/win` with `is_supplier_promo` and no bet, on a session however old."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Protocol

from fastapi import FastAPI, HTTPException, Request
from pydantic import BaseModel, Field

PREFIX = "/operator/generic/v2/freebet/rewards"
SIGNATURE = "X-Hub88-Signature"  # the operator's; the demo takes unsigned calls too (docs/free-rounds.md)


@dataclass
class Reward:
    reward_uuid: str
    user: str
    currency: str
    game_code: str
    bet_value: int  # Hub88 units
    bet_count: int
    left: int
    operator_reference: str
    end_time: str | None
    status: str = "FRS_ACTIVE"

    def answer(self) -> dict[str, Any]:
        return {
            "reward_uuid": self.reward_uuid,
            "status": self.status,
            "user": self.user,
            "currency": self.currency,
            "game_code": self.game_code,
            "bet_value": self.bet_value,
            "bet_count": self.bet_count,
            "end_time": self.end_time,
            "operator_reference": self.operator_reference,
        }


class CreateReward(BaseModel):
    user: str = Field(min_length=3, max_length=64)
    currency: str = Field(min_length=3, max_length=8)
    game_code: str = Field(min_length=1, max_length=64)
    bet_value: int = Field(gt=0)
    bet_count: int = Field(gt=0, le=1000)
    start_time: str | None = None
    end_time: str | None = None
    operator_reference: str = Field(min_length=1, max_length=64)


class CancelReward(BaseModel):
    reward_uuid: str = Field(min_length=1, max_length=64)


class PromoWin(BaseModel):
    user: str
    token: str
    game: str
    currency: str = "EUR"
    amount: int = Field(ge=0)  # Hub88 units
    transaction_uuid: str | None = None


class Session(Protocol):
    user: str | None
    mode: str
    currency: str
    reward_uuid: str | None
    free_rounds: int
    free_round_bet: int


class Wallet(Protocol):
    async def call(self, path: str, body: dict[str, Any], *, attempts: int | None = None) -> dict[str, Any]: ...


class Rewards:
    def __init__(self) -> None:
        self.by_uuid: dict[str, Reward] = {}
        self.by_reference: dict[str, Reward] = {}
        self.received: list[dict[str, Any]] = []  # the API calls, as sent (body and signature): /control/rewards

    async def note(self, request: Request, path: str) -> None:
        body = (await request.body()).decode()
        self.received = [
            *self.received[-99:],
            {"path": path, "body": body, "signature": request.headers.get(SIGNATURE)},
        ]

    def attach(self, session: Session, game: str) -> None:
        """A real-money session opening for a player with an active reward on this game plays it first."""
        if session.mode != "real" or not session.user or session.reward_uuid is not None:
            return
        for reward in self.by_uuid.values():
            if (
                reward.status == "FRS_ACTIVE"
                and reward.left > 0
                and reward.user == session.user
                and reward.game_code == game
                and reward.currency == session.currency
            ):
                session.reward_uuid = reward.reward_uuid
                session.free_rounds, session.free_round_bet = reward.left, reward.bet_value
                reward.left = 0  # the session plays them now
                return


def mount(app: FastAPI, wallet: Wallet, *, control: bool) -> Rewards:
    rewards = Rewards()
    app.state.rewards = rewards

    @app.post(f"{PREFIX}/create")
    async def create(request: CreateReward, raw: Request) -> dict[str, Any]:
        await rewards.note(raw, "create")
        known = rewards.by_reference.get(request.operator_reference)
        if known is not None:  # a resent create: the reward it made
            return known.answer()
        reward = Reward(
            reward_uuid=str(uuid.uuid4()),
            user=request.user,
            currency=request.currency.upper(),
            game_code=request.game_code,
            bet_value=request.bet_value,
            bet_count=request.bet_count,
            left=request.bet_count,
            operator_reference=request.operator_reference,
            end_time=request.end_time,
        )
        rewards.by_uuid[reward.reward_uuid] = rewards.by_reference[reward.operator_reference] = reward
        return reward.answer()

    @app.post(f"{PREFIX}/cancel")
    async def cancel(request: CancelReward, raw: Request) -> dict[str, Any]:
        await rewards.note(raw, "cancel")
        reward = rewards.by_uuid.get(request.reward_uuid)
        if reward is None:
            raise HTTPException(404, "unknown reward")
        reward.status, reward.left = "FRS_CANCELED", 0
        return reward.answer()

    if control:

        @app.get("/control/rewards")
        async def received() -> list[dict[str, Any]]:
            """The free-rounds API calls received, newest last, with their signatures (tests, support)."""
            return rewards.received

        @app.post("/control/promo-win")
        async def promo_win(request: PromoWin) -> dict[str, Any]:
            """The supplier pays a promotion: a win with no bet, on the player's (perhaps long expired) session."""
            tx = request.transaction_uuid or str(uuid.uuid4())
            body = {
                "user": request.user,
                "token": request.token,
                "supplier_user": request.user,
                "round": f"promo-{tx}",
                "round_closed": True,
                "reward_uuid": None,
                "is_free": True,
                "is_supplier_promo": True,
                "is_aggregated": False,
                "game_code": request.game,
                "currency": request.currency,
                "transaction_uuid": tx,
                "supplier_transaction_id": f"demo-promo-{tx}",
                "request_uuid": str(uuid.uuid4()),
                "bet": None,
                "amount": request.amount,
                "meta": {"supplier_promo_info": {"promo_reference": "demo-prize-drop"}},
            }
            return await wallet.call("/transaction/win", body)

    return rewards
