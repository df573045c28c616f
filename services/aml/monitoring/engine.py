"""The rules at work: each relevant event becomes a `Fact`, folded into its player's `PlayerState`, then
every rule of a version that listens to that kind of fact looks at the state and says whether it fires.
Pure Python over plain data, no I/O: the live consumer and the backtest run exactly this code, so a
backtest of the live version over the same history finds the alerts the consumer raised.

Windows read deposits at or before the fact (by time), so a deposit that arrives late (a redelivery, a
transaction that committed late) never counts for an earlier fact; facts are expected in id order, as the
stream and a replay bring them (docs/aml-monitoring.md says what a late one changes). A rule that raised
an alert for a player stays quiet for that player for its own window (its cool-down), so one pattern is
one alert, not one per deposit that prolongs it. Times are seconds since the epoch; amounts are integer
minor units of the base currency.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from services.aml.monitoring.rules import MAX_LOOKBACK, Rule, Version

LOOKBACK_SECONDS = MAX_LOOKBACK.total_seconds()
DEPOSIT, WITHDRAWAL, BET = "deposit", "withdrawal", "bet"


@dataclass(slots=True)
class Fact:
    event_id: int
    kind: str  # deposit | withdrawal | bet
    player: str
    at: float
    base: int  # the amount in base minor units (a bet: the stake, cash and bonus)
    instrument: str = ""  # deposits: the payment method and instrument (or PSP)
    brand: str | None = None


@dataclass(slots=True)
class Deposit:
    event_id: int
    at: float
    base: int
    instrument: str
    wagered_before: int  # the player's wagered total when it arrived: play since = wagered now - this

    def key(self) -> tuple[float, int]:
        return (self.at, self.event_id)


@dataclass(slots=True)
class PlayerState:
    wagered: int = 0
    deposits: list[Deposit] = field(default_factory=list)  # in (at, event id) order
    fired: dict[str, float] = field(default_factory=dict)  # rule key → when it last raised an alert

    def record(self, fact: Fact) -> None:
        """Fold a fact into the player's figures (before the rules look)."""
        if fact.kind == BET:
            self.wagered += fact.base
        elif fact.kind == DEPOSIT:
            deposit = Deposit(fact.event_id, fact.at, fact.base, fact.instrument, self.wagered)
            if not self.deposits or self.deposits[-1].key() < deposit.key():
                self.deposits.append(deposit)
            else:  # late: keep the order
                bisect.insort(self.deposits, deposit, key=Deposit.key)
            horizon = fact.at - LOOKBACK_SECONDS
            if self.deposits[0].at < horizon:
                self.deposits = [d for d in self.deposits if d.at >= horizon]

    def within(self, start: float, end: float) -> list[Deposit]:
        """Deposits with start < at <= end, newest first."""
        found = []
        for deposit in reversed(self.deposits):
            if deposit.at > end:
                continue
            if deposit.at <= start:
                break
            found.append(deposit)
        return found


@dataclass(frozen=True, slots=True)
class Hit:
    rule: str
    kind: str
    weight: int
    figures: dict[str, Any]
    events: tuple[int, ...]

    def explained(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "kind": self.kind,
            "weight": self.weight,
            "figures": self.figures,
            "events": list(self.events),
        }


@dataclass(frozen=True, slots=True)
class Alert:
    event_id: int  # the event it was raised on
    player: str
    brand: str | None
    at: float
    score: int
    outcome: str
    hits: tuple[Hit, ...]

    @property
    def event_ids(self) -> list[int]:
        return sorted({self.event_id, *(e for h in self.hits for e in h.events)})

    @property
    def rules(self) -> list[str]:
        return [h.rule for h in self.hits]


def _large(rule: Rule, state: PlayerState, fact: Fact) -> Hit | None:
    if fact.base < rule.threshold:
        return None
    return Hit(rule.id, rule.kind, rule.weight, {"amount": fact.base, "threshold": rule.threshold}, (fact.event_id,))


