"""A name as the screening compares it (`NameForm`), and the keys that find candidates in the index.

A name becomes tokens of lower-case ASCII (services/aml/translit.py), without particles ("van", "de",
"al", "bin") that one spelling writes and another leaves out. Three comparable shapes follow, each for
the scripts where it tells people apart best:
- `phonetic`: Latin spellings of one sound made one ("x" = "ks", "y" = "j" = "i", "ph" = "f", "ts" = "tz",
  "kh" = "h", a hard "c" = "k", ELOT's initial "nt"/"mp"/"gk" = "d"/"b"/"g", doubled letters once), for
  Latin, Cyrillic and Greek names;
- `skeleton`: consonants only, for Arabic, whose script leaves short vowels out ("mhmd" is Mohammed,
  Muhammad and Mohamed), with "abd" joined to the name after it (Abdul Rahman = Abdulrahman);
- `syllables`: pinyin syllables, for Chinese names (a player writes "Xiaoming", "Xiao Ming", "Xiao-ming").
Beside them, the spellings a list name has in the other systems players use: a Cyrillic name's BGN/PCGN,
French and German spellings, a Greek name's spelling by ear, a Polish name's nasal vowels as "on"/"en"
(services/aml/spellings.py), a Chinese name's Cantonese reading in Hong Kong's romanisation
(services/aml/cantonese.py); and each skeleton's vowels, to tell apart the Arabic names one skeleton holds
(services/aml/distinct.py).
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from rigour.text.phonetics import metaphone

from services.aml import cantonese, spellings
from services.aml.distinct import Gaps
from services.aml.translit import Script, pinyin_syllables, script_of, to_ascii, wade_giles

PARTICLES = frozenset(
    {"van", "von", "der", "den", "ter", "de", "del", "della", "la", "le", "da", "di", "du", "dos", "das", "ni", "nic"}
    | {"al", "el", "ul", "bin", "ibn", "bint", "ben"}
)
PREFIXES = ("vander", "vanden", "van", "von")  # written joined: "Vanderoosterhuis"
_NON_LETTERS = re.compile(r"[^a-z0-9 ]+")
_APOSTROPHES = re.compile(r"['`’ʼ]")
_PHONETIC = (
    ("tsch", "ch"), ("sch", "sh"), ("shch", "sh"), ("x", "ks"), ("ph", "f"), ("ck", "k"), ("q", "k"), ("w", "v"),
    ("kh", "h"), ("gh", "g"), ("th", "t"), ("dh", "d"), ("ou", "u"), ("oo", "u"), ("ee", "i"), ("ae", "a"),
    ("oe", "o"), ("ue", "u"), ("y", "i"), ("j", "i"), ("tz", "z"), ("ts", "z"), ("ie", "i"),
)  # fmt: skip
# Egypt and the Maghreb write ج as "g" and "dj" (Gamil, Djamel): one letter with "j".
_SKELETON = (("ch", "sh"), ("gh", "g"), ("q", "k"), ("ph", "f"), ("x", "ks"), ("dh", "d"), ("dj", "g"), ("j", "g"))
_VOWELS = re.compile(r"[aeiouwy]")
_ABD = frozenset({"bd", "abd", "abdul", "abdel", "abdal", "abdoul", "abdu"})  # "servant of": one name with the next
_DOUBLES = re.compile(r"(.)\1+")
_HARD_C = re.compile(r"c(?![eihy])")  # "Victor" = "Viktor", "Constantin" = "Konstantin"; not "ch", "ce", "ci"
_GREEK_STOPS = (("nt", "d"), ("mp", "b"), ("gk", "g"))  # ELOT's ντ, μπ, γκ at a word's start: "Ntouma" = "Douma"


@dataclass(frozen=True)
class NameForm:
    original: str
    script: Script
    tokens: tuple[str, ...]
    phonetic: tuple[str, ...]
    skeleton: tuple[str, ...]
    syllables: tuple[str, ...] | None  # pinyin syllables; None: not all of it is pinyin
    wade_giles: tuple[frozenset[str], ...] | None  # each token read as Wade-Giles; None: not all of it is
    gaps: tuple[Gaps | None, ...]  # each skeleton's vowels (None: joined from two names)
    spellings: tuple[tuple[str, ...], ...] = ()  # each token's phonetic forms in other systems (spellings.py)
    cantonese: tuple[tuple[str, ...], ...] | None = None  # a Chinese name: each character's Cantonese spellings


def _words(ascii_name: str) -> list[str]:
    return _NON_LETTERS.sub(" ", _APOSTROPHES.sub("", ascii_name).replace("-", " ")).split()


def _tokens(words: list[str], script: Script) -> list[str]:
    if script is Script.HAN:
        return words  # "bin", "de", "le" are syllables there
    kept = [w for w in words if w not in PARTICLES] or words
    out: list[str] = []
    for word in kept:
        if script is Script.ARABIC and len(word) > 4 and word.startswith(("al", "el")):
            word = word[2:]  # "alharbi": the article written joined
        for prefix in PREFIXES:
            if word.startswith(prefix) and len(word) > len(prefix) + 3:
                word = word[len(prefix) :]
                break
        out.append(word)
    return out


@lru_cache(maxsize=65536)
def phonetic(token: str) -> str:
    token = _HARD_C.sub("k", token)
    for written, said in _GREEK_STOPS:
        if token.startswith(written):
            token = said + token[2:]
    for written, said in _PHONETIC:
        token = token.replace(written, said)
    token = _DOUBLES.sub(r"\1", token)
    return token[:-1] if len(token) > 3 and token.endswith("h") else token


@lru_cache(maxsize=65536)
def _gaps(token: str) -> Gaps:
    """The vowels of a token around and between the consonants of its skeleton (as `_skeleton_token`)."""
    if len(token) > 4 and token.startswith(("al", "el")):
        token = token[2:]
    for written, said in _SKELETON:
        token = token.replace(written, said)
    consonants: list[str] = []
    gaps = [""]
    for ch in token:
        if ch in "aeiouwy":
            gaps[-1] += ch
        elif not consonants or consonants[-1] != ch:
            consonants.append(ch)
            gaps.append("")
    if len(consonants) > 1 and consonants[-1] == "h":
        consonants.pop()
        after = gaps.pop()
        gaps[-1] += after
    return tuple(gaps)


@lru_cache(maxsize=65536)
def _skeleton_token(token: str) -> str:
    if len(token) > 4 and token.startswith(("al", "el")):
        token = token[2:]  # the Arabic article written joined ("Alharbi"), whatever the script
    for written, said in _SKELETON:
        token = token.replace(written, said)
    token = _DOUBLES.sub(r"\1", _VOWELS.sub("", token))
    return token[:-1] if len(token) > 1 and token.endswith("h") else token


def skeleton(tokens: list[str]) -> list[str]:
    """Consonant skeletons, "abd" and "abdul" joined to the name that follows (one Arabic name)."""
    return [shape for shape, _ in _skeletons(tokens)]


def _skeletons(tokens: list[str]) -> list[tuple[str, Gaps | None]]:
    out: list[tuple[str, Gaps | None]] = []
    joining = False
    for token in tokens:
        shape = _skeleton_token(token)
        if joining:
            out[-1] = (out[-1][0] + shape, None)
            joining = False
        elif shape:
            out.append((shape, _gaps(token)))
            joining = token in _ABD
    # "abdul"/"abdel" + name and "abd" + "al" + name are one spelling: the article's l goes.
    return [("bd" + s[3:], None) if s.startswith("bdl") else (s, g) for s, g in out]


def _syllables(tokens: list[str], script: Script) -> list[str] | None:
    if script is Script.HAN:
        return tokens
    out: list[str] = []
    for token in tokens:
        split = pinyin_syllables(token)
        if split is None:
            return None
        out.extend(split)
    return out


def _wade_giles(tokens: list[str], script: Script) -> tuple[frozenset[str], ...] | None:
    if script is not Script.LATIN:
        return None
    readings = tuple(wade_giles(t) for t in tokens)
    return readings if all(readings) else None


def _spellings(name: str, script: Script, tokens: list[str], sounds: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    """Each token's phonetic forms in the other systems' spellings of a Cyrillic or Greek name, or of a
    Polish name's nasal vowels (its own left out)."""
    if script not in (Script.CYRILLIC, Script.GREEK, Script.LATIN):
        return ()
    folded = unicodedata.normalize("NFKC", name).casefold()
    if script is Script.LATIN:
        systems = spellings.polish_spellings(folded)
        if not systems:
            return ()
    else:
        systems = spellings.spellings(folded) if script is Script.CYRILLIC else spellings.greek_spellings(folded)
    out: list[dict[str, None]] = [{} for _ in tokens]
    for spelt in systems:
        other = _tokens(_words(to_ascii(spelt, Script.LATIN)), script)
        if len(other) == len(tokens):
            for n, token in enumerate(other):
                sound = phonetic(token)
                if sound != sounds[n]:
                    out[n][sound] = None
    return tuple(tuple(found) for found in out)


