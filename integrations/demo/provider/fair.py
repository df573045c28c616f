"""Provably fair outcomes for the demo games.

Per player session the provider draws a secret server seed and shows its SHA-256 hash before any
play (the commitment). The player picks a client seed (random by default). Round `n` of a seed pair
is decided by `HMAC-SHA256(key=server_seed, msg=f"{client_seed}:{n}")` alone, mapped to an outcome
by the functions below; the nonce then increments. When the player rotates the seed, the old
server seed is revealed: anyone can check it against the committed hash and recompute every round
with `verify` — the provider could not have chosen outcomes after seeing the client seed.

Mappings are exactly uniform (no modulo bias):
- slot: three reels, each stop is a 4-byte big-endian word of the digest modulo 32 (32 divides 2**32);
- dice: a roll in 0..9999 from the first 4-byte word below 4_294_960_000 (the largest multiple of
  10_000 under 2**32); in the ~1e-46 case that all eight words are rejected, more words come from
  `HMAC(server_seed, f"{client_seed}:{nonce}:{k}")`, k = 1, 2, ….

The games and their return to player (RTP), exact because the outcome spaces are finite:
- `demo-slot`: one payline over three reels of the 32-stop strip `REEL`; three of a kind pay
  `THREE_OF_A_KIND` times the bet, exactly two cherries pay 5 times the bet. RTP = 31565 / 32768 = 96.33 %.
- `demo-dice`: the player picks a target t (1.00 % … 98.00 % in hundredths of a percent: 100 … 9800)
  and wins when the roll is below t; a win pays bet * 9900 / t (rounded down to the currency's
  minor unit). RTP = (t / 10000) * (9900 / t) = 99 %, less the rounding.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from itertools import product
from typing import Any

SLOT = "demo-slot"
DICE = "demo-dice"
GAMES = (SLOT, DICE)

# The reel strip (all three reels): 32 stops.
REEL_COUNTS: dict[str, int] = {
    "SEVEN": 1,
    "BAR": 2,
    "BELL": 3,
    "PLUM": 5,
    "ORANGE": 6,
    "LEMON": 7,
    "CHERRY": 4,
    "BLANK": 4,
}
REEL: tuple[str, ...] = tuple(symbol for symbol, count in REEL_COUNTS.items() for _ in range(count))
THREE_OF_A_KIND: dict[str, int] = {
    "SEVEN": 1000,
    "BAR": 300,
    "BELL": 100,
    "PLUM": 40,
    "ORANGE": 25,
    "LEMON": 15,
    "CHERRY": 50,
}
TWO_CHERRIES = 5
assert len(REEL) == 32

DICE_OUTCOMES = 10_000
DICE_EDGE_NUMERATOR = 9900  # payout multiplier = 9900 / target
DICE_MIN_TARGET, DICE_MAX_TARGET = 100, 9800
_DICE_LIMIT = (2**32 // DICE_OUTCOMES) * DICE_OUTCOMES


def new_server_seed() -> str:
    return secrets.token_hex(32)


def new_client_seed() -> str:
    return secrets.token_hex(8)


def seed_hash(server_seed: str) -> str:
    """The commitment shown before play: SHA-256 of the server seed's text, hex."""
    return hashlib.sha256(server_seed.encode()).hexdigest()


def digest(server_seed: str, client_seed: str, nonce: int, extension: int = 0) -> bytes:
    message = f"{client_seed}:{nonce}" if extension == 0 else f"{client_seed}:{nonce}:{extension}"
    return hmac.new(server_seed.encode(), message.encode(), hashlib.sha256).digest()


def _words(server_seed: str, client_seed: str, nonce: int) -> Iterator[int]:
    extension = 0
    while True:
        block = digest(server_seed, client_seed, nonce, extension)
        for offset in range(0, 32, 4):
            yield int.from_bytes(block[offset : offset + 4], "big")
        extension += 1


# ---- the slot --------------------------------------------------------------------------------------


