"""Players: registration, login, profile, password, status.

Invariants: an email is unique within a brand (the database enforces it, lower-cased); a player
is at least the brand's minimum age on the day of registration; only an active player can log in
or refresh a session; a status change away from active revokes every session at once. What a
viewer may read is decided in SQL by `readable_players`, never by filtering results afterwards.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import bindparam
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from authz.passwords import hash_password, password_problem, verify_password
from authz.subjects import RequestMeta, Viewer
from core import outbox
from core.clock import clock
from core.errors import DomainError, ErrorCode, NotFound
from core.runtime import Runtime
from models.auth import AuthSession
from models.brands import Brand
from models.players import Player, PlayerStatus
from services import audit, auth, brands, player_locale, wallet
from services.affiliates import attribution as affiliate_attribution
from services.auth import IssuedTokens, RateLimited
from services.rg import exclusions as rg_exclusions
from services.rg import gates as rg_gates
from services.rg import matching
from services.rg.gates import LoginPurpose
from services.rg.profiles import Profile
from services.rg.registers import Person
from services.risk import gates as risk_gates
from services.risk import lists as risk_lists
from services.risk import observe as risk_observe
from services.risk.lists import RiskBlocked
from services.scoping import scoped

ISO_COUNTRY_LENGTH = 2
# The postal address's parts (the country is the player's `country`), with their maximum lengths (the columns).
ADDRESS_FIELDS = {"address_line1": 200, "address_line2": 200, "city": 100, "postal_code": 16}
# Personal details a player may change.
PROFILE_FIELDS = ("first_name", "last_name", "phone", *ADDRESS_FIELDS)
LOCALE_FIELDS = ("language", "time_zone")  # announced apart (player.locale_changed): not personal details
_GRAPHQL_NAMES = {"address_line1": "addressLine1", "address_line2": "addressLine2", "city": "city",
                  "postal_code": "postalCode"}  # fmt: skip
POSTAL_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 \-]*$")


def normalise_email(email: str, *, field: str = "email") -> str:
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise DomainError("Enter a valid email address.", field=field) from exc


def age_on(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def readable_players(viewer: Viewer) -> SelectOfScalar[Player]:
    """Players this viewer may read, as SQL: a player sees only themselves, staff their brand."""
    return scoped(select(Player), viewer, player_column=col(Player.id), brand_column=col(Player.brand_id))


# A player's own row, built once (`me` and the lobby's audience read it on every page).
_OWN_ROW = select(Player).where(col(Player.id) == bindparam("id"))


async def readable_many(db: AsyncSession, viewer: Viewer, ids: list[uuid.UUID]) -> dict[uuid.UUID, Player]:
    """The players among `ids` this viewer may read (for DataLoaders)."""
    if viewer.is_player:  # the ownership rule (services/scoping.py) for a player: themselves only
        if viewer.id is None or viewer.id not in ids:
            return {}
        own: Player | None = await db.scalar(_OWN_ROW, {"id": viewer.id})
        return {own.id: own} if own is not None else {}
    rows = (await db.scalars(readable_players(viewer).where(col(Player.id).in_(ids)))).all()
    return {row.id: row for row in rows}


async def get_readable(db: AsyncSession, viewer: Viewer, player_id: uuid.UUID) -> Player:
    player: Player | None = await db.scalar(readable_players(viewer).where(col(Player.id) == player_id))
    if player is None:
        raise NotFound("No such player.", field="playerId")
    return player


@dataclass(frozen=True)
class Registration:
    brand: str
    email: str
    password: str
    date_of_birth: date
    country: str
    currency: str
    marketing_consent: bool = False
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    address_line1: str | None = None
    address_line2: str | None = None
    city: str | None = None
    postal_code: str | None = None
    affiliate_click: str | None = None  # the click id of the visitor's last affiliate link (services/affiliates)
    language: str | None = None  # a language code (services/player_locale.py); none: en
    time_zone: str | None = None  # an IANA time zone name; none: UTC


def check_address(address: dict[str, str | None]) -> None:
    """A postal address is optional, but one that is given is whole: a first line and a city (a postal code
    where the country has them: it is not required), each within its column's length, the postal code of
    letters, digits, spaces and hyphens. Refusals name the GraphQL field."""
    for name, maximum in ADDRESS_FIELDS.items():
        value = address.get(name)
        if value is not None and len(value) > maximum:
            raise DomainError(f"At most {maximum} characters.", field=_GRAPHQL_NAMES[name])
    if not any(address.values()):
        return
    for name in ("address_line1", "city"):
        if not address.get(name):
            raise DomainError("An address needs its first line and its city.", field=_GRAPHQL_NAMES[name])
    code = address.get("postal_code")
    if code and not POSTAL_CODE.match(code):
        raise DomainError("A postal code holds letters, digits, spaces and hyphens.", field="postalCode")


def _address_of(form: Registration | ProfileChange) -> dict[str, str | None]:
    return {name: _clean(getattr(form, name)) for name in ADDRESS_FIELDS}


def _check_registration(brand: Brand, form: Registration) -> Profile:
    """The form against the brand and the player's jurisdiction; returns the jurisdiction's profile."""
    country = form.country.upper()
    if len(country) != ISO_COUNTRY_LENGTH or not country.isalpha():
        raise DomainError("Use a two-letter ISO country code.", field="country")
    if brand.countries and country not in brand.countries:
        raise DomainError(
            f"{brand.name} does not accept players from {country}.", field="country", code=ErrorCode.COUNTRY_NOT_ALLOWED
        )
    check_address(_address_of(form))
    if form.language is not None:
        player_locale.language(form.language)
    if form.time_zone is not None:
        player_locale.time_zone(form.time_zone)
    rules = rg_gates.jurisdiction_for(brand, country)
    minimum_age = max(brand.minimum_age, rules.minimum_age)
    if age_on(form.date_of_birth, clock.now().date()) < minimum_age:
        raise DomainError(f"Players must be at least {minimum_age}.", field="dateOfBirth", code=ErrorCode.UNDERAGE)
    if form.currency.upper() not in brand.currencies:
        raise DomainError(
            f"{brand.name} does not offer {form.currency.upper()}.",
            field="currency",
            code=ErrorCode.CURRENCY_NOT_ALLOWED,
        )
    problem = password_problem(form.password)
    if problem:
        raise DomainError(problem, field="password", code=ErrorCode.WEAK_PASSWORD)
    return rules


async def register(rt: Runtime, form: Registration, meta: RequestMeta) -> tuple[Player, IssuedTokens]:
    """Create the account and log it in (one transaction: nothing is half-created)."""
    email = normalise_email(form.email)
    async with rt.database.session() as db:
        brand = await brands.get_by_code(db, form.brand)
    rules = _check_registration(brand, form)
    register_answer = await rg_gates.check_registers(
        rt,
        rules,
        Person(email, form.date_of_birth, _clean(form.first_name), _clean(form.last_name), form.country.upper()),
    )
    await rg_gates.check_new_person(
        rt,
        matching.Identity.of(
            email=email,
            first_name=_clean(form.first_name),
            last_name=_clean(form.last_name),
            date_of_birth=form.date_of_birth,
            phone=_clean(form.phone),
            country=form.country.upper(),
        ),
    )
    address = _address_of(form)
    password_hash = await hash_password(form.password)
    seen = risk_observe.observed(meta)
    try:
        async with rt.database.transaction() as db:
            player = Player(
                brand_id=brand.id,
                email=email,
                password_hash=password_hash,
                first_name=_clean(form.first_name),
                last_name=_clean(form.last_name),
                phone=_clean(form.phone),
                address_line1=address["address_line1"],
                address_line2=address["address_line2"],
                city=address["city"],
                postal_code=address["postal_code"],
                date_of_birth=form.date_of_birth,
                country=form.country.upper(),
                currency=form.currency.upper(),
                marketing_consent=form.marketing_consent,
                jurisdiction=rules.code,
                language=player_locale.language(form.language) if form.language else player_locale.DEFAULT_LANGUAGE,
                time_zone=player_locale.time_zone(form.time_zone)
                if form.time_zone
                else player_locale.DEFAULT_TIME_ZONE,
            )
            matching.store_keys(player)
            db.add(player)
            await db.flush()
            await risk_gates.check_registration(db, player, seen)
            await wallet.player_accounts(db, player.id, brand.id, player.currency)
            await outbox.emit(
                db,
                "player.registered",
                f"player:{player.id}",
                {
                    "player_id": str(player.id),
                    "currency": player.currency,
                    "jurisdiction": player.jurisdiction,
                    "marketing_consent": player.marketing_consent,
                },
                brand_id=brand.id,
            )
            # After `player.registered`, so a consumer reads the registration before its attribution.
            await affiliate_attribution.attribute(
                db,
                player_id=player.id,
                brand_id=brand.id,
                brand_code=brand.code,
                click_id=affiliate_attribution.click_id_of(form.affiliate_click),
            )
            tokens = await auth.start_session(
                db, rt, subject_type="player", subject_id=player.id, brand_id=brand.id, meta=meta
            )
            await _logged_in(db, player, tokens.session_id, LoginPurpose.PLAY, method="registration")
            await risk_gates.registered(db, player, tokens.session_id, seen)
            await rg_gates.after_login(db, player, tokens.session_id, LoginPurpose.PLAY, register_answer)
            # Last in the transaction: the audit append holds the chain's lock until commit.
            actor = Viewer(kind="player", id=player.id, brand_id=brand.id, meta=meta)
            await audit.append(
                db,
                actor=actor,
                action="player.registered",
                target_type="player",
                target_id=player.id,
                brand_id=brand.id,
                after={"email": email, "country": player.country, "currency": player.currency},
            )
    except RiskBlocked as refusal:  # rolled back: no account; the refusal is flagged for review
        await risk_lists.record_blocked(
            rt, brand_id=brand.id, player_id=None, occasion=risk_lists.Occasion.REGISTRATION, refusal=refusal
        )
        raise
    except IntegrityError as exc:
        raise DomainError(
            "An account with this email already exists.", field="email", code=ErrorCode.ALREADY_EXISTS
        ) from exc
    return player, tokens


def _clean(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


async def _check_login_rate(rt: Runtime, ip: str | None, account_key: str) -> None:
    """Count this attempt before the (slow) password check, atomically: parallel guesses cannot all
    slip past a check-then-count. A success clears the account's count again."""
    settings = rt.settings
    if ip:
        by_ip = await rt.rate_limiter.hit(
            f"login:ip:{ip}", limit=settings.login_attempts_per_ip, window=settings.login_ip_window_seconds
        )
        if not by_ip.allowed:
            raise RateLimited(by_ip.retry_after)
    attempts = await rt.rate_limiter.hit(
        f"login:fail:{account_key}",
        limit=settings.login_failures_per_account,
        window=settings.login_account_window_seconds,
    )
    if not attempts.allowed:
        raise RateLimited(attempts.retry_after)


