"""When two spellings that look alike are two names, not one name spelt two ways.

- Arabic: the consonant skeleton makes Mohammed, Muhammad and Mohamed one name (the script leaves short
  vowels out), and so also محمود (Mahmoud) and محمد, حسين (Hussein) and حسن (Hassan), سعيد and سعد: the
  script writes long vowels (ا و ي, read "a", "w", "y" by ICU), so a long vowel between two consonants of
  an Arabic spelling must be in the Latin one there too (و as o/u/w, ي as i/y/ee, ا as a or e), and a
  Latin long vowel written double ("ou", "ee", "ai", ...) in a name's last syllable, where Arabic always
  writes a long vowel, must be there in the Arabic. `gaps` gives each skeleton's vowels, gap by gap.
- Latin (and Cyrillic and Greek names, compared as Latin): one letter apart is a slip when the letters
  sound alike (Wexfort, Fransois, Oleh) and another name when two unrelated consonants trade places
  (Babić, Bakić); in a name of six letters or fewer, two changes make another name (Rossi and Russo,
  Zueva and Zubova), and so does a vowel where the other has a consonant (Maria and Marta: another
  syllable, not a slip; h, j, w and v excepted, which spellings trade with vowels), where a long name
  takes two in its stride (Demetrios for Dimitrios); and a name and its other gender's form are two people
  (Ivan/Ivana, Louis/Louise, Mario/Maria, Kowalski/Kowalska, Petrov/Petrova, Greek Papadakis/Papadaki,
  Theodoridis/Theodoridou, Konstantinos/Konstantina).
Family names built of a stem and a suffix (Theodoridis/Theodorakis, Nielsen/Larsen) are services/aml/suffixes.py's.
"""

from __future__ import annotations

from rapidfuzz.distance import Levenshtein

Gaps = tuple[str, ...]  # the vowel letters before the first consonant, between each two, after the last

_CONSONANT_CLASSES = {  # consonants that one sound can be spelt with, or that a slip of the ear swaps
    "b": "b", "p": "b", "d": "d", "t": "d", "g": "gh", "k": "g", "c": "gs", "q": "g", "x": "gs", "f": "f",
    "v": "f", "w": "f", "s": "s", "z": "s", "h": "h",
}  # fmt: skip
_VOWELS = frozenset("aeiouy")
_GLIDES = frozenset("hjwv")  # consonants that spellings trade with vowels (Yulia, Iulia; Theodoridhs; Wasili)
SHORT = 6  # letters
_LONG_DIGRAPHS = ("ou", "oo", "uu", "ee", "ii", "ei", "ey", "ai", "ay")
# Endings that make a name the other gender's (or another person's: Italian -i/-o), after the shared stem:
# -a/-e added (Ivan/Ivana, Louis/Louise, Petrov/Petrova), -o/-a/-i (Mario/Maria, Kowalski/Kowalska), Russian
# -sky/-skaya, Greek surnames' -os/-is/-es to -ou (Papadopoulos/-ou, Theodoridis/-ou, classical -ides/-ou)
# and -is/-as to -i/-a (Papadakis/Papadaki, Pappas/Pappa), Greek given names' -os/-is to -a/-ia
# (Konstantinos/Konstantina, Evangelos/Evangelia, Ioannis/Ioanna).
_OTHER_FORM = frozenset(
    {frozenset({"", "a"}), frozenset({"", "e"}), frozenset({"a", "o"}), frozenset({"a", "i"}),
     frozenset({"i", "o"}), frozenset({"i", "aia"}), frozenset({"os", "u"}), frozenset({"is", "u"}),
     frozenset({"es", "u"}), frozenset({"s", ""}), frozenset({"os", "a"}), frozenset({"os", "ia"}),
     frozenset({"is", "a"})}
)  # fmt: skip


def _classes_arabic(gap: str) -> frozenset[str]:
    return frozenset({"a": "a", "w": "u", "u": "u", "y": "i", "i": "i"}[c] for c in gap if c in "awuyi")


def _satisfies(gap: str, needed: frozenset[str]) -> bool:
    """Whether a Latin spelling's vowels between two consonants can stand for these Arabic long vowels."""
    has = {
        "a": "a" in gap or "e" in gap,
        "u": any(c in gap for c in "ouw"),
        "i": "i" in gap or "y" in gap or "ee" in gap,
    }
    return all(has[c] for c in needed)


def arabic_vowels_agree(arabic: Gaps, other: Gaps, other_is_arabic: bool) -> bool:
    """Whether two spellings with one consonant skeleton have vowels that can be one name's (see above).
    `arabic` is the Arabic script's; `other` a Latin spelling's, or also an Arabic one's."""
    if len(arabic) != len(other) or len(arabic) < 3:
        return True  # nothing between consonants to compare
    last = len(arabic) - 2
    for k in range(1, len(arabic) - 1):  # between consonants only: the ends hold articles and endings
        needed = _classes_arabic(arabic[k])
        if other_is_arabic:
            if needed != _classes_arabic(other[k]):
                return False
        elif not _satisfies(other[k], needed) or (
            k == last and not needed and any(d in other[k] for d in _LONG_DIGRAPHS)
        ):
            return False
    return True


def other_form(a: str, b: str) -> bool:
    """Whether one token is the other's other-gender form (Ivan/Ivana, Mario/Maria, Papadakis/Papadaki)."""
    if len(a) < 3 or len(b) < 3:
        return False
    stem = 0
    while stem < min(len(a), len(b)) and a[stem] == b[stem]:
        stem += 1
    if stem < 3:
        return False
    tails = frozenset({a[stem:], b[stem:]})
    if tails not in _OTHER_FORM:
        return False
    if "s" in tails:  # Greek -is, -as, -es to -i, -a, -e: only after a vowel (Papadakis, Pappas)
        return a[stem - 1] in _VOWELS
    if "" in tails:  # -a, -e added: only to a stem ending in a consonant (Marie, Mari are one name)
        return a[stem - 1] not in _VOWELS
    return True


def short_and_far(a: str, b: str) -> bool:
    """Whether two short tokens (six letters at most) are two changes apart: a slip changes one letter,
    two in so short a name make another name (Rossi, Russo; Zueva, Zubova)."""
    return max(len(a), len(b)) <= SHORT and Levenshtein.distance(a, b, score_cutoff=2) >= 2


def unrelated_swap(a: str, b: str) -> bool:
    """Whether two tokens a letter or two apart differ by consonants no spelling or slip of the ear swaps,
    or, in a name of six letters or fewer, by a vowel where the other has a consonant."""
    if a == b or len(a) < 3 or len(b) < 3 or Levenshtein.distance(a, b, score_cutoff=2) > 2:
        return False
    for op in Levenshtein.editops(a, b):
        if op.tag != "replace":
            continue
        x, y = a[op.src_pos], b[op.dest_pos]
        if (x in _VOWELS) != (y in _VOWELS) and max(len(a), len(b)) <= SHORT and not {x, y} & _GLIDES:
            return True  # a vowel for a consonant: another syllable, another short name (Maria, Marta)
        if x in _VOWELS or y in _VOWELS:
            continue
        if not set(_CONSONANT_CLASSES.get(x, x)) & set(_CONSONANT_CLASSES.get(y, y)):
            return True
    return False
