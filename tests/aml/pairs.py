"""The labelled name pairs (tests/aml/data): true pairs are a list name and a spelling of the same made-up
person (transliterations, slips, reordered and partial names); false pairs are a list name and another
person: the hand-made near misses, and every other person of the same script whose spelling looks most
like it (the hardest negatives the set holds).

Two sets in the same format: "tuning" (tests/aml/data, written while the matching rules were tuned on it)
and "heldout" (tests/aml/data/heldout, made afterwards; held out for three measurements, then used as tuning
material too on 2026-12-07: its README). Unseen spellings are measured on a second blind set, kept apart."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from rapidfuzz.distance import JaroWinkler

DATA = Path(__file__).resolve().parent / "data"
NEGATIVES_PER_NAME = 4  # the other persons' spellings closest to each list name
SETS = {"tuning": DATA, "heldout": DATA / "heldout", "heldout2": DATA / "heldout2"}
PairSet = Literal["tuning", "heldout", "heldout2"]


@dataclass(frozen=True)
class Pair:
    script: str
    listed: str
    given: str
    same: bool


def _rows(folder: Path, name: str) -> list[list[str]]:
    lines = (folder / name).read_text(encoding="utf-8").splitlines()
    return [line.split("\t") for line in lines if line.strip() and not line.startswith("#")]


def labelled_pairs(which: PairSet = "tuning") -> list[Pair]:
    folder = SETS[which]
    people = [(script, listed, variants.split(";")) for script, listed, variants in _rows(folder, "identities.tsv")]
    pairs = [Pair(script, listed, v.strip(), True) for script, listed, variants in people for v in variants]
    pairs += [Pair(script, listed, given, False) for script, listed, given in _rows(folder, "near_misses.tsv")]
    for script, listed, _ in people:
        others = [v for s, other, vs in people if s == script and other != listed for v in vs]
        # "Closest" by the baseline's own measure on the raw strings: hard for it, and unbiased for ours.
        others.sort(key=lambda v: -JaroWinkler.normalized_similarity(listed.casefold(), v.casefold()))
        pairs += [Pair(script, listed, v, False) for v in others[:NEGATIVES_PER_NAME]]
    return pairs
