"""A player screened: their name, date of birth and country against the current lists, and what follows.

`screen_players` runs in the caller's transaction (the event consumer's, with the processed event ids;
`croupier aml rescreen`'s, batch by batch), so a redelivered event or a rerun batch changes nothing:
- a match of a (player, entity) pair with an open alert updates that alert (score, why, list version);
- a match of a pair staff decided stays quiet: confirmed for good, a false positive as long as neither
  the player's details (name, date of birth, country: their fingerprint) nor the entity's changed;
- any other match raises an alert (`aml.screening_alert_raised`, through the outbox in the same
  transaction);
- the player's last screening (list version, fingerprint) is recorded: the rescreen resumes from it.
A match no longer found leaves its alert as it is: staff close alerts, the screening never does.

The index of the lists is built once per process and rebuilt when a list file changes (`current_index`).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core import outbox
from core.clock import clock
from core.settings import Settings
from models.aml import AlertState, PlayerScreening, ScreeningAlert
from services.aml import lists
from services.aml.match import Index, Match, Person, Rules

_INDEXES: dict[tuple[Any, ...], Index] = {}


def _stamp(path: Path) -> tuple[Any, ...]:
    files = sorted(path.iterdir()) if path.is_dir() else [path]
    return tuple((str(f), f.stat().st_mtime_ns, f.stat().st_size) for f in files)


def current_index(settings: Settings) -> Index:
    """The index of the configured lists, rebuilt when one of their files changed."""
    path = settings.aml_lists_path or lists.SAMPLE
    key = (_stamp(path), str(settings.aml_rules_path))
    index = _INDEXES.get(key)
    if index is None:
        index = Index.build(lists.load(path), Rules.load(settings.aml_rules_path))
        _INDEXES.clear()
        _INDEXES[key] = index
    return index


@dataclass(frozen=True)
class PlayerDetails:
    id: uuid.UUID
    brand_id: uuid.UUID
    name: str
    birth_date: date | None
    country: str | None

    @property
    def fingerprint(self) -> str:
        text = f"{self.name.casefold()}|{self.birth_date}|{self.country}"
        return hashlib.sha256(text.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Screened:
    players: int
    matches: int
    raised: int


_PLAYERS = """
SELECT id, brand_id, trim(coalesce(first_name, '') || ' ' || coalesce(last_name, '')) AS name, date_of_birth, country
FROM players WHERE id = ANY($1::uuid[])"""
# The latest alert of each (player, entity) pair of these players.
_LATEST = """
SELECT DISTINCT ON (player_id, entity_id) id, player_id, entity_id, state, player_fingerprint, entity_fingerprint
FROM aml_screening_alerts WHERE player_id = ANY($1::uuid[])
ORDER BY player_id, entity_id, created_at DESC, id DESC"""
_UPDATE_OPEN = """
UPDATE aml_screening_alerts SET score = $2, why = $3::jsonb, entity = $4::jsonb, list_version = $5,
    player_fingerprint = $6, entity_fingerprint = $7 WHERE id = $1"""
_INSERT = """
INSERT INTO aml_screening_alerts (id, player_id, brand_id, entity_id, list_version, score, entity, why,
    player_fingerprint, entity_fingerprint, state, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8::jsonb, $9, $10, 'open', $11)"""
_SCREENED = """
INSERT INTO aml_player_screenings (player_id, list_version, player_fingerprint, matches, screened_at)
SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::int[], $5::timestamptz[])
ON CONFLICT (player_id) DO UPDATE SET list_version = excluded.list_version,
    player_fingerprint = excluded.player_fingerprint, matches = excluded.matches, screened_at = excluded.screened_at"""
_VERSION = """
INSERT INTO aml_list_versions (version, source, entities) VALUES ($1, $2, $3) ON CONFLICT (version) DO NOTHING"""
_EMIT = """
INSERT INTO outbox_events (topic, key, brand_id, schema_version, payload, created_at)
VALUES ($1, $2, $3, $4, $5::jsonb, $6)"""


async def emit(conn: asyncpg.Connection, type_: str, subject: str, data: dict[str, Any], brand_id: uuid.UUID) -> None:
    """An event of the catalogue through the outbox, on a raw connection (the consumer's transaction)."""
    e = outbox.event(type_, subject, data, brand_id=brand_id)
    await conn.execute(_EMIT, e.topic, e.key, e.brand_id, e.version, e.payload, e.at)


async def player_details(conn: asyncpg.Connection, player_ids: Sequence[uuid.UUID]) -> list[PlayerDetails]:
    rows = await conn.fetch(_PLAYERS, list(player_ids))
    return [PlayerDetails(r["id"], r["brand_id"], r["name"], r["date_of_birth"], r["country"]) for r in rows]


def matches_of(index: Index, players: Sequence[PlayerDetails]) -> dict[uuid.UUID, list[Match]]:
    return {p.id: index.screen(Person(p.name, p.birth_date, p.country)) if p.name else [] for p in players}


async def record(
    conn: asyncpg.Connection, index: Index, players: Sequence[PlayerDetails], found: dict[uuid.UUID, list[Match]]
) -> Screened:
    """Write what a screening found (in the caller's transaction): see the module's rules."""
    await conn.execute(_VERSION, index.version, index.screening_list.source[:1000], len(index.screening_list.entities))
    latest = {(r["player_id"], r["entity_id"]): r for r in await conn.fetch(_LATEST, [p.id for p in players])}
    now = clock.now()
    raised = 0
    for player in players:
        for match in found.get(player.id, []):
            entity_fp = match.entity.fingerprint()
            before = latest.get((player.id, match.entity.id))
            why = json.dumps(match.why, ensure_ascii=False)
            entity = json.dumps(match.entity.snapshot(), ensure_ascii=False)
            if before is not None and before["state"] == AlertState.OPEN:
                await conn.execute(
                    _UPDATE_OPEN, before["id"], match.score, why, entity, index.version, player.fingerprint, entity_fp
                )
                continue
            if before is not None and (
                before["state"] == AlertState.CONFIRMED
                or (before["player_fingerprint"], before["entity_fingerprint"]) == (player.fingerprint, entity_fp)
            ):
                continue  # decided, and nothing changed since
            alert_id = uuid.uuid4()
            await conn.execute(
                _INSERT, alert_id, player.id, player.brand_id, match.entity.id, index.version, match.score, entity, why,
                player.fingerprint, entity_fp, now,
            )  # fmt: skip
            await emit(
                conn,
                "aml.screening_alert_raised",
                f"player:{player.id}",
                {
                    "alert_id": str(alert_id),
                    "player_id": str(player.id),
                    "entity_id": match.entity.id,
                    "list_version": index.version,
                    "score": match.score,
                    "topics": list(match.entity.topics),
                },
                player.brand_id,
            )
            raised += 1
    await conn.execute(
        _SCREENED,
        [p.id for p in players],
        [index.version] * len(players),
        [p.fingerprint for p in players],
        [len(found.get(p.id, [])) for p in players],
        [now] * len(players),
    )
    return Screened(len(players), sum(len(found.get(p.id, [])) for p in players), raised)


async def screen_players(conn: asyncpg.Connection, index: Index, player_ids: Sequence[uuid.UUID]) -> Screened:
    players = await player_details(conn, player_ids)
    return await record(conn, index, players, matches_of(index, players))


async def screening_clear(db: AsyncSession, player_id: uuid.UUID) -> bool:
    """Screened at least once, with no open and no confirmed alert (the KYC levels' "screening clear"
    requirement). A player the `aml-screening` consumer has not reached yet is not clear: a level never passes
    on a screening that has not happened."""
    screened = select(col(PlayerScreening.player_id)).where(col(PlayerScreening.player_id) == player_id).exists()
    flagged = (
        select(col(ScreeningAlert.id))
        .where(
            col(ScreeningAlert.player_id) == player_id,
            col(ScreeningAlert.state).in_([AlertState.OPEN.value, AlertState.CONFIRMED.value]),
        )
        .exists()
    )
    return bool(await db.scalar(select(screened & ~flagged)))
