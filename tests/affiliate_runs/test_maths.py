"""The commission maths (services/affiliates/runs/maths.py, statement.py), worked examples and properties."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from core.money import CURRENCIES
from models.affiliates import PlanKind
from services.affiliates.plans import RevShare, RevShareKind, Terms, Tier
from services.affiliates.runs import maths
from services.affiliates.runs import statement as stm
from services.reports.fx import RateBook

TIERS = (Tier(0, 200_000), Tier(100_000, 300_000), Tier(500_000, 400_000))


def flat(rate: int) -> RevShare:
    return RevShare(RevShareKind.FLAT, (Tier(0, rate),))


def revshare_terms(revshare: RevShare) -> Terms:
    return Terms(PlanKind.REVSHARE, None, revshare, 0)


def test_tiered_pays_each_slice_at_its_rate_and_ladder_the_whole_at_the_rate_reached() -> None:
    # 2,000.00 of NGR: tiered = 1,000.00 at 20 % + 1,000.00 at 30 % = 500.00; ladder = all of it at 30 % = 600.00.
    tiered, ladder = RevShare(RevShareKind.TIERED, TIERS), RevShare(RevShareKind.LADDER, TIERS)
    assert maths.revshare_of(tiered, 200_000) == maths.Rate(50_000, 1, 300_000)
    assert maths.revshare_of(ladder, 200_000) == maths.Rate(60_000, 1, 300_000)
    assert maths.revshare_of(tiered, 600_000).amount == 20_000 + 120_000 + 40_000
    assert maths.revshare_of(flat(333_333), 100).amount == 33  # rounded down


def test_a_negative_month_is_carried_only_by_a_deal_with_carry_over() -> None:
    share = flat(250_000)
    loss = maths.settle_deal(share, ngr=-5_000, carry_in=0, negative_carry_over=True)
    assert (loss.revshare, loss.carry_out) == (0, -5_000)
    assert maths.settle_deal(share, ngr=-5_000, carry_in=0, negative_carry_over=False).carry_out == 0
    after = maths.settle_deal(share, ngr=8_000, carry_in=-5_000, negative_carry_over=True)
    assert (after.base, after.revshare, after.carry_out) == (3_000, 750, 0)
    still = maths.settle_deal(share, ngr=2_000, carry_in=-5_000, negative_carry_over=True)
    assert (still.base, still.revshare, still.carry_out) == (-3_000, 0, -3_000)


@given(
    total=st.integers(min_value=0, max_value=10**9),
    weights=st.lists(st.integers(min_value=-(10**7), max_value=10**7), min_size=1, max_size=30),
)
def test_allocation_adds_up_exactly_and_each_share_is_within_a_cent_of_its_part(total: int, weights: list[int]) -> None:
    shares = maths.allocate(total, weights)
    whole = sum(weights)
    if whole <= 0:
        assert shares == [0] * len(weights)
        return
    assert sum(shares) == total
    for share, weight in zip(shares, weights, strict=True):
        assert abs(share * whole - total * weight) < whole  # |share - exact| < 1 minor unit


rates = st.integers(min_value=0, max_value=1_000_000)


@given(
    base=st.integers(min_value=1, max_value=10**10),
    steps=st.lists(st.tuples(st.integers(min_value=1, max_value=10**8), rates), min_size=0, max_size=5),
    first=rates,
)
def test_with_rising_rates_tiered_never_pays_more_than_ladder(
    base: int, steps: list[tuple[int, int]], first: int
) -> None:
    tiers = [Tier(0, first)]
    for gap, rate in steps:
        tiers.append(Tier(tiers[-1].from_ngr + gap, max(rate, tiers[-1].rate_ppm)))
    tiered = maths.revshare_of(RevShare(RevShareKind.TIERED, tuple(tiers)), base)
    ladder = maths.revshare_of(RevShare(RevShareKind.LADDER, tuple(tiers)), base)
    assert 0 <= tiered.amount <= ladder.amount <= base
    assert tiered.tier == ladder.tier
    if len(tiers) == 1:  # one tier from zero: all three kinds agree
        assert tiered.amount == ladder.amount == maths.revshare_of(flat(first), base).amount


days = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=3),  # player
        st.integers(min_value=0, max_value=29),  # day of the month
        st.integers(min_value=0, max_value=10**6),  # stakes
        st.integers(min_value=0, max_value=10**6),  # wins
        st.integers(min_value=0, max_value=10**5),  # bonus cost
    ),
    max_size=40,
)


@given(played=days, switch=st.integers(min_value=-5, max_value=35), carry=st.integers(min_value=-(10**6), max_value=0))
def test_a_statement_splits_days_by_deal_and_its_lines_add_up_to_its_deals(
    played: list[tuple[int, int, int, int, int]], switch: int, carry: int
) -> None:
    start = date(2030, 1, 1)
    partner = uuid.uuid4()
    old = stm.Deal(uuid.uuid4(), partner, uuid.uuid4(), start - timedelta(days=90), True, "EUR",
                   revshare_terms(flat(250_000)))  # fmt: skip
    new = stm.Deal(uuid.uuid4(), partner, uuid.uuid4(), start + timedelta(days=switch), False, "EUR",
                   revshare_terms(RevShare(RevShareKind.TIERED, TIERS)))  # fmt: skip
    players = [uuid.uuid4() for _ in range(4)]
    merged: dict[tuple[int, int], list[int]] = {}
    for player, day, stakes, wins, cost in played:  # one projection row per player and day
        row = merged.setdefault((player, day), [0, 0, 0])
        row[0], row[1], row[2] = row[0] + stakes, row[1] + wins, row[2] + cost
    inputs = [
        stm.PlayerDay(players[p], partner, None, start + timedelta(days=d), "EUR", s, w, c)
        for (p, d), (s, w, c) in merged.items()
    ]
    statement = stm.build(
        days=inputs, timeline=stm.Timeline([old, new]), carries={(old.id, "EUR"): carry}, cpas=[], parents={},
        period_start=start, period_end=start + timedelta(days=29),
    )  # fmt: skip

    assert sum(line.ngr for line in statement.lines) == sum(d.stakes - d.wins - d.bonus_cost for d in inputs)
    for row in statement.deals:
        mine = [line for line in statement.lines if line.deal_id == row.deal.id]
        assert sum(line.revshare for line in mine) == row.sums.revshare
        assert row.sums.ngr == sum(line.ngr for line in mine)
        assert row.sums.carry_out <= 0 <= row.sums.revshare
        for line in mine:  # every day of a line was under its deal
            assert line.last_day is not None
            assert (line.last_day < new.effective_from) == (row.deal is old)
    assert len({(line.player_id, line.deal_id) for line in statement.lines}) == len(statement.lines)


fx_days = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=2),  # player
        st.sampled_from(["EUR", "GBP", "JPY"]),  # the currency played
        st.integers(min_value=0, max_value=29),  # day of the month
        st.integers(min_value=-(10**7), max_value=10**7),  # NGR (as stakes minus wins)
    ),
    max_size=40,
)


@given(
    played=fx_days,
    gbp=st.lists(st.decimals(min_value="0.5", max_value="2", places=4), min_size=30, max_size=30),
    jpy=st.lists(st.decimals(min_value="100", max_value="200", places=2), min_size=30, max_size=30),
    carry=st.integers(min_value=-(10**6), max_value=0),
)
def test_other_currencies_lines_reconcile_to_their_converted_ngr_to_the_cent(
    played: list[tuple[int, str, int, int]], gbp: list[Decimal], jpy: list[Decimal], carry: int
) -> None:
    start = date(2030, 1, 1)
    partner = uuid.uuid4()
    deal = stm.Deal(uuid.uuid4(), partner, uuid.uuid4(), start, True, "EUR", revshare_terms(flat(250_000)))
    book = RateBook()
    for code, rates in (("GBP", gbp), ("JPY", jpy)):
        book.days[code] = [start + timedelta(days=n) for n in range(30)]
        book.rates[code] = [Fraction(rate) for rate in rates]
    players = [uuid.uuid4() for _ in range(3)]
    merged: dict[tuple[int, str, int], int] = {}
    for player, currency, day, ngr in played:  # one projection row per player, day and currency
        merged[(player, currency, day)] = merged.get((player, currency, day), 0) + ngr
    inputs = [
        stm.PlayerDay(players[p], partner, None, start + timedelta(days=d), c, max(ngr, 0), max(-ngr, 0), 0)
        for (p, c, d), ngr in merged.items()
    ]
    statement = stm.build(
        days=inputs, timeline=stm.Timeline([deal]), carries={(deal.id, "EUR"): carry}, cpas=[], parents={},
        period_start=start, period_end=start + timedelta(days=29), rates=book,
    )  # fmt: skip

    assert {line.currency for line in statement.lines} <= {"EUR"}  # one unit: nothing left unconverted
    exact = Fraction(0)  # every day's NGR at the rate recorded on its line (the reference rate, 10 decimals)
    for d in inputs:
        rate = stm.fx_rate(book, d.currency, d.day, "EUR") if d.currency != "EUR" else Decimal(1)
        exact += Fraction(d.stakes - d.wins) * Fraction(rate) * 10 ** (2 - CURRENCIES[d.currency].exponent)
    assert abs(sum(line.ngr for line in statement.lines) - exact) <= Fraction(len(statement.lines), 2)
    for line in statement.lines:  # what the partner re-computes from the line: the rate on it, half to even
        native = line.stakes - line.wins - line.bonus_cost
        if line.player_currency is None:
            assert line.ngr == native
        else:
            assert line.fx_rate is not None
            assert line.ngr == stm.converted(native, line.fx_rate, line.player_currency, "EUR")
            assert abs(Fraction(line.fx_rate) - book.rate("EUR", line.last_day) / book.rate(line.player_currency,
                       line.last_day)) <= Fraction(1, 2 * 10**10)  # fmt: skip
    for row in statement.deals:  # the deal's NGR is its lines', its revenue share split over them exactly
        assert row.currency == "EUR"
        assert row.sums.ngr == sum(line.ngr for line in statement.lines)
        assert row.sums.revshare == sum(line.revshare for line in statement.lines)
        assert row.sums.carry_in == carry
