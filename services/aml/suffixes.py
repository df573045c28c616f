"""Family names made of a stem and a name-forming suffix: when two that look alike are two families.

Most European family names are a stem (a father's name, a place, a trade, a nickname) and a suffix that
makes a family name of it, and the same stem takes several suffixes, each another family: Theodoridis,
Theodorakis and Theodoropoulos are three Greek families, Nowak and Nowicki two Polish ones, Zhukov and
Zhukovsky two Russian ones, Kovalenko and Kovalchuk two Ukrainian ones. The onomastic conventions the
table follows (each suffix with its spellings across transliterations and its feminine, compared as the
phonetic forms of services/aml/names.py):
- Greek: -opoulos ("son of", Peloponnese), -idis/-iadis (patronymic, Pontic and Asia Minor), -akis
  (Crete), -atos (Ionian islands), -oglou (Anatolian, from Turkish -oğlu); feminines -opoulou, -idou, -aki,
  -atou;
- Slavic: -ov/-ev and -in (Russian and Bulgarian possessives, with the émigrés' -off and German -ow),
  -ović/-ević and -ić (Serbian, Croatian, Bosnian patronymics; Russian -ovich, Polish -owicz), -ski/-cki
  (Polish -ski/-icki, Russian -sky, Ukrainian -skyi), -enko and -uk/-chuk (Ukrainian), -ak/-ek/-czyk (Polish and Czech);
- Germanic: -sen/-son/-sson (Danish, Norwegian, Swedish, Icelandic patronymics), -dottir (Icelandic
  "daughter of"), -mann;
- Iberian -ez/-es (Spanish and Portuguese patronymics), Italian -ello/-etti/-ino (diminutives), Armenian
  -yan/-ian, Georgian -shvili and -dze.
Two rules follow, both for tokens already alike enough to be a candidate pair:
- one stem, two suffixes (or a suffix against the bare stem with a case ending: Roussos, Konstantinou):
  two families (`other_suffix`);
- one suffix, and before the ending the two share, two short stems two letters apart (Nielsen and
  Larsen, Efimova and Efremova): two families, as two short names are (`other_stem`); the suffix, shared
  by thousands of names, says nothing of the person.
"""

from __future__ import annotations

from functools import lru_cache

from rapidfuzz.distance import Levenshtein

from services.aml.distinct import SHORT
from services.aml.names import phonetic

_SUFFIXES = {  # a suffix: its spellings (masculine, feminine, other systems)
    "opoulos": ("opoulos", "opoulou", "opulos"),
    "idis": ("idis", "idou", "iadis", "iadou", "ides"),
    "akis": ("akis", "aki", "akes"),
    "atos": ("atos", "atou"),
    "oglou": ("oglou", "oglu"),
    "ov": ("ov", "ev", "ow", "ew", "off", "eff", "ova", "eva", "owa", "ewa"),
    "in": ("in", "ina", "ine", "yn", "yna", "ino", "ini"),
    "ovich": ("ovic", "ovich", "ovitch", "owicz", "ovics", "evic", "evich", "evitch", "ewicz"),
    "ich": ("ic", "ich", "itch", "icz", "ics"),
    "ovna": ("ovna", "evna"),
    "ski": (
        "ski", "sky", "skiy", "skyi", "skii", "skij", "ska", "skaya", "skaia", "skaja", "icki",
        "icka", "owski", "owska", "ewski", "ewska", "ovsky", "ovskiy", "ovskaya", "evsky", "evskaya",
    ),
    "enko": ("enko",),
    "uk": ("uk", "yuk", "iuk", "chuk", "czuk"),
    "ak": ("ak", "ek", "czyk", "czak"),
    "sen": ("sen", "son", "sson", "ssen"),
    "dottir": ("dottir", "dotir"),
    "mann": ("mann", "man"),
    "ez": ("ez", "es"),
    "ello": ("ello", "elli", "ella"),
    "etti": ("etti", "etto", "etta"),
    "yan": ("yan", "ian", "jan"),
    "shvili": ("shvili",),
    "dze": ("dze",),
}  # fmt: skip
_STEM = "bar"  # a neutral stem, so a suffix's phonetic form is the one it has at a token's end
_BY_SOUND = {phonetic(_STEM + spelt)[len(_STEM) :]: name for name, spelts in _SUFFIXES.items() for spelt in spelts}
_LONGEST_FIRST = sorted(_BY_SOUND, key=len, reverse=True)
_CASE_ENDINGS = frozenset({"", "a", "e", "i", "o", "u", "os", "as", "is", "us"})  # a bare stem's endings
MIN_STEM = 3  # letters: a shorter "stem" is a whole short name, not a stem


@lru_cache(maxsize=65536)
def split(token: str) -> tuple[str, str | None]:
    """A phonetic token's stem and the suffix it ends in (None: no name-forming suffix)."""
    for sound in _LONGEST_FIRST:
        if token.endswith(sound) and len(token) - len(sound) >= MIN_STEM:
            return token[: -len(sound)], _BY_SOUND[sound]
    return token, None


def _on_stem(a: str, b: str) -> bool:
    stem, suffix = split(a)
    if suffix is None or not b.startswith(stem) or a == b:
        return False
    rest = b[len(stem) :]
    other = _BY_SOUND.get(rest)
    if other is not None:
        return other != suffix
    # The bare stem: only against a suffix of three letters or more (Gonzales is Gonzalez, not Gonzal + es).
    return rest in _CASE_ENDINGS and len(a) - len(stem) >= 3


def other_suffix(a: str, b: str) -> bool:
    """Whether two phonetic tokens are one stem with two name-forming suffixes, or a suffix and the bare
    stem (Theodoridis/Theodorakis, Nowak/Nowicka, Roussopoulos/Roussos)."""
    return _on_stem(a, b) or _on_stem(b, a)


def other_stem(a: str, b: str) -> bool:
    """Whether two phonetic tokens ending in one name-forming suffix have stems as far apart as two short
    names (Nielsen/Larsen, Efimova/Efremova, Kozlova/Kovaleva): two letters or more, the shorter stem of
    six letters at most. The stems are what is left without the suffix, or without the ending the two
    share, whichever is nearer (Wiśniewska/Wisnewska: "visniv" + "ska", "visn" + "evska")."""
    stem_a, suffix = split(a)
    stem_b, suffix_b = split(b)
    if suffix is None or suffix != suffix_b or a == b:
        return False
    shared = 0
    while shared < min(len(a), len(b)) and a[-1 - shared] == b[-1 - shared]:
        shared += 1
    nearer = min((stem_a, stem_b), (a[: len(a) - shared], b[: len(b) - shared]), key=lambda p: Levenshtein.distance(*p))
    return min(len(nearer[0]), len(nearer[1])) <= SHORT and Levenshtein.distance(*nearer) >= 2
