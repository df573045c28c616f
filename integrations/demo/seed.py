"""Demo data: brands, staff with every role, and players. Safe to run twice (it skips what exists)."""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass
from datetime import date
from typing import TypedDict

import pyotp
from sqlmodel import col, select

from authz.subjects import SYSTEM, RequestMeta, Viewer
from core.clock import clock
from core.db import changed
from core.errors import DomainError
from core.ids import new_id
from core.money import format_amount, parse_amount
from core.runtime import CATALOGUE, Runtime
from models.brands import Brand
from models.players import Player
from models.rg import LimitKind, LimitPeriod
from models.staff import StaffUser
from services import brands, players, staff
from services.rg import limits as rg_limits
from services.staff import RoleGrant

DEMO_PASSWORD = "croupier-demo-1"


class BrandSpec(TypedDict):
    code: str
    name: str
    default_currency: str
    currencies: list[str]
    countries: list[str]
    minimum_age: int
    jurisdictions: list[str]


BRANDS: list[BrandSpec] = [
    BrandSpec(
        code="royal",
        name="Royal Casino",
        default_currency="EUR",
        currencies=["EUR", "USD", "GBP", "SEK", "CAD"],
        countries=["MT", "GB", "SE", "DE", "FI", "IE", "CA", "DK", "NL"],
        minimum_age=18,
        jurisdictions=["MT", "UK", "SE", "ON", "DK", "DEFAULT"],
    ),
    BrandSpec(
        code="northstar",
        name="Northstar Bet",
        default_currency="SEK",
        currencies=["SEK", "EUR"],
        countries=["SE", "FI", "DK"],
        minimum_age=20,
        jurisdictions=["SE", "DK", "DEFAULT"],
    ),
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
    ("content@croupier.dev", "Cleo Content", "content_manager", None),
    ("affiliates@croupier.dev", "Ari Affiliates", "affiliate_manager", "royal"),
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


async def seed_accounts(rt: Runtime) -> list[DemoStaff]:
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
            await staff.create_staff(
                rt, SYSTEM, email=email, display_name=display_name, password=DEMO_PASSWORD, grants=[grant]
            )

    for brand_code, email, first, last, country, currency, born in PLAYERS:
        async with rt.database.session() as db:
            exists = await db.scalar(
                select(col(Player.id)).where(col(Player.email) == email, col(Player.brand_id) == brand_ids[brand_code])
            )
        if exists is None:
            form = players.Registration(
                brand=brand_code,
                email=email,
                password=DEMO_PASSWORD,
                date_of_birth=born,
                country=country,
                currency=currency,
                marketing_consent=True,
                first_name=first,
                last_name=last,
            )
            with contextlib.suppress(DomainError):
                await players.register(rt, form, meta)

    await _seed_limits(rt, brand_ids)

    async with rt.database.session() as db:
        secrets = {s.email: s.totp_secret for s in (await db.scalars(select(StaffUser))).all()}
    return [DemoStaff(email, role, brand, secrets[email]) for email, _, role, brand in STAFF]


# Swedish players must set a deposit limit before they play (services/rg/jurisdictions.toml).
DEMO_LIMITS = [
    ("royal", "alice@example.com", LimitKind.DEPOSIT, LimitPeriod.MONTH, "10000.00"),
    ("royal", "bob@example.com", LimitKind.LOSS, LimitPeriod.DAY, "200.00"),
    ("northstar", "dag@example.com", LimitKind.DEPOSIT, LimitPeriod.WEEK, "5000.00"),
]


async def _seed_limits(rt: Runtime, brand_ids: dict[str, uuid.UUID]) -> None:
    for brand_code, email, kind, period, amount in DEMO_LIMITS:
        async with rt.database.session() as db:
            player = await db.scalar(
                select(Player).where(col(Player.email) == email, col(Player.brand_id) == brand_ids[brand_code])
            )
            if player is None or await rg_limits.limits_of(db, player.id):
                continue
        await rg_limits.set_limit(rt, SYSTEM, player, kind, period, parse_amount(amount, player.currency))


def current_code(secret: str) -> str:
    return pyotp.TOTP(secret).now()


# ---- money history through the demo PSP (deposits, a cascade, withdrawals) ------------------------

DEMO_CARD = "4242 4242 4242 4242"


async def seed_payments(rt: Runtime) -> list[str]:
    """Give the demo players a money history through the demo PSP; safe to run twice (idempotency keys).

    Needs the demo PSP (`settings.psp_base_url`); returns one line per payment for the console.
    """
    import httpx

    from models.payments import Payment
    from services import cashier

    base = rt.settings.psp_base_url
    if base is None:
        return ["(no PSP configured: payments not seeded)"]
    async with rt.database.session() as db:
        royal = await db.scalar(select(Brand).where(col(Brand.code) == "royal"))
        assert royal is not None
        people = {p.email: p for p in (await db.scalars(select(Player).where(col(Player.brand_id) == royal.id))).all()}
        finance = await db.scalar(select(StaffUser).where(col(StaffUser.email) == "finance@croupier.dev"))

    def as_player(email: str) -> Viewer:
        player = people[email]
        return Viewer(
            kind="player",
            id=player.id,
            brand_id=royal.id,
            brand_code=royal.code,
            roles=frozenset({"player"}),
            meta=RequestMeta(ip="127.0.0.1", user_agent="croupier seed-demo"),
        )

    lines: list[str] = []

    def note(who: str, payment: Payment) -> None:
        attempts = f" via {payment.psp}" if payment.psp else ""
        lines.append(
            f"{who:20} {payment.kind:10} {format_amount(payment.amount, payment.currency):>9} "
            f"{payment.currency} {payment.status}{attempts}"
        )

    async with httpx.AsyncClient(base_url=base, timeout=10) as psp:
        try:
            (await psp.get("/control/health")).raise_for_status()
        except httpx.HTTPError:
            return [f"(the demo PSP at {base} does not answer: payments not seeded)"]

        async def card_token() -> str:
            response = await psp.post("/vault/tokens", json={"number": DEMO_CARD, "expiry": "12/30", "cvc": "123"})
            response.raise_for_status()
            return str(response.json()["token"])

        # Alice (SE): her first choice for Nordic cards, swiftpay, is down; the cascade moves to cardpay.
        await psp.post("/control/swiftpay", json={"deposit": "error"})
        try:
            paid_in = await cashier.deposit(
                rt,
                as_player("alice@example.com"),
                amount="2000.00",
                currency="SEK",
                method="card",
                psp_token=await card_token(),
                idempotency_key="demo-alice-deposit-1",
            )
        finally:
            await psp.post("/control/swiftpay", json={"deposit": "succeed"})
        note("alice@example.com", paid_in)
        # ... and a small withdrawal, approved automatically and paid back to her card (the closed loop: Sweden's
        # profile sends withdrawals to the deposits' methods first, docs/closed-loop.md).
        note(
            "alice@example.com",
            await cashier.request_withdrawal(
                rt,
                as_player("alice@example.com"),
                amount="500.00",
                currency="SEK",
                method="card",
                idempotency_key="demo-alice-withdrawal-1",
            ),
        )

        # Bob (GB): a card deposit, then a withdrawal to that card finance approved.
        note(
            "bob@example.com",
            await cashier.deposit(
                rt,
                as_player("bob@example.com"),
                amount="400.00",
                currency="GBP",
                method="card",
                psp_token=await card_token(),
                idempotency_key="demo-bob-deposit-1",
            ),
        )
        bob_out = await cashier.request_withdrawal(
            rt,
            as_player("bob@example.com"),
            amount="250.00",
            currency="GBP",
            method="card",
            idempotency_key="demo-bob-withdrawal-1",
        )
        if bob_out.status == "requested" and finance is not None:
            staff_viewer = Viewer(
                kind="staff",
                id=finance.id,
                brand_id=royal.id,
                brand_code=royal.code,
                roles=frozenset({"finance", "staff"}),
                meta=RequestMeta(ip="127.0.0.1", user_agent="croupier seed-demo"),
            )
            bob_out = (
                await cashier.approve_withdrawal(
                    rt, staff_viewer, payment_id=bob_out.id, reason="demo: documents verified"
                )
            ).payment
        note("bob@example.com", bob_out)

        # Carla (MT): a card deposit, a bank transfer confirmed on the bank's page, and a withdrawal (by bank
        # transfer: within what her transfer brought in) waiting in the finance queue.
        note(
            "carla@example.com",
            await cashier.deposit(
                rt,
                as_player("carla@example.com"),
                amount="150.00",
                currency="EUR",
                method="card",
                psp_token=await card_token(),
                idempotency_key="demo-carla-deposit-1",
            ),
        )
        wire = await cashier.deposit(
            rt,
            as_player("carla@example.com"),
            amount="1000.00",
            currency="EUR",
            method="bank_transfer",
            idempotency_key="demo-carla-deposit-2",
        )
        if wire.status == "pending" and wire.redirect_url:
            async with httpx.AsyncClient(timeout=10) as browser:
                await browser.post(wire.redirect_url, data={"result": "approve"}, follow_redirects=False)
            wire = await cashier.refresh(rt, wire.id)
        note("carla@example.com", wire)
        note(
            "carla@example.com",
            await cashier.request_withdrawal(
                rt,
                as_player("carla@example.com"),
                amount="300.00",
                currency="EUR",
                method="bank_transfer",
                idempotency_key="demo-carla-withdrawal-1",
            ),
        )

    # Dag (northstar): a goodwill credit by finance, below the second-approval threshold.
    if finance is not None:
        from services import adjustments

        async with rt.database.session() as db:
            northstar = await db.scalar(select(Brand).where(col(Brand.code) == "northstar"))
            dag = await db.scalar(select(Player).where(col(Player.email) == "dag@example.com"))
        if northstar is not None and dag is not None:
            finance_everywhere = Viewer(
                kind="staff",
                id=finance.id,
                brand_id=None,
                brand_code="*",
                roles=frozenset({"finance", "staff"}),
                meta=RequestMeta(ip="127.0.0.1", user_agent="croupier seed-demo"),
            )
            credit = await adjustments.request(
                rt,
                finance_everywhere,
                adjustments.AdjustmentRequest(
                    player_id=dag.id,
                    amount="50.00",
                    currency="SEK",
                    credit=True,
                    reason="demo: goodwill after a support case",
                    idempotency_key="demo-dag-adjustment-1",
                ),
            )
            lines.append(
                f"{'dag@example.com':20} {'adjustment':10} {format_amount(credit.amount, credit.currency):>9} "
                f"{credit.currency} {credit.status}"
            )
    return lines


# ---- the game catalog: providers, games, lobby categories, brand switches ----------------------------

# (code, name, protocol, launch URL or None for the built-in demo provider)
DEMO_PROVIDERS = [
    ("demo", "Croupier Demo Games", "hub88", None),
    ("pinefox", "Pinefox Studios", "hub88", "https://games.pinefox.example/launch"),
    ("livewire", "Livewire Live", "softswiss", "https://play.livewire.example/start"),
]
_ALL_CURRENCIES = ["EUR", "USD", "GBP", "SEK", "CAD"]
_LIMITS = {
    "EUR": ("0.10", "100.00"),
    "USD": ("0.10", "100.00"),
    "GBP": ("0.10", "100.00"),
    "SEK": ("1.00", "1000.00"),
    "CAD": ("0.10", "150.00"),
}
# (provider, code, title, type, rtp basis points, volatility, tags, categories, countries)
DEMO_GAMES: list[tuple[str, str, str, str, int, str, list[str], list[str], list[str]]] = [
    ("demo", "demo-slot", "Demo Slot", "slot", 9600, "medium", ["classic", "fruit"], ["popular", "slots"], []),
    ("demo", "demo-dice", "Demo Dice", "crash", 9900, "high", ["provably-fair"], ["popular", "new"], []),
    ("pinefox", "northern-lights", "Northern Lights", "slot", 9612, "high", ["megaways"], ["popular", "slots"], []),
    ("pinefox", "gold-rush-reels", "Gold Rush Reels", "slot", 9550, "medium", ["jackpot"], ["slots"], []),
    ("pinefox", "fruit-frenzy", "Fruit Frenzy", "slot", 9480, "low", ["classic", "fruit"], ["slots", "new"], []),
    (
        "pinefox",
        "viking-voyage",
        "Viking Voyage",
        "slot",
        9620,
        "high",
        ["megaways"],
        ["slots", "new"],
        ["SE", "FI", "DK", "MT"],
    ),
    ("pinefox", "blackjack-classic", "Blackjack Classic", "table", 9950, "low", ["cards"], ["table"], []),
    ("pinefox", "european-roulette", "European Roulette", "table", 9730, "low", ["roulette"], ["table"], []),
    ("pinefox", "rocket-crash", "Rocket Crash", "crash", 9700, "high", ["multiplier"], ["new", "popular"], []),
    ("livewire", "live-roulette", "Live Roulette", "live", 9730, "low", ["roulette"], ["live", "popular"], []),
    ("livewire", "live-blackjack", "Live Blackjack", "live", 9950, "low", ["cards"], ["live"], []),
    (
        "livewire",
        "lightning-baccarat",
        "Lightning Baccarat",
        "live",
        9876,
        "medium",
        ["cards"],
        ["live", "new"],
        ["GB", "MT", "IE", "CA"],
    ),
]
DEMO_CATEGORIES = [
    ("popular", "Popular", 1),
    ("new", "New", 2),
    ("slots", "Slots", 3),
    ("live", "Live casino", 4),
    ("table", "Table games", 5),
]


async def seed_games(rt: Runtime) -> list[str]:
    """The demo catalog: three providers (incl. the built-in "demo" one), a dozen games, the lobby's
    shared categories and brand switches. Additive and safe to run twice (existing rows are kept)."""
    from sqlalchemy.dialects.postgresql import insert

    from models.games import BrandGame, Game, LobbyCategory, LobbyCategoryGame, Provider

    demo_url = rt.settings.demo_provider_url or f"{rt.settings.public_base_url.rstrip('/')}/demo-games"
    async with rt.database.transaction() as db:
        changed(db, CATALOGUE)  # after commit: the lobby and kept answers are dropped everywhere
        for code, name, protocol, url in DEMO_PROVIDERS:
            await db.execute(
                insert(Provider)
                .values(id=new_id(), code=code, name=name, protocol=protocol, enabled=True, launch_url=url or demo_url)
                .on_conflict_do_nothing(index_elements=["code"])
            )
        provider_ids = {p.code: p.id for p in (await db.scalars(select(Provider))).all()}
        for code, title, position in DEMO_CATEGORIES:
            if (
                await db.scalar(
                    select(col(LobbyCategory.id)).where(
                        col(LobbyCategory.code) == code, col(LobbyCategory.brand_id).is_(None)
                    )
                )
                is None
            ):
                db.add(LobbyCategory(code=code, title=title, position=position))
        await db.flush()
        category_ids = {
            c.code: c.id
            for c in (await db.scalars(select(LobbyCategory).where(col(LobbyCategory.brand_id).is_(None)))).all()
        }
        for position, (provider, code, title, kind, rtp, volatility, tags, categories, countries) in enumerate(
            DEMO_GAMES
        ):
            await db.execute(
                insert(Game)
                .values(
                    id=new_id(),
                    provider_id=provider_ids[provider],
                    code=code,
                    title=title,
                    type=kind,
                    rtp_basis_points=rtp,
                    volatility=volatility,
                    min_bet={c: lo for c, (lo, _) in _LIMITS.items()},
                    max_bet={c: hi for c, (_, hi) in _LIMITS.items()},
                    contribution_category="slots" if kind == "slot" else "other" if kind == "crash" else kind,
                    countries=countries,
                    currencies=_ALL_CURRENCIES,
                    demo_available=kind != "live",
                    image_url=f"/static/games/{code}.svg",
                    tags=tags,
                    enabled=True,
                    created_at=clock.now(),
                )
                .on_conflict_do_nothing(index_elements=["provider_id", "code"])
            )
            game_id = await db.scalar(
                select(col(Game.id)).where(col(Game.provider_id) == provider_ids[provider], col(Game.code) == code)
            )
            for category in categories:
                await db.execute(
                    insert(LobbyCategoryGame)
                    .values(category_id=category_ids[category], game_id=game_id, position=position)
                    .on_conflict_do_nothing()
                )
        # Brand switches: Northstar (a Nordic brand) keeps live casino off, and Royal keeps
        # Lightning Baccarat off in Great Britain.
        brand_ids = {b.code: b.id for b in await brands.list_brands(db)}
        game_ids = {g.code: g.id for g in (await db.scalars(select(Game))).all()}
        switches = [
            ("northstar", "live-roulette", False, []),
            ("northstar", "live-blackjack", False, []),
            ("northstar", "lightning-baccarat", False, []),
            ("royal", "lightning-baccarat", True, ["GB"]),
        ]
        for brand_code, game_code, enabled, off_in in switches:
            if brand_code in brand_ids and game_code in game_ids:
                await db.execute(
                    insert(BrandGame)
                    .values(
                        brand_id=brand_ids[brand_code],
                        game_id=game_ids[game_code],
                        enabled=enabled,
                        disabled_countries=off_in,
                        updated_at=clock.now(),
                    )
                    .on_conflict_do_nothing()
                )
    return [f"{len(DEMO_GAMES)} games from {len(DEMO_PROVIDERS)} providers; demo games at {demo_url}"]


# Royal serves the UK (wagering at most 10x) and Sweden (first occasion only, 60 days to wager): the
# demo offers meet both, so they pass the jurisdiction checks at creation and at every claim.
DEMO_CAMPAIGNS = [
    (
        "Welcome: 100% up to 100 EUR",
        "deposit_match",
        "WELCOME100",
        {
            "match_percent": 100,
            "max_bonus": {"EUR": "100.00", "GBP": "100.00", "SEK": "1000.00"},
            "min_deposit": {"EUR": "10.00", "GBP": "10.00", "SEK": "100.00"},
            "wagering_multiplier": 10,
            "max_bet": {"EUR": "5.00", "GBP": "5.00", "SEK": "50.00"},
            "days_to_wager": 60,
            "eligibility": {"first_deposit_only": True},
        },
    ),
    (
        "10 free spins on Demo Slot",
        "free_spins",
        "SPINS10",
        {
            "free_spins": 10,
            "spin_bet": {"EUR": "0.20", "GBP": "0.20", "SEK": "2.00"},
            "games": ["demo-slot"],
            "wagering_multiplier": 10,
            "days_to_wager": 60,
        },
    ),
]


async def seed_bonuses(rt: Runtime) -> list[str]:
    """Two running offers at Royal: a first-deposit match (claim with the code on the deposit) and free spins
    on the demo slot. Safe to run twice (an existing code is kept)."""
    from models.bonuses import BonusCampaign, CampaignKind, CampaignStatus
    from services.bonuses import campaigns

    lines = []
    for name, kind, code, rules in DEMO_CAMPAIGNS:
        async with rt.database.session() as db:
            exists = await db.scalar(select(col(BonusCampaign.id)).where(col(BonusCampaign.promo_code) == code))
        if exists is None:
            created = await campaigns.create_campaign(
                rt,
                SYSTEM,
                campaigns.CampaignForm(
                    name=name, kind=CampaignKind(kind), rules=rules, promo_code=code, brand_code="royal"
                ),
            )
            await campaigns.set_campaign_status(rt, SYSTEM, created.id, CampaignStatus.ACTIVE)
        lines.append(f"{code} at royal: {name}")
    return lines


async def seed_rates(rt: Runtime) -> list[str]:
    """The sample reference rates, so the demo's reports convert into the reporting currency (the sample
    is illustrative; production imports the ECB's file with `croupier fx import`). Safe to run twice."""
    from services.reports import fx

    async with rt.database.transaction() as db:
        imported = await fx.import_rates(db, fx.read_rates_file(fx.SAMPLE_FILE))
    return [
        f"{imported.rates} sample reference rates of {', '.join(imported.currencies)} "
        f"from {imported.first_day} to {imported.last_day} (replace with the ECB's: croupier fx import)"
    ]
