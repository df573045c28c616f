"""A Cyrillic or Greek name as the other transliteration systems players grew up with spell it.

A list writes a Russian name in Cyrillic; our own reading of it is ICAO 9303's, the passports'
(services/aml/translit.py). A player may have learnt another system, and spelling back from Latin to
Cyrillic is ambiguous ("ch" is ч in English, ш in French and х in German), so the listed name is spelt
forwards in each system, which is not, and a player's spelling is compared with every one of them:
- BGN/PCGN and the English press: е and ё as "ye"/"yo" at a word's start and after a vowel, ё as "yo"
  after a consonant (Pyotr, Fyodor), й as "y", -ий as "-y" (Dmitry, Yevgeny);
- French: у "ou", ч "tch", ш "ch", щ "chtch", ж "j", ю "iou", я "ia", ё "io", й "ï", г "gu" before e
  and i (Evgueni), с "ss" between vowels (Vassili), -ин "-ine" (Raspoutine), -ов/-ев also "-off"/"-eff"
  (the émigrés' spelling);
- German (Duden): в "w", ж "sch", з "s", ц "z", ч "tsch", ш "sch", щ "schtsch", х "ch", й "j",
  е "je", ё "jo", ю "ju", я "ja", с "ss" between vowels, -ов/-ев "-ow"/"-ew" (Tschechow, Jelzin).
A Greek name is read as ELOT 743 (translit.py) and also as Greeks write it by ear, which is how most
passports before ELOT and most players spell it: β "v", γ "y" before a front vowel (Yiorgos, Panayiotis,
Yannis), χ "h" (Haralambos), η, ι, υ, ει, οι "i", αι "e" (Ekaterini), ου "ou", μπ/ντ/γκ "b"/"d"/"g" at a
word's start and "mb"/"nd"/"ng" inside (Haralambos, Frangiadakis); and with the classical η as "e"
(Demetrios, Theodorides).
A Polish name's nasal vowels are also spelt as English and German transcription and émigré families
spell them: ą as "on" and ę as "en", "om"/"em" before b and p (Dąbrowski: Dombrowski, Wądołowski:
Wondolowski, Zięba: Zienba), where the plain Latin reading drops the ogonek (Dabrowski).
Each system's spelling of a word is one more way of writing that token (names.py `NameForm.spellings`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

_VOWELS = frozenset("аеёиоуыэюяіїє")
_SIGNS = frozenset("ъь")
_HUSHING = frozenset("жчшщ")  # ё after them is a plain "o" (Gorbachov, Gorbatschow)
_COMMON = {
    "а": "a", "б": "b", "д": "d", "з": "z", "и": "i", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o",
    "п": "p", "р": "r", "с": "s", "т": "t", "ф": "f", "ъ": "", "ы": "y", "ь": "", "э": "e", "і": "i",
    "ї": "i", "є": "ie", "ґ": "g", "ў": "u",
}  # fmt: skip
_ENGLISH = {
    **_COMMON, "в": "v", "г": "g", "ж": "zh", "й": "y", "у": "u", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh",
    "щ": "shch", "ю": "yu", "я": "ya",
}  # fmt: skip
_FRENCH = {
    **_COMMON, "в": "v", "г": "g", "ж": "j", "й": "i", "у": "ou", "х": "kh", "ц": "ts", "ч": "tch", "ш": "ch",
    "щ": "chtch", "ю": "iou", "я": "ia",
}  # fmt: skip
_GERMAN = {
    **_COMMON, "в": "w", "г": "g", "ж": "sch", "з": "s", "й": "j", "у": "u", "х": "ch", "ц": "z", "ч": "tsch",
    "ш": "sch", "щ": "schtsch", "ю": "ju", "я": "ja",
}  # fmt: skip

Letter = Callable[[str, int], str]


def _soft(word: str, i: int) -> bool:
    """Whether е/ё/ю/я at i is iotated (said with a "y" first): at the start, after a vowel or a sign."""
    return i == 0 or word[i - 1] in _VOWELS or word[i - 1] in _SIGNS


def _english(word: str, i: int) -> str:
    ch = word[i]
    if ch == "е":
        return "ye" if _soft(word, i) else "e"
    if ch == "ё":
        return "o" if i and word[i - 1] in _HUSHING else "yo"
    if ch == "и" and word[i:] == "ий" and i > 1:
        return ""  # Dmitry, Yevgeny, Vasily: the ending as one "y"
    return _ENGLISH.get(ch, ch)


def _french(word: str, i: int) -> str:
    ch = word[i]
    after_vowel = i > 0 and word[i - 1] in _VOWELS
    if ch == "е":
        return "ie" if i and (word[i - 1] in _SIGNS) else "e"
    if ch == "ё":
        return "o" if i and word[i - 1] in _HUSHING else "io"
    if ch == "г" and word[i + 1 : i + 2] in ("е", "и", "ы", "ё"):
        return "gu"  # Evgueni, Guennadi, Sergueï
    if ch == "с" and after_vowel and word[i + 1 : i + 2] in _VOWELS:
        return "ss"  # Vassili, Moussorgski
    if ch == "и" and word[i:] == "ий" and i > 1:
        return ""  # Dmitri, Iouri
    if ch == "н" and i == len(word) - 1 and word[i - 1 : i] == "и":
        return "ne"  # Poutine, Lénine
    return _FRENCH.get(ch, ch)


def _german(word: str, i: int) -> str:
    ch = word[i]
    soft = _soft(word, i)
    if ch == "е":
        return "je" if soft else "e"
    if ch == "ё":
        return "o" if i and word[i - 1] in _HUSHING else "jo"
    if ch == "в" and i == len(word) - 1:
        return "w"  # -ow, -ew (Tschechow)
    if ch == "с" and i > 0 and word[i - 1] in _VOWELS and word[i + 1 : i + 2] in _VOWELS:
        return "ss"
    if ch == "и" and word[i:] == "ий" and i > 1:
        return ""  # Jewgeni, Juri
    if ch == "й" and i == len(word) - 1 and word[i - 1 : i] in ("е", "а"):
        return "j"  # Sergej, Nikolaj
    if ch == "й":
        return "i"
    return _GERMAN.get(ch, ch)


def _spell(word: str, letter: Letter) -> str:
    return "".join(letter(word, i) for i in range(len(word)))


def _emigre(word: str) -> str:
    """-ов/-ев as the émigrés' French wrote them: -off/-eff (Smirnoff)."""
    return word[:-1] + "ff" if word.endswith(("ov", "ev")) and len(word) > 4 else word


