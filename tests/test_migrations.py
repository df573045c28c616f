"""Rolling a release back: every Alembic revision downgrades and upgrades again cleanly, with demo data in
the tables, and `croupier migrate --to REVISION` moves the schema either way.

The schema is compared through PostgreSQL's catalogue (columns, constraints, indexes, triggers, functions,
types, sequences, views), so a downgrade that leaves a column, an index or a trigger behind fails here
even when the next upgrade happens to succeed.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from alembic.script import ScriptDirectory

from core import migrations
from core.redis import create_redis
from core.runtime import Runtime
from core.settings import Settings, normalise_database_url
from tests import cli_process
from tests.conftest import ADMIN_URL, REDIS_URL, TEST_ENV
from tests.infra import TEMPLATE_DB, TEST_DB

Snapshot = dict[str, set[tuple[Any, ...]]]

# Each query lists one kind of schema object in `public`, leaving out Alembic's own bookkeeping table.
CATALOGUE = {
    "relations": """
        SELECT relname, relkind::text FROM pg_class
        WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p', 'v', 'm', 'S')
          AND relname <> 'alembic_version'""",
    "columns": """
        SELECT table_name, column_name, data_type, udt_name, is_nullable, column_default,
               character_maximum_length, numeric_precision, numeric_scale, is_identity, is_generated
        FROM information_schema.columns
        WHERE table_schema = 'public' AND table_name <> 'alembic_version'""",
    "constraints": """
        SELECT conrelid::regclass::text, conname, contype::text, pg_get_constraintdef(oid), condeferrable,
               condeferred
        FROM pg_constraint
        WHERE connamespace = 'public'::regnamespace AND conrelid::regclass::text <> 'alembic_version'""",
    "indexes": """
        SELECT tablename, indexname, indexdef FROM pg_indexes
        WHERE schemaname = 'public' AND tablename <> 'alembic_version'""",
    "triggers": """
        SELECT tgrelid::regclass::text, tgname, pg_get_triggerdef(oid), tgenabled::text FROM pg_trigger
        WHERE NOT tgisinternal""",
    "functions": """
        SELECT proname, pg_get_function_identity_arguments(oid), pg_get_functiondef(oid) FROM pg_proc
        WHERE pronamespace = 'public'::regnamespace AND prokind IN ('f', 'p')""",
    "types": """
        SELECT t.typname, t.typtype::text, coalesce(string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder), '')
        FROM pg_type t LEFT JOIN pg_enum e ON e.enumtypid = t.oid
        WHERE t.typnamespace = 'public'::regnamespace AND t.typtype IN ('e', 'd')
        GROUP BY t.typname, t.typtype""",
    "sequences": """
        SELECT sequencename, data_type::text, increment_by, min_value, max_value FROM pg_sequences
        WHERE schemaname = 'public'""",
    "views": "SELECT viewname, definition FROM pg_views WHERE schemaname = 'public'",
    "extensions": "SELECT extname FROM pg_extension",
}


async def schema_of(url: str) -> Snapshot:
    conn = await asyncpg.connect(url.replace("+asyncpg", ""))
    try:
        return {kind: {tuple(row) for row in await conn.fetch(query)} for kind, query in CATALOGUE.items()}
    finally:
        await conn.close()


def differences(got: Snapshot, expected: Snapshot) -> dict[str, dict[str, list[tuple[Any, ...]]]]:
    return {
        kind: {"unexpected": sorted(got[kind] - expected[kind]), "missing": sorted(expected[kind] - got[kind])}
        for kind in CATALOGUE
        if got[kind] != expected[kind]
    }


def revisions_oldest_first() -> list[str]:
    script = ScriptDirectory.from_config(migrations.alembic_config(TEST_ENV["DATABASE_URL"]))
    return [revision.revision for revision in reversed(list(script.walk_revisions()))]


def database_url(name: str) -> str:
    base = TEST_ENV["DATABASE_URL"]
    head, _, query = base.partition("?")
    return normalise_database_url(head.rsplit("/", 1)[0] + f"/{name}" + (f"?{query}" if query else ""))


@pytest.fixture
async def scratch_database() -> AsyncIterator[Any]:
    """Databases of this test run's own, dropped afterwards: empty, or copies of `template`."""
    made: list[str] = []

    async def make(suffix: str, template: str = "template1") -> str:
        name = f"{TEST_DB}_{suffix}"
        conn = await asyncpg.connect(ADMIN_URL)
        try:
            await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            await conn.execute(f"CREATE DATABASE {name} TEMPLATE {template}")
        finally:
            await conn.close()
        made.append(name)
        return database_url(name)

    yield make
    conn = await asyncpg.connect(ADMIN_URL)
    try:
        for name in made:
            await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        await conn.close()


