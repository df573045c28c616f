"""Partner resolvers (thin: services/affiliates/portal_*.py and tokens.py hold the rules and the SQL).

`Query.affiliatePortal` is null for anyone but an affiliate viewer; every field below it reads with the
viewer's partner id, which comes from the credentials, never from an argument.
"""

from __future__ import annotations

import uuid
from datetime import date

import strawberry
from sqlmodel import col

from core.clock import clock
from core.errors import ApiError, DomainError, NotFound, bad_input, forbidden, unauthenticated
from core.money import format_amount
from core.pagination import paginate
from models.affiliate_postbacks import AffiliatePostbackDelivery as DeliveryRow
from models.affiliate_postbacks import DeliveryStatus, PostbackTrigger
from models.affiliate_tokens import AffiliateApiToken, Scope
from models.affiliates import AffiliateLink as LinkRow
from resolvers.common import payload_errors
from schema.affiliate_portal import (
    AffiliateCommissionRow,
    AffiliatePortal,
    AffiliatePortalLink,
    AffiliatePortalLinkPayload,
    AffiliatePortalPartner,
    AffiliatePortalPostback,
    AffiliateSignInInput,
    AffiliateSignInPayload,
    AffiliateSignOutPayload,
    AffiliateStatsGroup,
    AffiliateStatsRow,
    AffiliateToken,
    CreateAffiliateLinkInput,
    CreateAffiliateTokenInput,
    CreateAffiliateTokenPayload,
    RevokeAffiliateTokenInput,
    RevokeAffiliateTokenPayload,
)
from schema.base import Connection, node_uuid, to_global_id
from schema.context import Info
from services.affiliates import portal_auth, portal_links, portal_partner, portal_postbacks, portal_stats, tokens
from services.affiliates.runs import reads as run_reads


def _partner_id(info: Info) -> uuid.UUID:
    """The viewer's partner: the credential's, never an argument's (staff with every right are no partner)."""
    viewer = info.context.viewer
    if viewer.id is None:
        raise unauthenticated()
    if not viewer.is_affiliate:
        raise forbidden("Only a partner acts in its portal.")
    return viewer.id


def link_of(row: LinkRow, brand_code: str, base_url: str) -> AffiliatePortalLink:
    return AffiliatePortalLink(
        id=strawberry.ID(str(to_global_id("AffiliateLink", row.id))),
        code=row.code,
        tag=row.tag,
        brand_code=brand_code,
        landing_path=row.landing_path,
        url=f"{base_url.rstrip('/')}/a/{row.code}",
        created_at=row.created_at,
        archived_at=row.archived_at,
    )


def partner_of(partner: portal_partner.PortalPartner) -> AffiliatePortalPartner:
    return AffiliatePortalPartner(
        code=partner.code,
        company=partner.company,
        status=partner.status,
        payout_currency=partner.payout_currency,
        brands=list(partner.brands),
    )


def token_of(row: AffiliateApiToken) -> AffiliateToken:
    return AffiliateToken(
        id=strawberry.ID(str(to_global_id("AffiliateToken", row.id))),
        name=row.name,
        prefix=row.prefix,
        scopes=[Scope(s) for s in row.scopes],
        expires_at=row.expires_at,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
        active=tokens.is_active(row, clock.now()),
    )


async def affiliate_portal(info: Info) -> AffiliatePortal | None:
    viewer = info.context.viewer
    if not viewer.is_affiliate or viewer.id is None:
        return None
    async with info.context.rt.database.session() as db:
        partner = await portal_partner.get(db, viewer.id)
    return AffiliatePortal(
        affiliate_id=viewer.id,
        partner=partner_of(partner),
        scopes=portal_auth.scopes_of(viewer),
    )


async def partner_links(
    info: Info,
    affiliate_id: uuid.UUID,
    include_archived: bool,
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
) -> Connection[AffiliatePortalLink]:
    async with info.context.rt.database.session() as db:
        page = await paginate(
            db,
            portal_links.listed(affiliate_id, include_archived=include_archived),
            (col(LinkRow.created_at), col(LinkRow.id)),
            first=first,
            after=after,
            last=last,
            before=before,
        )
        codes = await portal_links.brand_codes(db, (link.brand_id for link in page.items))
    base = info.context.rt.settings.public_base_url
    return Connection.of(page, lambda link: link_of(link, codes[link.brand_id], base))


async def partner_stats(
    info: Info, affiliate_id: uuid.UUID, start: date, end: date, group_by: AffiliateStatsGroup
) -> list[AffiliateStatsRow]:
    try:
        async with info.context.rt.database.session() as db:
            rows = await portal_stats.partner_stats(db, affiliate_id, start, end, group_by)
    except DomainError as exc:  # a bad range is a malformed request of a read, not a payload refusal
        raise bad_input(exc.message, field=exc.field) from exc
    return [
        AffiliateStatsRow(
            key=row.key,
            label=row.label,
            currency=row.currency,
            clicks=row.clicks,
            registrations=row.registrations,
            ftds=row.ftds,
            ftd_amount=format_amount(row.ftd_amount, row.currency),
            deposits=format_amount(row.deposits, row.currency),
            ngr=format_amount(row.ngr, row.currency),
        )
        for row in rows
    ]


