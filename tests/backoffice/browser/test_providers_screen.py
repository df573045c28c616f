"""The Providers screen in a real browser: a content manager onboards a provider (its key pasted as PEM),
adds and edits a game, previews and then imports the provider's game list, switches the provider off and
rotates its key; roles without the right are not offered the screen."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from playwright.async_api import expect
from sqlalchemy import func, select

from tests.backoffice.browser.conftest import cell, sign_in


def key_pair() -> tuple[str, str]:
    """A public key's PEM and its fingerprint (SHA-256 of the DER encoding, hex)."""
    public = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return pem, hashlib.sha256(der).hexdigest()


async def game_codes(rt: Any) -> list[str]:
    from models.games import Game

    async with rt.database.session() as db:
        return sorted((await db.scalars(select(Game.code))).all())


async def test_content_manager_onboards_a_provider_with_its_games_and_game_list(
    page: Any, rt: Any, make_staff: Any
) -> None:
    from models.audit import AuditRecord

    first_pem, first_fingerprint = key_pair()
    second_pem, second_fingerprint = key_pair()
    manager = await make_staff(("content_manager", None), login=False)
    await sign_in(page, manager)
    await page.get_by_role("link", name="Providers").click()
    await expect(page.get_by_text("No provider yet")).to_be_visible()

    await page.get_by_role("button", name="Add a provider").click()
    form = page.get_by_role("form", name="New provider")
    await form.get_by_label("Code", exact=True).fill("acme")
    await form.get_by_label("Name", exact=True).fill("Acme Games")
    await form.get_by_label("Launch URL").fill("https://games.acme.example/play")
    await form.get_by_label("Public key (Hub88, PEM)").fill(first_pem)
    await form.get_by_role("button", name="Save provider").click()
    await expect(page.get_by_text("Acme Games added.")).to_be_visible()
    row = cell(page, "Acme Games")
    await expect(row).to_contain_text(f"sha256:{first_fingerprint[:16]}")
    await expect(row.locator(".badge")).to_have_text("on")

    await row.get_by_role("button", name="Games of Acme Games").click()
    await expect(page.get_by_text("No games yet")).to_be_visible()
    await page.get_by_role("button", name="Add a game").click()
    game = page.get_by_role("form", name="New game")
    await game.get_by_label("Game code").fill("neon")
    await game.get_by_label("Title").fill("Neon Nights")
    await game.get_by_label("RTP %").fill("96.5")
    await game.get_by_label("Currencies").fill("EUR")
    await game.get_by_label("Maximum bets").fill("EUR 100")
    await game.get_by_role("button", name="Save game").click()
    await expect(page.get_by_text("Neon Nights added.")).to_be_visible()
    await expect(cell(page, "neon")).to_contain_text("96.50%")

    await page.get_by_role("button", name="Edit Neon Nights").click()
    edit = page.get_by_role("form", name="Edit Neon Nights")
    await expect(edit.get_by_label("Maximum bets")).to_have_value("EUR 100.00")
    await edit.get_by_label("Title").fill("Neon Nights Deluxe")
    await edit.get_by_role("button", name="Save game").click()
    await expect(page.get_by_text("Neon Nights Deluxe saved.")).to_be_visible()

    listing = [
        {"game_code": "neon", "name": "Neon Nights Deluxe", "category": "Video Slots", "rtp": "95.5"},
        {
            "game_code": "clt_dragonrising",
            "name": "Dragon Rising",
            "category": "Video Slots",
            "rtp": "96.1",
            "product": "Crazy Tooth Studio",
            "volatility": 4,
            "enabled": True,
        },
    ]
    importer = page.get_by_role("form", name="Import the game list")
    await importer.get_by_label("Game list (JSON, Hub88 /game/list)").fill(json.dumps(listing))
    await importer.get_by_label("Currencies of new games").fill("EUR")
    await expect(importer.get_by_role("button", name="Import", exact=True)).to_be_disabled()
    await importer.get_by_role("button", name="Preview").click()
    preview = page.get_by_label("Import preview")
    await expect(preview).to_contain_text("Would add 1, would change 1")
    await expect(preview).to_contain_text("clt_dragonrising Dragon Rising")
    await expect(preview).to_contain_text('rtp: "96.50" → "95.50"')
    assert await game_codes(rt) == ["neon"]  # a preview writes nothing
    await importer.get_by_role("button", name="Import", exact=True).click()
    await expect(page.get_by_text("Imported: 1 added, 1 changed.")).to_be_visible()
    await expect(cell(page, "clt_dragonrising")).to_contain_text("Dragon Rising")
    assert await game_codes(rt) == ["clt_dragonrising", "neon"]

    await row.get_by_role("button", name="Disable Acme Games").click()
    await expect(page.get_by_role("alert").first).to_contain_text("Give a reason for the change first")
    await page.get_by_label("Reason for a change").fill("Contract paused")
    await row.get_by_role("button", name="Disable Acme Games").click()
    await expect(page.get_by_text("Acme Games is now off.")).to_be_visible()
    await expect(row.locator(".badge")).to_have_text("off")
    await expect(row.locator("td.num")).to_have_text("2")  # its games, counted

    await page.get_by_label("Reason for a change").fill("Yearly key rotation")
    await row.get_by_role("button", name="Rotate the key of Acme Games").click()
    await page.get_by_label("New public key (PEM)").fill("-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----")
    await page.get_by_role("button", name="Save key").click()
    await expect(page.get_by_role("alert").first).to_contain_text("Not a PEM public key")
    await page.get_by_label("New public key (PEM)").fill(second_pem)
    await page.get_by_role("button", name="Save key").click()
    rotated = f"Acme Games now verifies with sha256:{second_fingerprint[:16]}… (2048 bits)."
    await expect(page.get_by_text(rotated)).to_be_visible()
    await expect(cell(page, "Acme Games").first).to_contain_text(f"sha256:{second_fingerprint[:16]}")

    # The free-rounds API's URL (docs/free-rounds.md): checked, then set with the reason, shown in the row.
    api = "https://api.acme.example/operator/generic/v2"
    await expect(cell(page, "Acme Games").first).to_contain_text("launch URL")
    await cell(page, "Acme Games").first.get_by_role("button", name="Free rounds API of Acme Games").click()
    free_rounds = page.get_by_role("form", name="Free rounds API of Acme Games")
    await free_rounds.get_by_label("Free-rounds API URL").fill("/operator/generic/v2")
    await free_rounds.get_by_role("button", name="Save URL").click()
    await expect(page.get_by_role("alert").first).to_contain_text("base http(s) URL of the provider's free-rounds API")
    await free_rounds.get_by_label("Free-rounds API URL").fill(api + "/")
    await free_rounds.get_by_role("button", name="Save URL").click()
    await expect(page.get_by_text(f"Acme Games grants free rounds through {api}.")).to_be_visible()
    await expect(cell(page, "Acme Games").first).to_contain_text(api)

    async with rt.database.session() as db:
        keyed = (await db.scalars(select(AuditRecord).where(AuditRecord.action == "game_provider.key_set"))).all()
        imports = await db.scalar(
            select(func.count()).select_from(AuditRecord).where(AuditRecord.action == "game_provider.catalog_imported")
        )
    assert [(r.before["public_key_fingerprint"], r.after["public_key_fingerprint"], r.reason) for r in keyed] == [
        (first_fingerprint, second_fingerprint, "Yearly key rotation")
    ]
    assert imports == 1
    async with rt.database.session() as db:
        updated = (await db.scalars(select(AuditRecord).where(AuditRecord.action == "game_provider.updated"))).all()
    assert [(r.after["free_rounds_url"], r.reason) for r in updated] == [(api, "Yearly key rotation")]


async def test_roles_without_the_right_are_not_offered_the_providers_screen(page: Any, make_staff: Any) -> None:
    admin = await make_staff("brand_admin", login=False)
    await sign_in(page, admin)
    await expect(page.get_by_role("link", name="Games")).to_be_visible()
    await expect(page.get_by_role("link", name="Providers")).to_have_count(0)
    await page.goto("/admin/#/providers")  # typed by hand: the first screen it may use instead
    await expect(page.get_by_role("heading", name="Game providers")).to_have_count(0)