def spellings(text: str) -> list[str]:
    """A lower-case Cyrillic name in BGN/PCGN, French (two endings) and German spelling, word for word."""
    words = text.replace("-", " ").split()
    english = " ".join(_spell(w, _english) for w in words)
    french = [_spell(w, _french) for w in words]
    german = " ".join(_spell(w, _german) for w in words)
    return [english, " ".join(french), " ".join(_emigre(w) for w in french), german]


_GREEK = {
    "α": "a", "β": "v", "γ": "g", "δ": "d", "ε": "e", "ζ": "z", "η": "i", "θ": "th", "ι": "i", "κ": "k",
    "λ": "l", "μ": "m", "ν": "n", "ξ": "x", "ο": "o", "π": "p", "ρ": "r", "σ": "s", "ς": "s", "τ": "t",
    "υ": "i", "φ": "f", "χ": "h", "ψ": "ps", "ω": "o",
}  # fmt: skip
_GREEK_PAIRS = {"ου": "ou", "αι": "e", "ει": "i", "οι": "i", "υι": "i", "αυ": "av", "ευ": "ev", "γγ": "ng"}
_GREEK_STOPS = {"μπ": ("b", "mb"), "ντ": ("d", "nd"), "γκ": ("g", "ng")}  # at a word's start, inside
_FRONT = ("ε", "ι", "η", "υ", "αι", "ει", "οι")
_GREEK_VOWELS = frozenset("αεηιουω")


def _greek_word(word: str, classical: bool) -> str:
    out: list[str] = []
    i = 0
    while i < len(word):
        pair = word[i : i + 2]
        if pair in _GREEK_STOPS:
            out.append(_GREEK_STOPS[pair][0 if i == 0 else 1])
            i += 2
        elif word[i] == "γ" and word[i + 1 : i + 2] == "ι" and word[i + 2 : i + 3] in _GREEK_VOWELS:
            out.append("y")  # Γιάννης: Yannis
            i += 2
        elif word[i] == "γ" and word[i + 1 :].startswith(_FRONT):
            out.append("y")  # Γεώργιος: Yeorgios
            i += 1
        elif pair in _GREEK_PAIRS:
            out.append(_GREEK_PAIRS[pair])
            i += 2
        else:
            out.append("e" if classical and word[i] == "η" else _GREEK.get(word[i], word[i]))
            i += 1
    return "".join(out)


def greek_spellings(text: str) -> list[str]:
    """A lower-case Greek name as written by ear, and by ear with the classical η as "e"."""
    words = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c)).split()
    words = [w for part in words for w in part.split("-")]
    return [" ".join(_greek_word(w, classical) for w in words) for classical in (False, True)]


_NASALS = re.compile("([ąę])([bp]?)")


def polish_spellings(text: str) -> list[str]:
    """A lower-case Latin name with its Polish nasal vowels transcribed (none: it has none)."""
    if "ą" not in text and "ę" not in text:
        return []
    return [_NASALS.sub(lambda m: ("o" if m[1] == "ą" else "e") + ("m" if m[2] else "n") + m[2], text)]
