"""What a viewer sees: the content of their brand meant for their language, segments and jurisdiction,
live at the instant of the request — cached per audience, dropped everywhere when content changes.

- The audience (`Audience`): a player's own brand, language, jurisdiction and segments (one statement,
  crm_segment_members read only); an anonymous visitor's (or staff's) brand as named, the language asked
  for or the first of Accept-Language, the jurisdiction of the brand's profile for the country a trusted
  proxy reported, no segments — so segment-targeted content never reaches them.
- The brand's live versions (`LiveVersion`): one statement, kept per process under the content token.
- The choice (`choose`): versions whose window holds the instant, for the kind and key asked, whose segment
  the audience is in (or none) and whose jurisdictions include the audience's (or none); banners all by
  priority (then newest start), a promotion page or block the first. Texts in the audience's language, its
  base language, else the version's default language.

Caching: answers are kept per (content token, audience, kind, key) for at most `SECONDS`, and never past the
next publish or unpublish instant of the brand's schedule (so a scheduled change shows on time with no
worker). The content token is a random value in Redis, replaced after every committed change
(`content_changed`): every process sees the new token on its next request and stops using what it kept.
Without Redis the cache is bypassed (reads go to the database).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from redis.exceptions import RedisError
from sqlalchemy import text

from authz.subjects import Viewer
from core.clock import clock, utc
from core.errors import DomainError, ErrorCode, NotFound
from core.logging import get_logger
from core.runtime import Runtime
from services import brands
from services.crm.content.rules import known_language
from services.rg.profiles import resolve

log = get_logger(__name__)

TOKEN_KEY = "content:token"
SECONDS = 60.0  # the bound on staleness should a token change be missed (Redis replaced, flushed)
MAX_ENTRIES = 5000
MAX_BANNERS = 20
LANGUAGE_FALLBACK = "en"


@dataclass(frozen=True)
class Audience:
    brand_id: uuid.UUID
    language: str
    jurisdiction: str | None
    segments: frozenset[uuid.UUID] = frozenset()


@dataclass(frozen=True)
class LiveVersion:
    item_id: uuid.UUID
    kind: str
    key: str
    version: int
    publish_at: datetime | None  # None: always (a draft in a preview)
    unpublish_at: datetime | None
    segment_id: uuid.UUID | None
    jurisdictions: tuple[str, ...]
    priority: int
    default_language: str
    translations: dict[str, Any]

    def live_at(self, at: datetime) -> bool:
        return (self.publish_at is None or self.publish_at <= at) and (
            self.unpublish_at is None or at < self.unpublish_at
        )

    def reaches(self, audience: Audience) -> bool:
        if self.segment_id is not None and self.segment_id not in audience.segments:
            return False
        return not self.jurisdictions or audience.jurisdiction in self.jurisdictions


@dataclass(frozen=True)
class Shown:
    """One piece of content as a viewer gets it."""

    item_id: uuid.UUID
    version: int
    kind: str
    key: str
    language: str
    title: str
    body: str
    image_url: str | None
    link_url: str | None
    cta_label: str | None
    starts_at: datetime | None
    ends_at: datetime | None


# ---- the audience ------------------------------------------------------------------------------

_PLAYER_AUDIENCE = text(
    """SELECT p.brand_id, p.language, p.jurisdiction,
              ARRAY(SELECT m.segment_id FROM crm_segment_members m JOIN crm_segments s ON s.id = m.segment_id
                    WHERE m.player_id = p.id AND s.status = 'active') AS segments
       FROM players p WHERE p.id = :id"""
)
_BRAND = text("SELECT id, jurisdictions FROM brands WHERE code = :code")


def language_asked(language: str | None, accept_language: str | None) -> str | None:
    """The language a request asks for: the argument (validated), else Accept-Language's most wanted known
    language — by its q weight (ties: the order given), q=0 being "not acceptable"."""
    if language:
        try:
            return known_language(language.strip())
        except ValueError as exc:
            raise DomainError(str(exc), field="language") from exc
    wanted: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")[:20]):
        tag, _sep, params = part.partition(";")
        tag, weight = tag.strip(), 1.0
        for param in params.split(";"):
            name, _eq, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    weight = float(value.strip())
                except ValueError:
                    weight = 0.0
        if tag and tag != "*" and 0.0 < weight <= 1.0:
            wanted.append((-weight, position, tag))
    for _weight, _position, tag in sorted(wanted):
        try:
            return known_language(tag)
        except ValueError:
            continue
    return None


async def player_audience(rt: Runtime, player_id: uuid.UUID, language: str | None) -> tuple[Audience, str]:
    """A player's audience (and their own language); NotFound for no such player."""
    async with rt.database.statement() as conn:
        row = (await conn.execute(_PLAYER_AUDIENCE, {"id": player_id})).first()
    if row is None:
        raise NotFound("No such player.", field="playerId")
    segments = frozenset(row.segments or ())
    return Audience(row.brand_id, language or row.language, row.jurisdiction, segments), row.language


