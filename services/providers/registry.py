"""Game providers: add one, change its name or launch URL, set or rotate what it signs with, switch it
on or off, list them.

A provider's code is the path of its wallet routes (`/providers/{code}/…`): lowercase letters, digits,
'-' or '_', and it never changes. Its protocol fixes its credential: Hub88 an RSA public key, SoftSwiss
(HMAC) and Pragmatic Play (MD5 with a secret key) a reference to a secret in settings
(services/providers/credentials.py). The wallet routes read the provider row on every call, so a new
key, a new reference or a switch-off holds from the next call: the old key stops verifying at once, and
a disabled provider is refused in its protocol (Hub88 `RS_ERROR_INVALID_PARTNER`, SoftSwiss 403,
Pragmatic Play error 5). Each change takes the provider's row lock and is audited (no brand: providers
are platform-wide) with the key's fingerprint, never the key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from authz.subjects import Viewer
from core.db import changed
from core.errors import DomainError, ErrorCode, NotFound
from core.runtime import CATALOGUE, Runtime
from models.games import Provider, ProviderProtocol
from services import audit
from services.providers import credentials

PROTOCOLS = tuple(p.value for p in ProviderProtocol)
RSA_PROTOCOLS = frozenset({ProviderProtocol.HUB88.value})
CODE_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
MAX_NAME = 120
MAX_REASON = 1000
MAX_URL = 500


@dataclass(frozen=True)
class ProviderView:
    """What may be shown of a provider's credentials: never the key, never the secret."""

    public_key_fingerprint: str | None
    public_key_bits: int | None
    secret_ref: str | None
    secret_configured: bool  # SoftSwiss: the secret it names (or its code's) is in this server's settings


def view(provider: Provider, secrets: dict[str, str]) -> ProviderView:
    key = credentials.describe_public_key(provider.public_key_pem)
    configured = provider.protocol not in RSA_PROTOCOLS and bool(
        credentials.secret_for(secrets, provider.code, provider.secret_ref)
    )
    return ProviderView(
        public_key_fingerprint=key.fingerprint if key else None,
        public_key_bits=key.bits if key else None,
        secret_ref=provider.secret_ref,
        secret_configured=configured,
    )


def audit_state(provider: Provider) -> dict[str, Any]:
    """The provider as the audit log records it (the key as its fingerprint only)."""
    key = credentials.describe_public_key(provider.public_key_pem)
    return {
        "code": provider.code,
        "name": provider.name,
        "protocol": provider.protocol,
        "enabled": provider.enabled,
        "launch_url": provider.launch_url,
        "game_list_url": provider.game_list_url,
        "free_rounds_url": provider.free_rounds_url,
        "public_key_fingerprint": key.fingerprint if key else None,
        "secret_ref": provider.secret_ref,
    }


def provider_code(value: str, *, field: str = "code") -> str:
    code = value.strip().lower()
    if not CODE_PATTERN.fullmatch(code):
        raise DomainError(
            "A provider code is 1 to 32 lowercase letters, digits, '-' or '_', starting with a letter or digit.",
            field=field,
        )
    return code


def _name(value: str) -> str:
    value = value.strip()
    if not value or len(value) > MAX_NAME or "\x00" in value:
        raise DomainError(f"Give a name of 1 to {MAX_NAME} characters.", field="name")
    return value


def check_url(value: str, *, field: str) -> str | None:
    """An http(s) URL or a path on this platform ("/static/…"); "" means none."""
    value = value.strip()
    if not value:
        return None
    if len(value) > MAX_URL:
        raise DomainError(f"At most {MAX_URL} characters.", field=field)
    try:
        parts = urlsplit(value)
    except ValueError:  # "http://[oops": a bracket that opens no IPv6 address
        raise DomainError("Give an http(s) URL or a path starting with /.", field=field) from None
    if not (parts.scheme in ("http", "https") and parts.netloc) and not (value.startswith("/") and not parts.netloc):
        raise DomainError("Give an http(s) URL or a path starting with /.", field=field)
    return value


def check_reason(reason: str | None, *, required: bool = False) -> str | None:
    reason = (reason or "").strip()
    if required and not reason:
        raise DomainError("Give a reason (it goes to the audit log).", field="reason")
    if len(reason) > MAX_REASON:
        raise DomainError(f"At most {MAX_REASON} characters.", field="reason")
    return reason or None


