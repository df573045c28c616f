"""Affiliate partners, portal users and links, staff side (thin: the rules live in services/affiliates). A list
reads one page of partners; what each shows (brands, links, portal users, parent) loads per page in one
statement each through the affiliate loaders."""

from __future__ import annotations

import uuid

import strawberry
from sqlmodel import col

from core.errors import NotFound
from core.pagination import paginate
from models.affiliates import Affiliate as AffiliateRow
from resolvers.common import payload_errors, require_subject
from schema.affiliates import (
    AddAffiliateLinkInput,
    Affiliate,
    AffiliateInput,
    AffiliateLink,
    AffiliateLinkPayload,
    AffiliatePayload,
    AffiliatePortalUser,
    AffiliatePortalUserPayload,
    AffiliateStatusFilter,
    ArchiveAffiliateLinkInput,
    CreateAffiliateInput,
    CreateAffiliatePortalUserInput,
    DisableAffiliatePortalUserInput,
    PlayerAffiliate,
    SetAffiliateStatusInput,
    UpdateAffiliateInput,
)
from schema.base import Connection, node_uuid
from schema.context import Info
from services.affiliates import links, partners, portal_users


async def affiliates_list(
    info: Info,
    status: AffiliateStatusFilter = None,
    search: str | None = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Connection[Affiliate]:
    require_subject(info)
    async with info.context.rt.database.session() as db:
        page = await paginate(
            db,
            partners.listed(info.context.viewer, status or (), (search or "")[:100]),
            (col(AffiliateRow.created_at), col(AffiliateRow.id)),
            first=first,
            after=after,
            last=last,
            before=before,
        )
    return Connection.of(page, Affiliate.from_model)


async def affiliate(info: Info, id: strawberry.ID) -> Affiliate | None:
    require_subject(info)
    async with info.context.rt.database.session() as db:
        try:
            found = await partners.get_readable(db, info.context.viewer, node_uuid(id, "Affiliate"))
        except NotFound:
            return None
    return Affiliate.from_model(found)


async def player_affiliate(info: Info, player_id: uuid.UUID) -> PlayerAffiliate | None:
    """A player's attribution, for staff (the field's policy says which); a player is not told."""
    if not info.context.viewer.is_staff:
        return None
    found = await info.context.loaders.affiliates.attribution.load(player_id)
    return PlayerAffiliate.of(found) if found else None


def _draft(input: AffiliateInput, *, code: str | None = None, clear_parent: bool = False) -> partners.PartnerDraft:
    return partners.PartnerDraft(
        code=code,
        company=input.company,
        contact_name=input.contact_name,
        contact_email=input.contact_email,
        contact_phone=input.contact_phone,
        payout_currency=input.payout_currency,
        payout_method=input.payout_method,
        payout_details={d.name: d.value for d in input.payout_details} if input.payout_details is not None else None,
        brand_ids=[node_uuid(b, "Brand") for b in input.brand_ids] if input.brand_ids is not None else None,
        parent_id=node_uuid(input.parent_id, "Affiliate") if input.parent_id else None,
        clear_parent=clear_parent,
    )


@payload_errors(AffiliatePayload)
async def create_affiliate(info: Info, input: CreateAffiliateInput) -> AffiliatePayload:
    require_subject(info)
    created = await partners.create(info.context.rt, info.context.viewer, _draft(input.partner, code=input.code))
    return AffiliatePayload(affiliate=Affiliate.from_model(created))


@payload_errors(AffiliatePayload)
async def update_affiliate(info: Info, input: UpdateAffiliateInput) -> AffiliatePayload:
    require_subject(info)
    affiliate_id = node_uuid(input.affiliate_id, "Affiliate")
    draft = _draft(input.partner, clear_parent=input.clear_parent)
    updated = await partners.update(info.context.rt, info.context.viewer, affiliate_id, draft)
    return AffiliatePayload(affiliate=Affiliate.from_model(updated))


@payload_errors(AffiliatePayload)
async def set_affiliate_status(info: Info, input: SetAffiliateStatusInput) -> AffiliatePayload:
    require_subject(info)
    affiliate_id = node_uuid(input.affiliate_id, "Affiliate")
    changed = await partners.set_status(info.context.rt, info.context.viewer, affiliate_id, input.status, input.reason)
    return AffiliatePayload(affiliate=Affiliate.from_model(changed))


@payload_errors(AffiliatePortalUserPayload)
async def create_affiliate_portal_user(info: Info, input: CreateAffiliatePortalUserInput) -> AffiliatePortalUserPayload:
    require_subject(info)
    user = await portal_users.create(
        info.context.rt,
        info.context.viewer,
        node_uuid(input.affiliate_id, "Affiliate"),
        email=input.email,
        password=input.password,
        display_name=input.display_name,
    )
    return AffiliatePortalUserPayload(portal_user=AffiliatePortalUser.from_model(user))


@payload_errors(AffiliatePortalUserPayload)
async def disable_affiliate_portal_user(
    info: Info, input: DisableAffiliatePortalUserInput
) -> AffiliatePortalUserPayload:
    require_subject(info)
    user_id = node_uuid(input.user_id, "AffiliatePortalUser")
    user = await portal_users.disable(info.context.rt, info.context.viewer, user_id, input.reason)
    return AffiliatePortalUserPayload(portal_user=AffiliatePortalUser.from_model(user))


@payload_errors(AffiliateLinkPayload)
async def add_affiliate_link(info: Info, input: AddAffiliateLinkInput) -> AffiliateLinkPayload:
    require_subject(info)
    rt, viewer = info.context.rt, info.context.viewer
    affiliate_id = node_uuid(input.affiliate_id, "Affiliate")
    brand_id = node_uuid(input.brand_id, "Brand")
    if viewer.brand_id is not None and brand_id != viewer.brand_id:
        raise NotFound("No such brand.", field="brandId")
    async with rt.database.session() as db:
        await partners.get_readable(db, viewer, affiliate_id)  # the staff member's brands only
    draft = links.LinkDraft(brand_id=brand_id, tag=input.tag, landing_path=input.landing_path)
    link = await links.create(rt, viewer, affiliate_id, draft)
    return AffiliateLinkPayload(link=AffiliateLink.from_model(link))


@payload_errors(AffiliateLinkPayload)
async def archive_affiliate_link(info: Info, input: ArchiveAffiliateLinkInput) -> AffiliateLinkPayload:
    require_subject(info)
    rt, viewer = info.context.rt, info.context.viewer
    link_id = node_uuid(input.link_id, "AffiliateLink")
    async with rt.database.session() as db:
        affiliate_id = await links.partner_of_link(db, link_id)
        await partners.get_readable(db, viewer, affiliate_id)
    link = await links.archive(rt, viewer, affiliate_id, link_id)
    return AffiliateLinkPayload(link=AffiliateLink.from_model(link))