async def visitor_audience(
    rt: Runtime, viewer: Viewer, brand_code: str | None, language: str | None, country: str | None = None
) -> Audience:
    """An anonymous visitor's or staff's audience: the brand named (staff: theirs when none is named), the
    jurisdiction for the country given or reported, no segments."""
    code = brand_code
    if code is None and viewer.brand_id is not None:
        code = viewer.brand_code
    if not code or code == "*":
        raise DomainError("Name the brand whose content to show.", field="brand")
    async with rt.database.statement() as conn:
        row = (await conn.execute(_BRAND, {"code": brands.normalise_code(code)})).first()
    if row is None:
        raise NotFound(f"No brand with code {code!r}.", field="brand")
    if viewer.is_staff and viewer.brand_id is not None and viewer.brand_id != row.id:
        raise DomainError("That brand is outside your scope.", field="brand", code=ErrorCode.NOT_ALLOWED)
    where = (country or viewer.meta.country or "").strip().upper()
    profile = resolve(row.jurisdictions, where) if where else None
    return Audience(row.id, language or LANGUAGE_FALLBACK, profile.code if profile else None)


async def audience_of(
    rt: Runtime, viewer: Viewer, *, brand_code: str | None, language: str | None, accept_language: str | None
) -> Audience:
    asked = language_asked(language, accept_language)
    if viewer.is_player and viewer.id is not None:
        audience, own = await player_audience(rt, viewer.id, None)
        # A player's stored language wins over the browser's; an explicit argument over both.
        chosen = known_language(language.strip()) if language else own
        return Audience(audience.brand_id, chosen, audience.jurisdiction, audience.segments)
    return await visitor_audience(rt, viewer, brand_code, asked)


# ---- the brand's live versions -------------------------------------------------------------------

_LIVE = text(
    """SELECT i.id, i.kind, i.key, i.live_version, i.publish_at, i.unpublish_at,
              v.segment_id, v.jurisdictions, v.priority, v.default_language, v.translations
       FROM content_items i
       JOIN content_versions v ON v.item_id = i.id AND v.version = i.live_version
       WHERE i.brand_id = :brand AND i.status = 'published' AND (i.unpublish_at IS NULL OR i.unpublish_at > :at)"""
)


async def live_versions(rt: Runtime, brand_id: uuid.UUID, at: datetime) -> list[LiveVersion]:
    """The brand's published versions whose window has not ended at `at` (those starting later included)."""
    async with rt.database.statement() as conn:
        rows = (await conn.execute(_LIVE, {"brand": brand_id, "at": at})).all()
    return [_version_of(r, r.live_version, r.publish_at, r.unpublish_at) for r in rows]


def _version_of(row: Any, version: int, publish_at: datetime | None, unpublish_at: datetime | None) -> LiveVersion:
    """A row of an item joined with one of its versions, served in the window given."""
    return LiveVersion(
        item_id=row.id,
        kind=row.kind,
        key=row.key,
        version=version,
        publish_at=publish_at,
        unpublish_at=unpublish_at,
        segment_id=row.segment_id,
        jurisdictions=tuple(row.jurisdictions or ()),
        priority=row.priority,
        default_language=row.default_language,
        translations=dict(row.translations or {}),
    )


# ---- the choice --------------------------------------------------------------------------------


def _text_for(version: LiveVersion, language: str) -> tuple[str, dict[str, Any]]:
    """The texts in `language`, else its shorter forms (`zh-Hant-TW` → `zh-Hant` → `zh`), else a variant of
    its language sharing the most subtags (`zh-Hant-TW` for `zh-Hant-HK`), else the default."""
    translations = version.translations
    parts = language.split("-")
    for size in range(len(parts), 0, -1):
        tag = "-".join(parts[:size])
        if tag in translations:
            return tag, translations[tag]
    variants = [c for c in translations if c.split("-")[0] == parts[0]]
    if variants:
        best = min(variants, key=lambda c: (-len(set(c.split("-")[1:]) & set(parts[1:])), c))
        return best, translations[best]
    return version.default_language, translations[version.default_language]