def _launch_url(value: str) -> str | None:
    return check_url(value, field="launchUrl")


def _game_list_url(value: str) -> str | None:
    """Where the scheduled sync pulls the game list from: an http(s) URL (the platform fetches it)."""
    url = check_url(value, field="gameListUrl")
    if url is not None and url.startswith("/"):
        raise DomainError("Give the provider's http(s) URL of its game list.", field="gameListUrl")
    return url


def _free_rounds_url(value: str) -> str | None:
    """The base of the provider's free-rounds API (Hub88's Freebets shape: `{base}/freebet/rewards/create|cancel`):
    an absolute http(s) URL the platform calls, with no query, fragment nor credentials (they would be sent to
    every call, or lost)."""
    url = check_url(value, field="freeRoundsUrl")
    if url is None:
        return None
    parts = urlsplit(url)
    if url.startswith("/") or parts.query or parts.fragment or parts.username or parts.password:
        raise DomainError(
            "Give the base http(s) URL of the provider's free-rounds API, without query, fragment or credentials.",
            field="freeRoundsUrl",
        )
    return url.rstrip("/")


async def get_by_code(db: AsyncSession, code: str, *, lock: bool = False, field: str = "provider") -> Provider:
    stmt = select(Provider).where(col(Provider.code) == code.strip().lower())
    if lock:
        stmt = stmt.with_for_update()
    provider: Provider | None = await db.scalar(stmt)
    if provider is None:
        raise NotFound(f"No provider {code.strip()!r}.", field=field)
    return provider


def _credential_for(protocol: str, *, public_key: bool) -> None:
    if public_key and protocol not in RSA_PROTOCOLS:
        raise DomainError(
            f"A {protocol} provider signs with an HMAC secret, not an RSA key: set its secret reference.",
            field="publicKeyPem",
        )
    if not public_key and protocol in RSA_PROTOCOLS:
        raise DomainError(
            f"A {protocol} provider signs with an RSA key, not an HMAC secret: set its public key.", field="secretRef"
        )


# ---- commands -----------------------------------------------------------------------------------


async def add_provider(
    rt: Runtime,
    actor: Viewer,
    *,
    code: str,
    name: str,
    protocol: str,
    launch_url: str | None = None,
    public_key_pem: str | None = None,
    secret_ref: str | None = None,
    enabled: bool = True,
    reason: str | None = None,
    game_list_url: str | None = None,
    free_rounds_url: str | None = None,
) -> Provider:
    """A new provider. Hub88 providers answer nothing until their public key is set (here or later)."""
    code = provider_code(code)
    protocol = protocol.strip().lower()
    if protocol not in PROTOCOLS:
        raise DomainError(f"One of: {', '.join(PROTOCOLS)}.", field="protocol")
    values: dict[str, Any] = {"code": code, "name": _name(name), "protocol": protocol, "enabled": enabled}
    if launch_url is not None:
        values["launch_url"] = _launch_url(launch_url)
    if game_list_url is not None:
        values["game_list_url"] = _game_list_url(game_list_url)
    if free_rounds_url is not None:
        values["free_rounds_url"] = _free_rounds_url(free_rounds_url)
    if public_key_pem:
        _credential_for(protocol, public_key=True)
        values["public_key_pem"] = credentials.parse_public_key(public_key_pem).pem
    if secret_ref:
        _credential_for(protocol, public_key=False)
        values["secret_ref"] = credentials.check_secret_ref(secret_ref, rt.settings.provider_secrets)
    note = check_reason(reason)
    try:
        async with rt.database.transaction() as db:
            changed(db, CATALOGUE)  # after commit: the lobby and kept answers are dropped everywhere
            if await db.scalar(select(col(Provider.id)).where(col(Provider.code) == code)) is not None:
                raise DomainError(f"A provider {code!r} exists already.", field="code", code=ErrorCode.ALREADY_EXISTS)
            provider = Provider(**values)
            db.add(provider)
            await db.flush()
            await audit.append(
                db,
                actor=actor,
                action="game_provider.added",
                target_type="game_provider",
                target_id=provider.id,
                after=audit_state(provider),
                reason=note,
            )
    except IntegrityError as exc:  # a concurrent add of the same code
        raise DomainError(f"A provider {code!r} exists already.", field="code", code=ErrorCode.ALREADY_EXISTS) from exc
    return provider


