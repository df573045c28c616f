"""Screening one person against a list: the index that finds candidates fast, the score, and why.

The index maps the keys of every listed name (services/aml/names.py `key_groups`: consonant skeletons,
metaphones, neighbouring tokens joined) to the names that have them. A player's name looks up its own
key groups and scores only the names that share two of them (one, for a name of a single part), so a
check costs a few dictionary look-ups and a handful of comparisons whatever the list's size.

A match's score is its best name's score (services/aml/compare.py) with the confirmers added: date of
birth and country raise it when they agree and lower it when they do not (weights and threshold are
data: services/aml/screening.toml). Only people are screened: players are natural persons, so the
list's companies and organisations are not indexed.
"""

from __future__ import annotations

import tomllib
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from services.aml.compare import compare
from services.aml.lists import Entity, ScreeningList
from services.aml.names import NameForm, form, key_groups

RULES = Path(__file__).resolve().parent / "screening.toml"
PERSON_SCHEMATA = frozenset({"Person", "LegalEntity"})


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
    names: list[tuple[Entity, NameForm]] = field(default_factory=list)
    postings: dict[str, list[int]] = field(default_factory=dict)

    @classmethod
    def build(cls, screening_list: ScreeningList, rules: Rules) -> Index:
        index = cls(screening_list, rules)
        for entity in screening_list.entities:
            if entity.schema not in PERSON_SCHEMATA:
                continue
            for name in entity.names:
                shaped = form(name)
                number = len(index.names)
                index.names.append((entity, shaped))
                for key in {k for group in key_groups(shaped) for k in group}:
                    index.postings.setdefault(key, []).append(number)
        return index

    @property
    def version(self) -> str:
        return self.screening_list.version

    def candidates(self, shaped: NameForm) -> list[int]:
        """Listed names sharing keys of two of the name's key groups (of one, for a one-part name)."""
        groups = key_groups(shaped)
        hits: Counter[int] = Counter()
        for group in groups:
            found: set[int] = set()
            for key in group:
                found.update(self.postings.get(key, ()))
            hits.update(found)
        needed = 1 if len(shaped.tokens) < 2 else 2
        return [number for number, count in hits.items() if count >= needed]

    def screen(self, person: Person) -> list[Match]:
        """The entities this person matches above the threshold, best first (one match per entity)."""
        shaped = form(person.name)
        best: dict[str, Match] = {}
        for number in self.candidates(shaped):
            entity, listed = self.names[number]
            named = compare(listed, shaped)
            if named.score < self.rules.threshold - 0.1:  # no confirmer can lift it over
                continue
            born, born_why = _birth_date(entity.birth_dates, person.birth_date, self.rules)
            land, land_why = _country(entity.countries, person.country, self.rules)
            score = max(0.0, min(1.0, named.score + born + land))
            if score < self.rules.threshold or (entity.id in best and best[entity.id].score >= score):
                continue
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
        return sorted(best.values(), key=lambda m: -m.score)
