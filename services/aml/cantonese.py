"""A Chinese name as Hong Kong writes it: the Cantonese reading of its characters, romanised the way the
Hong Kong government spells names on identity cards and passports (Wong Kin Wah for 王建华, where
pinyin reads Wang Jianhua).

Cantonese and Mandarin read the characters differently, so no rule turns pinyin into Cantonese: the
reading comes from the characters themselves (ToJyutping's dictionary, in Jyutping, every reading a
character has in names kept: 曾 is Tsang as a family name, Tsang or Chang otherwise), and Jyutping is
spelt the government's way, whose choices are not one-to-one: z and c are "ch" or "ts" (Chan, Tsang),
j is "y" (Yeung), b/d/g/gw are "p"/"t"/"k"/"kw" (Poon, Tang, Kwok), aa is "a" (Chan), the short a before
n, t and m is "a" or "u" (Chun for 振, Sum for 森), oe/eo "eu" (Cheung, Heung), eoi "ui" (Tsui), yu "u"/"ue"
(Chu, Yue), yun "uen" (Yuen), un "oon" (Poon), ou "o" (Ko, To), and open syllables take an "h" at will (Wah, Hoh).
`key` folds those choices so a player's spelling and ours meet: one key, compared exactly.
"""

from __future__ import annotations

import re
from functools import lru_cache

from ToJyutping import get_jyutping_candidates

READINGS_PER_CHARACTER = 4  # the dictionary's most usual readings of a character
_JYUTPING = re.compile(r"^(gw|kw|ng|[bpmfdtnlgkhwzcsj])?([a-z]+?)(\d)$")
_INITIALS = {"b": "p", "d": "t", "g": "k", "gw": "kw", "z": "ch", "c": "ch", "j": "y"}
_FINALS = {
    "aa": "a", "oe": "eu", "oeng": "eung", "oek": "euk", "eoi": "ui", "eon": "un", "eot": "ut", "ou": "o",
    "yu": "u", "yun": "uen", "yut": "uet", "un": "oon", "ut": "oot",
}  # fmt: skip
# How spellings of one Cantonese syllable differ, folded to one key (a player's spelling goes through it too).
_KEY_STEPS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), said)
    for pattern, said in (
        (r"^(ts|tz|j|z|c)(?!h)", "ch"),  # Tsang = Chang initial; Jyutping's and Yale's spellings too
        (r"^sh", "s"),  # Shum = Sum
        (r"^g", "k"), (r"^b", "p"), (r"^d", "t"),
        (r"^y(?=[iu])", ""),  # Yip = Ip, Yuen = Uen
        (r"ee", "i"), (r"or$", "o"), (r"oh$", "o"), (r"([aeiou])h$", r"\1"),  # Wah = Wa, Hoh = Ho
        (r"(ei|ay)$", "i"), (r"oy$", "oi"),  # Lee = Lei = Li
        (r"(?<![uoe])u(?=[nmt]$)", "a"),  # Chun = Chan, Sum = Sam: the short a written either way
        (r"oo", "u"), (r"ue", "u"), (r"aa", "a"),
    )
)  # fmt: skip


@lru_cache(maxsize=65536)
def key(syllable: str) -> str:
    """One Cantonese syllable however it is spelt, as a key: "Tseung", "Cheung" -> "cheng"."""
    for pattern, said in _KEY_STEPS:
        syllable = pattern.sub(said, syllable)
    return syllable


def _romanise(jyutping: str) -> str | None:
    """A Jyutping syllable ("zoeng1") in the Hong Kong government's spelling ("cheung")."""
    found = _JYUTPING.match(jyutping)
    if found is None:
        return None
    initial, final = found.group(1) or "", found.group(2)
    if initial == "" and final in ("m", "ng"):
        return final  # 吴 Ng
    final = _FINALS.get(final, final)
    return _INITIALS.get(initial, initial) + final


@lru_cache(maxsize=65536)
def spellings(characters: str) -> tuple[tuple[str, ...], ...] | None:
    """For each character, its usual Cantonese readings in the government's spelling (None: one has none)."""
    out: list[tuple[str, ...]] = []
    for character, readings in get_jyutping_candidates(characters):
        if not character.strip():
            continue
        spelt = [s for s in (_romanise(r) for r in readings[:READINGS_PER_CHARACTER]) if s]
        if not spelt:
            return None
        out.append(tuple(dict.fromkeys(spelt)))
    return tuple(out)
