"""The rollback rule (services/jackpots/arithmetic.take_back) as a property, over pots that clip, drop and reseed:
a rollback never takes a pot below its seed, never takes back more than its bet put in, and what it takes back
plus what it forgoes is exactly what its bet gave; the carry stays exact."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from services.jackpots import arithmetic, commitment

PPM = arithmetic.PPM
moves = st.lists(st.tuples(st.integers(min_value=1, max_value=10**6), st.integers(min_value=-1, max_value=30)),
                 min_size=1, max_size=200)  # fmt: skip


@given(st.integers(min_value=0, max_value=10**4), st.integers(min_value=1, max_value=10**5), moves,
       st.integers(min_value=1, max_value=PPM))  # fmt: skip
@settings(max_examples=200, deadline=None)
def test_a_rollback_takes_back_only_what_its_bet_put_into_a_pot_still_there(
    seed: int, headroom: int, bets: list[tuple[int, int]], ppm: int
) -> None:
    cap = seed + headroom
    amount, remainder, generation, staked = seed, 0, 1, 0
    put_in = turned_away = taken_back = forgone = 0
    drawn = commitment.draw(seed + 1, cap)
    fed: list[tuple[int, int]] = []  # per bet: the pot's generation, what it put in
    for stake, undo in bets:
        s = arithmetic.step(amount=amount, remainder=remainder, stake=stake, ppm=ppm, cap=cap, drop_point=drawn.point)
        amount, remainder = s.amount, s.remainder
        staked, put_in, turned_away = staked + stake, put_in + s.contribution, turned_away + s.turned_away
        fed.append((generation, s.contribution))
        if s.drops:
            amount, generation = seed, generation + 1
            drawn = commitment.draw(seed + 1, cap)
        if 0 <= undo < len(fed):  # roll back an earlier bet (once)
            was, gave = fed[undo]
            if gave >= 0:
                taken, lost = arithmetic.take_back(given=gave, given_generation=was, generation=generation)
                assert taken + lost == gave
                assert taken <= gave
                amount -= taken
                taken_back, forgone = taken_back + taken, forgone + lost
                fed[undo] = (was, -1)
                assert amount >= seed  # never below the seed: only this pot's own bets come out of it
    assert (put_in + turned_away) * PPM + remainder == staked * ppm
