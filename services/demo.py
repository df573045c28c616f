"""Demo data: brands, staff with every role, and players. Safe to run twice (it skips what exists)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import date
from typing import TypedDict

import pyotp
from sqlmodel import col, select

from authz.subjects import SYSTEM, RequestMeta
from core.errors import DomainError
from models.brands import Brand
from models.players import Player
from models.staff import StaffUser
from services import brands, players, staff
from services.runtime import Runtime
from services.staff import RoleGrant

DEMO_PASSWORD = "croupier-demo-1"


class BrandSpec(TypedDict):
    code: str
    name: str
    default_currency: str
    currencies: list[str]
    countries: list[str]
    minimum_age: int


BRANDS: list[BrandSpec] = [
    BrandSpec(code="royal", name="Royal Casino", default_currency="EUR",
              currencies=["EUR", "USD", "GBP", "SEK", "CAD"],
              countries=["MT", "GB", "SE", "DE", "FI", "IE", "CA", "DK", "NL"], minimum_age=18),
    BrandSpec(code="northstar", name="Northstar Bet", default_currency="SEK", currencies=["SEK", "EUR"],
              countries=["SE", "FI", "DK"], minimum_age=20),
]

# (email, display name, role, brand code or None for every brand)
STAFF = [
    ("admin@croupier.dev", "Ada Admin", "superadmin", None),
    ("brandadmin@croupier.dev", "Bo Brand-Admin", "brand_admin", "royal"),
    ("support@croupier.dev", "Sam Support", "support", "royal"),
    ("kyc@croupier.dev", "Kim KYC", "kyc_officer", "royal"),
    ("risk@croupier.dev", "Rita Risk", "risk_analyst", "royal"),
    ("finance@croupier.dev", "Finn Finance", "finance", "royal"),
    ("marketing@croupier.dev", "Mia Marketing", "marketing", "royal"),
    ("support@northstar.dev", "Nils Support", "support", "northstar"),
]

PLAYERS = [
    ("royal", "alice@example.com", "Alice", "Andersson", "SE", "SEK", date(1990, 4, 12)),
    ("royal", "bob@example.com", "Bob", "Brown", "GB", "GBP", date(1985, 11, 3)),
    ("royal", "carla@example.com", "Carla", "Camilleri", "MT", "EUR", date(1998, 1, 30)),
    ("northstar", "dag@example.com", "Dag", "Dahl", "SE", "SEK", date(1979, 7, 19)),
]


@dataclass(frozen=True)
class DemoStaff:
    email: str
    role: str
    brand: str | None
    totp_secret: str


async def seed(rt: Runtime) -> list[DemoStaff]:
    async with rt.database.transaction() as db:
        for spec in BRANDS:
            if await db.scalar(select(Brand).where(col(Brand.code) == spec["code"])) is None:
                await brands.create_brand(db, **spec)
        brand_ids = {b.code: b.id for b in await brands.list_brands(db)}

    meta = RequestMeta(ip="127.0.0.1", user_agent="croupier seed-demo")
    for email, display_name, role, brand_code in STAFF:
        async with rt.database.session() as db:
            exists = await db.scalar(select(col(StaffUser.id)).where(col(StaffUser.email) == email))
        if exists is None:
            grant = RoleGrant(role, brand_ids[brand_code] if brand_code else None)
            await staff.create_staff(rt, SYSTEM, email=email, display_name=display_name, password=DEMO_PASSWORD,
                                     grants=[grant])

    for brand_code, email, first, last, country, currency, born in PLAYERS:
        async with rt.database.session() as db:
            exists = await db.scalar(select(col(Player.id)).where(col(Player.email) == email,
                                                                  col(Player.brand_id) == brand_ids[brand_code]))
        if exists is None:
            form = players.Registration(brand=brand_code, email=email, password=DEMO_PASSWORD, date_of_birth=born,
                                        country=country, currency=currency, marketing_consent=True,
                                        first_name=first, last_name=last)
            with contextlib.suppress(DomainError):
                await players.register(rt, form, meta)

    async with rt.database.session() as db:
        secrets = {s.email: s.totp_secret for s in (await db.scalars(select(StaffUser))).all()}
    return [DemoStaff(email, role, brand, secrets[email]) for email, _, role, brand in STAFF]


def current_code(secret: str) -> str:
    return pyotp.TOTP(secret).now()
