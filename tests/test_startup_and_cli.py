"""Running the platform: settings, migrations at start-up, embedded servers, and the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from core.settings import Settings, normalise_database_url
from tests import cli_process, infra
from tests.conftest import ADMIN_URL, ROOT, TEST_ENV, next_totp

CLI = [sys.executable, "-m", "cli"]


def run_cli(
    *args: str, env: dict[str, str] | None = None, input_text: str | None = None, timeout: int = 120
) -> subprocess.CompletedProcess[str]:
    """`croupier ARGS` as a child process (forked from a warm one: tests/cli_process.py)."""
    return cli_process.run(*args, env={**os.environ, **TEST_ENV, **(env or {})}, input_text=input_text, timeout=timeout)


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://u@h:5432/db",
        "postgresql+asyncpg://u@h:5432/db",
        "postgres://u@h:5432/db",
    ],
)
def test_database_url_accepts_both_schemes(url: str) -> None:
    assert normalise_database_url(url) == "postgresql+asyncpg://u@h:5432/db"
    assert Settings(database_url=url).database_url == "postgresql+asyncpg://u@h:5432/db"


def test_database_url_refuses_other_databases() -> None:
    with pytest.raises(ValueError, match="PostgreSQL"):
        Settings(database_url="mysql://u@h/db")


@pytest.fixture
async def empty_database() -> Any:
    """A database with no tables at all, dropped afterwards."""
    name = f"{infra.DATABASE}_empty"  # this test process's own: workers and other runs do not collide
    conn = await asyncpg.connect(ADMIN_URL)
    await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    await conn.execute(f"CREATE DATABASE {name}")
    await conn.close()
    base = TEST_ENV["DATABASE_URL"]
    if "?" in base:
        head, _, query = base.partition("?")
        url = head.rsplit("/", 1)[0] + f"/{name}?" + query
    else:
        url = base.rsplit("/", 1)[0] + f"/{name}"
    yield url
    conn = await asyncpg.connect(ADMIN_URL)
    await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    await conn.close()


async def test_production_refuses_to_start_with_pending_migrations(empty_database: str, tmp_path: Path) -> None:
    from authz.jwt import generate_key
    from server import create_app

    generate_key(tmp_path / "keys")
    settings = Settings(
        env="production",
        database_url=empty_database,
        redis_url=TEST_ENV["REDIS_URL"],
        jwt_key_dir=tmp_path / "keys",
        data_dir=tmp_path,
    )
    app = create_app(settings)
    with pytest.raises(RuntimeError, match="pending migrations"):
        async with app.router.lifespan_context(app):
            pass
    conn = await asyncpg.connect(empty_database.replace("+asyncpg", ""))
    try:  # nothing was created behind the operator's back
        assert await conn.fetchval("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == 0
    finally:
        await conn.close()


async def test_development_applies_pending_migrations_on_start(empty_database: str, tmp_path: Path) -> None:
    from server import create_app

    settings = Settings(
        env="development", database_url=empty_database, redis_url=TEST_ENV["REDIS_URL"], data_dir=tmp_path
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            assert (await client.get("/readyz")).json()["database"] == "ok"
            body = (await client.post("/graphql", json={"query": "{ brands { code } }"})).json()
            assert body["data"] == {"brands": []}


def test_production_refuses_to_invent_signing_keys(tmp_path: Path) -> None:
    from authz.jwt import KeyRing

    with pytest.raises(RuntimeError, match="keys rotate"):
        KeyRing.load(tmp_path / "none", create_if_empty=False)


def test_embedded_postgres_and_redis_when_no_urls_are_set(tmp_path: Path) -> None:
    """A fresh machine with no DATABASE_URL / REDIS_URL: `croupier migrate` and `seed-demo` still work."""
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "REDIS_URL")}
    env.update({"ENV": "development", "DATA_DIR": str(tmp_path / "data"), "LOG_LEVEL": "WARNING"})
    migrated = subprocess.run(
        [*CLI, "migrate"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180, check=False
    )
    assert migrated.returncode == 0, migrated.stderr + migrated.stdout
    assert (tmp_path / "data" / "pgdata" / "PG_VERSION").exists()
    seeded = subprocess.run(
        [*CLI, "seed-demo"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180, check=False
    )
    assert seeded.returncode == 0, seeded.stderr + seeded.stdout
    assert "admin@croupier.dev" in seeded.stdout
    assert (tmp_path / "data" / "redis.db").exists() or any((tmp_path / "data").glob("redis*"))


async def test_seed_demo_is_repeatable_and_its_credentials_work(gql: Any, rt: Any) -> None:
    from integrations.demo import seed

    first = await seed.seed_accounts(rt)
    second = await seed.seed_accounts(rt)
    assert [s.email for s in first] == [s.email for s in second]
    admin = next(s for s in second if s.role == "superadmin")
    body = await gql(
        """mutation($input: StaffLoginInput!) { staffLogin(input: $input) {
        tokens { accessToken } errors { code } } }""",
        {"input": {"email": admin.email, "password": seed.DEMO_PASSWORD, "totpCode": next_totp(admin.totp_secret)}},
    )
    token = body["data"]["staffLogin"]["tokens"]["accessToken"]
    players = await gql("{ players(first: 50) { edges { node { email brand { code } } } } }", token=token)
    emails = {edge["node"]["email"] for edge in players["data"]["players"]["edges"]}
    assert emails == {email for _, email, *_ in seed.PLAYERS}
    login = await gql("""mutation { login(input: {brand: "royal", email: "alice@example.com",
        password: "croupier-demo-1"}) { player { email } errors { code } } }""")
    assert login["data"]["login"] == {"player": {"email": "alice@example.com"}, "errors": []}


async def test_create_staff_command_prints_an_enrolment_uri_and_the_staff_can_log_in(gql: Any, brand: Any) -> None:
    done = run_cli(
        "create-staff",
        "ops@croupier.dev",
        "--name",
        "Ops",
        "--role",
        "support@royal",
        "--role",
        "finance@royal",
        "--password",
        "a-long-pass-1",
    )
    assert done.returncode == 0, done.stderr
    uri = next(line for line in done.stdout.splitlines() if line.startswith("otpauth://"))
    import pyotp

    secret = pyotp.parse_uri(uri).secret
    body = await gql(
        """mutation($input: StaffLoginInput!) { staffLogin(input: $input) {
        staff { email roles { role brand { code } } } errors { code } } }""",
        {"input": {"email": "ops@croupier.dev", "password": "a-long-pass-1", "totpCode": next_totp(secret)}},
    )
    staff = body["data"]["staffLogin"]["staff"]
    assert sorted((r["role"], r["brand"]["code"]) for r in staff["roles"]) == [
        ("FINANCE", "royal"),
        ("SUPPORT", "royal"),
    ]
    again = run_cli(
        "create-staff", "ops@croupier.dev", "--name", "Ops", "--role", "support@royal", "--password", "a-long-pass-1"
    )
    assert again.returncode == 1
    assert "already exists" in again.stderr
    unknown = run_cli(
        "create-staff", "x@croupier.dev", "--name", "X", "--role", "support@nowhere", "--password", "a-long-pass-1"
    )
    assert unknown.returncode == 1
    assert "nowhere" in unknown.stderr


def test_keys_rotate_adds_a_newer_signing_key(tmp_path: Path) -> None:
    from authz.jwt import KeyRing

    folder = tmp_path / "keys"
    for _ in range(2):
        done = run_cli("keys", "rotate", env={"JWT_KEY_DIR": str(folder)})
        assert done.returncode == 0, done.stderr
    ring = KeyRing.load(folder, create_if_empty=False)
    kids = sorted(path.stem for path in folder.glob("*.pem"))
    assert len(kids) == 2
    assert ring.active_kid == kids[-1]
    assert {key["kid"] for key in ring.public_jwks()["keys"]} == set(kids)


async def test_seed_gives_the_demo_players_a_money_history_once(rt: Any, demo_psp: str) -> None:
    """Deposits (one through a cascade), a paid withdrawal, one waiting for finance, an adjustment;
    running the seed again adds nothing."""
    from sqlalchemy import func, select

    from integrations.demo import seed
    from models.adjustments import Adjustment
    from models.ledger import LedgerTransaction
    from models.payments import Payment
    from services import ledger

    await seed.seed_accounts(rt)
    first = await seed.seed_payments(rt)
    async with rt.database.session() as db:
        transactions = await db.scalar(select(func.count()).select_from(LedgerTransaction))
        payments = {(p.kind, p.status) for p in (await db.scalars(select(Payment))).all()}
        cascaded = await db.scalar(select(Payment).where(Payment.idempotency_key == "demo-alice-deposit-1"))
        adjustment = await db.scalar(select(Adjustment))
    assert ("deposit", "succeeded") in payments
    assert ("withdrawal", "paid") in payments
    assert ("withdrawal", "requested") in payments
    assert cascaded is not None
    assert cascaded.psp == "cardpay"  # swiftpay was down: the cascade moved on
    assert adjustment is not None
    assert adjustment.status == "applied"
    assert any("adjustment" in line for line in first)

    await seed.seed_payments(rt)
    async with rt.database.session() as db:
        assert await db.scalar(select(func.count()).select_from(LedgerTransaction)) == transactions
        verification = await ledger.verify(db)
    assert verification.ok, verification.discrepancies
