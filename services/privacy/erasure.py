"""Erasure by pseudonymisation, and the sweep that finishes it when retention periods end.

Invariants:
- The books and the audit chain are never rewritten. Ledger rows, payments, rounds and bonuses hold the
  player's id, not their identity: they stay, so `croupier ledger verify` and `croupier audit verify`
  stay clean. Audit records are not touched at all (docs/privacy.md: what they may still hold).
- Refused, with a stable code, while an AML case about the player is open or a SAR was filed
  (`ERASURE_AML_HOLD`), while money is in any of their accounts (`ERASURE_BALANCE`), or while a
  payment is in flight (`ERASURE_PAYMENT_PENDING`). The checks run under the locks of the player row and
  their ledger accounts, in the erasure's own transaction.
- At once: the account closes, its sessions end, and the direct identifiers of categories without a
  retention duty (retention.toml, years = 0) are replaced by the stable pseudonym or nulled. Each other
  category is kept and marked by a `privacy_holds` row: until when, and why.
- `sweep` erases every held category whose period has passed, then marks the hold released, except while
  an AML case about the player is open or a SAR was filed (the erasure's own AML blocker). Both
  `erase` and `sweep` are idempotent: a second run finds nothing to do and changes nothing.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Exists, exists, or_, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from authz.subjects import SYSTEM, Viewer
from core import outbox
from core.catalogue.privacy import CATEGORIES
from core.clock import clock
from core.errors import DomainError, ErrorCode
from core.logging import get_logger
from core.money import format_amount
from core.runtime import Runtime
from core.storage import StorageUnavailable
from models.aml_cases import AmlCase, CaseOutcome, CaseState
from models.players import Player, PlayerStatus
from models.privacy import PrivacyHold, PrivacyRequest, RequestKind, RequestStatus
from services import audit, auth, players
from services.privacy.retention import Rule, rules_for
from services.scoping import scoped
from services.wallet import lock_player_money

log = get_logger(__name__)

ERASED_DOMAIN = "erased.invalid"  # RFC 2606: never a deliverable address
UNUSABLE_PASSWORD = "!erased"  # not an argon2 hash: nothing verifies against it
STATUS_REASON = "erased on request (privacy)"
ERASED_TEXT = "[erased]"
MAX_REASON = 500


@dataclass(frozen=True)
class Blocker:
    code: ErrorCode
    reason: str


class ErasureBlocked(DomainError):
    """What stands in the way; `blockers` lists all of them (the CLI prints each), the error is the first
    (in the order AML, money, payments: the one that takes longest to settle first)."""

    def __init__(self, blockers: list[Blocker]) -> None:
        super().__init__(blockers[0].reason, code=blockers[0].code)
        self.blockers = blockers


@dataclass(frozen=True)
class Erasure:
    player_id: uuid.UUID
    pseudonym: str
    erased_at: datetime
    erased_now: tuple[str, ...]  # categories erased by this call
    held: tuple[PrivacyHold, ...] = field(default_factory=tuple)
    already: bool = False  # the player had been erased before: nothing changed


def pseudonym_of(player_id: uuid.UUID) -> str:
    """Stable: the same player always gets the same pseudonym (a re-run changes nothing)."""
    return "erased-" + hashlib.sha256(b"croupier-privacy:" + player_id.bytes).hexdigest()[:16]


# ---- requests ---------------------------------------------------------------------------------


def _reason(reason: str | None, *, required: bool) -> str | None:
    cleaned = (reason or "").strip()
    if required and not cleaned:
        raise DomainError("Give a reason.", field="reason")
    if len(cleaned) > MAX_REASON:
        raise DomainError(f"A reason holds at most {MAX_REASON} characters.", field="reason")
    return cleaned or None


async def request_erasure(rt: Runtime, viewer: Viewer, reason: str | None = None) -> PrivacyRequest:
    """A player asks to be erased: recorded for the data-protection officer (asking again returns the
    request already waiting)."""
    if not viewer.is_player or viewer.id is None:
        raise DomainError("Only a player asks for their own erasure.", code=ErrorCode.NOT_ALLOWED)
    cleaned = _reason(reason, required=False)
    async with rt.database.transaction() as db:
        player = await players.get_readable(db, viewer, viewer.id)
        waiting = await _open_request(db, player.id)
        if waiting is not None:
            return waiting
        request = PrivacyRequest(
            player_id=player.id,
            brand_id=player.brand_id,
            kind=RequestKind.ERASURE.value,
            status=RequestStatus.REQUESTED.value,
            requested_by_type="player",
            requested_by_id=player.id,
            reason=cleaned,
        )
        db.add(request)
        await db.flush()
        await outbox.emit(
            db,
            "privacy.erasure_requested",
            f"player:{player.id}",
            {"player_id": str(player.id), "request_id": str(request.id)},
            brand_id=player.brand_id,
        )
        await audit.append(
            db,
            actor=viewer,
            action="privacy.erasure_requested",
            target_type="player",
            target_id=player.id,
            brand_id=player.brand_id,
            after={"request_id": str(request.id)},
        )
    return request


def waiting_requests(viewer: Viewer) -> SelectOfScalar[PrivacyRequest]:
    """The erasure requests waiting for a decision, in the viewer's brand scope (SQL filter)."""
    stmt = select(PrivacyRequest).where(
        col(PrivacyRequest.kind) == RequestKind.ERASURE.value,
        col(PrivacyRequest.status) == RequestStatus.REQUESTED.value,
    )
    return scoped(stmt, viewer, player_column=col(PrivacyRequest.player_id), brand_column=col(PrivacyRequest.brand_id))


