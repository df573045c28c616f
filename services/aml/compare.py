"""How alike a list name and a player's name are: a score in [0, 1] and the token pairs behind it.

The comparison takes the shape of the lossier script of the two (services/aml/names.py): consonant
skeletons when either is Arabic, pinyin syllables when either is Chinese (and the other splits into
pinyin), else the phonetic Latin tokens. Tokens are paired best-first whatever their order (a player
writes "Petrov Dmitry" as readily as "Dmitry Petrov"); each pair's similarity is rapidfuzz's normalised
Indel ratio, the better of the spelling as written and its phonetic form. Skeletons and syllables are
short, so there only an exact token counts in full. The name's score is its tokens' similarity weighted
by their length, times its coverage of the other name: a missing middle name or patronymic costs a
little, a single matching token (a first name) a lot. In the Latin and skeleton shapes a part both names
give, and give as two names (a pair at half or less, or one distinct.py and suffixes.py call two names:
Ruiz/Rios, Nowak/Nowicka), counts nothing: the letters two names happen to share say nothing of the
person, where a part left out is only an omission. Pinyin and Cantonese syllables keep their partial
credit (a Chinese name with none at all against a player's is compared as Latin). Names split
differently ("Quinceharrow", "Noureddine": a token count apart) are compared as one string too, and the
better of the two scores is kept; names with as many tokens as each other are compared token by token
only ("Gonzalez Ruiz" and "Gonzalez Rios" joined are one letter pair apart, and two people).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

from rapidfuzz.distance import Indel

from services.aml import cantonese
from services.aml.distinct import arabic_vowels_agree, other_form, short_and_far, unrelated_swap
from services.aml.names import NameForm
from services.aml.suffixes import other_stem, other_suffix
from services.aml.translit import Script

Similarity = Callable[[str, str], float]
Veto = Callable[[int, int], bool]  # whether listed token i and player token j are two names (distinct.py)
VETO_FROM = 0.7  # a name scoring less is no match whatever its pairs (the threshold less any confirmer)


@dataclass(frozen=True)
class NameScore:
    score: float
    shape: str  # "latin", "skeleton" or "syllables": how the two were compared
    pairs: tuple[tuple[str, str, float], ...]  # (list token, player token, similarity)


def _ratio(a: str, b: str) -> float:
    if len(a) == 1 or len(b) == 1:  # an initial ("Jonathan A. Wexford")
        return 0.9 if a[0] == b[0] else 0.0
    return float(Indel.normalized_similarity(a, b))


def _strict(a: str, b: str) -> float:
    if a == b:
        return 1.0
    return 0.5 * _ratio(a, b)


def _align(
    listed: tuple[str, ...],
    given: tuple[str, ...],
    sim: Similarity,
    alt: tuple[tuple[str, ...], ...] | None,
    spelt: tuple[tuple[str, ...], ...] = (),
) -> list[tuple[int, int, float]]:
    """Best-first pairing of tokens; `alt` is another shape of the same tokens, `spelt` more shapes of the
    listed ones, compared with the player's `alt` shape (the best counts)."""
    candidates: list[tuple[float, int, int]] = []
    for i, a in enumerate(listed):
        for j, b in enumerate(given):
            s = sim(a, b)
            if alt is not None and s < 1.0:
                s = max(s, sim(alt[0][i], alt[1][j]))
                for other in spelt[i] if spelt and s < 1.0 else ():
                    s = max(s, sim(other, alt[1][j]))
            candidates.append((s, i, j))
    candidates.sort(reverse=True)
    used_i: set[int] = set()
    used_j: set[int] = set()
    pairs: list[tuple[int, int, float]] = []
    for s, i, j in candidates:
        if i not in used_i and j not in used_j:
            used_i.add(i)
            used_j.add(j)
            pairs.append((i, j, s))
    return pairs


def _joined(listed: tuple[str, ...], given: tuple[str, ...], sim: Similarity) -> float:
    whole = "".join(given)
    score = max(sim("".join(listed), whole), sim("".join(reversed(listed)), whole))
    if min(len(listed), len(given)) == 1 < max(len(listed), len(given)) and score < 0.95:
        return 0.0  # a single token counts only when it spells the whole other name
    return score


def _score(
    listed: tuple[str, ...],
    given: tuple[str, ...],
    sim: Similarity,
    partial_weight: float,
    alt: tuple[tuple[str, ...], ...] | None = None,
    spelt: tuple[tuple[str, ...], ...] = (),
    veto: Veto | None = None,
    joined: bool = True,
    two_names: float = 0.5,
) -> tuple[float, list[tuple[int, int, float]]]:
    """The name's score (see above) and its token pairs; a pair `veto` calls two names is halved, so counts
    nothing, and then the joined spelling does not count ("Mahmoud Ali" joined is "mhmdl" as "Mohammed Ali"
    is). A pair at `two_names` or less counts nothing. A score under `VETO_FROM` cannot become a match, so
    it is not looked at closer."""
    if not listed or not given:
        return 0.0, []
    pairs = _align(listed, given, sim, alt, spelt)
    score = _weigh(listed, given, pairs, partial_weight, two_names)
    if joined and len(listed) != len(given):
        score = max(score, _joined(listed, given, sim), _joined(alt[0], alt[1], sim) if alt is not None else 0.0)
    if veto is None or score < VETO_FROM:
        return score, pairs
    kept = [(i, j, 0.5 * s if s > 0.5 and veto(i, j) else s) for i, j, s in pairs]
    if kept == pairs:
        return score, pairs
    return _weigh(listed, given, kept, partial_weight, two_names), kept


