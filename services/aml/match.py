"""Screening one person against a list: the index that finds candidates fast, the score, and why.

The index maps the keys of every listed name (services/aml/names.py `key_groups`: consonant skeletons,
metaphones, neighbouring tokens joined) to the names that have them. A player's name looks up its own
key groups, ranks the names found by the rarity of what they share (inverse document frequency, as a
search engine's blocking does) and compares only the best few in full, so a check costs a few
dictionary look-ups and at most `CANDIDATES` comparisons whatever the list's size.

A match's score is its best name's score (services/aml/compare.py) with the confirmers added: date of
birth and country raise it when they agree and lower it when they do not (weights and threshold are
data: services/aml/screening.toml). Only people are screened: players are natural persons, so the
list's companies and organisations are not indexed.
"""

from __future__ import annotations

import heapq
import math
import tomllib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from services.aml.compare import NameScore, compare
from services.aml.lists import Entity, ScreeningList
from services.aml.names import NameForm, form, key_groups

RULES = Path(__file__).resolve().parent / "screening.toml"
PERSON_SCHEMATA = frozenset({"Person", "LegalEntity"})
CANDIDATES = 50  # listed names compared in full per check


@dataclass(frozen=True)
class Rules:
    threshold: float
    birth_date: dict[str, float]
    country: dict[str, float]

    @classmethod
    def load(cls, path: Path | None = None) -> Rules:
        data = tomllib.loads((path or RULES).read_text(encoding="utf-8"))
        return cls(float(data["threshold"]), dict(data["birth_date"]), dict(data["country"]))


@dataclass(frozen=True)
class Person:
    """Who is screened: a player's name, date of birth and country (ISO alpha-2)."""

    name: str
    birth_date: date | None = None
    country: str | None = None


@dataclass(frozen=True)
class Match:
    entity: Entity
    score: float
    name_score: float
    why: dict[str, Any]


def _birth_date(listed: tuple[str, ...], born: date | None, rules: Rules) -> tuple[float, str | None]:
    if born is None or not listed:
        return 0.0, None
    full = born.isoformat()
    if full in listed:
        return rules.birth_date["same_day"], "same_day"
    if any(full.startswith(d) for d in listed if len(d) < 10):
        return rules.birth_date["same_year"], "same_year"
    if any(d[:4] == full[:4] for d in listed):
        return rules.birth_date["other_day"], "other_day"
    years = [int(d[:4]) for d in listed if d[:4].isdigit()]
    if years and all(abs(y - born.year) > 1 for y in years):
        return rules.birth_date["other_year"], "other_year"
    return 0.0, None


def _country(listed: tuple[str, ...], country: str | None, rules: Rules) -> tuple[float, str | None]:
    if not country or not listed:
        return 0.0, None
    if country.lower() in listed:
        return rules.country["listed"], "listed"
    return rules.country["not_listed"], "not_listed"


@dataclass
class Index:
    screening_list: ScreeningList
    rules: Rules
    names: list[NameForm] = field(default_factory=list)  # each distinct name once
    holders: list[list[Entity]] = field(default_factory=list)  # the entities bearing each name
    postings: dict[str, list[int]] = field(default_factory=dict)

    @classmethod
    def build(cls, screening_list: ScreeningList, rules: Rules) -> Index:
        index = cls(screening_list, rules)
        numbers: dict[str, int] = {}
        for entity in screening_list.entities:
            if entity.schema not in PERSON_SCHEMATA:
                continue
            for name in entity.names:
                number = numbers.get(name)
                if number is None:
                    number = numbers[name] = len(index.names)
                    shaped = form(name)
                    index.names.append(shaped)
                    index.holders.append([])
                    for key in {k for group in key_groups(shaped) for k in group}:
                        index.postings.setdefault(key, []).append(number)
                index.holders[number].append(entity)
        return index

    @property
    def version(self) -> str:
        return self.screening_list.version

    def candidates(self, shaped: NameForm) -> list[int]:
        """The listed names most like this one: every name sharing a key with one of its key groups,
        ranked by how rare the shared keys are (a shared "Petrov" says more than a shared "Ivan"); the
        best `CANDIDATES` are compared in full."""
        total = len(self.names) + 1
        weights: dict[int, float] = {}
        for group in key_groups(shaped):
            found: set[int] = set()
            for key in group:
                found.update(self.postings.get(key, ()))
            if not found:
                continue
            weight = math.log(total / len(found))
            for number in found:
                weights[number] = weights.get(number, 0.0) + weight
        if len(weights) <= CANDIDATES:
            return list(weights)
        return heapq.nlargest(CANDIDATES, weights, key=weights.__getitem__)

    def screen(self, person: Person) -> list[Match]:
        """The entities this person matches above the threshold, best first (one match per entity)."""
        shaped = form(person.name)
        best: dict[str, Match] = {}
        for number in self.candidates(shaped):
            listed = self.names[number]
            named = compare(listed, shaped)
            if named.score < self.rules.threshold - 0.1:  # no confirmer can lift it over
                continue
            for entity in self.holders[number]:
                self._confirm(best, entity, listed, named, person)
        return sorted(best.values(), key=lambda m: -m.score)

    def _confirm(
        self, best: dict[str, Match], entity: Entity, listed: NameForm, named: NameScore, person: Person
    ) -> None:
        """Keep the entity's match if date of birth and country, added to the name's score, hold it up."""
        born, born_why = _birth_date(entity.birth_dates, person.birth_date, self.rules)
        land, land_why = _country(entity.countries, person.country, self.rules)
        score = max(0.0, min(1.0, named.score + born + land))
        if score < self.rules.threshold or (entity.id in best and best[entity.id].score >= score):
            return
        why = {
            "listed_name": listed.original,
            "player_name": person.name,
            "compared_as": named.shape,
            "name_score": round(named.score, 4),
            "tokens": [list(p) for p in named.pairs],
            "birth_date": born_why,
            "country": land_why,
        }
        best[entity.id] = Match(entity, round(score, 4), round(named.score, 4), why)
