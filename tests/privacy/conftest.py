"""Privacy fixtures: a player with something in every category (deposits, bets, a KYC document, an AML
case, an RG limit, a staff note), and the GraphQL operations of the privacy surface."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import text
from strawberry import relay

from tests import cli_process
from tests.aml_cases.conftest import CLOSE, OPEN, Desk
from tests.cashier.conftest import card_deposit, psp  # noqa: F401  (fixtures: real card deposits)
from tests.conftest import fund
from tests.kyc_documents.conftest import pdf, upload
from tests.providers.conftest import (  # noqa: F401  (fixtures: a provider's seamless-wallet calls)
    Seat,
    aggregator,
    aggregator_key,
    hub88_provider,
    open_session,
)

PRIVACY = """query($id: ID!) { playerPrivacy(playerId: $id) {
  erasedAt pseudonym requests { kind status requestedByType reason } holds { category basis retainedUntil releasedAt }
} }"""
ERASE = """mutation($input: DecideDataErasureInput!) { erasePlayer(input: $input) {
  privacy { erasedAt pseudonym holds { category retainedUntil releasedAt } requests { kind status } }
  errors { code field message } } }"""
REJECT = """mutation($input: DecideDataErasureInput!) { rejectDataErasure(input: $input) {
  request { kind status } errors { code field message } } }"""
REQUEST = """mutation($input: RequestDataErasureInput!) { requestDataErasure(input: $input) {
  request { id kind status requestedByType reason } errors { code field message } } }"""
EXPORT = """mutation($input: PlayerPrivacyInput!) { exportPlayerData(input: $input) {
  export errors { code field message } } }"""
MINE = "{ myDataExport }"
SET_LIMIT = """mutation($input: SetLimitInput!) { setLimit(input: $input) { errors { code message } } }"""


@dataclass
class Seeded:
    player: Any  # tests.conftest.PlayerAccount
    first_name: str
    last_name: str
    phone: str
    case_id: str
    street: str  # the first line of the postal address, found by a search (a unique name in it)


def unique_name(prefix: str) -> str:
    """A name no other row of the database can hold by chance (the leak searches look for it)."""
    return prefix + uuid.uuid4().hex[:10]


@pytest.fixture
async def dpo(make_staff: Any) -> Any:
    return await make_staff("dpo")


@pytest.fixture
def seed(
    rt: Any,
    gql: Any,
    client: Any,
    make_player: Any,
    make_staff: Any,
    card_deposit: Any,  # noqa: F811
    aggregator: Any,  # noqa: F811
    hub88_provider: Any,  # noqa: F811
) -> Any:
    """`await seed()`: a player with data in every category, whose balance is back to zero (their deposit
    lost at the slot), and whose AML case is closed with no action: nothing blocks their erasure."""
    desk = Desk(gql)
    staff: dict[str, Any] = {}

    async def make(*, email: str | None = None) -> Seeded:
        if not staff:
            staff["kyc"] = await make_staff("kyc_officer")
            staff["support"] = await make_staff("support")
        first, last = unique_name("Zephyrine"), unique_name("Quarrington")
        phone = "+35679" + str(uuid.uuid4().int)[:6]
        street = f"{unique_name('Mulberry')} 7"  # no street-type word: risk's key holds it as it is
        player = await make_player(email=email or f"{unique_name('p')}@example.com", firstName=first, lastName=last,
                                   phone=phone, addressLine1=street, city="Valletta",
                                   postalCode="VLT 1010")  # fmt: skip
        await card_deposit(player, "25.00")
        token = await open_session(rt, hub88_provider, player.uuid)
        seat = Seat(str(player.uuid), player.uuid, token)
        answer = await aggregator.call("transaction/bet", seat.bet(2_500_000, round_ref=f"r-{uuid.uuid4().hex[:8]}"))
        assert answer["status"] == "RS_OK", answer
        uploaded = await upload(client, player.token, pdf())
        assert uploaded["errors"] == [], uploaded
        limit = await gql(
            SET_LIMIT, {"input": {"kind": "DEPOSIT", "period": "DAY", "amount": "500"}}, token=player.token
        )
        assert limit["data"]["setLimit"]["errors"] == [], limit
        from services import player_notes
        from tests.cashier.conftest import staff_viewer

        brand = await _brand_of(rt, player.uuid)
        await player_notes.add_note(
            rt, staff_viewer(staff["support"], brand, "support"), player.uuid, f"Called about {first} {last}"
        )
        case = (
            await desk.ok(OPEN, staff["kyc"].token, playerId=player.id, summary=f"Check {last}", caseType="structuring")
        )["case"]
        closed = await desk.ok(CLOSE, staff["kyc"].token, caseId=case["id"], outcome="NO_ACTION", reason="explained")
        assert closed["case"]["state"] == "CLOSED", closed
        return Seeded(player, first, last, phone, case["id"], street)

    return make


async def _brand_of(rt: Any, player_id: uuid.UUID) -> Any:
    from models.brands import Brand
    from models.players import Player

    async with rt.database.session() as db:
        player = await db.get(Player, player_id)
        return await db.get(Brand, player.brand_id)


async def cli(*args: str) -> tuple[int, str, str]:
    """`croupier ARGS` as a child process (tests/cli_process.py): exit code, stdout, stderr."""
    done = await cli_process.run_async(*args, env=dict(os.environ), timeout=120)
    return done.returncode, done.stdout, done.stderr


async def tables_holding(rt: Any, needle: str) -> dict[str, list[str]]:
    """Every (table: columns) whose text, JSON or text-array value contains `needle` — every table of the
    database, so a table added later and forgotten by the erasure shows up here."""
    async with rt.database.session() as db:
        columns = (
            await db.execute(
                text(
                    "SELECT table_name, column_name, data_type FROM information_schema.columns "
                    "WHERE table_schema = 'public' AND data_type IN "
                    "('character varying', 'text', 'jsonb', 'json', 'ARRAY') ORDER BY 1, 2"
                )
            )
        ).all()
        # One statement for every column (hundreds of them): a query each cost a round trip each.
        probes = [
            f'SELECT {n} WHERE EXISTS (SELECT 1 FROM "{table}" WHERE strpos(lower("{column}"::text), lower(:n)) > 0)'
            for n, (table, column, _kind) in enumerate(columns)
        ]
        hits = (await db.execute(text(" UNION ALL ".join(probes)), {"n": needle})).scalars().all()
    found: dict[str, list[str]] = {}
    for n in sorted(hits):
        table, column, _kind = columns[n]
        found.setdefault(table, []).append(column)
    return found


def raw_id(global_id: str) -> str:
    return relay.GlobalID.from_id(global_id).node_id


async def give(rt: Any, player: Any, amount: str) -> None:
    await fund(rt, player, amount)


async def holds_expired(rt: Any, player: Any) -> None:
    """The player's retention holds as if their periods had ended yesterday (the sweep's turn)."""
    async with rt.database.transaction() as db:
        await db.execute(
            text("UPDATE privacy_holds SET retained_until = now() - interval '1 day' WHERE player_id = :p"),
            {"p": player.uuid},
        )