async def _open_request(db: AsyncSession, player_id: uuid.UUID) -> PrivacyRequest | None:
    found: PrivacyRequest | None = await db.scalar(
        select(PrivacyRequest).where(
            col(PrivacyRequest.player_id) == player_id,
            col(PrivacyRequest.kind) == RequestKind.ERASURE.value,
            col(PrivacyRequest.status) == RequestStatus.REQUESTED.value,
        )
    )
    return found


# ---- blockers ---------------------------------------------------------------------------------

_AML = text(
    "SELECT count(*) FILTER (WHERE state <> 'closed') AS open, count(*) FILTER (WHERE outcome = 'sar_filed') AS sars "
    "FROM aml_cases WHERE player_id = :p"
)
_BALANCES = text(
    "SELECT id, purpose, currency, balance FROM ledger_accounts WHERE owner_type = 'player' AND owner_id = :ps "
    "ORDER BY id"
)
_IN_FLIGHT = text(
    "SELECT kind, count(*) AS n FROM payments WHERE player_id = :p "
    "AND status NOT IN ('succeeded', 'failed', 'paid', 'rejected', 'cancelled') GROUP BY kind ORDER BY kind"
)


async def blockers(db: AsyncSession, player_id: uuid.UUID) -> list[Blocker]:
    """What must be settled before this player can be erased (empty: nothing). Locks their accounts."""
    found: list[Blocker] = []
    params = {"p": player_id, "ps": str(player_id)}
    aml = (await db.execute(_AML, params)).one()
    if aml.open:
        found.append(Blocker(ErrorCode.ERASURE_AML_HOLD, f"{aml.open} AML case(s) about the player are open"))
    if aml.sars:
        found.append(Blocker(ErrorCode.ERASURE_AML_HOLD, "a SAR was filed about the player"))
    # The money locks (each cash account, in id order, through the one locking function) before the
    # balances are read for good: money moving at that moment is either in the balance read or waits for the erasure.
    accounts = (await db.execute(_BALANCES, params)).all()
    for account in accounts:
        if account.purpose == "cash":
            await lock_player_money(db, player_id, cash=account.id)
    for row in (await db.execute(_BALANCES, params)).all():
        if row.balance:
            amount = format_amount(row.balance, row.currency)
            found.append(Blocker(ErrorCode.ERASURE_BALANCE, f"{amount} {row.currency} in the {row.purpose} account"))
    for row in (await db.execute(_IN_FLIGHT, params)).all():
        found.append(Blocker(ErrorCode.ERASURE_PAYMENT_PENDING, f"{row.n} {row.kind}(s) still in flight"))
    return found


