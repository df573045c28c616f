"""The routing versions: the cashier's routing rules, PSP terms, payment limits and BIN rules as one document
per version (`payment_routing_versions`).

Guarantees:
- A stored version never changes; an edit stores the next version (the highest is live) with what it
  changed, why and who, in the transaction that audits it and announces it (`payment_routing.changed`).
- Two edits made on the same version never both win: the second finds its version number taken (or the base
  version it names no longer live) and is refused INVALID_STATE, so an editor never undoes another's change
  unseen.
- Before any edit the built-in rules (routing.DEFAULT_RULES, no PSP terms, no limits, no BIN rules) are live as
  version 0, which is never stored; the first edit stores them with its change.
- Readers (a deposit, a payout, the preview) read the live version in their own transaction (one statement).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from models.payment_routing import PaymentRoutingVersion
from services.cashier.payment_rules import BinRule, PaymentLimit
from services.cashier.routing import DEFAULT_RULES, PspTerms, RoutingRule


def terms_as_dict(terms: PspTerms) -> dict[str, Any]:
    return {
        "enabled": terms.enabled,
        "limits": {c: list(pair) for c, pair in sorted(terms.limits.items())},
        "fee_percent": terms.fee_percent,
        "fee_fixed": dict(sorted(terms.fee_fixed.items())),
    }


def terms_from_dict(raw: Mapping[str, Any]) -> PspTerms:
    return PspTerms(
        enabled=bool(raw.get("enabled", True)),
        limits={str(c): (pair[0], pair[1]) for c, pair in (raw.get("limits") or {}).items()},
        fee_percent=str(raw.get("fee_percent") or "0"),
        fee_fixed={str(c): str(v) for c, v in (raw.get("fee_fixed") or {}).items()},
    )


@dataclass(frozen=True)
class RoutingConfig:
    """One version: what routes, limits and refuses payments."""

    version: int = 0
    rules: tuple[RoutingRule, ...] = DEFAULT_RULES
    psps: Mapping[str, PspTerms] = field(default_factory=dict)
    limits: tuple[PaymentLimit, ...] = ()
    bin_rules: tuple[BinRule, ...] = ()
    change: str = "built-in rules"
    reason: str = ""
    created_by: uuid.UUID | None = None
    created_at: datetime | None = None

    def document(self) -> dict[str, Any]:
        return {
            "rules": [r.as_dict() for r in sorted(self.rules, key=lambda r: (r.priority, r.handle))],
            "psps": {p: terms_as_dict(t) for p, t in sorted(self.psps.items())},
            "limits": [limit.as_dict() for limit in self.limits],
            "bin_rules": [b.as_dict() for b in self.bin_rules],
        }

    @classmethod
    def stored(cls, row: PaymentRoutingVersion) -> RoutingConfig:
        raw = row.document
        return cls(
            version=row.version,
            rules=tuple(RoutingRule.from_dict(r) for r in raw.get("rules") or ()),
            psps={str(p): terms_from_dict(t) for p, t in (raw.get("psps") or {}).items()},
            limits=tuple(PaymentLimit.from_dict(x) for x in raw.get("limits") or ()),
            bin_rules=tuple(BinRule.from_dict(b) for b in raw.get("bin_rules") or ()),
            change=row.change,
            reason=row.reason,
            created_by=row.created_by,
            created_at=row.created_at,
        )


DEFAULTS = RoutingConfig()


async def live(db: AsyncSession) -> RoutingConfig:
    """The live version (the highest stored; the built-in rules before any)."""
    row = await db.scalar(select(PaymentRoutingVersion).order_by(col(PaymentRoutingVersion.version).desc()).limit(1))
    return DEFAULTS if row is None else RoutingConfig.stored(row)


async def at_version(db: AsyncSession, version: int) -> RoutingConfig | None:
    if version == 0:
        return DEFAULTS
    row = await db.get(PaymentRoutingVersion, version)
    return None if row is None else RoutingConfig.stored(row)


async def history(db: AsyncSession, *, limit: int) -> list[RoutingConfig]:
    """The stored versions, newest first (one statement)."""
    rows = await db.scalars(
        select(PaymentRoutingVersion).order_by(col(PaymentRoutingVersion.version).desc()).limit(limit)
    )
    return [RoutingConfig.stored(row) for row in rows]