async def login(
    rt: Runtime,
    *,
    brand_code: str,
    email: str,
    password: str,
    meta: RequestMeta,
    purpose: LoginPurpose = LoginPurpose.PLAY,
) -> tuple[Player, IssuedTokens]:
    """A session to play, or (`WITHDRAWAL`, also while self-excluded) one that can only withdraw."""
    email = email.strip().lower()
    async with rt.database.session() as db:
        brand = await brands.get_by_code(db, brand_code)
    # Keyed on the resolved brand: "royal" and " royal " are one account, so one lockout.
    account_key = f"player:{brand.id}:{email}"
    await _check_login_rate(rt, meta.ip, account_key)
    async with rt.database.session() as db:
        player = await db.scalar(select(Player).where(col(Player.brand_id) == brand.id, col(Player.email) == email))
    valid = await verify_password(player.password_hash if player else None, password)
    anonymous = Viewer(meta=meta)
    if player is None or not valid:
        async with rt.database.transaction() as db:
            await audit.append(
                db,
                actor=anonymous,
                action="player.login_failed",
                brand_id=brand.id,
                actor_id=player.id if player else None,
                target_type="player",
                target_id=player.id if player else None,
                after={"email": email},
            )
        raise DomainError("Wrong email or password.", code=ErrorCode.INVALID_CREDENTIALS)
    if player.status != PlayerStatus.ACTIVE:
        code = ErrorCode.ACCOUNT_CLOSED if player.status == PlayerStatus.CLOSED else ErrorCode.ACCOUNT_BLOCKED
        raise DomainError(f"This account is {player.status}.", code=code)
    await rt.rate_limiter.reset(f"login:fail:{account_key}")
    register_answer = await rg_gates.check_login(rt, player, purpose)
    async with rt.database.transaction() as db:
        actor = Viewer(kind="player", id=player.id, brand_id=brand.id, meta=meta)
        tokens = await auth.start_session(
            db,
            rt,
            subject_type="player",
            subject_id=player.id,
            brand_id=brand.id,
            meta=meta,
            scope=rg_gates.session_scope(purpose),
        )
        await _logged_in(db, player, tokens.session_id, purpose, method="password")
        await risk_gates.logged_in(db, player, tokens.session_id, meta)
        await rg_gates.after_login(db, player, tokens.session_id, purpose, register_answer)
        await audit.append(
            db,
            actor=actor,
            action="player.login",
            target_type="session",
            target_id=tokens.session_id,
            brand_id=brand.id,
            after={"purpose": purpose.value},
        )
    return player, tokens


