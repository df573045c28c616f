"""A player's language and time zone (players.language, players.time_zone): what messages are written in and
when quiet hours fall (services/crm). A language is a code CLDR knows (Babel's locale data): `en`, `de`,
`pt-BR` (stored with a hyphen, the region upper-case); a time zone is an IANA zoneinfo name (`Europe/Malta`),
never a path or an abbreviation."""

from __future__ import annotations

import re
import zoneinfo
from functools import cache

from babel.localedata import locale_identifiers

from core.errors import DomainError

DEFAULT_LANGUAGE = "en"
DEFAULT_TIME_ZONE = "UTC"
MAX_LANGUAGE = 8  # the column
_LANGUAGE = re.compile(r"^([A-Za-z]{2,3})(?:[-_]([A-Za-z]{2}|[A-Za-z]{4}))?$")


@cache
def _known_languages() -> frozenset[str]:
    return frozenset(locale_identifiers())


# In the zoneinfo directory but no place's time: the host's own zone (a link to whatever the machine is set to)
# and tzdata's placeholder for "not configured".
_NOT_ZONES = frozenset({"localtime", "Factory", "posixrules", "posix", "right"})


@cache
def _known_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones()) - _NOT_ZONES


def language(code: str, *, field: str = "language") -> str:
    """The code as stored (`pt_br` → `pt-BR`), or a DomainError naming the field."""
    match = _LANGUAGE.match(code.strip())
    if match is not None:
        base, rest = match.group(1).lower(), match.group(2)
        part = "" if rest is None else rest.upper() if len(rest) == 2 else rest.title()
        identifier = f"{base}_{part}" if part else base
        if identifier in _known_languages() and len(identifier) <= MAX_LANGUAGE:
            return identifier.replace("_", "-")
    raise DomainError(f"{code!r} is not a language code we know (e.g. en, de, pt-BR).", field=field)


def time_zone(name: str, *, field: str = "timeZone") -> str:
    """An IANA time zone name as given (`Europe/Malta`), or a DomainError naming the field."""
    cleaned = name.strip()
    if cleaned not in _known_zones():
        raise DomainError(f"{name!r} is not an IANA time zone name (e.g. Europe/Malta).", field=field)
    return cleaned
