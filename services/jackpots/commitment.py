"""A pot's drop point, chosen in advance and committed to.

When a pot is seeded, its drop point is drawn with the operating system's CSPRNG (`secrets`): for an amount
pool a whole number of minor units in [amount at seeding + 1, cap]; for a time pool an instant, in
milliseconds since the Unix epoch, in [seeding, seeding + window]. With it, a 32-byte random salt. The
commitment published at once is

    SHA-256( drop_point as an unsigned 64-bit big-endian integer (8 bytes) || salt (32 bytes) )

written as 64 lowercase hex digits. After the drop, the point and the salt (64 hex digits) are revealed;
anyone can recompute the hash (scripts/verify_jackpot_commitment.py, standard library only) and check that
the pot dropped where it was committed to: an amount pot on the stake that took it from below the point to
the point or above, a time pot on the first eligible stake at or after the instant.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

SALT_BYTES = 32


@dataclass(frozen=True)
class DropPoint:
    point: int
    salt: str  # hex
    commitment: str  # hex


def digest(point: int, salt_hex: str) -> str:
    salt = bytes.fromhex(salt_hex)
    if len(salt) != SALT_BYTES or not 0 <= point < 2**64:
        raise ValueError("a drop point is a 64-bit unsigned integer and a salt 32 bytes")
    return hashlib.sha256(point.to_bytes(8, "big") + salt).hexdigest()


def draw(low: int, high: int) -> DropPoint:
    """A drop point uniformly in [low, high], committed."""
    if high < low:
        raise ValueError("an empty range for a drop point")
    point = low + secrets.randbelow(high - low + 1)
    salt = secrets.token_hex(SALT_BYTES)
    return DropPoint(point, salt, digest(point, salt))


def amount_point(amount: int, cap: int) -> DropPoint:
    """An amount pot's drop point: above the pot at its seeding, at most its cap."""
    return draw(min(amount + 1, cap), cap)


def verify_commitment(commitment: str, point: int, salt_hex: str) -> bool:
    try:
        return hmac.compare_digest(digest(point, salt_hex), commitment.lower())
    except ValueError:
        return False