async def update_provider(
    rt: Runtime,
    actor: Viewer,
    code: str,
    *,
    name: str | None = None,
    launch_url: str | None = None,
    reason: str | None = None,
    game_list_url: str | None = None,
    free_rounds_url: str | None = None,
) -> Provider:
    """Change a provider's name, launch URL, game-list URL or free-rounds API URL (None: unchanged; an empty URL
    removes it: free rounds then reach it in the launch URL, docs/free-rounds.md)."""
    values: dict[str, Any] = {}
    if name is not None:
        values["name"] = _name(name)
    if launch_url is not None:
        values["launch_url"] = _launch_url(launch_url)
    if game_list_url is not None:
        values["game_list_url"] = _game_list_url(game_list_url)
    if free_rounds_url is not None:
        values["free_rounds_url"] = _free_rounds_url(free_rounds_url)
    return await _change(rt, actor, code, values, action="game_provider.updated", reason=check_reason(reason))


async def set_public_key(rt: Runtime, actor: Viewer, code: str, pem: str, *, reason: str | None) -> Provider:
    """Set or rotate an RSA provider's public key: calls signed with the old key fail from now on."""
    key = credentials.parse_public_key(pem)
    note = check_reason(reason, required=True)
    async with rt.database.transaction() as db:
        provider = await get_by_code(db, code, lock=True)
        _credential_for(provider.protocol, public_key=True)
        return await _apply(db, actor, provider, {"public_key_pem": key.pem}, "game_provider.key_set", note)


async def set_secret_ref(rt: Runtime, actor: Viewer, code: str, ref: str, *, reason: str | None) -> Provider:
    """Point a SoftSwiss-style provider at another PROVIDER_SECRETS entry (a rotation: the new secret is
    deployed in the settings first, then referenced here; the old one stops verifying at once)."""
    checked = credentials.check_secret_ref(ref, rt.settings.provider_secrets)
    note = check_reason(reason, required=True)
    async with rt.database.transaction() as db:
        provider = await get_by_code(db, code, lock=True)
        _credential_for(provider.protocol, public_key=False)
        return await _apply(db, actor, provider, {"secret_ref": checked}, "game_provider.secret_ref_set", note)


async def set_enabled(rt: Runtime, actor: Viewer, code: str, enabled: bool, *, reason: str | None) -> Provider:
    """Switch a provider on or off: off, its wallet calls are refused and its games leave every lobby."""
    return await _change(
        rt,
        actor,
        code,
        {"enabled": enabled},
        action="game_provider.status_changed",
        reason=check_reason(reason, required=True),
    )


async def _change(
    rt: Runtime, actor: Viewer, code: str, values: dict[str, Any], *, action: str, reason: str | None
) -> Provider:
    async with rt.database.transaction() as db:
        changed(db, CATALOGUE)  # after commit: the lobby and kept answers are dropped everywhere
        provider = await get_by_code(db, code, lock=True)
        return await _apply(db, actor, provider, values, action, reason)


async def _apply(
    db: AsyncSession, actor: Viewer, provider: Provider, values: dict[str, Any], action: str, reason: str | None
) -> Provider:
    """Set the values on the locked row and audit what changed (nothing changed: nothing written)."""
    before = audit_state(provider)
    for column, value in values.items():
        setattr(provider, column, value)
    await audit.append_changes(
        db,
        actor=actor,
        action=action,
        target_type="game_provider",
        target_id=provider.id,
        before=before,
        after=audit_state(provider),
        reason=reason,
        naming={"code": provider.code},
    )
    return provider


# ---- queries ------------------------------------------------------------------------------------


def listed_providers() -> SelectOfScalar[Provider]:
    """Every provider, disabled ones included (paginate on `created_at, id`)."""
    return select(Provider)


@dataclass(frozen=True)
class ProviderSummary:
    provider: Provider
    shown: ProviderView
    games: int


async def summaries(rt: Runtime) -> list[ProviderSummary]:
    """Every provider by code, with what may be shown of its credentials and its number of games."""
    from services.providers.catalog import game_counts

    async with rt.database.session() as db:
        providers = list((await db.scalars(listed_providers().order_by(col(Provider.code)))).all())
        counts = await game_counts(db, [p.id for p in providers])
    secrets = rt.settings.provider_secrets
    return [ProviderSummary(p, view(p, secrets), counts.get(p.id, 0)) for p in providers]