@lru_cache(maxsize=200_000)
def form(name: str) -> NameForm:
    script = script_of(name)
    words = _words(to_ascii(name, script))
    tokens = _tokens(words, script)
    syllables = _syllables(words, script)
    sounds = tuple(phonetic(t) for t in tokens)
    shapes = _skeletons(tokens)
    return NameForm(
        original=name,
        script=script,
        tokens=tuple(tokens),
        phonetic=sounds,
        skeleton=tuple(s for s, _ in shapes),
        syllables=tuple(syllables) if syllables is not None else None,
        wade_giles=_wade_giles(words, script),
        gaps=tuple(g for _, g in shapes),
        spellings=_spellings(name, script, tokens, sounds),
        cantonese=_cantonese(name, words) if script is Script.HAN else None,
    )


def _cantonese(name: str, words: list[str]) -> tuple[tuple[str, ...], ...] | None:
    readings = cantonese.spellings("".join(ch for ch in name if not ch.isspace()))
    return readings if readings is not None and len(readings) == len(words) else None


def key_groups(name: NameForm) -> list[frozenset[str]]:
    """The index keys of a name, grouped by the part of the name they stand for: each token (its consonant
    skeleton and its metaphone), each Arabic "abd" name joined, and each two neighbouring tokens joined (a
    player writes "Nour Eddine" where the list has "Noureddine", or "Xiaoming" for "Xiao Ming"). A list name
    is indexed under every key; a player's name finds the names that share keys of two of its groups."""
    groups: list[frozenset[str]] = []
    # A Wade-Giles spelling ("Chien-kuo") is looked up under its pinyin readings too ("jian", "qian").
    readings = name.wade_giles if name.wade_giles and len(name.wade_giles) == len(name.tokens) else None
    for n, (shape, sound) in enumerate(zip(name.tokens, name.phonetic, strict=True)):
        keys = {"s:" + _skeleton_token(shape)}
        if name.script is not Script.ARABIC:
            keys.add("m:" + metaphone(sound))
        for reading in readings[n] if readings else ():
            keys |= {"s:" + _skeleton_token(reading), "m:" + metaphone(phonetic(reading))}
        # A Greek name's spellings by ear share its keys nearly always; a Cyrillic or Polish one's often do not.
        for spelt in name.spellings[n] if name.spellings and name.script is not Script.GREEK else ():
            keys |= {"s:" + _skeleton_token(spelt), "m:" + metaphone(spelt)}
        for spelt in name.cantonese[n] if name.cantonese else ():
            keys |= {"s:" + _skeleton_token(spelt), "m:" + metaphone(phonetic(spelt))}
        groups.append(frozenset(keys))
    known = {k for g in groups for k in g}
    groups.extend(frozenset({"s:" + s}) for s in name.skeleton if len(s) > 3 and "s:" + s not in known)
    shapes = [_skeleton_token(t) for t in name.tokens]
    groups.extend(frozenset({"s:" + a + b}) for a, b in itertools.pairwise(shapes))
    if name.script is Script.HAN and len(name.tokens) > 2:
        given = "".join(name.tokens[1:])
        groups.append(frozenset({"s:" + _skeleton_token(given), "p:" + given}))
    elif name.syllables is not None:  # "Jiahao Wu", "Wu Jia Hao": the given name's pinyin, found whole
        groups.extend(frozenset({"p:" + t}) for t in name.tokens if len(t) > 3)
        groups.extend(frozenset({"p:" + a + b}) for a, b in itertools.pairwise(name.tokens))
    kept = {frozenset(k for k in g if len(k) > 3) for g in groups}
    return [g for g in kept if g]
