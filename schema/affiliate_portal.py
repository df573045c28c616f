"""The partner's side of the API (docs/affiliate-api.md): `Query.affiliatePortal` and the portal's mutations.

Everything here is read by an `affiliate` viewer (a portal user's sign-in or a scoped API token) and shows only
its own partner's links, tokens and aggregated figures: no player, no personal data. Each field of
`AffiliatePortal` is its own Casbin coordinate, granted by a scope (authz/policy.csv), so a token without
`stats:read` gets `stats: null` with a FORBIDDEN error.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

import strawberry

from models.affiliate_tokens import Scope
from schema.affiliate_postbacks import AffiliatePostbackStatus, AffiliatePostbackTrigger
from schema.base import Connection, UserError
from schema.context import Info
from schema.input_limits import EMAIL, PASSWORD, TITLE, text
from services.affiliates.portal_stats import Group

strawberry.enum(Scope, name="AffiliateScope", description="What an API token may do (`stats:read` is STATS_READ).")
AffiliateScope = Scope


strawberry.enum(Group, name="AffiliateStatsGroup", description="How partner statistics are grouped.")
AffiliateStatsGroup = Group


@strawberry.type(description="The partner the viewer acts for.")
class AffiliatePortalPartner:
    code: str
    company: str
    status: str = strawberry.field(description="active, suspended or closed.")
    payout_currency: str = strawberry.field(description="The currency clicks are counted in (see AffiliateStatsRow).")
    brands: list[str] = strawberry.field(description="The codes of the brands the partner promotes.")


@strawberry.type(description="A tracking link of the viewer's partner: `url` records a click and redirects.")
class AffiliatePortalLink:
    id: strawberry.ID
    code: str
    tag: str
    brand_code: str
    landing_path: str
    url: str = strawberry.field(description="The link to publish: `{public base URL}/a/{code}` (add `?sub1=…`).")
    created_at: datetime
    archived_at: datetime | None


@strawberry.type(
    description="Aggregated figures of the partner's players for one group key and currency. Clicks have no "
    "currency: they are counted on the rows in the partner's payout currency. Amounts are decimal strings."
)
class AffiliateStatsRow:
    key: str = strawberry.field(
        description="DAY: the ISO date; SUB_ID: the sub-id ('' when none); LINK: the link's code; BRAND: its code."
    )
    label: str | None = strawberry.field(description="LINK: the link's tag.")
    currency: str
    clicks: int
    registrations: int
    ftds: int = strawberry.field(description="First deposits made in the period.")
    ftd_amount: str
    deposits: str
    ngr: str = strawberry.field(description="Stakes − wins − bonus cost (the reports' NGR).")


@strawberry.type(description="A scoped API token; its secret was shown once, at creation, and is not kept.")
class AffiliateToken:
    id: strawberry.ID
    name: str
    prefix: str = strawberry.field(description="The secret's first characters, to recognise it.")
    scopes: list[AffiliateScope]
    expires_at: datetime
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    active: bool = strawberry.field(description="Neither revoked nor expired.")


@strawberry.type(description="The partner's commission for a period, brand and sub-id (commission runs).")
class AffiliateCommissionRow:
    period_start: date
    period_end: date
    brand_code: str
    sub_id: str | None
    cpa: str
    revshare: str
    second_tier: str
    total: str
    currency: str
    run_state: str = strawberry.field(description="draft, approved, booked or paid.")


@strawberry.type(description="One postback to the partner's server and how it went (no player, no URL).")
class AffiliatePortalPostback:
    id: strawberry.ID
    event: AffiliatePostbackTrigger
    event_id: str = strawberry.field(description="The event's id: the X-Croupier-Event-Id header and {event_id}.")
    status: AffiliatePostbackStatus
    attempts: int = strawberry.field(description="Tries so far.")
    max_attempts: int
    event_at: datetime
    next_attempt_at: datetime | None = strawberry.field(description="The next try (pending or sending only).")
    delivered_at: datetime | None
    last_attempt_at: datetime | None
    last_http_status: int | None = strawberry.field(description="What the server answered last (null: no answer).")


@strawberry.type(description="The partner's own portal: what the viewer's scopes let it read.")
class AffiliatePortal:
    affiliate_id: strawberry.Private[uuid.UUID]
    partner: AffiliatePortalPartner | None
    scopes: list[AffiliateScope] = strawberry.field(description="What the viewer may do.")

    @strawberry.field(description="The partner's links, newest first (archived ones too when asked).")  # type: ignore[untyped-decorator]
    async def links(
        self,
        info: Info,
        include_archived: bool = False,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[AffiliatePortalLink] | None:
        from resolvers.affiliate_portal import partner_links

        return await partner_links(info, self.affiliate_id, include_archived, first, after, last, before)

    @strawberry.field(description="Clicks, registrations, FTDs, deposits and NGR of the partner's players, by group.")  # type: ignore[untyped-decorator]
    async def stats(
        self,
        info: Info,
        from_: Annotated[date, strawberry.argument(name="from")],
        to: date,
        group_by: AffiliateStatsGroup = AffiliateStatsGroup.DAY,
    ) -> list[AffiliateStatsRow] | None:
        from resolvers.affiliate_portal import partner_stats

        return await partner_stats(info, self.affiliate_id, from_, to, group_by)

    @strawberry.field(description="The partner's API tokens, newest first (portal users only).")  # type: ignore[untyped-decorator]
    async def tokens(self, info: Info) -> list[AffiliateToken] | None:
        from resolvers.affiliate_portal import partner_tokens

        return await partner_tokens(info, self.affiliate_id)

    @strawberry.field(description="The partner's commissions by period, brand and sub-id (commission runs).")  # type: ignore[untyped-decorator]
    async def commissions(
        self, info: Info, from_: Annotated[date, strawberry.argument(name="from")], to: date
    ) -> list[AffiliateCommissionRow] | None:
        from resolvers.affiliate_portal import partner_commissions

        return await partner_commissions(info, self.affiliate_id, from_, to)

    @strawberry.field(description="The postbacks sent to the partner's server, newest first (postbacks:read).")  # type: ignore[untyped-decorator]
    async def postbacks(
        self,
        info: Info,
        status: AffiliatePostbackStatus | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[AffiliatePortalPostback] | None:
        from resolvers.affiliate_portal import partner_postbacks

        return await partner_postbacks(info, self.affiliate_id, status, first, after, last, before)


@strawberry.input
class AffiliateSignInInput:
    email: str = text(EMAIL)
    password: str = text(PASSWORD)


@strawberry.type
class AffiliateSignInPayload:
    access_token: str | None = None
    expires_at: datetime | None = None
    partner: AffiliatePortalPartner | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class AffiliateSignOutPayload:
    signed_out: bool = False
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class CreateAffiliateLinkInput:
    brand_code: str = text(40)
    tag: str = text(64)
    landing_path: str = text(500, default="/")


@strawberry.type
class AffiliatePortalLinkPayload:
    link: AffiliatePortalLink | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class CreateAffiliateTokenInput:
    name: str = text(TITLE)
    scopes: list[AffiliateScope]
    expires_at: datetime = strawberry.field(description="At most a year ahead.")


@strawberry.type
class CreateAffiliateTokenPayload:
    token: AffiliateToken | None = None
    secret: str | None = strawberry.field(default=None, description="The token itself: shown this once only.")
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class RevokeAffiliateTokenInput:
    id: strawberry.ID


@strawberry.type
class RevokeAffiliateTokenPayload:
    token: AffiliateToken | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
