"""Affiliate API fixtures: partners inserted as rows (affcore's services build them through the staff API; this
suite needs only the rows), their portal users signed in through `affiliateSignIn`, scoped tokens made through
`createAffiliateToken`, and figures to aggregate (links, clicks, attributions, report projections)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from authz.passwords import hash_password
from core.clock import clock
from core.ids import new_id
from tests.conftest import PASSWORD

SIGN_IN = """
mutation($input: AffiliateSignInInput!) {
  affiliateSignIn(input: $input) { accessToken expiresAt partner { code company brands } errors { code field message } }
}"""
CREATE_TOKEN = """
mutation($input: CreateAffiliateTokenInput!) {
  createAffiliateToken(input: $input) {
    token { id name prefix scopes expiresAt lastUsedAt revokedAt active } secret errors { code field message }
  }
}"""
REVOKE_TOKEN = """
mutation($input: RevokeAffiliateTokenInput!) {
  revokeAffiliateToken(input: $input) { token { id revokedAt active } errors { code field message } }
}"""
CREATE_LINK = """
mutation($input: CreateAffiliateLinkInput!) {
  createAffiliateLink(input: $input) { link { id code tag brandCode landingPath url } errors { code field message } }
}"""
ALL_SCOPES = ["STATS_READ", "LINKS_READ", "LINKS_WRITE", "COMMISSIONS_READ", "POSTBACKS_READ"]


@dataclass
class Partner:
    id: uuid.UUID
    code: str
    email: str
    token: str  # the portal user's access token
    user_id: uuid.UUID

    async def api_token(self, gql: Any, scopes: list[str], *, days: int = 30, name: str = "integration") -> str:
        expires = (clock.now() + timedelta(days=days)).isoformat()
        given = {"input": {"name": name, "scopes": scopes, "expiresAt": expires}}
        body = await gql(CREATE_TOKEN, given, token=self.token)
        payload = body["data"]["createAffiliateToken"]
        assert payload["errors"] == [], body
        return str(payload["secret"])


async def insert_partner(
    rt: Any, code: str, brand_ids: list[uuid.UUID], *, currency: str = "EUR", status: str = "active"
) -> uuid.UUID:
    affiliate_id = new_id()
    async with rt.database.transaction() as db:
        await db.execute(
            text(
                "INSERT INTO affiliates (id, code, company, status, contact_email, payout_currency, payout_details) "
                'VALUES (:id, :code, :company, :status, :email, :currency, \'{"iban": "MT00SECRET"}\')'
            ),
            {
                "id": affiliate_id,
                "code": code,
                "company": f"{code.title()} Media Ltd",
                "status": status,
                "email": f"contact@{code}.test",
                "currency": currency,
            },
        )
        for brand_id in brand_ids:
            await db.execute(
                text("INSERT INTO affiliate_brands (affiliate_id, brand_id) VALUES (:a, :b)"),
                {"a": affiliate_id, "b": brand_id},
            )
    return affiliate_id


async def insert_portal_user(rt: Any, affiliate_id: uuid.UUID, email: str) -> uuid.UUID:
    user_id = new_id()
    async with rt.database.transaction() as db:
        await db.execute(
            text(
                "INSERT INTO affiliate_users (id, affiliate_id, email, password_hash) VALUES (:id, :a, :email, :hash)"
            ),
            {"id": user_id, "a": affiliate_id, "email": email, "hash": await hash_password(PASSWORD)},
        )
    return user_id


async def sign_in(gql: Any, email: str, password: str = PASSWORD) -> dict[str, Any]:
    body = await gql(SIGN_IN, {"input": {"email": email, "password": password}})
    return dict(body["data"]["affiliateSignIn"])


@pytest.fixture
def make_partner(rt: Any, gql: Any, brand: Any) -> Any:
    """A partner promoting the given brands (default: royal), with a portal user signed in."""

    async def make(code: str, *, brands: list[Any] | None = None, currency: str = "EUR") -> Partner:
        affiliate_id = await insert_partner(rt, code, [b.id for b in (brands or [brand])], currency=currency)
        email = f"partner@{code}.test"
        user_id = await insert_portal_user(rt, affiliate_id, email)
        signed = await sign_in(gql, email)
        assert signed["errors"] == [], signed
        return Partner(affiliate_id, code, email, signed["accessToken"], user_id)

    return make


async def insert_link(rt: Any, affiliate_id: uuid.UUID, brand_id: uuid.UUID, code: str, tag: str) -> uuid.UUID:
    link_id = new_id()
    async with rt.database.transaction() as db:
        await db.execute(
            text(
                "INSERT INTO affiliate_links (id, affiliate_id, brand_id, code, tag) VALUES (:id, :a, :b, :code, :tag)"
            ),
            {"id": link_id, "a": affiliate_id, "b": brand_id, "code": code, "tag": tag},
        )
    return link_id


async def insert_click(
    rt: Any, link_id: uuid.UUID, affiliate_id: uuid.UUID, brand_id: uuid.UUID, at: datetime, sub_id: str | None
) -> uuid.UUID:
    click_id = new_id()
    async with rt.database.transaction() as db:
        await db.execute(
            text(
                "INSERT INTO affiliate_clicks (id, link_id, affiliate_id, brand_id, clicked_at, ip, sub_id) "
                "VALUES (:id, :link, :a, :b, :at, '198.51.100.9', :sub)"
            ),
            {"id": click_id, "link": link_id, "a": affiliate_id, "b": brand_id, "at": at, "sub": sub_id},
        )
    return click_id


async def attribute(
    rt: Any,
    player_id: uuid.UUID,
    affiliate_id: uuid.UUID,
    brand_id: uuid.UUID,
    link_id: uuid.UUID,
    at: datetime,
    sub_id: str | None,
) -> None:
    async with rt.database.transaction() as db:
        await db.execute(
            text(
                "INSERT INTO affiliate_attributions (player_id, affiliate_id, brand_id, link_id, sub_id, "
                "attributed_at) VALUES (:p, :a, :b, :link, :sub, :at)"
            ),
            {"p": player_id, "a": affiliate_id, "b": brand_id, "link": link_id, "sub": sub_id, "at": at},
        )


async def player_day(
    rt: Any,
    player_id: uuid.UUID,
    brand_id: uuid.UUID,
    day: date,
    *,
    currency: str = "EUR",
    stakes: int = 0,
    wins: int = 0,
    bonus_cost: int = 0,
    deposits: int = 0,
    first_deposit: int | None = None,
) -> None:
    """A player's day as the reports projection has it (and their first deposit, when `first_deposit`)."""
    async with rt.database.transaction() as db:
        await db.execute(
            text(
                "INSERT INTO report_player_days (player_id, day, currency, brand_id, stakes, wins, bonus_cost, "
                "deposits, deposit_count, withdrawals, withdrawal_count, bet_count) "
                "VALUES (:p, :day, :cur, :b, :stakes, :wins, :cost, :dep, :n, 0, 0, 0)"
            ),
            {
                "p": player_id,
                "day": day,
                "cur": currency,
                "b": brand_id,
                "stakes": stakes,
                "wins": wins,
                "cost": bonus_cost,
                "dep": deposits,
                "n": 1 if deposits else 0,
            },
        )
        if first_deposit is not None:
            await db.execute(
                text(
                    "INSERT INTO report_players (player_id, brand_id, currency, first_deposit_on, first_deposit_at, "
                    "first_deposit_amount, first_deposit_currency) VALUES (:p, :b, :cur, :day, :at, :amount, :cur) "
                    "ON CONFLICT (player_id) DO UPDATE SET first_deposit_on = :day, first_deposit_at = :at, "
                    "first_deposit_amount = :amount, first_deposit_currency = :cur"
                ),
                {
                    "p": player_id,
                    "b": brand_id,
                    "cur": currency,
                    "day": day,
                    "at": datetime.combine(day, datetime.min.time()).replace(tzinfo=clock.now().tzinfo),
                    "amount": first_deposit,
                },
            )