async def _logged_in(
    db: AsyncSession, player: Player, session_id: uuid.UUID, purpose: LoginPurpose, *, method: str
) -> None:
    """The event of a login: how the player signed in, never where from (no IP address or device)."""
    await outbox.emit(
        db,
        "player.logged_in",
        f"player:{player.id}",
        {
            "player_id": str(player.id),
            "session_id": str(session_id),
            "purpose": purpose.value,
            "method": method,
            "two_factor": False,  # players sign in with a password only (staff use TOTP: services/staff.py)
        },
        brand_id=player.brand_id,
    )


@dataclass(frozen=True)
class ProfileChange:
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    address_line1: str | None = None
    address_line2: str | None = None
    city: str | None = None
    postal_code: str | None = None
    marketing_consent: bool | None = None
    language: str | None = None
    time_zone: str | None = None


async def update_profile(rt: Runtime, viewer: Viewer, change: ProfileChange) -> Player:
    async with rt.database.transaction() as db:
        player: Player | None = await db.scalar(readable_players(viewer).where(col(Player.id) == viewer.id))
        if player is None:
            raise NotFound("No such player.")
        await wallet.lock_player_money(db, player.id, standing=True)  # re-read under the player's row lock
        before = _profile(player)
        for name in PROFILE_FIELDS:
            value = getattr(change, name)
            if value is not None:
                setattr(player, name, _clean(value))
        if change.phone and not _clean(change.phone):
            raise DomainError("Enter a phone number.", field="phone")
        # Each part given replaces its own (an empty one clears it); the address that results must be whole.
        check_address({name: getattr(player, name) for name in ADDRESS_FIELDS})
        matching.store_keys(player)
        if change.marketing_consent is not None:
            if change.marketing_consent and await rg_exclusions.active(db, player.id) is not None:
                raise DomainError(
                    "Marketing stays off while a time-out or self-exclusion lasts.",
                    field="marketingConsent",
                    code=ErrorCode.NOT_ALLOWED,
                )
            player.marketing_consent = change.marketing_consent
        if change.language is not None:
            player.language = player_locale.language(change.language)
        if change.time_zone is not None:
            player.time_zone = player_locale.time_zone(change.time_zone)
        await db.flush()
        await _announce_profile(db, player, before)
        await audit.append(
            db,
            actor=viewer,
            action="player.profile_updated",
            target_type="player",
            target_id=player.id,
            brand_id=player.brand_id,
            before=before,
            after=_profile(player),
        )
    # New details can make this account match an excluded person (or an excluded account match another):
    # the exclusion reaches it now, not only at the next login. In a transaction of its own, which locks
    # the person's accounts in id order: this one's row, already held above, could come after another's.
    await rg_exclusions.share(rt, player)
    return player