# ---- erasing a category -------------------------------------------------------------------------


def _generalised(born: date) -> date:
    """A date of birth reduced to its year (age bands in reports keep working; the day identifies)."""
    return date(born.year, 1, 1)


async def _erase_category(rt: Runtime, db: AsyncSession, player: Player, category: str) -> None:
    """Erase one category of the player's data (idempotent: erasing it twice is erasing it once)."""
    p = {"p": player.id, "ps": str(player.id)}
    if category == "contact":
        pseudonym = player.pseudonym or pseudonym_of(player.id)
        player.email = f"{pseudonym}@{ERASED_DOMAIN}"
        player.phone = None
        player.marketing_consent = False
        # Risk's copies of the same (services/risk): the request's device, address and browser, and the
        # signals made of them and of the mailbox and phone. Cluster membership holds no identifier and stays.
        await db.execute(
            text("UPDATE risk_observations SET ip = NULL, user_agent = NULL, device_id = NULL WHERE player_id = :p"),
            p,
        )
        await db.execute(
            text(
                "DELETE FROM risk_signals WHERE player_id = :p AND kind IN "
                "('email', 'email_domain', 'phone', 'ip', 'ip_network', 'user_agent', 'device')"
            ),
            p,
        )
        await db.execute(
            text(
                "UPDATE auth_sessions SET ip = NULL, user_agent = NULL, device = NULL "
                "WHERE subject_type = 'player' AND subject_id = :p"
            ),
            p,
        )
        await db.execute(
            text(
                "DELETE FROM refresh_tokens WHERE session_id IN "
                "(SELECT id FROM auth_sessions WHERE subject_type = 'player' AND subject_id = :p)"
            ),
            p,
        )
        await db.execute(text("UPDATE game_sessions SET ip = NULL WHERE player_id = :p"), p)
        # Marketing (services/crm): no retention duty. The audiences, tags and consents go; the messages stay
        # as a delivery log without what was rendered into them (the `crm-suppression` consumer cancels what is
        # still queued on `privacy.erased`, and the sender's check refuses an erased account meanwhile).
        for table in ("crm_segment_members", "crm_player_tags", "crm_consents"):
            await db.execute(text(f"DELETE FROM {table} WHERE player_id = :p"), p)  # noqa: S608 (constants)
        await db.execute(
            text(
                "UPDATE crm_messages SET context = '{}'::jsonb, subject = NULL, body_text = NULL, body_html = NULL "
                "WHERE player_id = :p"
            ),
            p,
        )
    elif category == "identity":
        player.first_name = None
        player.last_name = None
        player.date_of_birth = _generalised(player.date_of_birth)
        # The postal address is customer due diligence data (the residential address is verified with the
        # identity), so it is kept with the names; risk's `address` signal is the same address by another name.
        player.address_line1 = None
        player.address_line2 = None
        player.city = None
        player.postal_code = None
        await db.execute(text("DELETE FROM risk_signals WHERE player_id = :p AND kind = 'address'"), p)
        await db.execute(text("UPDATE kyc_reviews SET reason = NULL WHERE player_id = :p"), p)
        await db.execute(text("UPDATE kyc_checks SET reference = NULL WHERE player_id = :p"), p)
        # The identity-verification provider's applicant id is the reference above by another name (it leads
        # to the person's documents at the provider): its receipts go, its row keeps the result under a
        # placeholder id, so a late redelivery finds no applicant and binds nothing to this player.
        await db.execute(
            text(
                "DELETE FROM kyc_idv_webhook_receipts r WHERE r.player_id = :p OR EXISTS (SELECT 1 FROM "
                "kyc_idv_applicants a WHERE a.player_id = :p AND a.provider = r.provider "
                "AND a.applicant_id = r.applicant_id)"
            ),
            p,
        )
        await db.execute(
            text(
                "UPDATE kyc_idv_applicants SET applicant_id = 'erased:' || id::text, reject_labels = '[]'::jsonb "
                "WHERE player_id = :p"
            ),
            p,
        )
    elif category == "kyc_documents":
        await _erase_document_files(rt, db, player.id)
    elif category == "transactions":
        await db.execute(
            text("UPDATE payments SET instrument_token = NULL, redirect_url = NULL WHERE player_id = :p"), p
        )
        # Risk's card and payment-account signals (services/risk): the instrument by another name.
        await db.execute(
            text("UPDATE risk_observations SET card_bin = NULL, card_fingerprint = NULL WHERE player_id = :p"), p
        )
        await db.execute(
            text(
                "DELETE FROM risk_signals WHERE player_id = :p "
                "AND kind IN ('card_fingerprint', 'card_bin', 'payment_account')"
            ),
            p,
        )
        # AML monitoring's windows copy each deposit's instrument (`method:token`): the same token, kept as a
        # stable hash so the window's instrument counts stay what they were.
        await db.execute(
            text(
                "UPDATE aml_monitoring_deposits SET instrument = 'erased:' || md5(instrument) "
                "WHERE player_id = :p AND instrument NOT LIKE 'erased:%'"
            ),
            p,
        )
    elif category == "aml":
        await db.execute(text("UPDATE aml_cases SET summary = :x WHERE player_id = :p"), {**p, "x": ERASED_TEXT})
        await db.execute(
            text(
                "UPDATE aml_case_notes SET body = :x WHERE case_id IN (SELECT id FROM aml_cases WHERE player_id = :p)"
            ),
            {**p, "x": ERASED_TEXT},
        )
        await db.execute(text("UPDATE aml_screening_alerts SET why = '{}'::jsonb WHERE player_id = :p"), p)
    elif category == "responsible_gambling":
        player.match_email = None
        player.match_name = None
        player.match_phone = None
    elif category == "staff_notes":
        await db.execute(text("DELETE FROM player_notes WHERE player_id = :p"), p)
    else:  # pragma: no cover (retention.py refuses unknown categories)
        raise ValueError(category)


