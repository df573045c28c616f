"""What one content version holds, validated as data before it is stored: whom it targets (a segment of
the item's brand, jurisdiction profiles, a priority) and its texts per language, with the language to fall
back to. Links and images are absolute http(s) URLs or site paths; texts are plain text (frontends escape
them), bounded in length."""

from __future__ import annotations

import re
import uuid
from typing import Any

from babel import Locale, UnknownLocaleError
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from core.errors import DomainError
from services.rg.profiles import unknown_codes

KEY = re.compile(r"^[a-z0-9][a-z0-9._/-]{0,79}$")
URL = re.compile(r"^(https?://[^\s<>\"']{1,490}|/[^\s<>\"']{0,499})$")
MAX_TRANSLATIONS = 30


def known_language(code: str) -> str:
    """A language code as stored ("en", "pt-BR", "zh-Hant": the script kept, as players.language keeps it);
    unknown to CLDR → refused, and so are codes Babel maps to another language (`und`, `C`) or `root`."""
    try:
        locale = Locale.parse(code.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError) as exc:
        raise ValueError(f"{code!r} is not a known language code.") from exc
    if locale.language == "root" or locale.language != code.replace("_", "-").split("-")[0].strip().lower():
        raise ValueError(f"{code!r} is not a known language code.")
    return "-".join(part for part in (locale.language, locale.script, locale.territory) if part)


class Translation(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str = Field(min_length=1, max_length=200)
    body: str = Field(default="", max_length=20_000)
    image_url: str | None = Field(default=None, max_length=500)
    link_url: str | None = Field(default=None, max_length=500)
    cta_label: str | None = Field(default=None, max_length=80)

    @field_validator("image_url", "link_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not URL.match(value):
            raise ValueError("must be an http(s) URL or a path starting with /")
        return value


class VersionRules(BaseModel):
    """One version's targeting and texts. `segment_id` None and `jurisdictions` empty: everyone."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    segment_id: uuid.UUID | None = None
    jurisdictions: tuple[str, ...] = ()
    priority: int = Field(default=0, ge=-1000, le=1000)
    default_language: str
    translations: dict[str, Translation] = Field(min_length=1, max_length=MAX_TRANSLATIONS)

    @field_validator("default_language")
    @classmethod
    def _language(cls, value: str) -> str:
        return known_language(value)

    @field_validator("translations", mode="before")
    @classmethod
    def _languages(cls, value: Any) -> Any:
        if isinstance(value, dict):
            found = {known_language(str(language)): text for language, text in value.items()}
            if len(found) != len(value):  # two spellings of one language (en-us, en-US): one would be lost
                raise ValueError("one translation per language")
            return found
        return value

    @field_validator("jurisdictions")
    @classmethod
    def _jurisdictions(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        codes = tuple(sorted({code.strip().upper() for code in value}))
        unknown = unknown_codes(codes)
        if unknown:
            raise ValueError(f"unknown jurisdiction profiles: {', '.join(unknown)}")
        return codes

    @model_validator(mode="after")
    def _default_translated(self) -> VersionRules:
        if self.default_language not in self.translations:
            raise ValueError("the default language needs a translation")
        return self

    def stored_translations(self) -> dict[str, Any]:
        return {language: text.model_dump(exclude_none=True) for language, text in self.translations.items()}


def parse(data: dict[str, Any]) -> VersionRules:
    """`data` as a VersionRules, or a DomainError naming the first wrong field (camelCase, as the API)."""
    try:
        return VersionRules.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = [str(part) for part in first["loc"]]
        # The one check across fields (the default language is translated) names the default language.
        field = ".".join(_camel(part) for part in where) or "defaultLanguage"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise DomainError(f"{field}: {message}", field=field) from exc


def valid_key(key: str) -> str:
    key = key.strip().lower()
    if not KEY.match(key):
        raise DomainError(
            "A key is 1 to 80 lowercase letters, digits, '.', '_', '/' or '-', starting with a letter or digit.",
            field="key",
        )
    return key


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