async def partner_tokens(info: Info, affiliate_id: uuid.UUID) -> list[AffiliateToken]:
    async with info.context.rt.database.session() as db:
        rows = (await db.scalars(tokens.listed(affiliate_id))).all()
    return [token_of(row) for row in rows]


async def partner_commissions(
    info: Info, affiliate_id: uuid.UUID, start: date, end: date
) -> list[AffiliateCommissionRow]:
    """The partner's own commissions of the approved runs meeting the period (services/affiliates/runs/reads.py:
    the partner's id in the WHERE clause), by period, brand, sub-id and currency."""
    try:
        async with info.context.rt.database.session() as db:
            rows = await run_reads.partner_commissions(db, affiliate_id, start, end)
    except DomainError as exc:  # a bad range, as for `stats`
        raise bad_input(exc.message, field=exc.field) from exc
    return [
        AffiliateCommissionRow(
            period_start=row.period_start,
            period_end=row.period_end,
            brand_code=row.brand,
            sub_id=row.sub_id,
            cpa=format_amount(row.cpa, row.currency),
            revshare=format_amount(row.revshare, row.currency),
            second_tier=format_amount(row.second_tier, row.currency),
            total=format_amount(row.total, row.currency),
            currency=row.currency,
            run_state=row.run_state,
        )
        for row in rows
    ]


@payload_errors(AffiliateSignInPayload)
async def affiliate_sign_in(info: Info, input: AffiliateSignInInput) -> AffiliateSignInPayload:
    signed = await portal_auth.sign_in(
        info.context.rt, email=input.email, password=input.password, meta=info.context.viewer.meta
    )
    async with info.context.rt.database.session() as db:
        partner = await portal_partner.get(db, signed.affiliate_id)
    return AffiliateSignInPayload(
        access_token=signed.access_token,
        expires_at=signed.expires_at,
        partner=partner_of(partner),
    )


@payload_errors(AffiliateSignOutPayload)
async def affiliate_sign_out(info: Info) -> AffiliateSignOutPayload:
    _partner_id(info)
    await portal_auth.sign_out(info.context.rt, info.context.viewer)
    return AffiliateSignOutPayload(signed_out=True)


@payload_errors(AffiliatePortalLinkPayload)
async def create_affiliate_link(info: Info, input: CreateAffiliateLinkInput) -> AffiliatePortalLinkPayload:
    affiliate_id = _partner_id(info)
    async with info.context.rt.database.transaction() as db:
        link = await portal_links.create(
            db, affiliate_id=affiliate_id, brand_code=input.brand_code, tag=input.tag, landing_path=input.landing_path
        )
    return AffiliatePortalLinkPayload(
        link=link_of(link, input.brand_code.strip(), info.context.rt.settings.public_base_url)
    )


@payload_errors(CreateAffiliateTokenPayload)
async def create_affiliate_token(info: Info, input: CreateAffiliateTokenInput) -> CreateAffiliateTokenPayload:
    _partner_id(info)
    async with info.context.rt.database.transaction() as db:
        created = await tokens.create(
            db, info.context.viewer, name=input.name, scopes=input.scopes, expires_at=input.expires_at
        )
    return CreateAffiliateTokenPayload(token=token_of(created.token), secret=created.secret)


@payload_errors(RevokeAffiliateTokenPayload)
async def revoke_affiliate_token(info: Info, input: RevokeAffiliateTokenInput) -> RevokeAffiliateTokenPayload:
    _partner_id(info)
    try:
        token_id = node_uuid(input.id, "AffiliateToken")
    except ApiError as exc:  # a malformed id is as unknown as another partner's
        raise NotFound("No such token.", field="id") from exc
    return RevokeAffiliateTokenPayload(
        token=token_of(await tokens.revoke(info.context.rt, info.context.viewer, token_id))
    )


async def partner_postbacks(
    info: Info,
    affiliate_id: uuid.UUID,
    status: DeliveryStatus | None,
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
) -> Connection[AffiliatePortalPostback]:
    """The partner's own postback log (services/affiliates/portal_postbacks.py): a page, then its last tries."""
    async with info.context.rt.database.session() as db:
        page = await paginate(
            db,
            portal_postbacks.listed(affiliate_id, status=status),
            (col(DeliveryRow.event_at), col(DeliveryRow.id)),
            first=first,
            after=after,
            last=last,
            before=before,
        )
        tries = await portal_postbacks.last_tries(db, affiliate_id, [row.id for row in page.items])

    def postback_of(row: DeliveryRow) -> AffiliatePortalPostback:
        tried = tries.get(row.id)
        waiting = row.status in (DeliveryStatus.PENDING.value, DeliveryStatus.SENDING.value)
        return AffiliatePortalPostback(
            id=strawberry.ID(str(to_global_id("AffiliatePortalPostback", row.id))),
            event=PostbackTrigger(row.trigger),
            event_id=str(row.event_id),
            status=DeliveryStatus(row.status),
            attempts=row.attempts,
            max_attempts=row.max_attempts,
            event_at=row.event_at,
            next_attempt_at=row.next_attempt_at if waiting else None,
            delivered_at=row.delivered_at,
            last_attempt_at=tried.started_at if tried else None,
            last_http_status=tried.http_status if tried else None,
        )

    return Connection.of(page, postback_of)
