"""Cashback over-paid by a late rollback, recovered from the player's next payouts.

A period is paid on the net loss its days show when it is paid. A provider may roll back a stake of that
period afterwards: the RG counters undo it on the original's day, so the period's loss is now smaller and
it earned less than it was paid. Money already paid is never taken back from the player's cash (it may be
spent, and a cash balance never goes below zero); instead the next payout of the same campaign to the same
player subtracts the over-payment of every earlier period:

    over-paid(Q) = earned(Q) - what Q's loss now earns (Q's own percent, minimum and maximum)
                   - taken back(Q) - recovered(Q)

`earned` is what the period's loss earned when it was paid (before any recovery), kept with the payout in
`terms.cashback` with its percent, minimum and maximum; `recovered` (`player_bonuses.cashback_recovered`)
is how much of its over-payment later payouts have already subtracted; `taken back` is what the operator
already had back of a payout made as a bonus: the bonus money it returned when it was forfeited, expired
or cancelled, and what its conversion cap withheld (an 8.00 cashback bonus forfeited untouched gave the
player nothing, so nothing of it is recovered). A payout still in play as a bonus waits until it ends.
`earned` and `recovered` change only in the payout's transaction, under the player's cash-row lock, so a
rerun or a redelivery subtracts nothing twice. A payout recovers at most what it earned (paying nothing
then, and recording that); what is left waits for the next one. The recovery is a line of history on both
bonuses: `cashback_recovered` on the period over-paid, `cashback_adjusted` on the payout that recovered
it. Only over-payments are recovered: a rolled-back win (a larger loss) does not pay a closed period again.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from core.money import format_amount
from models.bonuses import BonusCampaign, BonusEvent, BonusStatus, PlayerBonus
from models.players import Player
from services.bonuses import books
from services.bonuses.rules import CampaignRules
from services.wallet import Actor

PAYER = Actor("system")

_DAILY_LOSSES = text("""
SELECT day, sum(wagered - won) AS lost FROM rg_activity_days
WHERE player_id = :player AND currency = :currency AND day >= :first AND day < :after
GROUP BY day
""")


def terms(rules: CampaignRules, currency: str, loss: int, earned: int) -> dict[str, Any]:
    """What a payout keeps of how it was computed (`terms.cashback`): enough to recompute it later."""
    return {
        "loss": loss,
        "earned": earned,
        "percent": rules.cashback_percent,
        "min": rules.amount(rules.cashback_min, currency) or 0,
        "max": rules.amount(rules.cashback_max, currency) or 0,
    }


def earns(kept: dict[str, Any], loss: int) -> int:
    """What a net loss earns under a payout's kept terms (nothing below the minimum)."""
    amount = min(max(loss, 0) * int(kept["percent"]) // 100, int(kept["max"]))
    return amount if amount > 0 and amount >= int(kept["min"]) else 0


def _period(key: str) -> tuple[date, date]:
    first, after = key.split("..")
    return date.fromisoformat(first), date.fromisoformat(after)


@dataclass
class Recovery:
    """What a payout subtracts for earlier periods, and from which."""

    amount: int = 0
    parts: list[dict[str, Any]] = field(default_factory=list)


async def recover(
    db: AsyncSession,
    campaign: BonusCampaign,
    rules: CampaignRules,
    player: Player,
    period_key: str,
    earned: int,
) -> Recovery:
    """Under the player's cash-row lock, before the payout of `period_key` (which earned `earned`): find the
    over-payments of this campaign's earlier payouts to the player and take up to `earned` of them, oldest
    first, recording each on the payout it corrects."""
    earlier = (
        await db.scalars(
            select(PlayerBonus)
            .where(
                col(PlayerBonus.campaign_id) == campaign.id,
                col(PlayerBonus.player_id) == player.id,
                col(PlayerBonus.period_key).is_not(None),
                col(PlayerBonus.period_key) != period_key,
                col(PlayerBonus.status) != BonusStatus.RELEASED.value,
            )
            .order_by(col(PlayerBonus.period_key))
            .execution_options(populate_existing=True)
        )
    ).all()
    found = Recovery()
    if not earlier or earned <= 0:
        return found
    periods = {bonus.id: _period(bonus.period_key or "") for bonus in earlier}
    daily = {
        row.day: int(row.lost)
        for row in await db.execute(
            _DAILY_LOSSES,
            {
                "player": player.id,
                "currency": player.currency,
                "first": min(first for first, _ in periods.values()),
                "after": max(after for _, after in periods.values()),
            },
        )
    }
    returned = await _returned(db, [bonus.id for bonus in earlier])
    for bonus in earlier:
        if BonusStatus(bonus.status).in_play:
            continue  # a payout still in play as a bonus: what it gives is known when it ends
        first, after = periods[bonus.id]
        # Payouts made before their terms were kept: the campaign's terms now, and what they paid.
        kept = bonus.terms.get("cashback") or terms(rules, player.currency, 0, bonus.amount)
        loss_now = sum(lost for day, lost in daily.items() if first <= day < after)
        # What the operator took back of a payout made as a bonus (forfeited, expired or cancelled with
        # bonus money left, or withheld by its conversion cap) never stayed with the player: not recovered
        # a second time.
        kept_back = returned.get(bonus.id, 0) + bonus.capped
        over = int(kept["earned"]) - earns(kept, loss_now) - kept_back - bonus.cashback_recovered
        take = min(over, earned - found.amount)
        if take <= 0:
            continue
        bonus.cashback_recovered += take
        found.amount += take
        part = {"period": bonus.period_key, "amount": take, "loss_when_paid": kept["loss"], "loss_now": loss_now}
        found.parts.append(part)
        await books.note(
            db,
            bonus,
            "cashback_recovered",
            PAYER,
            amount=take,
            details={
                **part,
                "by_period": period_key,
                "explanation": (
                    f"A stake of this period was rolled back after it was paid: its net loss is now "
                    f"{format_amount(max(loss_now, 0), player.currency)} (paid on "
                    f"{format_amount(int(kept['loss']), player.currency)}), so "
                    f"{format_amount(take, player.currency)} of its cashback was subtracted from the "
                    f"cashback of {period_key}."
                ),
            },
        )
        if found.amount >= earned:
            break
    return found


async def _returned(db: AsyncSession, bonus_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    """The bonus money each payout made as a bonus gave back to the operator when it ended."""
    rows = await db.execute(
        select(BonusEvent.bonus_id, func.sum(BonusEvent.amount))
        .where(
            col(BonusEvent.bonus_id).in_(bonus_ids),
            col(BonusEvent.kind).in_([status.value for status in _ENDS]),
            col(BonusEvent.ledger_transaction_id).is_not(None),
        )
        .group_by(col(BonusEvent.bonus_id))
    )
    return {bonus_id: int(total or 0) for bonus_id, total in rows.all()}


_ENDS = (BonusStatus.FORFEITED, BonusStatus.EXPIRED, BonusStatus.CANCELLED)


async def note_adjusted(db: AsyncSession, payout: PlayerBonus, earned: int, recovery: Recovery, currency: str) -> None:
    """The payout's own line: what its period earned, what it recovered for which periods, what it paid."""
    paid = earned - recovery.amount
    await books.note(
        db,
        payout,
        "cashback_adjusted",
        PAYER,
        amount=recovery.amount,
        details={
            "earned": earned,
            "recovered": recovery.amount,
            "paid": paid,
            "from": recovery.parts,
            "explanation": (
                f"This period earned {format_amount(earned, currency)}; "
                f"{format_amount(recovery.amount, currency)} was kept back for cashback paid before on "
                f"stakes since rolled back ({', '.join(p['period'] for p in recovery.parts)}), so "
                f"{format_amount(paid, currency)} was paid."
            ),
        },
    )
