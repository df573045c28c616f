"""Whether a player meets a level's requirements: one checker per requirement family, in a registry.

The families this package owns are built in: `officer_approval` (an approved review of that level) and
`provider_check` (a passed identity-verification check). Two belong to other modules and are reached
through a seam, so this package never imports them: `document:<kind>` asks
`services/kyc/documents.py: approved_document_kinds(db, player_id) -> set[str]` (approved, not expired)
and `screening_clear` asks `services/aml/screening.py: screening_clear(db, player_id) -> bool`. They
are looked up by name when first needed; while a module is absent its requirement is never met (it
fails closed: a level that needs a document cannot be reached without the documents module).
`register` replaces a checker (the lead wires another implementation, a test its own).
"""

from __future__ import annotations

import importlib
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from models.kyc import KycCheck, KycReview, ReviewStatus
from services.kyc.levels import DOCUMENT_PREFIX, Level

# (db, player_id, level code, requirement) → met?
Checker = Callable[[AsyncSession, uuid.UUID, str, str], Awaitable[bool]]

NEXT_STEPS = {
    "document:identity": "Upload an identity document (passport, identity card or driving licence).",
    "document:address": "Upload a proof of address issued in the last three months.",
    "document:source_of_funds": "Upload evidence of your source of funds (payslips, bank statements, a sale).",
    "provider_check": "Complete the identity check with our verification provider.",
    "screening_clear": "Our screening checks are under way: nothing to do.",
    "officer_approval": "A KYC officer reviews your account: nothing to do.",
}
# Requirements the player can act on; the others wait for staff or a screening (pending review).
PLAYER_ACTIONS = frozenset({"provider_check", *(k for k in NEXT_STEPS if k.startswith(DOCUMENT_PREFIX))})


def family(requirement: str) -> str:
    return "document" if requirement.startswith(DOCUMENT_PREFIX) else requirement


async def officer_approved(db: AsyncSession, player_id: uuid.UUID, level: str, requirement: str) -> bool:
    status = await db.scalar(
        select(col(KycReview.status)).where(col(KycReview.player_id) == player_id, col(KycReview.level) == level)
    )
    return status == ReviewStatus.APPROVED


async def provider_passed(db: AsyncSession, player_id: uuid.UUID, level: str, requirement: str) -> bool:
    """The newest provider result counts (a later failure withdraws an earlier pass)."""
    result = await db.scalar(
        select(col(KycCheck.result))
        .where(col(KycCheck.player_id) == player_id)
        .order_by(col(KycCheck.created_at).desc(), col(KycCheck.id).desc())
        .limit(1)
    )
    return result == "passed"


def _find(module: str, name: str) -> Callable[..., Awaitable[Any]] | None:
    try:
        found: Callable[..., Awaitable[Any]] = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return None
    return found


async def documents_approved(db: AsyncSession, player_id: uuid.UUID, level: str, requirement: str) -> bool:
    approved_kinds = _find("services.kyc.documents", "approved_document_kinds")
    if approved_kinds is None:
        return False
    kinds: set[str] = await approved_kinds(db, player_id)
    return requirement.removeprefix(DOCUMENT_PREFIX) in kinds


async def screening_is_clear(db: AsyncSession, player_id: uuid.UUID, level: str, requirement: str) -> bool:
    clear = _find("services.aml.screening", "screening_clear")
    return False if clear is None else bool(await clear(db, player_id))


BUILT_IN: dict[str, Checker] = {
    "officer_approval": officer_approved,
    "provider_check": provider_passed,
    "document": documents_approved,
    "screening_clear": screening_is_clear,
}
_checkers: dict[str, Checker] = dict(BUILT_IN)


def register(name: str, checker: Checker) -> Checker:
    """Use `checker` for a requirement family; returns the one it replaces (to put it back)."""
    previous = _checkers[name]
    _checkers[name] = checker
    return previous


@dataclass(frozen=True)
class Missing:
    requirement: str
    next_step: str
    player_can_act: bool


async def missing(
    db: AsyncSession, player_id: uuid.UUID, level: Level, *, skip: frozenset[str] = frozenset()
) -> list[Missing]:
    """The requirements of `level` the player does not meet yet, in the profile's order."""
    found: list[Missing] = []
    for requirement in level.requires:
        if requirement in skip:
            continue
        if not await _checkers[family(requirement)](db, player_id, level.code, requirement):
            found.append(Missing(requirement, NEXT_STEPS[requirement], requirement in PLAYER_ACTIONS))
    return found