def choose(versions: list[LiveVersion], audience: Audience, kind: str, key: str, at: datetime) -> list[Shown]:
    """What the audience sees at `at` for (kind, key): banners all (at most MAX_BANNERS), else the first."""
    matching = [v for v in versions if v.kind == kind and v.key == key and v.live_at(at) and v.reaches(audience)]
    # The highest priority first; among equals the newest start, then the id (a stable order).
    matching.sort(key=lambda v: (-v.priority, -(v.publish_at.timestamp() if v.publish_at else 0.0), str(v.item_id)))
    shown: list[Shown] = []
    for version in matching[: MAX_BANNERS if kind == "banner" else 1]:
        language, words = _text_for(version, audience.language)
        shown.append(
            Shown(
                item_id=version.item_id,
                version=version.version,
                kind=version.kind,
                key=version.key,
                language=language,
                title=words.get("title", ""),
                body=words.get("body", ""),
                image_url=words.get("image_url"),
                link_url=words.get("link_url"),
                cta_label=words.get("cta_label"),
                starts_at=version.publish_at,
                ends_at=version.unpublish_at,
            )
        )
    return shown


def next_change(versions: list[LiveVersion], at: datetime) -> datetime | None:
    """The first publish or unpublish instant after `at` among the versions (None: none scheduled)."""
    upcoming = [
        instant for v in versions for instant in (v.publish_at, v.unpublish_at) if instant is not None and instant > at
    ]
    return min(upcoming, default=None)


# ---- the cache ---------------------------------------------------------------------------------


@dataclass
class _Answer:
    expires: float  # monotonic
    since: datetime  # the instant it was chosen at
    until: datetime | None  # the next schedule change after it
    shown: list[Shown]


@dataclass
class ContentCache:
    seconds: float = SECONDS
    hits: int = 0
    misses: int = 0
    _sets: dict[tuple[uuid.UUID, str], tuple[float, datetime, list[LiveVersion]]] = field(default_factory=dict)
    _answers: dict[tuple[str, Audience, str, str], _Answer] = field(default_factory=dict)

    def clear(self) -> None:
        self._sets.clear()
        self._answers.clear()

    def answer(self, key: tuple[str, Audience, str, str], at: datetime) -> list[Shown] | None:
        found = self._answers.get(key)
        if (
            found is None
            or found.expires <= time.monotonic()
            or at < found.since
            or (found.until is not None and at >= found.until)
        ):
            self.misses += 1
            return None
        self.hits += 1
        return found.shown

    def keep_answer(self, key: tuple[str, Audience, str, str], answer: _Answer) -> None:
        if len(self._answers) >= MAX_ENTRIES:
            self._answers.clear()
        self._answers[key] = answer

    def versions(self, brand_id: uuid.UUID, token: str, at: datetime) -> list[LiveVersion] | None:
        found = self._sets.get((brand_id, token))
        if found is None or found[0] <= time.monotonic() or at < found[1]:
            return None
        return found[2]

    def keep_versions(self, brand_id: uuid.UUID, token: str, at: datetime, versions: list[LiveVersion]) -> None:
        if len(self._sets) >= MAX_ENTRIES:
            self._sets.clear()
        self._sets[(brand_id, token)] = (time.monotonic() + self.seconds, at, versions)


def cache_of(rt: Runtime) -> ContentCache:
    if rt.content_cache is None:
        rt.content_cache = ContentCache()
    cache: ContentCache = rt.content_cache
    return cache


async def _token(rt: Runtime) -> str | None:
    """The current content token ("" before any change); None when Redis does not answer (no caching)."""
    try:
        value = await rt.redis.get(TOKEN_KEY)
    except (RedisError, OSError):
        log.warning("content_token_unreadable")
        return None
    if value is None:
        return ""
    return value.decode() if isinstance(value, bytes) else str(value)


async def content_changed(rt: Runtime) -> None:
    """After a committed change of content: every process stops using what it kept."""
    cache_of(rt).clear()
    try:
        await rt.redis.set(TOKEN_KEY, uuid.uuid4().hex)
    except (RedisError, OSError):  # the others' answers expire within SECONDS
        log.warning("content_change_not_published")