def slot_multiplier(symbols: tuple[str, str, str]) -> int:
    """How many times the bet a line pays."""
    first, second, third = symbols
    if first == second == third and first in THREE_OF_A_KIND:
        return THREE_OF_A_KIND[first]
    return TWO_CHERRIES if symbols.count("CHERRY") == 2 else 0


def slot_stops(server_seed: str, client_seed: str, nonce: int) -> tuple[int, int, int]:
    block = digest(server_seed, client_seed, nonce)
    first, second, third = (int.from_bytes(block[4 * i : 4 * i + 4], "big") % len(REEL) for i in range(3))
    return first, second, third


def slot_rtp() -> Fraction:
    """The exact return to player: every combination of stops is equally likely."""
    total = sum(slot_multiplier((a, b, c)) for a, b, c in product(REEL, repeat=3))
    return Fraction(total, len(REEL) ** 3)


# ---- the dice ----------------------------------------------------------------------------------------


def dice_roll(server_seed: str, client_seed: str, nonce: int) -> int:
    for word in _words(server_seed, client_seed, nonce):
        if word < _DICE_LIMIT:
            return word % DICE_OUTCOMES
    raise AssertionError("unreachable")  # pragma: no cover  (the generator never ends)


def check_dice_target(target: int) -> None:
    if not DICE_MIN_TARGET <= target <= DICE_MAX_TARGET:
        raise ValueError(f"the dice target must be within {DICE_MIN_TARGET}..{DICE_MAX_TARGET}")


def dice_win(bet: int, target: int, roll: int, unit: int = 1) -> int:
    """The win for a bet (any integer unit), rounded down to a multiple of `unit`."""
    if roll >= target:
        return 0
    return bet * DICE_EDGE_NUMERATOR // target // unit * unit


def dice_rtp(target: int, bet: int, unit: int = 1) -> Fraction:
    """The exact return to player of one bet at a target, rounding included."""
    check_dice_target(target)
    return Fraction(sum(dice_win(bet, target, roll, unit) for roll in range(DICE_OUTCOMES)), bet * DICE_OUTCOMES)


# ---- one round, and its verification --------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    game: str
    win: int  # in the bet's units
    details: dict[str, Any]


def play(
    game: str, server_seed: str, client_seed: str, nonce: int, bet: int, *, target: int | None = None, unit: int = 1
) -> Outcome:
    """The outcome of round `nonce` for `bet` (any integer unit; wins are rounded down to `unit`)."""
    if game == SLOT:
        stops = slot_stops(server_seed, client_seed, nonce)
        symbols = (REEL[stops[0]], REEL[stops[1]], REEL[stops[2]])
        multiplier = slot_multiplier(symbols)
        return Outcome(
            game, bet * multiplier, {"stops": list(stops), "symbols": list(symbols), "multiplier": multiplier}
        )
    if game == DICE:
        chosen = 4950 if target is None else target
        check_dice_target(chosen)
        roll = dice_roll(server_seed, client_seed, nonce)
        return Outcome(
            game,
            dice_win(bet, chosen, roll, unit),
            {"roll": roll, "target": chosen, "multiplier": str(round(DICE_EDGE_NUMERATOR / chosen, 4))},
        )
    raise ValueError(f"unknown game {game}")


def verify(
    game: str,
    server_seed: str,
    client_seed: str,
    nonce: int,
    *,
    bet: int = 100,
    target: int | None = None,
    committed_hash: str | None = None,
) -> dict[str, Any]:
    """Recompute a round from revealed seeds: the outcome, and whether the seed matches its commitment."""
    outcome = play(game, server_seed, client_seed, nonce, bet, target=target)
    return {
        "game": game,
        "server_seed_hash": seed_hash(server_seed),
        "client_seed": client_seed,
        "nonce": nonce,
        "hash_matches": None
        if committed_hash is None
        else hmac.compare_digest(seed_hash(server_seed), committed_hash.lower()),
        "bet": bet,
        "win": outcome.win,
        "outcome": outcome.details,
    }
