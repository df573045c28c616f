"""Names in any script written in lower-case ASCII, the way passports and players spell them.

Which script a name is in decides how it is compared (services/aml/names.py). The transliteration:
- Cyrillic and Greek: our own tables, ICAO 9303 (passports) for Cyrillic and ELOT 743 for modern Greek.
  ICU's transforms (what `normality`, followthemoney's text library, uses) follow ISO 9 and the classical
  Greek scheme, whose letters lose their meaning once the accents go (Я -> "â" -> "a", η -> "ē" -> "e"):
  "Ярошенко" would become "arosenko", never the "yaroshenko" a player writes.
- Han: ICU's pinyin (`normality.ascii_text`), one syllable a character, tones dropped.
- Arabic, Latin with diacritics and the rest: ICU as well, with the ta marbuta read as "a" and the
  ʿayn and hamza dropped (players never write them).
"""

from __future__ import annotations

import unicodedata
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from normality import ascii_text, latinize_text


class Script(StrEnum):
    LATIN = "latin"
    CYRILLIC = "cyrillic"
    GREEK = "greek"
    ARABIC = "arabic"
    HAN = "han"
    OTHER = "other"


_SCRIPT_WORDS = {"LATIN": Script.LATIN, "CYRILLIC": Script.CYRILLIC, "GREEK": Script.GREEK, "ARABIC": Script.ARABIC}

CYRILLIC = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z", "и": "i",
    "й": "i", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t",
    "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "",
    "э": "e", "ю": "iu", "я": "ia", "є": "ie", "і": "i", "ї": "i", "ґ": "g", "ў": "u", "ј": "j", "љ": "lj",
    "њ": "nj", "ћ": "c", "ђ": "dj", "џ": "dz",
}  # fmt: skip
GREEK_PAIRS = {
    "ου": "ou", "αυ": "av", "ευ": "ev", "ηυ": "iv", "γγ": "ng", "γκ": "gk", "γξ": "nx", "γχ": "nch",
    "μπ": "mp", "ντ": "nt", "αι": "ai", "ει": "ei", "οι": "oi",
}  # fmt: skip
GREEK = {
    "α": "a", "β": "v", "γ": "g", "δ": "d", "ε": "e", "ζ": "z", "η": "i", "θ": "th", "ι": "i", "κ": "k",
    "λ": "l", "μ": "m", "ν": "n", "ξ": "x", "ο": "o", "π": "p", "ρ": "r", "σ": "s", "ς": "s", "τ": "t",
    "υ": "y", "φ": "f", "χ": "ch", "ψ": "ps", "ω": "o",
}  # fmt: skip
# What ICU leaves of Arabic letters players never write, and the ta marbuta as they read it.
ARABIC_MARKS = str.maketrans({"ẗ": "a", "ʿ": "", "ʾ": "", "ʼ": "", "ʻ": "", "̹": ""})
# Latin letters ICU spells oddly in ASCII ("ø" -> "o/").
LATIN_LETTERS = str.maketrans({"ø": "o", "æ": "ae", "œ": "oe", "ß": "ss", "ł": "l", "đ": "d", "ð": "d", "þ": "th"})

# Family names whose characters ICU reads as the common word, not as the name: 曾 is Zeng as a family
# name (ceng, "once", otherwise), 单 Shan, 区 Ou. The first character of a Chinese name is its family name.
HAN_FAMILY_NAMES = {
    "曾": "zeng", "单": "shan", "單": "shan", "解": "xie", "区": "ou", "區": "ou", "查": "zha", "仇": "qiu",
    "朴": "piao", "乐": "yue", "樂": "yue", "覃": "qin", "尉": "yu", "缪": "miao", "繆": "miao", "翟": "zhai",
    "召": "shao", "员": "yun", "員": "yun", "种": "chong", "種": "chong", "重": "chong", "折": "she",
    "繁": "po", "隗": "wei", "都": "du", "薄": "bo", "卜": "bu", "阚": "kan", "闞": "kan", "洗": "xian",
    "秘": "bi", "盖": "ge", "蓋": "ge",
}  # fmt: skip

