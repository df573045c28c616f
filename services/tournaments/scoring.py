"""An entry's score from its rounds: a pure function, the same in the consumer (after each batch) and in
`verify` (from the stored rounds), so the two can only disagree when a stored row was changed.

Which rounds count, in the order they were opened (`first_seq`, the outbox id of their first event):
a round counts when its net stake (after rollbacks) is positive and at least the minimum bet, and it was
opened at or after the player joined; with a rounds cap, only the first `cap * (1 + rebuys)` such rounds.

Scores (integers; multipliers in hundredths, rounded down):
- points_per_wager: floor(total stake * points / per);
- biggest_multiplier: the best round's floor(100 * win / stake);
- sum_of_multipliers: the sum over winning rounds of floor(100 * win / stake);
- consecutive_wins: the longest run of consecutive counted rounds with a win.

Who reached it first (`reached_seq`): for points per wager, the highest `stake_seq` (the outbox id of the last
bet or bet rollback of a round: a win changes no points) among the counted rounds; otherwise the highest
`last_seq` (the outbox id of the last event that changed a round) among the rounds the score is made of — every
counted round with points for the sum of multipliers, the
first round (by `last_seq`) with the best multiplier, the rounds of the earliest longest run. NULL when the
score is 0. Ranking is score DESC, reached_seq ASC NULLS LAST, player_id ASC (services/tournaments/standings.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from models.tournaments import ScoringKind
from services.tournaments.definitions import Definition


@dataclass(frozen=True)
class RoundTotals:
    stake: int
    win: int
    first_seq: int
    last_seq: int
    first_at: datetime
    last_at: datetime
    stake_seq: int | None = None  # the last bet or bet rollback (NULL: the round has none)
    stake_at: datetime | None = None


@dataclass(frozen=True)
class Score:
    score: int
    reached_seq: int | None
    rounds_counted: int
    reached_at: datetime | None = None


def counted(rounds: Sequence[RoundTotals], rules: Definition, joined_at: datetime, rebuys: int) -> list[RoundTotals]:
    eligible = [
        r
        for r in sorted(rounds, key=lambda r: r.first_seq)
        if r.stake > 0 and r.stake >= rules.min_bet and r.first_at >= joined_at
    ]
    if rules.rounds_cap is not None:
        eligible = eligible[: rules.rounds_cap * (1 + rebuys)]
    return eligible


def multiplier(r: RoundTotals) -> int:
    return (100 * r.win) // r.stake if r.win > 0 else 0


def score(rounds: Sequence[RoundTotals], rules: Definition, joined_at: datetime, rebuys: int) -> Score:
    found = _score(rounds, rules, joined_at, rebuys)
    if found.reached_seq is None:
        return found
    if rules.scoring == ScoringKind.POINTS_PER_WAGER:
        at = next(r.stake_at or r.last_at for r in rounds if _stake_seq(r) == found.reached_seq)
    else:
        at = next(r.last_at for r in rounds if r.last_seq == found.reached_seq)
    return Score(found.score, found.reached_seq, found.rounds_counted, at)


def _stake_seq(r: RoundTotals) -> int:
    """When the round's stake last changed; a counted round has a positive stake, so it had a bet."""
    return r.stake_seq if r.stake_seq is not None else r.last_seq


def _score(rounds: Sequence[RoundTotals], rules: Definition, joined_at: datetime, rebuys: int) -> Score:
    rows = counted(rounds, rules, joined_at, rebuys)
    n = len(rows)
    if not rows:
        return Score(0, None, 0)
    kind = rules.scoring
    if kind == ScoringKind.POINTS_PER_WAGER:
        total = sum(r.stake for r in rows) * rules.points // rules.per
        return Score(total, max(_stake_seq(r) for r in rows) if total else None, n)
    if kind == ScoringKind.SUM_OF_MULTIPLIERS:
        scoring = [r for r in rows if multiplier(r) > 0]
        total = sum(multiplier(r) for r in scoring)
        return Score(total, max(r.last_seq for r in scoring) if total else None, n)
    if kind == ScoringKind.BIGGEST_MULTIPLIER:
        best = max(multiplier(r) for r in rows)
        if best == 0:
            return Score(0, None, n)
        return Score(best, min(r.last_seq for r in rows if multiplier(r) == best), n)
    # consecutive wins: the earliest longest run of counted rounds with a win
    best_len, best_seq, run_len, run_seq = 0, None, 0, 0
    for r in rows:
        if r.win > 0:
            run_len, run_seq = run_len + 1, max(run_seq, r.last_seq) if run_len else r.last_seq
            if run_len > best_len:
                best_len, best_seq = run_len, run_seq
        else:
            run_len, run_seq = 0, 0
    return Score(best_len, best_seq, n)