async def seed_demo_data(url: str) -> None:
    """What `croupier seed-demo` writes (brands, staff, players with RG limits, the game catalogue, bonus
    campaigns, a money history through the demo PSP: ledger, payments, adjustments, audit), plus rows
    only later revisions can hold: a withdrawal the player cancelled (0008) and a live-casino round
    two players sat in (0007)."""
    from sqlalchemy import select

    from authz.subjects import RequestMeta, Viewer
    from core.ids import new_id
    from integrations.demo import seed
    from models.games import Game, GameRound
    from models.payments import Payment
    from models.players import Player
    from services import cashier

    rt = Runtime.build(Settings(database_url=url), url, create_redis(REDIS_URL))
    try:
        await seed.seed_accounts(rt)
        await seed.seed_games(rt)
        await seed.seed_bonuses(rt)
        assert any("deposit" in line for line in await seed.seed_payments(rt))
        async with rt.database.session() as db:
            waiting = await db.scalar(select(Payment).where(Payment.idempotency_key == "demo-carla-withdrawal-1"))
            players = (
                await db.scalars(select(Player).where(Player.email.in_(["alice@example.com", "bob@example.com"])))
            ).all()
            live = await db.scalar(select(Game).where(Game.code == "live-roulette"))
        assert waiting is not None
        assert live is not None
        carla = Viewer(
            kind="player",
            id=waiting.player_id,
            brand_id=waiting.brand_id,
            brand_code="royal",
            roles=frozenset({"player"}),
            meta=RequestMeta(ip="127.0.0.1"),
        )
        await cashier.cancel_withdrawal(rt, carla, payment_id=waiting.id)
        async with rt.database.transaction() as db:
            for player in players:
                db.add(
                    GameRound(
                        id=new_id(),
                        provider_id=live.provider_id,
                        round_ref="table-7-spin-1",
                        player_id=player.id,
                        game_id=live.id,
                        currency=player.currency,
                        status="closed",
                    )
                )
    finally:
        await rt.close()


async def test_every_revision_downgrades_and_upgrades_again_with_demo_data(
    scratch_database: Any, demo_psp: str
) -> None:
    revisions = revisions_oldest_first()
    assert len(revisions) >= 12

    # What each revision's schema is, built by upgrading an empty database one revision at a time.
    fresh = await scratch_database("rollback_fresh")
    expected = {"base": await schema_of(fresh)}
    for revision in revisions:
        await asyncio.to_thread(migrations.upgrade, fresh, revision)
        expected[revision] = await schema_of(fresh)

    # An empty database upgraded to head in one go, as the run's template is built (tests/infra.build_template:
    # `migrations.upgrade` on an empty database, from the same revisions): a copy of it, not a third migration.
    data = await scratch_database("rollback_data", template=TEMPLATE_DB)
    assert await asyncio.to_thread(migrations.current_heads, data) == {revisions[-1]}
    await seed_demo_data(data)

    below = dict(zip(revisions, ["base", *revisions[:-1]], strict=True))
    for revision in reversed(revisions):  # head → base, one revision at a time, data in the tables
        await asyncio.to_thread(migrations.downgrade, data, below[revision])
        assert await asyncio.to_thread(migrations.current_heads, data) == (
            set() if below[revision] == "base" else {below[revision]}
        )
        got = await schema_of(data)
        assert got == expected[below[revision]], (
            f"downgrade of {revision}",
            differences(got, expected[below[revision]]),
        )
    # base → head again in one go: each step up was compared on the fresh database above, so what is left to
    # show is that a database taken down to base (types, sequences, anything a downgrade forgot) goes up cleanly.
    await asyncio.to_thread(migrations.upgrade, data, "head")
    got = await schema_of(data)
    assert got == expected[revisions[-1]], ("upgrade to head again", differences(got, expected[revisions[-1]]))


def croupier(*args: str, url: str) -> subprocess.CompletedProcess[str]:
    """`croupier ARGS` on `url` as a child process (forked from a warm one: tests/cli_process.py)."""
    return cli_process.run(*args, env={**os.environ, **TEST_ENV, "DATABASE_URL": url}, timeout=300)


async def test_migrate_to_moves_the_schema_down_and_up(scratch_database: Any) -> None:
    revisions = revisions_oldest_first()
    url = await scratch_database("migrate_to")
    target = revisions[-3]

    up = await asyncio.to_thread(croupier, "migrate", "--to", target, url=url)
    assert up.returncode == 0, up.stderr
    assert await asyncio.to_thread(migrations.current_heads, url) == {target}
    assert f"applied {', '.join(revisions[: revisions.index(target) + 1])}" in up.stdout

    await asyncio.to_thread(croupier, "migrate", url=url)  # to the newest
    assert await asyncio.to_thread(migrations.current_heads, url) == {revisions[-1]}

    unconfirmed = await asyncio.to_thread(croupier, "migrate", "--to", target, url=url)  # no one to say yes
    assert unconfirmed.returncode == 1
    assert await asyncio.to_thread(migrations.current_heads, url) == {revisions[-1]}

    down = await asyncio.to_thread(croupier, "migrate", "--to", target, "--yes", url=url)
    assert down.returncode == 0, down.stderr
    assert f"undid {revisions[-1]}, {revisions[-2]}" in down.stdout
    assert await asyncio.to_thread(migrations.current_heads, url) == {target}

    unknown = await asyncio.to_thread(croupier, "migrate", "--to", "no-such-revision", url=url)
    assert unknown.returncode == 2
    assert "no revision 'no-such-revision'" in unknown.stderr

    back = await asyncio.to_thread(croupier, "migrate", "--to", "head", url=url)
    assert back.returncode == 0, back.stderr
    assert await asyncio.to_thread(migrations.current_heads, url) == {revisions[-1]}
    again = await asyncio.to_thread(croupier, "migrate", "--to", "head", url=url)
    assert "already at head" in again.stdout
