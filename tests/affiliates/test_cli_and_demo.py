"""`croupier affiliates` (partners and links, refusals as a code and exit 1) and the demo partner, link and portal
user, seeded twice without a duplicate."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from integrations.demo import affiliates_seed
from tests.affiliates.conftest import click
from tests.tournaments.conftest import run_cli


async def test_the_cli_creates_and_lists_partners_and_links(client: Any, brand: Any) -> None:
    code, out = await run_cli(
        "affiliates", "create", "acme", "--company", "Acme Media Ltd", "--email", "ops@acme.example.com",
        "--brand", "royal",
    )  # fmt: skip
    assert code == 0, out
    code, out = await run_cli("affiliates", "list")
    assert code == 0, out
    assert "acme" in out
    assert "royal" in out
    assert "Acme Media Ltd" in out
    code, out = await run_cli("affiliates", "links", "create", "acme", "--brand", "royal", "--tag", "spring")
    assert code == 0, out
    path = out.strip()
    assert path.startswith("/a/")
    assert (await click(client, path.removeprefix("/a/"))).status_code == 302
    code, out = await run_cli("affiliates", "links", "list", "acme")
    assert code == 0, out
    assert "spring" in out
    assert "live" in out
    code, out = await run_cli("affiliates", "links", "archive", "acme", path.removeprefix("/a/"))
    assert (code, out) == (0, "archived\n")
    assert (await click(client, path.removeprefix("/a/"))).status_code == 404

    code, out = await run_cli("affiliates", "create", "acme", "--company", "X", "--email", "x@y.example.com",
                              "--brand", "royal")  # fmt: skip
    assert code == 1
    assert "refused (ALREADY_EXISTS)" in out
    code, out = await run_cli("affiliates", "links", "list", "nobody")
    assert code == 1
    assert "refused (NOT_FOUND)" in out


async def test_the_demo_partner_link_and_portal_user_are_seeded_once(rt: Any, client: Any, brand: Any) -> None:
    first = await affiliates_seed.seed_affiliates(rt, "croupier-demo-1")
    second = await affiliates_seed.seed_affiliates(rt, "croupier-demo-1")
    assert first == second
    assert "demo-partner" in first[0]
    assert "partner@demo.test" in first[1]
    async with rt.database.session() as db:
        counts = (
            await db.execute(
                text(
                    "SELECT (SELECT count(*) FROM affiliates WHERE code = 'demo-partner'),"
                    " (SELECT count(*) FROM affiliate_links WHERE tag = 'demo'),"
                    " (SELECT count(*) FROM affiliate_users WHERE email = 'partner@demo.test'),"
                    " (SELECT code FROM affiliate_links WHERE tag = 'demo')"
                )
            )
        ).one()
    assert tuple(counts[:3]) == (1, 1, 1)
    assert (await click(client, counts[3], sub1="demo")).status_code == 302
