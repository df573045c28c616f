"""A Cyrillic name as the other transliteration systems players grew up with spell it.

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
Each system's spelling of a word is one more way of writing that token (names.py `NameForm.spellings`).
"""

from __future__ import annotations

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
