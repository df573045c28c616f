"""The closed loop: withdrawals go back to the methods and instruments deposits came from, before any other
method, as regulators (UKGC, MGA) expect (docs/closed-loop.md).

A loop share is what deposits through one method and instrument (a card's fingerprint as the PSP's vault
reports it, or its vault token where none was reported; an e-wallet's token, a bank account token, a crypto
asset) brought into a player's currency wallet, minus what went back
there already:
    owed = succeeded deposits - chargebacks kept (the PSP took that money back to the instrument)
           - withdrawals to it that are requested, waiting, approved, processing or paid
           - what staff waived (closed_loop_exceptions not revoked).
A withdrawal that failed, was rejected or cancelled, or that the bank returned, gives its share back; a
deposit refunded by the cascade (a late success of an abandoned attempt) never succeeded, so it never
counted. The figures are computed from those rows each time; nothing stores them, so they cannot drift.

The rule, for players whose jurisdiction profile has `closed_loop` (services/rg/jurisdictions.toml), while
any share is open (owed > 0):
- a withdrawal goes to an open share's method and instrument, at most what it is owed — unless it is the
  only open share, when the request closes the loop and the rest may follow it there;
- a withdrawal that names no instrument for a method with exactly one open share goes to that share's
  instrument (a card payout is sent to the card's token); a crypto withdrawal always names its destination
  (its share is the asset: `BTC:<address>` belongs to share `BTC`);
- anything else is refused with CLOSED_LOOP, naming the open shares and what each may take.
Refused, not split: one request stays one payment with one hold, one approval and one threshold. The
proportion across several open shares is what `plan` proposes (and the player's cashier shows); each leg
of it fits its share, so requesting the legs one after another always passes.

Concurrency: a request takes the player's closed-loop lock (an advisory key) after inserting its payment
and before reading the shares, and counts every other withdrawal committed before it; two requests racing
for one share are serialised, and the second sees the first's claim. Only withdrawal requests and staff
exceptions take that key, each holding nothing but its own new rows, so it never deadlocks.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import DomainError, ErrorCode
from core.money import format_amount
from models.payments import Payment, PaymentStatus
from models.players import Player
from services.rg.profiles import profile

# Methods whose instrument is the player's own account at a PSP: a payout can be sent to the deposit's token.
# Other methods (crypto) deposit to an address of ours, so their share is the asset (the token's prefix before
# a `:`, or the method as a whole) and the withdrawal names its destination.
TOKEN_BOUND_METHODS = frozenset({"card", "ewallet", "bank_transfer"})

# What a withdrawal in these states has sent back, or will (its hold stands).
SENDING_BACK = (
    PaymentStatus.REQUESTED,
    PaymentStatus.WAITING_FOR_KYC,
    PaymentStatus.APPROVED,
    PaymentStatus.PROCESSING,
    PaymentStatus.PAID,
)

# A payment's share key is computed once (the `instrument` column of `mine`); instrument_key says the same.
SHARES = text("""
WITH mine AS (
    SELECT p.id, p.kind, p.status, p.method, p.amount, p.psp, p.instrument_token, p.instrument_fingerprint,
           p.created_at,
           CASE WHEN p.method = ANY(:token_bound) THEN coalesce(p.instrument_fingerprint, p.instrument_token, '')
                WHEN strpos(p.instrument_token, ':') > 0 THEN split_part(p.instrument_token, ':', 1)
                ELSE '' END AS instrument
    FROM payments p
    WHERE p.player_id = :player AND p.currency = :currency
), deposits AS (
    SELECT method, instrument, sum(amount) AS deposited, min(created_at) AS first_at,
           (array_agg(instrument_token ORDER BY created_at DESC, id DESC))[1] AS token,
           (array_agg(psp ORDER BY created_at DESC, id DESC))[1] AS psp,
           (array_agg(instrument_fingerprint ORDER BY created_at DESC, id DESC))[1] AS fingerprint
    FROM mine WHERE kind = 'deposit' AND status = 'succeeded'
    GROUP BY 1, 2
), charged AS (
    SELECT m.method, m.instrument, sum(d.amount) AS amount
    FROM disputes d JOIN mine m ON m.id = d.payment_id
    WHERE d.player_id = :player AND m.kind = 'deposit'
      AND d.chargeback_transaction_id IS NOT NULL AND d.reversal_transaction_id IS NULL
    GROUP BY 1, 2
), sent AS (
    SELECT method, instrument, sum(amount) AS amount
    FROM mine WHERE kind = 'withdrawal' AND status = ANY(:sending) AND id <> :excluding
    GROUP BY 1, 2
), waived AS (
    SELECT e.method, e.instrument, sum(e.amount) AS amount
    FROM closed_loop_exceptions e
    WHERE e.player_id = :player AND e.currency = :currency AND e.revoked_at IS NULL
    GROUP BY 1, 2
)
SELECT d.method, d.instrument, d.token, d.psp, d.fingerprint, d.deposited,
       coalesce(c.amount, 0) AS charged_back, coalesce(s.amount, 0) AS sent_back, coalesce(w.amount, 0) AS waived
