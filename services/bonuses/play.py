"""Bonuses in the provider bet path: how a stake, a win and a rollback split between cash and bonus
money, wagering progress, the max-bet rule, free rounds and conversion when wagering is met.

Called by services/provider_wallet/ under the player's cash-row lock, in the transaction that
records the bet, so wagering progress moves atomically with the money. What it needs is read by
`BET_STATE_COLUMNS`, folded into the wallet's existing state statement: a player with no bonus
costs no statement here.

Rules (docs/bonuses.md):
- Stake: by the bonus's spend order (cash first by default), cash part then bonus part; the whole
  stake counts towards wagering at the game's contribution (per game, else its category, else `other`).
- Max bet: while a bonus is active, a stake that takes its round's stakes above the max bet is refused
  (LIMIT_REACHED) and moves nothing: several bets in one round (a SoftSwiss call's actions, a table
  game's bets) count together, as the max bet is per round.
- Win: split in proportion to its bet's split, the bonus side rounded up (cash gets
  floor(win x cash stake / stake)); a win naming its round, its bets still standing (a rolled-back stake
  no longer counts). A free round's win is all bonus money, paid from the bonus cost.
- Bonus money of a bonus that has ended follows it: converted → cash (within the conversion cap,
  the rest is not paid); forfeited, expired or cancelled → not paid.
- Rollback: reverses exactly the recorded split (`bonus_wagers`) and, while the bonus is active,
  exactly the wagering progress the bet added; a stake whose bonus converted only thanks to it takes the
  conversion back with it (the bonus is reopened), so a rolled-back bet never earns a conversion.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from core import prepared
from core.clock import clock
from core.prepared import Statement
from models.bonuses import BonusEvent, BonusStatus, PlayerBonus
from services.bonuses import events
from services.bonuses.rules import Contributions
from services.ledger import Leg

# Read in the provider wallet's `STATE` statement (services/provider_wallet/statements.py), after the player's
# cash row is locked.
BET_STATE_COLUMNS = """
  (SELECT json_build_object('id', pb.id, 'required', pb.wagering_required, 'done', pb.wagering_done,
          'max_bet', pb.max_bet, 'terms', pb.terms - 'rules', 'spins_left', pb.spins_left, 'expires', pb.expires_at,
          'balance', (SELECT ba.balance FROM ledger_accounts ba WHERE ba.id = CAST(:bonus_account AS uuid)),
          'round_staked', (SELECT gr.total_bet FROM game_rounds gr WHERE gr.provider_id = :provider
             AND gr.round_ref = :round AND gr.player_id = CAST(:player AS uuid) AND gr.currency = :currency))
     FROM player_bonuses pb WHERE pb.player_id = CAST(:player AS uuid) AND pb.currency = :bonus_currency
      AND pb.status = 'active') AS bonus_active,
  (SELECT json_build_object('id', w.bonus_id, 'kind', w.kind, 'cash', w.cash_amount, 'bonus', w.bonus_amount,
          'contributed', w.contributed, 'converted', w.converted, 'withheld', w.withheld, 'status', wb.status,
          'cap', wb.max_conversion, 'total_converted', wb.converted, 'total_capped', wb.capped,
          'terms', wb.terms - 'rules', 'done', wb.wagering_done, 'required', wb.wagering_required,
          'others_in_play', EXISTS (SELECT 1 FROM player_bonuses o WHERE o.player_id = wb.player_id
             AND o.currency = wb.currency AND o.status IN ('issued', 'active') AND o.id <> wb.id))
     FROM bonus_wagers w JOIN player_bonuses wb ON wb.id = w.bonus_id WHERE w.reference = :wager_ref) AS bonus_ref,
  (SELECT json_build_object('id', rb.id, 'kind', min(w.kind), 'cash', sum(w.cash_amount),
          'bonus', sum(w.bonus_amount), 'contributed', 0, 'converted', 0, 'withheld', 0, 'status', rb.status,
          'cap', rb.max_conversion, 'total_converted', rb.converted, 'total_capped', rb.capped,
          'terms', rb.terms - 'rules')
     FROM bonus_wagers w JOIN player_bonuses rb ON rb.id = w.bonus_id
     LEFT JOIN provider_transactions undone ON undone.provider_id = :provider
          AND undone.transaction_uuid = substr(w.reference, :wager_prefix + 1) AND undone.rolled_back
    WHERE w.kind IN ('bet', 'free_bet') AND w.round_id = (SELECT gr.id FROM game_rounds gr
          WHERE gr.provider_id = :provider AND gr.round_ref = :round AND gr.player_id = CAST(:player AS uuid)
          AND gr.currency = :currency)
    GROUP BY rb.id, undone.id IS NOT NULL ORDER BY undone.id IS NOT NULL LIMIT 1) AS bonus_round,
  (SELECT json_build_object('id', fs.id, 'player', fs.player_id, 'status', fs.status, 'spins_left', fs.spins_left,
          'spin_bet', fs.spin_bet, 'currency', fs.currency, 'terms', fs.terms - 'rules', 'expires', fs.expires_at)
     FROM player_bonuses fs WHERE fs.reward_uuid = :reward) AS bonus_grant