async def served(rt: Runtime, audience: Audience, kind: str, key: str) -> list[Shown]:
    """What `audience` sees now for (kind, key), from the cache when it holds it. A miss costs one statement
    (the brand's live versions) when no other audience of the brand read them since the last change."""
    at = clock.now()
    token = await _token(rt)
    cache = cache_of(rt)
    answer_key = (token or "", audience, kind, key)
    if token is not None:
        found = cache.answer(answer_key, at)
        if found is not None:
            return found
    versions = cache.versions(audience.brand_id, token, at) if token is not None else None
    if versions is None:
        versions = await live_versions(rt, audience.brand_id, at)
        if token is not None:
            cache.keep_versions(audience.brand_id, token, at, versions)
    shown = choose(versions, audience, kind, key, at)
    if token is not None:
        cache.keep_answer(answer_key, _Answer(time.monotonic() + cache.seconds, at, next_change(versions, at), shown))
    return shown


def forget(rt: Runtime) -> None:
    """Drop what this process kept (tests)."""
    cache_of(rt).clear()


# ---- the staff preview -------------------------------------------------------------------------


@dataclass(frozen=True)
class PreviewRequest:
    kind: str | None
    key: str | None
    brand_code: str | None = None
    player_id: uuid.UUID | None = None
    language: str | None = None
    country: str | None = None
    at: datetime | None = None
    draft_item_id: uuid.UUID | None = None


_DRAFT = text(
    """SELECT i.id, i.brand_id, i.kind, i.key, i.latest_version,
              v.segment_id, v.jurisdictions, v.priority, v.default_language, v.translations
       FROM content_items i JOIN content_versions v ON v.item_id = i.id AND v.version = i.latest_version
       WHERE i.id = :id"""
)


async def preview(rt: Runtime, viewer: Viewer, request: PreviewRequest) -> tuple[Audience, list[Shown]]:
    """What a given player (or an anonymous visitor of a brand, from a country) would see at an instant —
    with a draft's newest version served as if published, when one is named. Nothing is cached; staff
    scoped to a brand preview only its players and content."""
    at = utc(request.at) or clock.now()
    language = language_asked(request.language, None)
    draft: LiveVersion | None = None
    draft_brand: uuid.UUID | None = None
    if request.draft_item_id is not None:
        async with rt.database.statement() as conn:
            row = (await conn.execute(_DRAFT, {"id": request.draft_item_id})).first()
        if row is None or (viewer.brand_id is not None and row.brand_id != viewer.brand_id):
            raise NotFound("No such content item.", field="draftItemId")
        draft_brand = row.brand_id
        draft = _version_of(row, row.latest_version, None, None)  # served whatever the instant
    kind = request.kind or (draft.kind if draft else None)
    key = request.key or (draft.key if draft else None)
    if not kind or not key:
        raise DomainError("Name the kind and key to preview, or a draft item.", field="key")
    if request.player_id is not None:
        audience, _ = await player_audience(rt, request.player_id, language)
        if viewer.brand_id is not None and audience.brand_id != viewer.brand_id:
            raise NotFound("No such player.", field="playerId")
    elif request.brand_code is None and draft_brand is not None:
        audience = await _visitor_of_brand(rt, draft_brand, language, request.country)
    else:
        audience = await visitor_audience(rt, viewer, request.brand_code, language, request.country)
    if draft_brand is not None and draft_brand != audience.brand_id:
        raise DomainError("The draft belongs to another brand than the audience.", field="draftItemId")
    versions = await live_versions(rt, audience.brand_id, at)
    if draft is not None:
        versions = [v for v in versions if v.item_id != draft.item_id] + [draft]
    return audience, choose(versions, audience, kind, key, at)


async def _visitor_of_brand(rt: Runtime, brand_id: uuid.UUID, language: str | None, country: str | None) -> Audience:
    async with rt.database.statement() as conn:
        row = (await conn.execute(text("SELECT jurisdictions FROM brands WHERE id = :id"), {"id": brand_id})).first()
    where = (country or "").strip().upper()
    profile = resolve(row.jurisdictions, where) if row is not None and where else None
    return Audience(brand_id, language or LANGUAGE_FALLBACK, profile.code if profile else None)
