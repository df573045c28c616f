"""Affiliate partners and tracking, staff side (docs/affiliates.md): partners with their brands, links and portal
users; a player's attribution (`Player.affiliate`). Relations load through the per-request affiliate loaders."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay

from models import affiliates as m
from schema.base import UserError
from schema.brands import Brand
from schema.context import Info
from schema.input_limits import EMAIL, PASSWORD, PHONE, REASON, TITLE, text

if TYPE_CHECKING:
    from services.affiliates.attribution import Attribution

strawberry.enum(m.AffiliateStatus, name="AffiliateStatus")
AffiliateStatus = m.AffiliateStatus


@strawberry.type(description="One payout detail of a partner (IBAN, account holder, wallet address, …).")
class AffiliatePayoutDetail:
    name: str
    value: str


@strawberry.type(description="A sub-id a click carried (`sub1` … `sub5`).")
class AffiliateSubId:
    key: str
    value: str


def _sub_ids(values: dict[str, object]) -> list[AffiliateSubId]:
    return [AffiliateSubId(key=k, value=str(v)) for k, v in sorted(values.items())]


@strawberry.type(
    description="A tracking link: `/a/{code}` records a click, then redirects to its brand's `landingPath`."
)
class AffiliateLink(relay.Node):
    id: relay.NodeID[str]
    code: str
    path: str = strawberry.field(description="The click path on the brand's site: `/a/{code}` (add `?sub1=…`).")
    tag: str
    landing_path: str
    archived_at: datetime | None
    created_at: datetime
    brand_id: strawberry.Private[uuid.UUID]

    @strawberry.field
    async def brand(self, info: Info) -> Brand | None:
        found = await info.context.loaders.brand.load(self.brand_id)
        return Brand.from_model(found) if found else None

    @classmethod
    def from_model(cls, row: m.AffiliateLink) -> AffiliateLink:
        return cls(
            id=str(row.id),
            code=row.code,
            path=f"/a/{row.code}",
            tag=row.tag,
            landing_path=row.landing_path,
            archived_at=row.archived_at,
            created_at=row.created_at,
            brand_id=row.brand_id,
        )


@strawberry.type(description="A person who signs in to the partner portal for a partner.")
class AffiliatePortalUser(relay.Node):
    id: relay.NodeID[str]
    email: str
    display_name: str | None
    last_login_at: datetime | None
    disabled_at: datetime | None
    created_at: datetime

    @classmethod
    def from_model(cls, row: m.AffiliateUser) -> AffiliatePortalUser:
        return cls(
            id=str(row.id),
            email=row.email,
            display_name=row.display_name,
            last_login_at=row.last_login_at,
            disabled_at=row.disabled_at,
            created_at=row.created_at,
        )


@strawberry.type(description="An affiliate partner: who they are, how they are paid, the brands they promote.")
class Affiliate(relay.Node):
    id: relay.NodeID[str]
    code: str = strawberry.field(description="Unique, never changes: links, postbacks and Hub88 carry it.")
    company: str
    status: AffiliateStatus
    contact_name: str | None
    contact_email: str
    contact_phone: str | None
    payout_currency: str
    payout_method: str | None
    payout_details: list[AffiliatePayoutDetail]
    created_at: datetime
    version: int
    parent_id: strawberry.Private[uuid.UUID | None]

    @strawberry.field(description="The partner that brought this one in (its second tier earns on this one).")  # type: ignore[untyped-decorator]
    async def parent(self, info: Info) -> Affiliate | None:
        if self.parent_id is None:
            return None
        # Brand staff read the partners of their brand only (partners.readable_partners): a parent promoting
        # none of it is as absent to them as it is to `affiliate(id:)`.
        loaders, brand_id = info.context.loaders.affiliates, info.context.viewer.brand_id
        if brand_id is not None and brand_id not in await loaders.brand_ids.load(self.parent_id):
            return None
        found = await loaders.partner.load(self.parent_id)
        return Affiliate.from_model(found) if found else None

    @strawberry.field
    async def brands(self, info: Info) -> list[Brand]:
        ids = await info.context.loaders.affiliates.brand_ids.load(uuid.UUID(self.id))
        found = await info.context.loaders.brand.load_many(ids)
        return sorted((Brand.from_model(b) for b in found if b), key=lambda b: b.code)

    @strawberry.field(  # type: ignore[untyped-decorator]
        description="Its tracking links, newest first (archived ones too); staff of one brand: that brand's only."
    )
    async def links(self, info: Info) -> list[AffiliateLink]:
        key = (uuid.UUID(self.id), info.context.viewer.brand_id)
        found = await info.context.loaders.affiliates.links.load(key)
        return [AffiliateLink.from_model(x) for x in found]

    @strawberry.field(description="Who signs in to the partner portal for it.")  # type: ignore[untyped-decorator]
    async def portal_users(self, info: Info) -> list[AffiliatePortalUser]:
        found = await info.context.loaders.affiliates.portal_users.load(uuid.UUID(self.id))
        return [AffiliatePortalUser.from_model(u) for u in found]

    @classmethod
    def from_model(cls, row: m.Affiliate) -> Affiliate:
        return cls(
            id=str(row.id),
            code=row.code,
            company=row.company,
            status=AffiliateStatus(row.status),
            contact_name=row.contact_name,
            contact_email=row.contact_email,
            contact_phone=row.contact_phone,
            payout_currency=row.payout_currency,
            payout_method=row.payout_method,
            payout_details=[AffiliatePayoutDetail(name=k, value=str(v)) for k, v in sorted(row.payout_details.items())],
            created_at=row.created_at,
            version=row.version,
            parent_id=row.parent_id,
        )


@strawberry.type(description="Which partner brought a player: made at registration from their last click.")
class PlayerAffiliate:
    affiliate_id: strawberry.ID
    affiliate_code: str
    company: str
    link_code: str
    link_tag: str
    sub_id: str | None = strawberry.field(description="The click's `sub1`.")
    sub_ids: list[AffiliateSubId]
    clicked_at: datetime | None
    attributed_at: datetime

    @classmethod
    def of(cls, found: Attribution) -> PlayerAffiliate:
        return cls(
            affiliate_id=strawberry.ID(str(relay.GlobalID("Affiliate", str(found.affiliate_id)))),
            affiliate_code=found.affiliate_code,
            company=found.company,
            link_code=found.link_code,
            link_tag=found.link_tag,
            sub_id=found.sub_id,
            sub_ids=_sub_ids(found.sub_ids),
            clicked_at=found.clicked_at,
            attributed_at=found.attributed_at,
        )


@strawberry.input
class AffiliatePayoutDetailInput:
    name: str = text(64)
    value: str = text(200)


@strawberry.input(description="A partner. On update, a field left out keeps its value.")
class AffiliateInput:
    company: str | None = text(200, default=None)
    contact_name: str | None = text(TITLE, default=None)
    contact_email: str | None = text(EMAIL, default=None)
    contact_phone: str | None = text(PHONE, default=None)
    payout_currency: str | None = text(8, default=None)
    payout_method: str | None = text(32, default=None, description="How it is paid, e.g. bank_transfer, crypto.")
    payout_details: list[AffiliatePayoutDetailInput] | None = None
    brand_ids: list[strawberry.ID] | None = strawberry.field(default=None, description="The brands it promotes.")
    parent_id: strawberry.ID | None = strawberry.field(default=None, description="The partner that brought it in.")


@strawberry.input
class CreateAffiliateInput:
    code: str = text(40, description="Lower-case letters, digits and hyphens; never changes.")
    partner: AffiliateInput


@strawberry.input
class UpdateAffiliateInput:
    affiliate_id: strawberry.ID
    partner: AffiliateInput
    clear_parent: bool = False


@strawberry.input
class SetAffiliateStatusInput:
    affiliate_id: strawberry.ID
    status: AffiliateStatus
    reason: str = text(REASON)


@strawberry.input
class CreateAffiliatePortalUserInput:
    affiliate_id: strawberry.ID
    email: str = text(EMAIL)
    password: str = text(PASSWORD)
    display_name: str | None = text(TITLE, default=None)


@strawberry.input
class DisableAffiliatePortalUserInput:
    user_id: strawberry.ID
    reason: str = text(REASON)


@strawberry.input
class AddAffiliateLinkInput:
    affiliate_id: strawberry.ID
    brand_id: strawberry.ID
    tag: str = text(64)
    landing_path: str = text(500, default="/", description="A path on the brand's site, e.g. /welcome?lang=en.")


@strawberry.input
class ArchiveAffiliateLinkInput:
    link_id: strawberry.ID


@strawberry.type
class AffiliatePayload:
    affiliate: Affiliate | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class AffiliatePortalUserPayload:
    portal_user: AffiliatePortalUser | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class AffiliateLinkPayload:
    link: AffiliateLink | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


AffiliateStatusFilter = Annotated[list[AffiliateStatus] | None, strawberry.argument(description="Any of these.")]