async def _announce_profile(db: AsyncSession, player: Player, before: dict[str, Any]) -> None:
    """The names of the details that changed (their values are personal data: they stay inside), and the
    marketing consent if it changed."""
    after = _profile(player)
    changed = [name for name in PROFILE_FIELDS if before[name] != after[name]]
    if changed:
        await outbox.emit(
            db,
            "player.profile_changed",
            f"player:{player.id}",
            {"player_id": str(player.id), "fields": changed},
            brand_id=player.brand_id,
        )
    if before["marketing_consent"] != after["marketing_consent"]:
        await outbox.emit(
            db,
            "player.marketing_consent_changed",
            f"player:{player.id}",
            {"player_id": str(player.id), "consent": player.marketing_consent, "cause": "player"},
            brand_id=player.brand_id,
        )
    if locale := [name for name in LOCALE_FIELDS if before[name] != after[name]]:
        await outbox.emit(
            db,
            "player.locale_changed",
            f"player:{player.id}",
            {"player_id": str(player.id), "fields": locale},
            brand_id=player.brand_id,
        )


def _profile(player: Player) -> dict[str, Any]:
    return {
        "first_name": player.first_name,
        "last_name": player.last_name,
        "phone": player.phone,
        **{name: getattr(player, name) for name in ADDRESS_FIELDS},
        "marketing_consent": player.marketing_consent,
        "language": player.language,
        "time_zone": player.time_zone,
    }


