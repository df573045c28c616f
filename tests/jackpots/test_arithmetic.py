"""The pure rules (services/jackpots/arithmetic.py, the code the consumer and the simulation run), as
properties: contributions add up exactly with the remainder carried, a pot never passes its cap, it drops on
the stake that crosses its committed point and on no other; the commitment's byte format."""

from __future__ import annotations

import hashlib

from hypothesis import given, settings
from hypothesis import strategies as st

from services.jackpots import arithmetic, commitment

PPM = arithmetic.PPM
stakes = st.lists(st.integers(min_value=1, max_value=10**9), min_size=1, max_size=300)
rates = st.integers(min_value=0, max_value=PPM)


@given(stakes, rates, st.lists(st.booleans(), min_size=300, max_size=300))
@settings(max_examples=300, deadline=None)
def test_contributions_sum_to_the_floor_of_the_total_and_no_remainder_is_lost(
    amounts: list[int], ppm: int, rolled_back: list[bool]
) -> None:
    contributed, remainder, net = 0, 0, 0
    for amount, undo in zip(amounts, rolled_back, strict=False):
        for signed in (amount, -amount) if undo else (amount,):
            part, remainder = arithmetic.contribute(signed, ppm, remainder)
            contributed += part
            net += signed
            assert 0 <= remainder < PPM
            assert contributed * PPM + remainder == net * ppm  # nothing lost, nothing made up
    assert contributed == net * ppm // PPM


@given(st.integers(min_value=0, max_value=10**6), st.integers(min_value=1, max_value=10**6), stakes, rates)
@settings(max_examples=300, deadline=None)
def test_a_pot_never_passes_its_cap_and_drops_exactly_once_at_its_point(
    seed: int, headroom: int, amounts: list[int], ppm: int
) -> None:
    cap = seed + headroom
    drawn = commitment.draw(seed + 1, cap)
    amount, remainder, drops = seed, 0, 0
    for stake in amounts:
        step = arithmetic.step(
            amount=amount, remainder=remainder, stake=stake, ppm=ppm, cap=cap, drop_point=drawn.point
        )
        assert step.amount <= cap
        assert step.drops == (amount < drawn.point <= step.amount)
        amount, remainder = step.amount, step.remainder
        if step.drops:
            drops += 1
            assert amount >= drawn.point
            break
    assert drops == (1 if amount >= drawn.point else 0)


def test_the_commitment_is_sha256_of_the_point_as_8_bytes_big_endian_and_the_salt() -> None:
    salt = "ab" * 32
    expected = hashlib.sha256((1234567).to_bytes(8, "big") + bytes.fromhex(salt)).hexdigest()
    assert commitment.digest(1234567, salt) == expected
    assert commitment.verify_commitment(expected, 1234567, salt)
    assert not commitment.verify_commitment(expected, 1234568, salt)
    assert not commitment.verify_commitment(expected, 1234567, "cd" * 32)
    assert not commitment.verify_commitment(expected, 1234567, "short")


def test_a_time_pot_drops_on_the_first_stake_at_or_after_its_instant() -> None:
    assert not arithmetic.due_at("time", 1_000, 5, 999)
    assert arithmetic.due_at("time", 1_000, 5, 1_000)
    assert not arithmetic.due_at("time", 1_000, -5, 2_000)  # a rollback never drops a pot
    assert not arithmetic.due_at("amount", 1_000, 5, 2_000)
