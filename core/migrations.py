"""Alembic from code: apply pending revisions, tell whether any are pending, move to a revision.

Every revision has a working `downgrade()`: a release is rolled back by moving the schema to the
revision the previous release ran (`croupier migrate --to REVISION`), after which the previous
code runs unchanged. tests/test_migrations.py walks head → base → head on a database with demo data.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionError
from alembic.util import CommandError
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from core.settings import normalise_database_url

ROOT = Path(__file__).resolve().parent.parent


def alembic_config(database_url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Apply migrations (blocking; from async code run it in a thread)."""
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    """Undo revisions down to `revision` (blocking; from async code run it in a thread)."""
    command.downgrade(alembic_config(database_url), revision)


def current_heads(database_url: str) -> set[str]:
    """The revisions the database is at (empty before the first migration). Blocking."""

    async def read() -> set[str]:
        engine = create_async_engine(normalise_database_url(database_url))
        try:
            async with engine.connect() as conn:
                return await conn.run_sync(lambda sync: set(MigrationContext.configure(sync).get_current_heads()))
        finally:
            await engine.dispose()

    return asyncio.run(read())


class UnknownRevision(ValueError):
    pass


@dataclass(frozen=True)
class Move:
    """What moving the schema to a revision does: `direction` up, down or none, and the revisions
    applied (oldest first) or undone (newest first)."""

    direction: str
    revisions: list[str]


def _lineage(script: ScriptDirectory, revisions: set[str]) -> set[str]:
    """The revisions given and all their ancestors."""
    found: set[str] = set()
    for head in revisions:
        found.update(rev.revision for rev in script.walk_revisions(base="base", head=head))
    return found


def plan_move(database_url: str, target: str) -> Move:
    """Where `croupier migrate --to TARGET` goes from the database's current revision. TARGET is a
    revision id (or a unique prefix of one), `head` or `base`."""
    script = ScriptDirectory.from_config(alembic_config(database_url))
    try:
        wanted = set(script.get_heads()) if target == "head" else set() if target == "base" else None
        if wanted is None:
            revision = script.get_revision(target)
            if revision is None:
                raise UnknownRevision(target)
            wanted = {revision.revision}
    except (RevisionError, CommandError) as exc:
        known = ", ".join(rev.revision for rev in reversed(list(script.walk_revisions())))
        raise UnknownRevision(f"no revision {target!r}; known: {known}, head, base") from exc
    current = current_heads(database_url)
    try:
        here = _lineage(script, current)
    except (RevisionError, CommandError) as exc:
        raise UnknownRevision(
            f"the database is at {', '.join(sorted(current))}, which this release does not know: "
            "move it with the release that added that revision"
        ) from exc
    there = _lineage(script, wanted)
    order = [rev.revision for rev in reversed(list(script.walk_revisions()))]  # oldest first
    if there < here:
        return Move("down", [rev for rev in reversed(order) if rev in here - there])
    if here <= there and here != there:
        return Move("up", [rev for rev in order if rev in there - here])
    return Move("none", [])


def move_to(database_url: str, target: str, move: Move) -> None:
    """Apply a planned move (blocking)."""
    if move.direction == "down":
        downgrade(database_url, target)
    elif move.direction == "up":
        upgrade(database_url, target)


async def pending_revisions(engine: AsyncEngine, database_url: str) -> list[str]:
    script = ScriptDirectory.from_config(alembic_config(database_url))

    def _current(connection: Connection) -> set[str]:
        return set(MigrationContext.configure(connection).get_current_heads())

    async with engine.connect() as conn:
        current = await conn.run_sync(_current)
    heads = set(script.get_heads())
    if current == heads:
        return []
    pending = []
    for rev in script.walk_revisions():
        if rev.revision in current:
            break
        pending.append(rev.revision)
    return list(reversed(pending))
