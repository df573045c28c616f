"""The intervals of a result against published reference values (Newcombe 1998, Table II, method 10; Wilson
intervals of Newcombe's companion paper) and against their own definitions for any counts (hypothesis)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.crm.experiments.stats import Z95, Moments, mean_difference, newcombe, wilson

# (x1, n1, x2, n2) -> (low, high) of p1 - p2: Newcombe, Statistics in Medicine 17 (1998) 873-890, Table II.
NEWCOMBE_1998 = [
    ((56, 70, 48, 80), (0.0524, 0.3339)),
    ((9, 10, 3, 10), (0.1705, 0.8090)),
    ((6, 7, 2, 7), (0.0582, 0.8062)),
    ((5, 56, 0, 29), (-0.0381, 0.1926)),
    ((0, 10, 0, 20), (-0.1611, 0.2775)),
    ((0, 10, 0, 10), (-0.2775, 0.2775)),
    ((10, 10, 0, 20), (0.6791, 1.0000)),
    ((10, 10, 0, 10), (0.6075, 1.0000)),
]


@pytest.mark.parametrize(("counts", "expected"), NEWCOMBE_1998)
def test_newcombe_matches_the_published_table(counts: tuple[int, int, int, int], expected: tuple[float, float]) -> None:
    found = newcombe(*counts)
    assert found is not None
    assert (round(found.low, 4), round(found.high, 4)) == expected


def test_wilson_matches_the_published_values() -> None:
    # Newcombe, Statistics in Medicine 17 (1998) 857-872, Table I: 81/263, 15/148, 0/20, 1/29.
    for (x, n), (low, high) in [
        ((81, 263), (0.2553, 0.3662)),
        ((15, 148), (0.0624, 0.1605)),
        ((0, 20), (0.0, 0.1611)),
        ((1, 29), (0.0061, 0.1718)),
    ]:
        found = wilson(x, n)
        assert found is not None
        assert (round(found.low, 4), round(found.high, 4)) == (low, high)


counts = st.integers(min_value=1, max_value=5000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n)))


@given(counts)
def test_wilson_bounds_solve_the_score_equation(pair: tuple[int, int]) -> None:
    """Each inner bound L satisfies (p - L)^2 = z^2 L (1 - L) / n: the definition, solved independently."""
    x, n = pair
    found = wilson(x, n)
    assert found is not None
    p = x / n
    assert 0.0 <= found.low <= p <= found.high <= 1.0
    for bound in (found.low, found.high):
        if 0.0 < bound < 1.0:
            assert math.isclose((p - bound) ** 2, Z95**2 * bound * (1 - bound) / n, rel_tol=1e-6, abs_tol=1e-12)


@given(counts, counts)
def test_newcombe_holds_its_estimate_and_stays_in_range(first: tuple[int, int], second: tuple[int, int]) -> None:
    found = newcombe(*first, *second)
    assert found is not None
    assert -1.0 <= found.low <= found.estimate <= found.high <= 1.0
    swapped = newcombe(*second, *first)
    assert swapped is not None  # the interval of p2 - p1 is the mirror image
    assert math.isclose(swapped.low, -found.high, abs_tol=1e-12)
    assert math.isclose(swapped.high, -found.low, abs_tol=1e-12)


def test_no_interval_without_players() -> None:
    assert wilson(0, 0) is None
    assert newcombe(1, 2, 0, 0) is None
    assert mean_difference(Moments(1, 5.0, 25.0), Moments(10, 10.0, 30.0)) is None


def test_mean_difference_is_welchs_interval() -> None:
    # Group 1: 2, 4, 6 (mean 4, variance 4); group 2: 1, 1, 1, 1 (mean 1, variance 0).
    found = mean_difference(Moments(3, 12.0, 56.0), Moments(4, 4.0, 4.0))
    assert found is not None
    half = Z95 * math.sqrt(4 / 3)
    assert math.isclose(found.estimate, 3.0)
    assert math.isclose(found.low, 3.0 - half)
    assert math.isclose(found.high, 3.0 + half)