"""


def state_params(
    *,
    provider_code: str,
    reference: str | None,
    reward: str | None,
    bonus_account: uuid.UUID | None,
    currency: str | None,
) -> dict[str, Any]:
    """`currency`: the account's (a rollback may not name one)."""
    return {
        "wager_ref": f"{provider_code}:{reference}" if reference else "",
        "reward": reward or "",
        "wager_prefix": len(provider_code) + 1,
        "bonus_account": str(bonus_account) if bonus_account else None,
        "bonus_currency": currency,
    }


def _json(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    decoded: dict[str, Any] = json.loads(value) if isinstance(value, str) else dict(value)
    return decoded


@dataclass(frozen=True)
class Active:
    id: uuid.UUID
    required: int
    done: int
    max_bet: int | None
    terms: dict[str, Any]
    spins_left: int
    balance: int
    expires_at: datetime | None
    round_staked: int = 0  # what the bet's round has staked so far (rolled-back stakes excluded)

    def overdue(self, now: datetime) -> bool:
        """Past its expiry but not yet expired (the worker runs every minute): the bet path settles it first."""
        return self.expires_at is not None and self.expires_at <= now

    def contribution(self, stake: int, game_code: str | None, category: str | None) -> int:
        rules = Contributions.model_validate(self.terms.get("contributions") or {})
        return stake * rules.percent(game_code, category) // 100


@dataclass(frozen=True)
class Wager:
    """A recorded split (of one bet or win, or the bets of a round) and where its bonus now stands."""

    bonus_id: uuid.UUID
    kind: str
    cash: int  # what moved on cash (a win after its bonus converted: its cash side plus `converted`)
    bonus: int  # what moved on the bonus account
    contributed: int
    status: str
    cap: int | None  # the bonus's conversion cap (None: none)
    terms: dict[str, Any]
    converted: int = 0  # a win after its bonus converted: its bonus side paid into cash within the cap
    withheld: int = 0  # ... and the part of it the cap withheld
    total_converted: int = 0  # the bonus's totals: paid into cash, withheld by the cap
    total_capped: int = 0
    done: int = 0  # the bonus's wagering, done and required (a referenced transaction's bonus only)
    required: int = 0
    others_in_play: bool = False  # the player holds another bonus in play in this currency

    @property
    def room(self) -> int | None:
        """What the conversion cap still lets into cash (None: no cap)."""
        return None if self.cap is None else max(0, self.cap - self.total_converted)


@dataclass(frozen=True)
class Grant:
    id: uuid.UUID
    player_id: uuid.UUID
    status: str
    spins_left: int
    spin_bet: int
    currency: str
    games: list[str]
    expires_at: datetime | None


@dataclass(frozen=True)
class State:
    active: Active | None
    ref: Wager | None  # the referenced transaction's split
    round: Wager | None  # the split of the round's bets still standing (protocols that name the round, not the bet)
    grant: Grant | None

    @property
    def balance(self) -> int:
        return self.active.balance if self.active is not None else 0


def _wager(raw: dict[str, Any] | None) -> Wager | None:
    if raw is None:
        return None
    return Wager(
        uuid.UUID(str(raw["id"])),
        str(raw["kind"]),
        int(raw["cash"]),
        int(raw["bonus"]),
        int(raw["contributed"]),
        str(raw["status"]),
        None if raw["cap"] is None else int(raw["cap"]),
        dict(raw.get("terms") or {}),
        int(raw["converted"]),
        int(raw["withheld"]),
        int(raw["total_converted"]),
        int(raw["total_capped"]),
        int(raw.get("done") or 0),
        int(raw.get("required") or 0),
        bool(raw.get("others_in_play")),
    )


def state_of(row: Any) -> State:
    active = _json(row.bonus_active)
    grant = _json(row.bonus_grant)
    return State(
        Active(
            uuid.UUID(str(active["id"])),
            int(active["required"]),
            int(active["done"]),
            None if active["max_bet"] is None else int(active["max_bet"]),
            dict(active["terms"]),
            int(active["spins_left"]),
            int(active["balance"] or 0),
            _moment(active.get("expires")),
            int(active.get("round_staked") or 0),
        )
        if active
        else None,
        _wager(_json(row.bonus_ref)),
        _wager(_json(row.bonus_round)),
        Grant(
            uuid.UUID(str(grant["id"])),
            uuid.UUID(str(grant["player"])),
            str(grant["status"]),
            int(grant["spins_left"]),
            int(grant["spin_bet"]),
            str(grant["currency"]),
            list((grant.get("terms") or {}).get("games") or []),
            _moment(grant.get("expires")),
        )
        if grant
        else None,
    )


def _moment(value: Any) -> datetime | None:
    return None if value is None else datetime.fromisoformat(str(value))


# ---- stakes ---------------------------------------------------------------------------------------


def split_stake(active: Active, cash: int, stake: int) -> tuple[int, int]:
    """(cash part, bonus part) by the spend order; the ledger refuses it if the two cannot cover it."""
    if active.terms.get("spend_order") == "bonus_first":
        bonus = min(active.balance, stake)
        return stake - bonus, bonus
    from_cash = min(cash, stake)
    return from_cash, stake - from_cash


def stake_legs(cash_id: uuid.UUID, bonus_id: uuid.UUID, house: uuid.UUID, cash: int, bonus: int) -> tuple[Leg, ...]:
    legs = [Leg(cash_id, -cash)] if cash else []
    if bonus:
        legs.append(Leg(bonus_id, -bonus))
    return (*legs, Leg(house, cash + bonus))


# ---- wins and rollbacks ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Routed:
    """Where the bonus side of a win (or refunded stake) goes, given where its bonus stands now."""

    to_cash: int
    to_bonus: int
    unpaid: int

    def withheld(self, wager: Wager) -> int:
        """The part the conversion cap withheld (counted in the bonus's `capped`; an ended bonus's is not)."""
        return self.unpaid if wager.status == BonusStatus.COMPLETED else 0


def route(wager: Wager, bonus_side: int) -> Routed:
    if wager.status == BonusStatus.ACTIVE:
        return Routed(0, bonus_side, 0)
    if wager.status == BonusStatus.COMPLETED:
        paid = bonus_side if wager.room is None else min(bonus_side, wager.room)
        return Routed(paid, 0, bonus_side - paid)
    return Routed(0, 0, bonus_side)


_RECORD_WAGER = Statement("""
WITH wager AS (
  INSERT INTO bonus_wagers (reference, ledger_transaction_id, bonus_id, kind, round_id, cash_amount, bonus_amount,
                            contributed, converted, withheld, created_at)
  VALUES (:reference, :ledger, :bonus, :kind, :round, :cash, :bonus_amount, :contributed, :converted, :withheld, :now)
  ON CONFLICT (reference) DO NOTHING RETURNING bonus_id
)
UPDATE player_bonuses SET wagering_done = GREATEST(0, wagering_done + :progress),
       spins_left = spins_left + :spins, amount = amount + :granted,
       max_conversion = CASE WHEN (terms->>'max_conversion_multiple') IS NOT NULL
         THEN (terms->>'max_conversion_multiple')::bigint * GREATEST(amount + :granted, 1) ELSE max_conversion END,
       wagering_required = wagering_required + :required, converted = converted + :converted,
       capped = capped + :withheld
WHERE id = :bonus
RETURNING status, wagering_done, wagering_required, spins_left
""")


@dataclass(frozen=True)
class Progress:
    status: str
    done: int
    required: int
    spins_left: int

    @property
    def met(self) -> bool:
        return self.status == BonusStatus.ACTIVE and self.spins_left == 0 and self.done >= self.required


async def record(
    db: AsyncSession,
    *,
    reference: str,
    ledger_id: uuid.UUID | None,
    bonus_id: uuid.UUID,
    kind: str,
    round_id: uuid.UUID | None,
    cash: int,
    bonus: int,
    contributed: int = 0,
    progress: int = 0,
    spins: int = 0,
    granted: int = 0,
    required: int = 0,
    converted: int = 0,
    withheld: int = 0,
) -> Progress:
    """One statement: the split of this transaction, and what it changes on its bonus."""
    row = await prepared.one(
        db,
        _RECORD_WAGER,
        {
            "reference": reference,
            "ledger": ledger_id,
            "bonus": bonus_id,
            "kind": kind,
            "round": round_id,
            "cash": cash,
            "bonus_amount": bonus,
            "contributed": contributed,
            "now": clock.now(),
            "progress": progress,
            "spins": spins,
            "granted": granted,
            "required": required,
            "converted": converted,
            "withheld": withheld,
        },
    )
    return Progress(row.status, int(row.wagering_done), int(row.wagering_required), int(row.spins_left))


def wagering_for(terms: dict[str, Any], amount: int) -> int:
    """The wagering a free round's win adds: the campaign's multiplier times the win."""
    return int(terms.get("wagering_multiplier", 0)) * amount


@dataclass(frozen=True)
class WinSplit:
    """What a win pays: to cash (its cash side, plus bonus money of a converted bonus within the cap),
    to the bonus account, the converted part of `cash`, what the cap withheld, and whether it is a free
    round's win (paid from the bonus cost rather than the house)."""

    cash: int
    bonus: int
    converted: int
    free: bool
    withheld: int = 0


def split_win(wager: Wager, amount: int) -> WinSplit:
    stake = wager.cash + wager.bonus
    free = wager.kind == "free_bet"
    cash_side = 0 if free or stake <= 0 else amount * wager.cash // stake
    routed = route(wager, amount - cash_side)
    return WinSplit(cash_side + routed.to_cash, routed.to_bonus, routed.to_cash, free, routed.withheld(wager))


def _against(legs: list[Leg], other: uuid.UUID) -> tuple[Leg, ...]:
    """The player's legs balanced by the operator's side; nothing when nothing moves."""
    moving = [leg for leg in legs if leg.amount]
    total = sum(leg.amount for leg in moving)
    if not moving or not total:
        return ()
    return (*moving, Leg(other, -total))


def win_legs(
    cash_id: uuid.UUID, bonus_id: uuid.UUID, house: uuid.UUID, cost: uuid.UUID, paid: WinSplit
) -> tuple[Leg, ...]:
    return _against([Leg(cash_id, paid.cash), Leg(bonus_id, paid.bonus)], cost if paid.free else house)


@dataclass(frozen=True)
class Reversal:
    """A rollback's movement on the player's accounts (signed) and the bonus cost's part of the operator
    side (`from_cost`, what it gives back; the house — a free round: the cost — balances the rest), and
    what it changes on the bonus: its converted and capped totals, the bonus money it granted."""

    cash: int
    bonus: int
    converted: int
    granted: int
    free: bool
    capped: int = 0
    from_cost: int = 0
    reopen: bool = False  # the conversion rested on the stake undone: the bonus is active again


def reverse(wager: Wager, was_bet: bool, cash: int) -> Reversal:
    """Undo exactly what was recorded: a stake goes back (its bonus part wherever its bonus now stands, or,
    when its bonus converted only thanks to it, with the conversion undone); a win is taken back from where
    its money is now (`_reverse_converted_win` once its bonus converted). `cash`: the player's cash now."""
    if was_bet:
        if _conversion_rested_on(wager, cash):
            return _reopening(wager)
        routed = route(wager, wager.bonus)
        return Reversal(
            wager.cash + routed.to_cash, routed.to_bonus, routed.to_cash, 0, False, capped=routed.withheld(wager)
        )
    free = wager.kind == "free_win"
    if wager.status == BonusStatus.ACTIVE:
        return Reversal(-wager.cash, -wager.bonus, 0, -wager.bonus if free else 0, free)
    if wager.status == BonusStatus.COMPLETED:
        return _reverse_converted_win(wager, free)
    return Reversal(-wager.cash, 0, 0, 0, free)  # its bonus side went back to the operator with the bonus


def _conversion_rested_on(wager: Wager, cash: int) -> bool:
    """A stake rolled back after its bonus converted, when without it the wagering was not met: the
    conversion was earned with a stake that never happened (an aggregator rolls back a bet whose answer it
    missed, long after the bet converted). It is undone when it can be exactly: no other bonus has been
    taken since in this currency, and the cash can give back what the conversion paid."""
    return (
        wager.status == BonusStatus.COMPLETED
        and wager.done - wager.contributed < wager.required
        and not wager.others_in_play
        and cash + wager.cash >= wager.total_converted
    )


def _reopening(wager: Wager) -> Reversal:
    """The stake's rollback with the conversion undone, as if the stake had never come: the bonus is active
    again, holding what reached the conversion (what the cash got, `converted`, and what the cap withheld
    into the bonus cost, `capped`) and the stake's bonus part; the cash gets the stake's cash part and gives
    back what the conversion paid; the house gives the stake back."""
    reached = wager.total_converted + wager.total_capped
    return Reversal(
        wager.cash - wager.total_converted,
        wager.bonus + reached,
        -wager.total_converted,
        0,
        False,
        capped=-wager.total_capped,
        from_cost=wager.total_capped,
        reopen=True,
    )


def _reverse_converted_win(wager: Wager, free: bool) -> Reversal:
    """A win whose bonus converted after it (its bonus side b was credited to the bonus account), or that
    came after the conversion (b routed: into cash within the cap, the rest withheld), undone as if it had
    never come. All the bonus money that reached the conversion is R = converted + capped, of which the
    cash got min(R, cap); without b it would have been R' = max(0, R - b), and min(R', cap) in cash. So:
    - the bonus's converted total drops by its share, converted - min(R', cap);
    - what the cap withheld of b, capped - (R' - min(R', cap)), leaves the capped total; a conversion put
      it in the bonus cost, which gives it back (a routed win's was never paid out);
    - the cash gives back the win's cash side and the rest of b: its share of the conversion, and what of
      b was staked before the conversion (without the win those stakes would have been cash).
    If the cash is not there the ledger refuses, and the rollback with it (NOT_ENOUGH_MONEY, nothing moves)."""
    routed_win = wager.bonus == 0 and (wager.converted + wager.withheld) > 0
    side = wager.converted + wager.withheld if routed_win else wager.bonus
    cash_side = wager.cash - wager.converted if routed_win else wager.cash
    reached = wager.total_converted + wager.total_capped
    without = max(0, reached - side)
    converted_without = without if wager.cap is None else min(without, wager.cap)
    share = max(0, wager.total_converted - converted_without)
    withheld = min(side - min(share, side), max(0, wager.total_capped - (without - converted_without)))
    granted = -side if free and not routed_win else 0  # a free round's win credited while active added to `amount`
    return Reversal(
        -(cash_side + side - withheld),
        0,
        -share,
        granted,
        free,
        capped=-withheld,
        from_cost=0 if routed_win else withheld,
    )


def reversal_legs(
    cash_id: uuid.UUID, bonus_id: uuid.UUID, house: uuid.UUID, cost: uuid.UUID, reversal: Reversal
) -> tuple[Leg, ...]:
    """The player's legs, the bonus cost's part, and the house (a free round: the cost) balancing the rest."""
    player = [Leg(cash_id, reversal.cash), Leg(bonus_id, reversal.bonus)]
    operator: dict[uuid.UUID, int] = {cost: -reversal.from_cost}
    source = cost if reversal.free else house
    operator[source] = operator.get(source, 0) - reversal.cash - reversal.bonus + reversal.from_cost
    legs = tuple(leg for leg in (*player, *(Leg(a, amount) for a, amount in operator.items())) if leg.amount)
    return legs if len(legs) >= 2 else ()


_UNDO = text("""
UPDATE player_bonuses SET
    wagering_done = CASE WHEN status = 'active' OR :reopen THEN GREATEST(0, wagering_done + :progress)
                         ELSE wagering_done END,
    spins_left = CASE WHEN status = 'active' THEN spins_left + :spins ELSE spins_left END,
    converted = converted + :converted, capped = capped + :capped, amount = amount + :granted,
    max_conversion = CASE WHEN (terms->>'max_conversion_multiple') IS NOT NULL
         THEN (terms->>'max_conversion_multiple')::bigint * GREATEST(amount + :granted, 1) ELSE max_conversion END,
    wagering_required = GREATEST(0, wagering_required + :required),
    status = CASE WHEN :reopen THEN 'active' ELSE status END,
    ended_at = CASE WHEN :reopen THEN NULL ELSE ended_at END
WHERE id = :bonus
""")


async def undo(
    db: AsyncSession,
    wager: Wager,
    *,
    progress: int = 0,
    spins: int = 0,
    converted: int = 0,
    granted: int = 0,
    capped: int = 0,
    reopen: bool = False,
    ledger_id: uuid.UUID | None = None,
) -> None:
    """A rollback's effect on the bonus: wagering progress (only while it is active, or as it is reopened),
    a free spin back, its converted and capped totals; `reopen`: its conversion undone (history: `reopened`)."""
    required = wagering_for(wager.terms, granted) if granted else 0
    await db.execute(
        _UNDO,
        {
            "bonus": wager.bonus_id,
            "progress": progress,
            "spins": spins,
            "converted": converted,
            "granted": granted,
            "required": required,
            "capped": capped,
            "reopen": reopen,
        },
    )
    if reopen:
        db.add(
            BonusEvent(
                bonus_id=wager.bonus_id,
                kind="reopened",
                amount=-converted - capped,
                ledger_transaction_id=ledger_id,
                actor_type="provider",
                details={
                    "reason": "the stake that met the wagering was rolled back",
                    "converted": -converted,
                    "capped": -capped,
                },
                at=clock.now(),
            )
        )
        await db.flush()
        # Rare (a rollback of the stake a conversion rested on): re-read to tell the platform where it stands.
        bonus = await db.get(PlayerBonus, wager.bonus_id, populate_existing=True)
        assert bonus is not None
        await events.announce(db, bonus, "bonus.reopened", converted=-converted)


# ---- free rounds at launch ------------------------------------------------------------------------


@dataclass(frozen=True)
class FreeRounds:
    """What a game launch passes to the provider: the grant, its rounds left and their bet (minor units)."""

    reward_uuid: str
    rounds: int
    bet: int


_FREE_ROUNDS = text("""
SELECT pb.reward_uuid, pb.spins_left, pb.spin_bet FROM player_bonuses pb JOIN games g ON g.id = :game
WHERE pb.player_id = :player AND pb.status = 'active' AND pb.spins_left > 0 AND pb.reward_uuid IS NOT NULL
  AND pb.currency = (SELECT currency FROM players WHERE id = :player)
  AND (pb.terms -> 'games') ? g.code
  AND NOT EXISTS (SELECT 1 FROM free_rounds_grants f WHERE f.bonus_id = pb.id)  -- granted by the provider's API
""")


async def free_rounds_for(db: AsyncSession, player_id: uuid.UUID, game_id: uuid.UUID) -> FreeRounds | None:
    row = (await db.execute(_FREE_ROUNDS, {"player": player_id, "game": game_id})).first()
    return FreeRounds(str(row.reward_uuid), int(row.spins_left), int(row.spin_bet)) if row else None
