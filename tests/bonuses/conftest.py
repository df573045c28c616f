"""Bonus fixtures: the Hub88 aggregator, seats and SoftSwiss-style provider of tests/providers, the demo PSP
of tests/cashier, and campaigns built through GraphQL by a marketing member."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.cashier.conftest import DemoPsp, player_viewer, psp  # noqa: F401  (fixtures)
from tests.providers.conftest import (  # noqa: F401  (fixtures)
    Aggregator,
    Seat,
    aggregator,
    aggregator_key,
    hub88_provider,
    seat,
    softswiss,
    softswiss_provider,
)

CREATE = """
mutation($input: CreateBonusCampaignInput!) { createBonusCampaign(input: $input) {
  campaign { id name kind status promoCode } errors { code field message } } }"""
SET_STATUS = """
mutation($input: SetBonusCampaignStatusInput!) { setBonusCampaignStatus(input: $input) {
  campaign { id status } errors { code field message } } }"""
CLAIM = """
mutation($input: ClaimBonusInput!) { claimBonus(input: $input) {
  bonus { id status amount { amount } wagering { required { amount } done { amount } percent }
          freeSpinsLeft rewardUuid }
  errors { code field message } } }"""
MY_BONUSES = """
{ me { bonuses { id status kind amount { amount } converted { amount }
   wagering { required { amount } done { amount } remaining { amount } percent }
   events { kind amount { amount } ledgerTransactionId } } } }"""


def rules(**extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"max_bonus": {"EUR": "50.00"}, "wagering_multiplier": 2, "max_bet": {"EUR": "5.00"}}
    return {**base, **extra}


@pytest.fixture
def campaign(gql: Any, make_staff: Any) -> Any:
    """`await campaign(kind, rules, code=None)`: created and activated by marketing through GraphQL."""
    staff: dict[str, Any] = {}

    async def make(
        kind: str = "DEPOSIT_MATCH",
        campaign_rules: dict[str, Any] | None = None,
        *,
        code: str | None = None,
        activate: bool = True,
        starts_at: str | None = None,
    ) -> str:
        if "token" not in staff:
            staff["token"] = (await make_staff("marketing")).token
        body = await gql(
            CREATE,
            {
                "input": {
                    "name": f"Offer {uuid.uuid4().hex[:6]}",
                    "kind": kind,
                    "rules": campaign_rules if campaign_rules is not None else rules(),
                    "promoCode": code,
                    "startsAt": starts_at,
                }
            },
            token=staff["token"],
        )
        payload = body["data"]["createBonusCampaign"]
        assert payload["errors"] == [], payload
        campaign_id = str(payload["campaign"]["id"])
        if activate:
            done = await gql(
                SET_STATUS, {"input": {"campaignId": campaign_id, "status": "ACTIVE"}}, token=staff["token"]
            )
            assert done["data"]["setBonusCampaignStatus"]["errors"] == [], done
        return campaign_id

    return make


async def bonus_balance(rt: Any, player_id: uuid.UUID, currency: str = "EUR") -> tuple[int, int]:
    """(cash, bonus) in minor units."""
    from services import wallet

    async with rt.database.session() as db:
        for balance in await wallet.balances(db, player_id):
            if balance.currency == currency:
                return balance.cash, balance.bonus
    return 0, 0


async def bonus_row(rt: Any, player_id: uuid.UUID) -> Any:
    from sqlalchemy import select

    from models.bonuses import PlayerBonus

    async with rt.database.session() as db:
        return (
            await db.scalars(
                select(PlayerBonus).where(PlayerBonus.player_id == player_id).order_by(PlayerBonus.issued_at.desc())
            )
        ).first()  # type: ignore[attr-defined]