def _weigh(
    listed: tuple[str, ...],
    given: tuple[str, ...],
    pairs: list[tuple[int, int, float]],
    partial_weight: float,
    two_names: float,
) -> float:
    short, long, side = (listed, given, 0) if len(listed) <= len(given) else (given, listed, 1)
    base = sum(s * len(short[(i, j)[side]]) for i, j, s in pairs if s > two_names) / (sum(len(t) for t in short) or 1)
    covered = sum(len(long[(i, j)[1 - side]]) for i, j, s in pairs if s > 0.5) / (sum(len(t) for t in long) or 1)
    score = base * (1 - partial_weight + partial_weight * covered)
    if len(short) == 1 < len(long):
        score *= 0.8  # one name alone is not a person
    return score


def compare(listed: NameForm, given: NameForm) -> NameScore:
    scripts = {listed.script, given.script}
    if Script.ARABIC in scripts:
        score, pairs = _score(listed.skeleton, given.skeleton, _strict, 0.15, veto=_vowels(listed, given))
        return NameScore(score, "skeleton", _named(listed.skeleton, given.skeleton, pairs))
    if Script.HAN in scripts and listed.syllables is not None:
        best = NameScore(0.0, "syllables", ())
        for reading in _readings(given):
            score, pairs = _score(listed.syllables, reading, _strict, 0.4, two_names=0.0)
            if score > best.score:
                best = NameScore(score, "syllables", _named(listed.syllables, reading, pairs))
        if listed.cantonese is not None and best.score < 1.0:
            best = max(best, _cantonese(listed.cantonese, given), key=lambda n: n.score)
        if best.score > 0:
            return best
    sounds = (listed.phonetic, given.phonetic)

    def veto(i: int, j: int) -> bool:
        heard = given.phonetic[j]
        said = _closest((listed.phonetic[i], *(listed.spellings[i] if listed.spellings else ())), heard)
        if short_and_far(listed.tokens[i], given.tokens[j]) and all(short_and_far(s, heard) for s in said):
            return True
        if unrelated_swap(listed.tokens[i], given.tokens[j]) and all(unrelated_swap(s, heard) for s in said):
            return True
        return any(all(rule(s, heard) for s in said) for rule in (other_form, other_suffix, other_stem))

    score, pairs = _score(listed.tokens, given.tokens, _ratio, 0.15, sounds, listed.spellings, veto)
    return NameScore(min(score, 1.0), "latin", _named(listed.tokens, given.tokens, pairs))


def _closest(said: tuple[str, ...], heard: str) -> tuple[str, ...]:
    """The listed token's spellings nearest the player's: the systems the player did not write in (a
    classical "Theodorides" beside "Theodorakis") say nothing of whether the two are one name."""
    if len(said) == 1:
        return said
    near = [Indel.normalized_similarity(s, heard) for s in said]
    return tuple(s for s, n in zip(said, near, strict=True) if n == max(near))


def _vowels(listed: NameForm, given: NameForm) -> Veto:
    """Arabic names with one skeleton whose long vowels differ are two names (distinct.py)."""
    if listed.script is not Script.ARABIC:
        listed, given = given, listed
        swap = True
    else:
        swap = False
    both = given.script is Script.ARABIC

    def veto(i: int, j: int) -> bool:
        if swap:
            i, j = j, i
        a, b = listed.gaps[i], given.gaps[j]
        same = listed.skeleton[i] == given.skeleton[j]
        return same and a is not None and b is not None and not arabic_vowels_agree(a, b, both)

    return veto


def _cantonese(listed: tuple[tuple[str, ...], ...], given: NameForm) -> NameScore:
    """A Chinese name against a player's spelling of its Cantonese reading (cantonese.py): one syllable a
    token, each matched by its key."""
    keys = tuple("|".join(dict.fromkeys(cantonese.key(s) for s in options)) for options in listed)
    said = tuple(cantonese.key(t) for t in given.tokens)

    def sim(a: str, b: str) -> float:
        return 1.0 if b in a.split("|") else 0.5 * max(_ratio(k, b) for k in a.split("|"))

    score, pairs = _score(keys, said, sim, 0.4, joined=False, two_names=0.0)
    return NameScore(score, "cantonese", _named(keys, said, pairs))


def _readings(given: NameForm) -> list[tuple[str, ...]]:
    """A Latin name's pinyin syllables, and each way of reading it as Wade-Giles ("Chang Hsiao-ming")."""
    readings = [given.syllables] if given.syllables is not None else []
    if given.wade_giles is not None and len(given.wade_giles) <= 4:
        readings.extend(itertools.product(*[sorted(options) for options in given.wade_giles]))
    return readings


def _named(
    listed: tuple[str, ...], given: tuple[str, ...], pairs: list[tuple[int, int, float]]
) -> tuple[tuple[str, str, float], ...]:
    return tuple((listed[i], given[j], round(s, 3)) for i, j, s in sorted(pairs))
