"""Demo affiliate data: the partner `demo-partner` on Royal with a tracking link tagged `demo` and a portal user
`partner@demo.test` (the demo password). Safe to run twice (what exists is kept)."""

from __future__ import annotations

from sqlmodel import col, select

from authz.subjects import SYSTEM
from core.runtime import Runtime
from models.affiliates import AffiliateLink, AffiliateUser
from services import brands
from services.affiliates import links, partners, portal_users

PARTNER = "demo-partner"
PORTAL_USER = "partner@demo.test"
BRAND = "royal"
TAG = "demo"


async def seed_affiliates(rt: Runtime, password: str) -> list[str]:
    async with rt.database.session() as db:
        brand = await brands.get_by_code(db, BRAND)
        partner = await partners.by_code(db, PARTNER)
    if partner is None:
        partner = await partners.create(
            rt,
            SYSTEM,
            partners.PartnerDraft(
                code=PARTNER,
                company="Demo Partner Media Ltd",
                contact_name="Dee Partner",
                contact_email=PORTAL_USER,
                payout_currency="EUR",
                payout_method="bank_transfer",
                payout_details={"iban": "MT84MALT011000012345MTLCAST001S", "holder": "Demo Partner Media Ltd"},
                brand_ids=[brand.id],
            ),
        )
    async with rt.database.session() as db:
        link = await db.scalar(
            select(AffiliateLink).where(
                col(AffiliateLink.affiliate_id) == partner.id,
                col(AffiliateLink.brand_id) == brand.id,
                col(AffiliateLink.tag) == TAG,
            )
        )
        user = await db.scalar(select(col(AffiliateUser.id)).where(col(AffiliateUser.email) == PORTAL_USER))
    if link is None:
        draft = links.LinkDraft(brand_id=brand.id, tag=TAG, landing_path="/welcome")
        link = await links.create(rt, SYSTEM, partner.id, draft)
    if user is None:
        await portal_users.create(
            rt, SYSTEM, partner.id, email=PORTAL_USER, password=password, display_name="Dee Partner"
        )
    base = rt.settings.public_base_url
    return [
        f"partner {PARTNER} at {BRAND}, link {base}/a/{link.code}?sub1=demo (tag {TAG})",
        f"portal user {PORTAL_USER} (the demo password)",
    ]
