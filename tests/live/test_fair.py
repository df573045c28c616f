"""Provably fair games of the demo provider: commitments, verification, and the exact RTP."""

from __future__ import annotations

import hashlib
import hmac
from collections import Counter
from fractions import Fraction

import pytest

from integrations.demo.provider import fair


def test_slot_rtp_computed_over_every_reel_combination_is_about_96_percent() -> None:
    rtp = fair.slot_rtp()
    assert rtp == Fraction(31565, 32768)  # the figure the module documents
    assert Fraction(955, 1000) <= rtp <= Fraction(965, 1000)


@pytest.mark.parametrize("target", [100, 333, 4950, 9800])
def test_dice_rtp_is_99_percent_before_rounding(target: int) -> None:
    # A bet whose wins need no rounding (bet * 9900 divisible by the target) returns exactly 99 %.
    bet = target * 1000
    assert fair.dice_rtp(target, bet) == Fraction(99, 100)
    # Rounding wins down to a cent of a 1.00 bet (100000 Hub88 units, cent = 1000) never pays more.
    rounded = fair.dice_rtp(target, 100_000, unit=1000)
    assert Fraction(98, 100) < rounded <= Fraction(99, 100)


def test_outcome_is_the_hmac_of_client_seed_and_nonce_keyed_by_the_server_seed() -> None:
    server, client = "a" * 64, "lucky"
    digest = hmac.new(server.encode(), b"lucky:7", hashlib.sha256).digest()
    expected = tuple(int.from_bytes(digest[4 * i : 4 * i + 4], "big") % 32 for i in range(3))
    assert fair.slot_stops(server, client, 7) == expected
    assert fair.dice_roll(server, client, 7) == int.from_bytes(digest[:4], "big") % 10_000  # first word accepted
    assert fair.seed_hash(server) == hashlib.sha256(server.encode()).hexdigest()


def test_verify_recomputes_a_round_and_checks_the_commitment() -> None:
    server, client = fair.new_server_seed(), "my-seed"
    played = fair.play(fair.SLOT, server, client, 3, 100)
    checked = fair.verify(fair.SLOT, server, client, 3, bet=100, committed_hash=fair.seed_hash(server))
    assert checked["hash_matches"] is True
    assert (checked["win"], checked["outcome"]) == (played.win, played.details)
    assert fair.verify(fair.SLOT, server, client, 3, committed_hash="0" * 64)["hash_matches"] is False


def test_each_nonce_is_a_fresh_round_and_reels_are_uniform() -> None:
    server, client = "f" * 64, "c"
    stops = Counter(stop for nonce in range(4000) for stop in fair.slot_stops(server, client, nonce))
    assert set(stops) == set(range(32))
    assert max(stops.values()) < 2 * min(stops.values())  # 375 expected per stop; a skewed mapping shows
    rolls = {fair.dice_roll(server, client, nonce) for nonce in range(50)}
    assert len(rolls) > 45


def test_dice_targets_outside_the_range_are_refused() -> None:
    with pytest.raises(ValueError, match="target"):
        fair.play(fair.DICE, "s", "c", 0, 100, target=9900)
