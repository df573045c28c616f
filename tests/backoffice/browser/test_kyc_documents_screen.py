"""The KYC document queue in a real browser: a KYC officer opens a player's documents (an image inline, a PDF
in an iframe, both from short-lived content links of the live server), approves one with its expiry and
rejects the other with a reason; support is not offered the screen."""

from __future__ import annotations

from typing import Any

from playwright.async_api import expect
from sqlmodel import select

from tests.backoffice.browser.conftest import cell, sign_in
from tests.kyc_documents.conftest import pdf, png, upload


async def test_a_kyc_officer_reviews_documents_in_the_viewer(
    page: Any, rt: Any, client: Any, make_player: Any, make_staff: Any
) -> None:
    from models.audit import AuditRecord
    from models.kyc_documents import KycDocument

    player = await make_player(email="dora.docs@example.com", firstName="Dora", lastName="Docs")
    image = png(width=40, height=30, shade=120)
    assert (await upload(client, player.token, image, kind="IDENTITY"))["errors"] == []
    assert (await upload(client, player.token, pdf(2), kind="ADDRESS"))["errors"] == []
    officer = await make_staff("kyc_officer", login=False)
    await sign_in(page, officer)
    await page.get_by_role("link", name="KYC documents").click()
    await expect(page.get_by_role("heading", name="KYC documents")).to_be_visible()
    await expect(page.locator("tr[data-document]")).to_have_count(2)

    # The identity document: an image, shown inline from its content link.
    await cell(page, "identity").click()
    shown = page.get_by_role("img", name="Document: identity of Dora Docs")
    await expect(shown).to_be_visible()
    await page.wait_for_function(
        "() => { const img = document.querySelector('cr-app').shadowRoot.querySelector('cr-kyc-documents')"
        ".shadowRoot.querySelector('img'); return img && img.complete && img.naturalWidth === 40; }"
    )
    await page.get_by_label("Reason").fill("Passport matches the account")
    await page.get_by_label("Expires on").fill("2031-05-31")
    await page.get_by_role("button", name="Approve").click()
    await expect(page.get_by_role("status")).to_have_text("Approved the identity document of Dora Docs.")
    await expect(page.locator("tr[data-document]")).to_have_count(1)

    # The proof of address: a PDF in an iframe, its link served by the live server as a PDF.
    await cell(page, "address").click()
    frame = page.locator("iframe[title='Document: address of Dora Docs']")
    await expect(frame).to_be_visible()
    source = await frame.get_attribute("src")
    served = await page.request.get(source)
    assert served.status == 200
    assert served.headers["content-type"] == "application/pdf"
    assert (await served.body()).startswith(b"%PDF")
    await page.get_by_label("Reason").fill("The bill is older than three months")
    await page.get_by_role("button", name="Reject").click()
    await expect(page.get_by_role("status")).to_have_text("Rejected the address document of Dora Docs.")
    await expect(page.get_by_text("No document in this state.")).to_be_visible()

    await page.get_by_label("Status").select_option("APPROVED")
    await expect(cell(page, "identity")).to_be_visible()

    async with rt.database.session() as db:
        statuses = {row.kind: (row.status, row.reason) for row in (await db.scalars(select(KycDocument))).all()}
        reads = (await db.scalars(select(AuditRecord).where(AuditRecord.action == "kyc_document.read"))).all()
    assert statuses == {
        "identity": ("approved", "Passport matches the account"),
        "address": ("rejected", "The bill is older than three months"),
    }
    assert {r.actor_id for r in reads} == {officer.id}  # the image and the PDF were read, by the officer
    assert len(reads) >= 2


async def test_support_is_not_offered_the_document_queue(page: Any, make_staff: Any) -> None:
    support = await make_staff("support", login=False)
    await sign_in(page, support)
    await expect(page.get_by_role("link", name="Withdrawals")).to_be_visible()
    await expect(page.get_by_role("link", name="KYC documents")).to_have_count(0)
