"""Translations of the platform's player-facing texts: Babel catalogues (gettext) per language.

- `locales/croupier.pot` is extracted from the code (`croupier i18n extract`, services/crm/i18n/catalogue.py):
  the literal messages of the domain errors services raise (`DomainError("…")`, `NotFound("…")`), texts
  marked with `_()` / `N_()`, and `{% trans %}` blocks of Jinja templates kept in files. A message built
  with an f-string cannot be extracted; it stays English.
- `locales/<language>/LC_MESSAGES/croupier.po` holds a language's translations (`croupier i18n update` merges
  new messages in), compiled to `.mo` (`croupier i18n compile`), which is what is read at run time.
- `gettext(message, language)`: the message in that language, else (no catalogue, no entry) as written.
  `language_for(accept_language)`: the best language of an Accept-Language header among those catalogued.
  `jinja_environment(language)`: a sandboxed, autoescaping Jinja environment whose `{% trans %}`, `_()` and
  `gettext()` translate into that language (email and message templates).

Who gets what (resolvers/common.py): a refusal in a mutation's payload (`UserError.message`) is translated
for players into their own language (players.language) and for anonymous visitors (registration, login)
into their Accept-Language; staff and partners read English, as the codes are the contract.
"""

from __future__ import annotations

import functools
from pathlib import Path

from babel import Locale, UnknownLocaleError, negotiate_locale
from babel.support import NullTranslations, Translations
from jinja2.sandbox import SandboxedEnvironment

DOMAIN = "croupier"
LOCALES = Path(__file__).parent / "locales"
SOURCE_LANGUAGE = "en"


def _(message: str) -> str:
    """Mark a literal for extraction where it is defined; translate it later with `gettext`."""
    return message


N_ = _


@functools.cache
def available() -> tuple[str, ...]:
    """The languages with a compiled catalogue (and English, the source)."""
    found = sorted(p.parent.parent.name for p in LOCALES.glob(f"*/LC_MESSAGES/{DOMAIN}.mo"))
    return (SOURCE_LANGUAGE, *[language for language in found if language != SOURCE_LANGUAGE])


@functools.cache
def translations(language: str) -> NullTranslations:
    """The compiled catalogue of `language` ("pt-BR" also finds "pt"); empty when there is none."""
    try:
        locale = Locale.parse(language.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return NullTranslations()
    found = Translations.load(str(LOCALES), [str(locale), locale.language], DOMAIN)
    return found if isinstance(found, Translations) else NullTranslations()


def gettext(message: str, language: str | None) -> str:
    if not language or language == SOURCE_LANGUAGE:
        return message
    return translations(language).gettext(message)


def language_for(accept_language: str | None) -> str | None:
    """The catalogued language an Accept-Language header prefers most (None: none of them, or no header)."""
    if not accept_language:
        return None
    preferred: list[tuple[float, str]] = []
    for position, part in enumerate(accept_language.split(",")[:20]):
        tag, _sep, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                continue
        if tag and tag != "*" and weight > 0:
            preferred.append((-weight + position * 1e-6, tag.replace("-", "_")))
    ordered = [tag for _w, tag in sorted(preferred)]
    # Babel matches "de_AT" to "de" and back; the catalogues are named by language.
    chosen = negotiate_locale(ordered + [tag.split("_")[0] for tag in ordered], list(available()), sep="_")
    return chosen.replace("_", "-") if chosen else None


def jinja_environment(language: str | None) -> SandboxedEnvironment:
    """A sandboxed, autoescaping environment translating `{% trans %}` blocks into `language`."""
    environment = SandboxedEnvironment(autoescape=True, extensions=["jinja2.ext.i18n"])
    catalogue = translations(language) if language else NullTranslations()
    environment.install_gettext_translations(catalogue, newstyle=True)  # type: ignore[attr-defined]
    return environment
