#!/usr/bin/env python3
"""Check a Croupier jackpot drop yourself: standard library only, no access to the platform needed.

When a pot is seeded, Croupier publishes   commitment = SHA-256(drop_point || salt)   where drop_point is an
unsigned 64-bit big-endian integer (8 bytes: minor units of the pool's currency for a must-drop-by-amount pot,
milliseconds since the Unix epoch for a must-drop-by-time pot) and salt is 32 random bytes. After the drop it
reveals the point and the salt (`croupier jackpots commitments`, the `jackpot.commitment_revealed` event).

    verify_jackpot_commitment.py COMMITMENT DROP_POINT SALT_HEX [--before N --after N] [--won-at-ms T]
    verify_jackpot_commitment.py --json drops.json      (the output of `croupier jackpots verify --json`)

--before/--after: the pot before and after the winning stake (amount pots): the drop must be the stake that took
the pot from below the point to the point or above. --won-at-ms: the drop's time (time pots): at or after the
point. --json: every drop in the file, each against its own figures (`amount_before`/`amount_after`, `won_at_ms`)
the same way, and its point against the range it was to be drawn from (`point_from`, `point_to`: above the seed
up to the cap, or within the window from the seeding). Exit status 0 when everything checks, 1 otherwise.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import sys


def commitment_of(point: int, salt_hex: str) -> str:
    salt = bytes.fromhex(salt_hex)
    if len(salt) != 32 or not 0 <= point < 2**64:
        raise ValueError("the drop point is a 64-bit unsigned integer, the salt 32 bytes (64 hex digits)")
    return hashlib.sha256(point.to_bytes(8, "big") + salt).hexdigest()


def check(
    commitment: str, point: int, salt: str, before: int | None, after: int | None, won_at: int | None
) -> list[str]:
    problems = []
    try:
        if not hmac.compare_digest(commitment_of(point, salt), commitment.lower()):
            problems.append("the commitment does not match the revealed drop point and salt")
    except ValueError as exc:
        problems.append(str(exc))
    if before is not None and after is not None and not before < point <= after:
        problems.append(f"the pot went from {before} to {after}: it did not cross the committed point {point}")
    if won_at is not None and won_at < point:
        problems.append(f"it dropped at {won_at} ms, before the committed instant {point}")
    return problems


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("commitment", nargs="?")
    parser.add_argument("drop_point", nargs="?", type=int)
    parser.add_argument("salt", nargs="?")
    parser.add_argument("--before", type=int)
    parser.add_argument("--after", type=int)
    parser.add_argument("--won-at-ms", type=int)
    parser.add_argument("--json", dest="json_file", help="a file of drops as `croupier jackpots verify --json` prints")
    args = parser.parse_args(argv)
    if args.json_file:
        with open(args.json_file, encoding="utf-8") as handle:
            drops = json.load(handle)
        failed = 0
        for drop in drops:
            # The drop's own figures, not the platform's verdict: the pot before and after the winning stake
            # (amount pots), the time it dropped (time pots).
            amount, time = drop.get("trigger") == "amount", drop.get("trigger") == "time"
            before, after = (drop.get("amount_before"), drop.get("amount_after")) if amount else (None, None)
            won_at = drop.get("won_at_ms") if time else None
            problems = check(drop["commitment"], drop["drop_point"], drop["salt"], before, after, won_at)
            low, high = drop.get("point_from"), drop.get("point_to")
            if low is not None and high is not None and not low <= drop["drop_point"] <= high:
                problems.append(f"the drop point is outside the range [{low}, {high}] it was to be drawn from")
            void = bool(drop.get("void"))  # a closed jackpot's pot: no drop, only the point against its commitment
            if not void and ((amount and (before is None or after is None)) or (time and won_at is None)):
                problems.append("no figures of the drop to check it against its point")
            failed += bool(problems)
            verdict = "ok" if not problems else "; ".join(problems)
            print(
                f"{drop['level']} pot {drop['generation']}: {verdict}{' (void: closed, never dropped)' if void else ''}"
            )
        return 1 if failed else 0
    if args.commitment is None or args.drop_point is None or args.salt is None:
        parser.error("COMMITMENT DROP_POINT SALT_HEX, or --json FILE")
    problems = check(args.commitment, args.drop_point, args.salt, args.before, args.after, args.won_at_ms)
    print("ok" if not problems else "\n".join(problems))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
