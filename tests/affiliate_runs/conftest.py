"""Commission-run fixtures: partners, plans, deals, attributions and CPA qualifications inserted as rows (the
tables of migration 0043), play booked through the ledger on chosen days and projected by the `reports`
consumer, and finance viewers.

Time: play happens in "the month" — the calendar month after the one the test starts in — one day at a time,
the clock moved forward to noon of each day; `close_month` then moves it into the month after, so a run of the
month covers days that are over."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import asyncpg
import pytest
from sqlalchemy import text

from authz.subjects import Viewer
from core.clock import clock
from core.consumers import Runner
from models.ledger import AccountPurpose
from services import ledger, wallet
from services.affiliates.runs.drafts import month_of
from services.ledger import Entry, Leg
from services.reports.projection import ReportsProjection
from tests.cashier.conftest import psp  # noqa: F401  (fixture)
from tests.conftest import DATABASE_URL, fund

GAME = {"game": "demo-slot", "provider": "demo"}


@pytest.fixture
def month() -> tuple[date, date]:
    """The calendar month after today's (its first and last day)."""
    return month_of(month_of(clock.now().date())[1] + timedelta(days=1))


def at_noon(day: date) -> None:
    """The clock moved forward to noon UTC of `day` (never back; already on that day, it stays)."""
    if clock.now().date() == day:
        return
    moment = datetime.combine(day, time(12), UTC)
    assert moment >= clock.now(), "the tests' clock only moves forward"
    clock.advance(moment - clock.now())


def close_month(month: tuple[date, date]) -> None:
    at_noon(month[1] + timedelta(days=2))


def finance(brand: Any, staff_id: uuid.UUID | None = None, role: str = "finance") -> Viewer:
    return Viewer(
        kind="staff",
        id=staff_id or uuid.uuid4(),
        brand_id=brand.id,
        brand_code=brand.code,
        roles=frozenset({role, "staff"}),
    )


@dataclass
class Affiliates:
    """Rows of the affiliate tables, as affcore and affplans would write them."""

    rt: Any
    brand: Any

    async def execute(self, sql: str, **params: Any) -> Any:
        async with self.rt.database.transaction() as db:
            result = await db.execute(text(sql), params)
            return result.first() if result.returns_rows else None

    async def partner(
        self, code: str, *, parent: uuid.UUID | None = None, payout_method: str = "bank_transfer"
    ) -> uuid.UUID:
        partner_id = uuid.uuid4()
        await self.execute(
            """INSERT INTO affiliates (id, code, company, contact_email, payout_currency, payout_method, payout_details,
                                       parent_id)
               VALUES (:id, :code, :company, :email, 'EUR', :method, CAST(:details AS jsonb), :parent)""",
            id=partner_id,
            code=code,
            company=f"{code} Media",
            email=f"{code}@partners.test",
            method=payout_method,
            details='{"token": "iban_tok_1", "country": "MT"}',
            parent=parent,
        )
        await self.execute(
            "INSERT INTO affiliate_brands (affiliate_id, brand_id) VALUES (:a, :b)", a=partner_id, b=self.brand.id
        )
        return partner_id

    async def plan(self, kind: str, terms: dict[str, Any], currency: str = "EUR") -> uuid.UUID:
        """A plan row; a CPA given by its amount gets an easy qualification rule (runs read what is qualified)."""
        import json

        if "amount" in terms and "qualification" not in terms:
            terms = {**terms, "qualification": {"min_first_deposit": 0, "min_wagering": 0, "within_days": 30}}
        plan_id = uuid.uuid4()
        await self.execute(
            "INSERT INTO affiliate_plans (id, code, name, kind, currency, terms) "
            "VALUES (:id, :code, :code, :kind, :currency, CAST(:terms AS jsonb))",
            id=plan_id,
            code=f"plan-{secrets.token_hex(4)}",
            kind=kind,
            currency=currency,
            terms=json.dumps(terms),
        )
        return plan_id

    async def deal(
        self, partner: uuid.UUID, plan: uuid.UUID, effective_from: date, *, carry_over: bool = False
    ) -> uuid.UUID:
        deal_id = uuid.uuid4()
        await self.execute(
            "INSERT INTO affiliate_deals (id, affiliate_id, brand_id, plan_id, effective_from, negative_carry_over) "
            "VALUES (:id, :a, :b, :p, :f, :n)",
            id=deal_id,
            a=partner,
            b=self.brand.id,
            p=plan,
            f=effective_from,
            n=carry_over,
        )
        return deal_id

    async def attribute(self, player_id: uuid.UUID, partner: uuid.UUID, sub_id: str | None = None) -> None:
        link = await self.execute(
            "SELECT id FROM affiliate_links WHERE affiliate_id = :a AND brand_id = :b", a=partner, b=self.brand.id
        )
        link_id = link.id if link else uuid.uuid4()
        if link is None:
            await self.execute(
                "INSERT INTO affiliate_links (id, affiliate_id, brand_id, code, tag) "
                "VALUES (:id, :a, :b, :code, 'main')",
                id=link_id,
                a=partner,
                b=self.brand.id,
                code=secrets.token_urlsafe(8),
            )
        await self.execute(
            "INSERT INTO affiliate_attributions (player_id, affiliate_id, brand_id, link_id, sub_id) "
            "VALUES (:p, :a, :b, :l, :s)",
            p=player_id,
            a=partner,
            b=self.brand.id,
            l=link_id,
            s=sub_id,
        )

    async def qualify(
        self, player_id: uuid.UUID, partner: uuid.UUID, deal: uuid.UUID, amount: int, status: str = "qualified"
    ) -> None:
        await self.execute(
            "INSERT INTO affiliate_qualifications (player_id, affiliate_id, brand_id, deal_id, status, amount,"
            " currency, qualified_at) VALUES (:p, :a, :b, :d, :s, :amount, 'EUR', :at)",
            p=player_id,
            a=partner,
            b=self.brand.id,
            d=deal,
            s=status,
            amount=amount,
            at=clock.now(),
        )