async def set_status(rt: Runtime, viewer: Viewer, player_id: uuid.UUID, status: PlayerStatus, reason: str) -> Player:
    """Staff change a player's status; leaving `active` ends every session immediately."""
    if not reason.strip():
        raise DomainError("Give a reason.", field="reason")
    async with rt.database.transaction() as db:
        player: Player | None = await db.scalar(readable_players(viewer).where(col(Player.id) == player_id))
        if player is None:
            raise NotFound("No such player.", field="playerId")
        await wallet.lock_player_money(db, player.id, standing=True)  # re-read under the player's row lock
        before = {"status": player.status, "status_reason": player.status_reason}
        if player.status == PlayerStatus.CLOSED and status != PlayerStatus.CLOSED:
            raise DomainError("A closed account cannot be reopened.", field="status", code=ErrorCode.NOT_ALLOWED)
        player.status = status.value
        player.status_reason = reason.strip()
        revoked: list[uuid.UUID] = []
        if status != PlayerStatus.ACTIVE:
            revoked = await auth.revoke_sessions(
                db, subject_type="player", subject_id=player.id, reason=f"account_{status.value}"
            )
        await db.flush()
        await outbox.emit(
            db,
            "player.status_changed",
            f"player:{player.id}",
            {
                "player_id": str(player.id),
                "status": player.status,
                "staff_id": str(viewer.id) if viewer.is_staff and viewer.id else None,
            },
            brand_id=player.brand_id,
        )
        await audit.append(
            db,
            actor=viewer,
            action="player.status_changed",
            target_type="player",
            target_id=player.id,
            brand_id=player.brand_id,
            before=before,
            after={"status": player.status, "status_reason": player.status_reason},
            reason=reason.strip(),
        )
    await auth.after_commit_revoked(rt, revoked)
    return player


def readable_sessions(viewer: Viewer, player_id: uuid.UUID) -> SelectOfScalar[AuthSession]:
    """A player's sessions, if the viewer may read the player (SQL ownership filter)."""
    readable = readable_players(viewer).where(col(Player.id) == player_id).with_only_columns(col(Player.id))
    return select(AuthSession).where(
        col(AuthSession.subject_type) == "player", col(AuthSession.subject_id).in_(readable.scalar_subquery())
    )
