"""Which variant of an experiment a player gets: a pure function of the experiment and the player, recorded on
the player's first exposure.

The bucket (`bucket_of`): h = SHA-256(experiment id's 16 bytes ‖ player id's 16 bytes). The first 8 bytes of h,
as a big-endian integer mod 1,000,000, decide the holdout (below `holdout_ppm`: holdout, None); the next 8 bytes,
mod the sum of the weights, pick the variant by cumulative weight in the variants' order. Holdout and variant
come from different bits, so changing the holdout share does not move players between variants, and the same
player gets the same answer on every replica, every time, with nothing stored.

`assign` is what journeys, campaigns and lobbies call at the moment a player meets the experiment:
- running: the bucket, recorded on the first call (a `crm_experiment_assignments` row with the exposure time;
  conversions count from then); later calls return the recorded bucket;
- draft: the control (the first variant), nothing recorded (the experiment has not begun);
- stopped: the winner chosen when it was stopped, or the control; nothing recorded (results are frozen).
A player of another brand than the experiment's is refused (INVALID_INPUT): experiments are per brand.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import clock
from core.errors import DomainError, ErrorCode, NotFound

PPM = 1_000_000

Variants = Sequence[tuple[str, int]] | Mapping[str, int]


def _pairs(variants: Variants | Sequence[Mapping[str, Any]]) -> list[tuple[str, int]]:
    if isinstance(variants, Mapping):
        return [(str(key), int(weight)) for key, weight in variants.items()]
    pairs: list[tuple[str, int]] = []
    for variant in variants:
        if isinstance(variant, Mapping):
            pairs.append((str(variant["key"]), int(variant["weight"])))
        else:
            key, weight = variant
            pairs.append((str(key), int(weight)))
    return pairs


def bucket_of(
    experiment_id: uuid.UUID,
    player_id: uuid.UUID,
    variants: Variants | Sequence[Mapping[str, Any]],
    holdout_ppm: int,
) -> str | None:
    """The player's variant key, or None for the holdout. `variants`: (key, weight) pairs in order, a mapping of
    key to weight, or the stored form (`[{"key": ..., "weight": ...}]`); weights are non-negative integers."""
    pairs = _pairs(variants)
    digest = hashlib.sha256(experiment_id.bytes + player_id.bytes).digest()
    if int.from_bytes(digest[:8], "big") % PPM < holdout_ppm:
        return None
    total = sum(weight for _, weight in pairs)
    if total <= 0:
        return None
    point = int.from_bytes(digest[8:16], "big") % total
    for key, weight in pairs:
        if point < weight:
            return key
        point -= weight
    raise AssertionError("unreachable: the point is below the total weight")


_READ = text(
    "SELECT e.brand_id, e.variants, e.holdout_ppm, e.status, e.winner, a.player_id AS assigned, a.variant "
    "FROM crm_experiments e "
    "LEFT JOIN crm_experiment_assignments a ON a.experiment_id = e.id AND a.player_id = :player "
    "WHERE e.id = :experiment"
)
_RECORD = text(
    "INSERT INTO crm_experiment_assignments (experiment_id, player_id, variant, exposed_at) "
    "SELECT :experiment, p.id, :variant, :now FROM players p WHERE p.id = :player AND p.brand_id = :brand "
    "ON CONFLICT (experiment_id, player_id) DO NOTHING RETURNING variant"
)
_RECORDED = text(
    "SELECT variant FROM crm_experiment_assignments WHERE experiment_id = :experiment AND player_id = :player"
)


def control_of(variants: Sequence[Mapping[str, Any]]) -> str:
    return str(variants[0]["key"])


async def assign(db: AsyncSession, experiment_id: uuid.UUID, player_id: uuid.UUID) -> str | None:
    """The player's variant of the experiment (None: the holdout), recorded on first exposure while it runs.
    Runs in the caller's transaction (the caller commits); at most three statements, one once recorded."""
    params = {"experiment": experiment_id, "player": player_id}
    row = (await db.execute(_READ, params)).mappings().first()
    if row is None:
        raise NotFound("No such experiment.", field="experimentId")
    if row["status"] == "draft":
        return control_of(row["variants"])
    if row["status"] == "stopped":
        return str(row["winner"]) if row["winner"] else control_of(row["variants"])
    if row["assigned"] is not None:
        return str(row["variant"]) if row["variant"] is not None else None
    variant = bucket_of(experiment_id, player_id, row["variants"], row["holdout_ppm"])
    recorded = await db.execute(_RECORD, {**params, "variant": variant, "now": clock.now(), "brand": row["brand_id"]})
    if recorded.first() is not None:
        return variant
    found = (await db.execute(_RECORDED, params)).first()  # recorded meanwhile, or not a player of the brand
    if found is None:
        raise DomainError("The player is of another brand.", code=ErrorCode.INVALID_INPUT, field="playerId")
    return str(found[0]) if found[0] is not None else None