@pytest.fixture
def affiliates(rt: Any, brand: Any) -> Affiliates:
    return Affiliates(rt, brand)


@dataclass
class Table:
    """Play booked straight through the ledger (the stake funded first by an adjustment; a bet: cash → house; a
    win: house → cash; bonus cost: cash from the bonus_cost account), then projected by the reports consumer."""

    rt: Any
    brand: Any
    runner: Runner
    conn: asyncpg.Connection

    async def play(
        self, player_id: uuid.UUID, *, stake: int, win: int = 0, bonus_cost: int = 0, currency: str = "EUR"
    ) -> None:
        if stake:
            await fund(self.rt, player_id, stake, currency)
        async with self.rt.database.transaction() as db:
            accounts = await wallet.player_accounts(db, player_id, self.brand.id, currency)
            await wallet.lock_player_money(db, player_id, cash=accounts.cash)
            house = await wallet.operator_account(db, self.brand.id, AccountPurpose.HOUSE_REVENUE, currency)
            cost = await wallet.operator_account(db, self.brand.id, AccountPurpose.BONUS_COST, currency)
            moves = [
                ("bonus_cash", "bonus", bonus_cost, cost),  # bonus money paid out as cash: the bonus cost pays
                ("game_bet", "bet", -stake, house),
                ("game_win", "win", win, house),
            ]
            for kind, reference, amount, other in moves:
                if amount:
                    result = await ledger.record(
                        db,
                        Entry(
                            idempotency_key=f"test-{reference}:{uuid.uuid4()}",
                            kind=kind,
                            legs=(Leg(accounts.cash, amount), Leg(other, -amount)),
                            actor_type="system",
                            brand_id=self.brand.id,
                            player_id=player_id,
                            reference_type="test",
                            reference_id=reference,
                            details=GAME,
                        ),
                    )
                    assert result.committed, result

    async def project(self) -> None:
        await self.runner.drain(self.conn)


@pytest.fixture
async def table(rt: Any, brand: Any) -> AsyncIterator[Table]:
    conn = await asyncpg.connect(DATABASE_URL)
    try:
        runner = Runner(ReportsProjection(), DATABASE_URL, rt.redis, member=f"test-{uuid.uuid4().hex[:6]}")
        yield Table(rt, brand, runner, conn)
    finally:
        await conn.close()
