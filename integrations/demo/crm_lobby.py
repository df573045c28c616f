"""Demo A/B tests and a personalised lobby at Royal: a lobby layout for a segment (the segments part's first
demo segment of Royal, else a static "Lobby demo: VIP" segment with Alice and Carla — rows written here only
for the demo), an A/B test of that lobby (control: the layout; `tables`: table games first) running, a
journey-subject test left as a draft for the journeys demo, and the popular games computed. Safe to run twice
(what exists by name is kept)."""

from __future__ import annotations

import uuid

from sqlalchemy import text

from authz.subjects import SYSTEM
from core.runtime import Runtime
from services.crm.experiments import definitions
from services.crm.experiments.definitions import SubjectKind
from services.crm.lobby import layouts, popular

LOBBY_TEST = "Demo lobby: tables first"
JOURNEY_TEST = "Demo welcome subject line"
LAYOUT = "Demo VIP lobby"
VARIANT_LAYOUT = "Demo VIP lobby: tables first"


async def _segment(rt: Runtime, brand_id: uuid.UUID) -> uuid.UUID:
    async with rt.database.transaction() as db:
        found = await db.scalar(
            text("SELECT id FROM crm_segments WHERE brand_id = :b AND status = 'active' ORDER BY created_at LIMIT 1"),
            {"b": brand_id},
        )
        if found is not None:
            return found  # type: ignore[no-any-return]
        segment_id = uuid.uuid4()
        await db.execute(
            text("INSERT INTO crm_segments (id, brand_id, name, kind) VALUES (:id, :b, 'Lobby demo: VIP', 'static')"),
            {"id": segment_id, "b": brand_id},
        )
        await db.execute(
            text(
                "INSERT INTO crm_segment_members (segment_id, player_id) SELECT :s, id FROM players "
                "WHERE brand_id = :b AND email IN ('alice@example.com', 'carla@example.com') ON CONFLICT DO NOTHING"
            ),
            {"s": segment_id, "b": brand_id},
        )
        return segment_id


async def seed_crm_lobby(rt: Runtime) -> list[str]:
    async with rt.database.session() as db:
        brand_id = await db.scalar(text("SELECT id FROM brands WHERE code = 'royal'"))
        categories = list(await db.scalars(text("SELECT code FROM lobby_categories ORDER BY position DESC, code")))
        games = list(await db.scalars(text("SELECT id FROM games WHERE enabled ORDER BY code LIMIT 3")))
        existing = set(
            await db.scalars(text("SELECT name FROM crm_experiments UNION SELECT name FROM crm_lobby_layouts"))
        )
    if brand_id is None:
        return ["no royal brand: no lobby layout or A/B test"]
    segment_id = await _segment(rt, brand_id)
    lines = []
    async with rt.database.transaction() as db:
        if JOURNEY_TEST not in existing:
            await definitions.create_experiment(
                db, viewer=SYSTEM, brand_code="royal", name=JOURNEY_TEST, subject_kind=SubjectKind.JOURNEY,
                subject_id=None, variants=[{"key": "control", "weight": 1}, {"key": "bold", "weight": 1}],
                holdout_ppm=100_000, metric={"kind": "first_deposit", "days": 7},
            )  # fmt: skip
        lines.append(f"A/B test {JOURNEY_TEST!r} (draft, for a journey)")
        if LOBBY_TEST not in existing:
            test = await definitions.create_experiment(
                db, viewer=SYSTEM, brand_code="royal", name=LOBBY_TEST, subject_kind=SubjectKind.LOBBY,
                subject_id=segment_id, variants=[{"key": "control", "weight": 1}, {"key": "tables", "weight": 1}],
                holdout_ppm=0, metric={"kind": "deposited", "days": 7},
            )  # fmt: skip
            await definitions.start_experiment(db, viewer=SYSTEM, experiment_id=test.id)
            await layouts.create_layout(
                db, viewer=SYSTEM, brand_code="royal", name=LAYOUT, segment_id=segment_id, priority=10,
                category_order=[], featured=games,
            )  # fmt: skip
            await layouts.create_layout(
                db, viewer=SYSTEM, brand_code="royal", name=VARIANT_LAYOUT, segment_id=segment_id, priority=10,
                category_order=categories, featured=games, experiment_id=test.id, variant="tables",
            )  # fmt: skip
        lines.append(f"lobby layout {LAYOUT!r} for a segment, A/B test {LOBBY_TEST!r} running")
    async with rt.database.transaction() as db:
        await popular.compute(db, min_players=rt.settings.crm_lobby_popular_min_players)
    lines.append("popular games computed")
    return lines