# Every syllable ICU's pinyin gives for a CJK unified ideograph (to split "xiaoming" into xiao + ming).
PINYIN = frozenset((Path(__file__).resolve().parent / "pinyin.txt").read_text(encoding="ascii").split())
_LONGEST_SYLLABLE = max(len(s) for s in PINYIN)


def script_of(text: str) -> Script:
    """The script most of the name's letters are in."""
    counts: dict[Script, int] = {}
    for ch in text:
        if not ch.isalpha():
            continue
        name = unicodedata.name(ch, "")
        found = Script.HAN if name.startswith("CJK") else _SCRIPT_WORDS.get(name.split(" ", 1)[0], Script.OTHER)
        counts[found] = counts.get(found, 0) + 1
    return max(counts, key=lambda s: counts[s]) if counts else Script.LATIN


def _strip_accents(text: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFD", text) if not unicodedata.combining(ch))


def _by_table(text: str, table: dict[str, str], pairs: dict[str, str] | None = None) -> str:
    out: list[str] = []
    i = 0
    while i < len(text):
        if pairs and text[i : i + 2] in pairs:
            out.append(pairs[text[i : i + 2]])
            i += 2
            continue
        ch = text[i]
        out.append(table.get(ch, ch))
        i += 1
    return "".join(out)


@lru_cache(maxsize=65536)
def to_ascii(text: str, script: Script) -> str:
    """The name in lower-case ASCII (letters, digits, spaces, hyphens and apostrophes kept as written)."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    if script is Script.CYRILLIC:
        folded = _by_table(folded, CYRILLIC)
    elif script is Script.GREEK:
        folded = _by_table(_strip_accents(folded), GREEK, GREEK_PAIRS)
    elif script is Script.HAN and folded[:1] in HAN_FAMILY_NAMES:
        return HAN_FAMILY_NAMES[folded[0]] + " " + to_ascii(folded[1:], script)
    elif script is Script.ARABIC:
        folded = latinize_text(folded).translate(ARABIC_MARKS)
    else:
        folded = folded.translate(LATIN_LETTERS)
    return (ascii_text(folded) or "").lower()


@lru_cache(maxsize=65536)
def pinyin_syllables(token: str) -> tuple[str, ...] | None:
    """A Latin token split into the fewest pinyin syllables ("xiaoming" -> xiao + ming), or None."""
    best: list[tuple[str, ...] | None] = [()] + [None] * len(token)
    for end in range(1, len(token) + 1):
        for size in range(1, min(_LONGEST_SYLLABLE, end) + 1):
            before = best[end - size]
            fits = before is not None and token[end - size : end] in PINYIN
            if fits and before is not None and (best[end] is None or len(before) + 1 < len(best[end] or ())):
                best[end] = (*before, token[end - size : end])
    return best[len(token)]


# Wade-Giles (Taiwan's passports, older writing) to pinyin. Apostrophes are lost in a form, so an
# initial can stand for two pinyin initials (ch = zh or ch, j or q before i and u).
_WG_INITIALS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("hs", ("x",)), ("ch", ("zh", "ch", "j", "q")), ("ts", ("z", "c")), ("tz", ("z", "c")), ("sh", ("sh",)),
    ("k", ("g", "k")), ("p", ("b", "p")), ("t", ("d", "t")), ("j", ("r",)),
)  # fmt: skip
_WG_FINALS = (("ieh", "ie"), ("ueh", "ue"), ("iung", "iong"), ("ung", "ong"), ("ien", "ian"), ("ih", "i"))


@lru_cache(maxsize=65536)
def wade_giles(syllable: str) -> frozenset[str]:
    """The pinyin syllables a Wade-Giles syllable can stand for (empty: it is not one)."""
    initial: str = ""
    options: tuple[str, ...] = ("",)
    for written_initial, pinyin_initials in _WG_INITIALS:
        if syllable.startswith(written_initial):
            initial, options = written_initial, pinyin_initials
            break
    final = syllable[len(initial) :]
    for written_final, pinyin_final in _WG_FINALS:
        if final.endswith(written_final):
            final = final[: -len(written_final)] + pinyin_final
            break
    return frozenset(o + final for o in options if o + final in PINYIN)