async def _erase_document_files(rt: Runtime, db: AsyncSession, player_id: uuid.UUID) -> None:
    """Delete the stored files (the rows keep kind, status, sha256: what was checked, not the copy). Not the
    vault's best-effort `discard`: its orphan sweeper never removes an object a row still names, so a file
    the store failed to delete would stay for ever while the hold read released. Refused instead, and the
    category is erased by a later run."""
    from services.kyc.documents_vault import vault_of

    names = await db.execute(text("SELECT object_key FROM kyc_documents WHERE player_id = :p"), {"p": player_id})
    vault = vault_of(rt)
    for (name,) in names.all():
        try:
            await vault.store.delete(name)
        except StorageUnavailable as exc:
            raise DomainError(
                "The document store did not delete the player's files; try again later.",
                code=ErrorCode.DOCUMENT_STORAGE_UNAVAILABLE,
            ) from exc


def _held(rules: dict[str, Rule], has_exclusion: bool) -> Iterable[Rule]:
    for category in CATEGORIES:
        rule = rules[category]
        if rule.years == 0:
            continue
        if category == "responsible_gambling" and not has_exclusion:
            continue  # no exclusion to keep reaching the person: nothing to hold
        yield rule


# ---- erase ------------------------------------------------------------------------------------


async def erase(rt: Runtime, viewer: Viewer, player_id: uuid.UUID, reason: str) -> Erasure:
    """Erase the player now as far as retention allows; hold the rest (see the module's invariants)."""
    if not (viewer.is_staff or viewer.kind == "system"):
        raise DomainError("Only the data-protection officer erases a player.", code=ErrorCode.NOT_ALLOWED)
    cleaned = _reason(reason, required=True)
    revoked: list[uuid.UUID] = []
    async with rt.database.transaction() as db:
        player = await players.get_readable(db, viewer, player_id)
        await lock_player_money(db, player.id, standing=True)  # re-reads the row under its lock
        if player.erased_at is not None:
            held = (await db.scalars(select(PrivacyHold).where(col(PrivacyHold.player_id) == player.id))).all()
            return Erasure(player.id, player.pseudonym or "", player.erased_at, (), tuple(held), already=True)
        found = await blockers(db, player.id)
        if found:
            raise ErasureBlocked(found)
        now = clock.now()
        rules = rules_for(player.jurisdiction)
        has_exclusion = bool(
            await db.scalar(text("SELECT EXISTS (SELECT 1 FROM rg_exclusions WHERE player_id = :p)"), {"p": player.id})
        )
        held_rules = list(_held(rules, has_exclusion))
        held_categories = {r.category for r in held_rules}
        player.pseudonym = pseudonym_of(player.id)
        erased_now = tuple(c for c in CATEGORIES if c not in held_categories)
        for category in erased_now:
            await _erase_category(rt, db, player, category)
        player.password_hash = UNUSABLE_PASSWORD
        player.status = PlayerStatus.CLOSED.value
        player.status_reason = STATUS_REASON
        player.erased_at = now
        holds = [
            PrivacyHold(player_id=player.id, category=r.category, basis=r.basis, retained_until=r.until(now))
            for r in held_rules
        ]
        db.add_all(holds)
        revoked = await auth.revoke_sessions(db, subject_type="player", subject_id=player.id, reason="account_closed")
        request = await _open_request(db, player.id)
        if request is None:
            request = PrivacyRequest(
                player_id=player.id,
                brand_id=player.brand_id,
                kind=RequestKind.ERASURE.value,
                status=RequestStatus.COMPLETED.value,
                requested_by_type=viewer.actor_type,
                requested_by_id=viewer.id,
                reason=cleaned,
            )
            db.add(request)
        request.status = RequestStatus.COMPLETED.value
        request.decided_by = viewer.id
        request.decided_at = now
        await db.flush()
        await outbox.emit(
            db,
            "privacy.erased",
            f"player:{player.id}",
            {
                "player_id": str(player.id),
                "request_id": str(request.id),
                "erased": list(erased_now),
                "held": [{"category": h.category, "retained_until": h.retained_until.isoformat()} for h in holds],
            },
            brand_id=player.brand_id,
        )
        await audit.append(
            db,
            actor=viewer,
            action="privacy.erased",
            target_type="player",
            target_id=player.id,
            brand_id=player.brand_id,
            reason=cleaned,
            after={"erased": list(erased_now), "held": sorted(held_categories), "request_id": str(request.id)},
        )
    await auth.after_commit_revoked(rt, revoked)
    log.info("privacy_erased", player_id=str(player.id), held=sorted(held_categories))
    return Erasure(player.id, player.pseudonym, now, erased_now, tuple(holds))