def _rapid(rule: Rule, state: PlayerState, fact: Fact) -> Hit | None:
    window = rule.window.total_seconds()
    found = state.within(fact.at - window, fact.at)
    if len(found) < rule.count:
        return None
    figures = {"deposits": len(found), "total": sum(d.base for d in found), "window_minutes": int(window // 60)}
    return Hit(rule.id, rule.kind, rule.weight, figures, tuple(sorted(d.event_id for d in found)))


def _structuring(rule: Rule, state: PlayerState, fact: Fact) -> Hit | None:
    floor, threshold = rule.floor, rule.threshold
    if not floor <= fact.base < threshold:
        return None
    window = rule.window.total_seconds()
    under = [d for d in state.within(fact.at - window, fact.at) if floor <= d.base < threshold]
    if len(under) < rule.count:
        return None
    figures = {
        "deposits": len(under),
        "total": sum(d.base for d in under),
        "threshold": threshold,
        "floor": floor,
        "window_hours": int(window // 3600),
    }
    return Hit(rule.id, rule.kind, rule.weight, figures, tuple(sorted(d.event_id for d in under)))


def _instruments(rule: Rule, state: PlayerState, fact: Fact) -> Hit | None:
    window = rule.window.total_seconds()
    first: dict[str, int] = {}
    for deposit in state.within(fact.at - window, fact.at):
        first[deposit.instrument] = deposit.event_id  # newest first: the earliest use of each wins
    if len(first) < rule.count:
        return None
    figures = {"instruments": len(first), "window_hours": int(window // 3600)}
    return Hit(rule.id, rule.kind, rule.weight, figures, tuple(sorted(first.values())))


def _out_of_profile(rule: Rule, state: PlayerState, fact: Fact) -> Hit | None:
    window, history = rule.window.total_seconds(), rule.history.total_seconds()
    recent = state.within(fact.at - window, fact.at)
    total = sum(d.base for d in recent)
    if total < rule.minimum:
        return None
    before = state.within(fact.at - window - history, fact.at - window)
    if len(before) < rule.min_history:
        return None
    past = sum(d.base for d in before)
    # total / (past per window) ≥ ratio, without dividing: total * history ≥ ratio * past * window
    if total * history < rule.ratio * past * window:
        return None
    figures = {
        "window_total": total,
        "average_per_window": round(past * window / history),
        "ratio": str(rule.ratio),
        "history_deposits": len(before),
    }
    return Hit(rule.id, rule.kind, rule.weight, figures, tuple(sorted(d.event_id for d in recent)))


def _little_play(rule: Rule, state: PlayerState, fact: Fact) -> Hit | None:
    window = rule.window.total_seconds()
    found = state.within(fact.at - window, fact.at)
    deposited = sum(d.base for d in found)
    if not found or deposited < rule.minimum:
        return None
    wagered = state.wagered - found[-1].wagered_before  # since the window's first deposit
    if wagered >= rule.ratio * deposited:
        return None
    figures = {"deposited": deposited, "wagered": wagered, "withdrawal": fact.base, "wager_ratio": str(rule.ratio)}
    return Hit(rule.id, rule.kind, rule.weight, figures, (*sorted(d.event_id for d in found), fact.event_id))


Check = Callable[[Rule, PlayerState, Fact], Hit | None]
CHECKS: dict[str, tuple[str, Check]] = {  # kind → (the fact it listens to, its check)
    "large_deposit": (DEPOSIT, _large),
    "rapid_deposits": (DEPOSIT, _rapid),
    "structuring": (DEPOSIT, _structuring),
    "many_instruments": (DEPOSIT, _instruments),
    "out_of_profile": (DEPOSIT, _out_of_profile),
    "deposit_then_withdrawal": (WITHDRAWAL, _little_play),
}


class Engine:
    """One version's rules. `prefix` keeps its cool-downs apart from another version's in a shared state
    (a backtest runs the candidate and the live version side by side)."""

    def __init__(self, version: Version, *, prefix: str = "") -> None:
        self.version = version
        self.prefix = prefix
        self.listening: dict[str, list[tuple[Rule, Check, str, float]]] = {}
        for rule in version.rules:
            listens, check = CHECKS[rule.kind]
            cooldown = rule.window.total_seconds()
            self.listening.setdefault(listens, []).append((rule, check, prefix + rule.id, cooldown))

    def evaluate(self, state: PlayerState, fact: Fact) -> Alert | None:
        """The alert this (already recorded) fact raises, if its score reaches the ladder."""
        rules = self.listening.get(fact.kind)
        if not rules:
            return None
        hits: list[tuple[Hit, str]] = []
        for rule, check, key, cooldown in rules:
            last = state.fired.get(key)
            if last is not None and last <= fact.at < last + cooldown:
                continue
            hit = check(rule, state, fact)
            if hit is not None:
                hits.append((hit, key))
        if not hits:
            return None
        score = sum(h.weight for h, _ in hits)
        outcome = self.version.outcome(score)
        if outcome == "approve":
            return None
        for _, key in hits:
            state.fired[key] = fact.at
        return Alert(fact.event_id, fact.player, fact.brand, fact.at, score, outcome, tuple(h for h, _ in hits))
