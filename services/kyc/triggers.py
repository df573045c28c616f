"""Which of a profile's triggers a cashier decision sets off, with the figures that crossed the threshold.

Evaluated inline, in the transaction of the deposit or withdrawal being decided and under the player's
money lock (so the figures include the payment in flight, and two concurrent deposits are counted one
after the other): the gate that follows must see the requirement before any money moves. Figures come
from the counters responsible gambling keeps in the same transactions as the money (rg_activity_days,
services/rg/activity.py) and from the payments table; other currencies are converted at the stated rates
(core/fx.py), rounded up. A currency without a stated rate cannot be measured against a threshold in another
one, and the platform's rule for that (core/fx.py) is to refuse rather than guess: money counting towards a
threshold in an unmeasurable currency sets the trigger off, its details naming the currency (`unmeasured`),
and a warning is logged (`kyc_trigger_unmeasured`). Leaving such amounts out would let a player dodge every
check by paying in another currency; configure FX_RATES for every currency a brand takes. (Amounts that
offset a figure, such as withdrawals and wins, are simply left out: that only raises the figure.)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import clock
from core.fx import Rates
from core.logging import get_logger
from core.money import format_amount
from models.payments import Payment, PaymentKind
from models.players import Player
from services.kyc.levels import KycProfile, Trigger
from services.rg import activity
from services.rg.profiles import profile as rg_profile

log = get_logger(__name__)
EPOCH, FOREVER = date(1970, 1, 1), date(9999, 1, 1)

# Withdrawals that leave (or may leave) the account in the window: everything not refused or given back.
_WITHDRAWN = text("""
SELECT currency, sum(amount) AS amount FROM payments
WHERE player_id = :player AND kind = 'withdrawal' AND created_at >= :since
  AND status NOT IN ('rejected', 'cancelled', 'failed')
GROUP BY currency
""")

# Earlier payments that moved money through another instrument than this one.
_OTHER_INSTRUMENT = text("""
SELECT bool_or(method <> :method OR coalesce(instrument_token, '') <> :token) AS changed
FROM payments WHERE player_id = :player AND id <> :payment AND status IN ('succeeded', 'paid')
""")

_EARLIER_WITHDRAWALS = text("""
SELECT count(*) FROM payments WHERE player_id = :player AND kind = 'withdrawal' AND id <> :payment
  AND status NOT IN ('rejected', 'cancelled', 'failed')
""")


@dataclass(frozen=True)
class Fired:
    trigger: Trigger
    details: dict[str, Any]


def _measure(per_currency: dict[str, int], target: str, rates: Rates, *, unmeasured: set[str] | None = None) -> int:
    """The sum in `target`. Amounts that count towards a threshold (`unmeasured` given) round up and name
    their currency in `unmeasured` when it has no rate; offsetting amounts round down or are left out."""
    total = 0
    for currency, amount in per_currency.items():
        converted = rates.convert(amount, currency, target, round_up=unmeasured is not None)
        if converted is None:
            log.warning("kyc_trigger_unmeasured", currency=currency, target=target)
            if unmeasured is not None and amount > 0:
                unmeasured.add(currency)
            continue
        total += converted
    return total


def _money_details(trigger: Trigger, figure: int, unmeasured: set[str]) -> dict[str, Any]:
    assert trigger.amount is not None
    assert trigger.currency is not None
    return {
        "threshold": format_amount(trigger.amount, trigger.currency),
        "figure": format_amount(figure, trigger.currency),
        "currency": trigger.currency,
        **({"window_days": trigger.window_days} if trigger.window_days else {}),
        **({"unmeasured": sorted(unmeasured)} if unmeasured else {}),
    }


async def _figure(db: AsyncSession, player: Player, trigger: Trigger, rates: Rates, unmeasured: set[str]) -> int:
    """The trigger's figure in its currency; currencies that could not be measured go to `unmeasured`."""
    assert trigger.currency is not None
    if trigger.kind == "lifetime_deposits":
        deposits = await activity.deposits_with_in_flight(db, player.id, EPOCH, FOREVER)
        return _measure(deposits, trigger.currency, rates, unmeasured=unmeasured)
    assert trigger.window_days is not None
    now = clock.now()
    rules = rg_profile(player.jurisdiction)
    first = rules.local_day(now - timedelta(days=trigger.window_days))
    if trigger.kind == "net_deposits":
        deposited = _measure(
            await activity.deposits_with_in_flight(db, player.id, first, FOREVER),
            trigger.currency,
            rates,
            unmeasured=unmeasured,
        )
        since = datetime.combine(first, time(), tzinfo=rules.timezone)
        rows = (await db.execute(_WITHDRAWN, {"player": player.id, "since": since})).all()
        withdrawn = _measure({r.currency: int(r.amount) for r in rows}, trigger.currency, rates)
        return deposited - withdrawn
    totals = await activity.totals(db, player.id, first, FOREVER)
    staked = _measure({c: t.wagered for c, t in totals.items()}, trigger.currency, rates, unmeasured=unmeasured)
    won = _measure({c: t.won for c, t in totals.items()}, trigger.currency, rates)
    return staked - won


async def fired(db: AsyncSession, player: Player, profile: KycProfile, payment: Payment, rates: Rates) -> list[Fired]:
    """The triggers this payment's decision sets off (each is recorded once; `require` ignores repeats)."""
    found: list[Fired] = []
    for trigger in profile.triggers:
        if trigger.kind == "first_withdrawal":
            if payment.kind == PaymentKind.WITHDRAWAL:
                earlier = await db.scalar(_EARLIER_WITHDRAWALS, {"player": player.id, "payment": payment.id})
                if not earlier:
                    found.append(Fired(trigger, {"payment_id": str(payment.id)}))
        elif trigger.kind == "payment_method_change":
            params = {
                "player": player.id,
                "payment": payment.id,
                "method": payment.method,
                "token": payment.instrument_token or "",
            }
            if await db.scalar(_OTHER_INSTRUMENT, params):
                found.append(Fired(trigger, {"payment_id": str(payment.id), "method": payment.method}))
        else:
            assert trigger.amount is not None
            unmeasured: set[str] = set()
            figure = await _figure(db, player, trigger, rates, unmeasured)
            if figure >= trigger.amount or unmeasured:
                found.append(Fired(trigger, _money_details(trigger, figure, unmeasured)))
    return found