async def reject_request(rt: Runtime, viewer: Viewer, player_id: uuid.UUID, reason: str) -> PrivacyRequest:
    """Refuse a waiting erasure request (e.g. the player is under an AML hold): recorded and audited."""
    cleaned = _reason(reason, required=True)
    async with rt.database.transaction() as db:
        player = await players.get_readable(db, viewer, player_id)
        request = await _open_request(db, player.id)
        if request is None:
            raise DomainError("No erasure request is waiting.", code=ErrorCode.INVALID_STATE)
        request.status = RequestStatus.REJECTED.value
        request.decided_by = viewer.id
        request.decided_at = clock.now()
        await db.flush()
        await audit.append(
            db,
            actor=viewer,
            action="privacy.erasure_rejected",
            target_type="player",
            target_id=player.id,
            brand_id=player.brand_id,
            reason=cleaned,
            after={"request_id": str(request.id)},
        )
    return request


# ---- sweep ------------------------------------------------------------------------------------


def _under_aml_hold(player_id: Any) -> Exists:
    """An AML case about the player is open or a SAR was filed (the erasure's AML blocker, as SQL): a case
    opened after the erasure (a law-enforcement request years later) keeps every held category until it
    closes, and a SAR keeps them, as it refuses the erasure itself."""
    return exists(
        select(col(AmlCase.id)).where(
            col(AmlCase.player_id) == player_id,
            or_(col(AmlCase.state) != CaseState.CLOSED.value, col(AmlCase.outcome) == CaseOutcome.SAR_FILED.value),
        )
    )