FROM deposits d
LEFT JOIN charged c USING (method, instrument)
LEFT JOIN sent s USING (method, instrument)
LEFT JOIN waived w USING (method, instrument)
ORDER BY d.first_at, d.method, d.instrument
""")

_LOCK = text("SELECT pg_advisory_xact_lock(hashtextextended('closed-loop:' || :player, 0))")


@dataclass(frozen=True)
class LoopShare:
    method: str
    instrument: str  # the share's key: a card fingerprint, a vault token, a crypto asset, "" when none named
    instrument_token: str | None  # the latest deposit's own token (a crypto deposit address id)
    fingerprint: str | None  # the card fingerprint the share is keyed by (None: keyed by token or asset)
    psp: str | None  # the PSP of the latest deposit through it (the one holding the token)
    currency: str
    deposited: int
    charged_back: int
    sent_back: int
    waived: int

    @property
    def owed(self) -> int:
        return max(0, self.deposited - self.charged_back - self.sent_back - self.waived)

    def label(self) -> str:
        shown = self.instrument if self.method not in TOKEN_BOUND_METHODS else _mask(self.instrument)
        return f"{self.method} {shown}".strip()


@dataclass(frozen=True)
class Leg:
    """Part of a withdrawal: to a share (None: any method, once the loop is closed) and how much."""

    share: LoopShare | None
    amount: int


def instrument_key(method: str, token: str | None, fingerprint: str | None = None) -> str:
    """The share a payment through `method`, `token` and card `fingerprint` belongs to (the SQL above says the
    same): for token-bound methods the fingerprint, else the token; for the others (crypto) the asset before a
    `:` (`BTC:<address>` → `BTC`), or "" (the method as a whole) when the token has no such prefix."""
    if method in TOKEN_BOUND_METHODS:
        return fingerprint or token or ""
    return token.split(":", 1)[0] if token and ":" in token else ""


def _mask(token: str) -> str:
    return token if len(token) <= 8 else f"{token[:4]}…{token[-4:]}"


async def loop_shares(
    db: AsyncSession, player_id: uuid.UUID, currency: str, *, excluding: uuid.UUID | None = None
) -> list[LoopShare]:
    """The player's loop shares in `currency`, oldest first, open or not (`owed` says); `excluding`: a
    withdrawal not to count (the one being decided)."""
    rows = await db.execute(
        SHARES,
        {
            "player": player_id,
            "currency": currency,
            "sending": [s.value for s in SENDING_BACK],
            "excluding": excluding or uuid.UUID(int=0),
            "token_bound": sorted(TOKEN_BOUND_METHODS),
        },
    )
    return [
        LoopShare(
            method=r.method,
            instrument=r.instrument,
            instrument_token=r.token,
            psp=r.psp,
            fingerprint=r.fingerprint if r.fingerprint == r.instrument else None,
            currency=currency,
            deposited=int(r.deposited),
            charged_back=int(r.charged_back),
            sent_back=int(r.sent_back),
            waived=int(r.waived),
        )
        for r in rows
    ]


def enforced(player: Player) -> bool:
    """Does the closed loop apply to this player (their jurisdiction, fixed at registration)?"""
    return profile(player.jurisdiction).closed_loop


async def lock(db: AsyncSession, player_id: uuid.UUID) -> None:
    """The player's closed-loop lock, to the end of the transaction (the module docstring says when)."""
    await db.execute(_LOCK, {"player": str(player_id)})


def plan(shares: Sequence[LoopShare], amount: int) -> list[Leg]:
    """Where a withdrawal of `amount` may go: the open shares in proportion to what each is owed (largest
    remainders get the odd minor units, never above a share's owed), the rest to any method."""
    open_shares = [s for s in shares if s.owed > 0]
    total = sum(s.owed for s in open_shares)
    to_loop = min(amount, total)
    if to_loop == 0:
        return [Leg(None, amount)] if amount > 0 else []
    exact = [(s, s.owed * to_loop) for s in open_shares]
    legs = {i: part // total for i, (_, part) in enumerate(exact)}
    left = to_loop - sum(legs.values())
    by_remainder = sorted(range(len(exact)), key=lambda i: (-(exact[i][1] % total), i))
    for i in by_remainder[:left]:
        legs[i] += 1
    found = [Leg(s, legs[i]) for i, (s, _) in enumerate(exact) if legs[i] > 0]
    if amount > to_loop:
        found.append(Leg(None, amount - to_loop))
    return found


class ClosedLoopRefused(DomainError):
    code = ErrorCode.CLOSED_LOOP


async def check_withdrawal(db: AsyncSession, player: Player, payment: Payment) -> None:
    """Under the player's closed-loop lock: may this new withdrawal go where it asks? A withdrawal naming no
    instrument for a method with one open share is pointed at that share's token. Raises ClosedLoopRefused."""
    if not enforced(player):
        return
    await lock(db, player.id)
    shares = [s for s in await loop_shares(db, player.id, payment.currency, excluding=payment.id) if s.owed > 0]
    if not shares:
        return
    same_method = [s for s in shares if s.method == payment.method]
    if payment.instrument_token is None and payment.method in TOKEN_BOUND_METHODS and len(same_method) == 1:
        payment.instrument_token = same_method[0].instrument_token  # paid back to the deposit's instrument
        payment.instrument_fingerprint = same_method[0].fingerprint  # and counted against its share
    key = instrument_key(payment.method, payment.instrument_token, payment.instrument_fingerprint)
    target = next((s for s in shares if (s.method, s.instrument) == (payment.method, key)), None)
    if target is not None and (payment.amount <= target.owed or len(shares) == 1):
        return
    owed = ", ".join(f"{s.label()} up to {format_amount(s.owed, s.currency)} {s.currency}" for s in shares)
    if target is not None:
        message = (
            f"Closed loop: {target.label()} may take at most {format_amount(target.owed, target.currency)} "
            f"{target.currency} now; the deposits' methods are paid back first ({owed})."
        )
    else:
        message = f"Closed loop: withdrawals go back to the deposits' methods first ({owed})."
    raise ClosedLoopRefused(message, field="method")