@dataclass(frozen=True)
class SweepReport:
    released: list[tuple[uuid.UUID, str]]  # (player, category) erased by this run


async def sweep(rt: Runtime, *, limit: int = 500) -> SweepReport:
    """Erase every held category whose retention has ended (one transaction per hold: a hold whose files the
    document store fails to delete stays held for the next run, the others go on). Run it daily; a second
    run finds nothing to do."""
    released: list[tuple[uuid.UUID, str]] = []
    async with rt.database.session() as db:
        due = (
            (
                await db.execute(
                    select(col(PrivacyHold.id))
                    .where(
                        col(PrivacyHold.released_at).is_(None),
                        col(PrivacyHold.retained_until) <= clock.now(),
                        ~_under_aml_hold(col(PrivacyHold.player_id)),
                    )
                    .order_by(col(PrivacyHold.retained_until), col(PrivacyHold.id))
                    .limit(limit)
                )
            )
            .scalars()
            .all()
        )
    for hold_id in due:
        try:
            done = await _release(rt, hold_id)
        except DomainError as exc:  # the document store failed: rolled back, this hold waits for the next run
            log.warning("privacy_hold_not_released", hold=str(hold_id), code=str(exc.code), error=exc.message)
            continue
        if done is not None:
            released.append(done)
    return SweepReport(released)


async def _release(rt: Runtime, hold_id: uuid.UUID) -> tuple[uuid.UUID, str] | None:
    """Erase one due hold's category and mark it released, in one transaction; None when it stays held."""
    async with rt.database.transaction() as db:
        hold = await db.get(PrivacyHold, hold_id, with_for_update=True)
        if hold is None or hold.released_at is not None:
            return None  # another sweeper got there first
        player = (await lock_player_money(db, hold.player_id, standing=True)).player
        assert player is not None
        aml = (await db.execute(_AML, {"p": player.id})).one()
        if aml.open or aml.sars:
            return None  # a case opened (or a SAR filed) since the erasure: kept while it lasts
        await _erase_category(rt, db, player, hold.category)
        hold.released_at = clock.now()
        await db.flush()
        await audit.append(
            db,
            actor=SYSTEM,
            action="privacy.hold_released",
            target_type="player",
            target_id=player.id,
            brand_id=player.brand_id,
            after={"category": hold.category},
        )
        return hold.player_id, hold.category


# ---- what staff and the back office see -----------------------------------------------------------


@dataclass(frozen=True)
class PrivacyState:
    player_id: uuid.UUID
    erased_at: datetime | None
    pseudonym: str | None
    requests: list[PrivacyRequest]
    holds: list[PrivacyHold]


async def state_of(rt: Runtime, viewer: Viewer, player_id: uuid.UUID) -> PrivacyState:
    """A readable player's erasure state, requests (newest first) and retention holds: three statements."""
    async with rt.database.session() as db:
        player = await players.get_readable(db, viewer, player_id)
        requests = (
            await db.scalars(
                select(PrivacyRequest)
                .where(col(PrivacyRequest.player_id) == player.id)
                .order_by(col(PrivacyRequest.created_at).desc(), col(PrivacyRequest.id).desc())
                .limit(100)
            )
        ).all()
        holds = (
            await db.scalars(
                select(PrivacyHold).where(col(PrivacyHold.player_id) == player.id).order_by(col(PrivacyHold.category))
            )
        ).all()
    return PrivacyState(player.id, player.erased_at, player.pseudonym, list(requests), list(holds))
