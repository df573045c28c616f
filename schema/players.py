"""Player types, inputs and payloads."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import strawberry
from strawberry import relay

from models import auth as auth_models
from models import players as m
from schema.affiliates import PlayerAffiliate
from schema.aml import ScreeningAlert, ScreeningAlertState
from schema.aml_cases import AmlCase
from schema.aml_monitoring import AmlAlert, AmlAlertStatus
from schema.auth import AuthTokens
from schema.base import Connection, UserError
from schema.bonuses import PlayerBonus
from schema.brands import Brand
from schema.cashier import Payment, PaymentFilter
from schema.closed_loop import ClosedLoop
from schema.context import Info
from schema.crm_channels import InboxMessage
from schema.crm_suppression import CrmSuppression, MarketingConsent
from schema.games import GameRound, RoundFilter
from schema.input_limits import (
    ADDRESS_LINE,
    CITY,
    EMAIL,
    NOTE,
    PASSWORD,
    PERSON_NAME,
    PHONE,
    POSTAL_CODE,
    REASON,
    text,
)
from schema.kyc import Kyc
from schema.rg import ResponsibleGambling
from schema.risk import PlayerRisk
from schema.staff import AuditRecord, StaffUser
from schema.wallet import LedgerTransaction, TransactionFilter, WalletBalance
from services.rg.gates import LoginPurpose

PlayerStatus = m.PlayerStatus
strawberry.enum(m.PlayerStatus, name="PlayerStatus")


@strawberry.type(description="A login on one device.")
class Session(relay.Node):
    id: relay.NodeID[str]
    created_at: datetime
    last_seen_at: datetime | None
    expires_at: datetime
    revoked_at: datetime | None
    ip: str | None
    country: str | None
    user_agent: str | None
    device: str | None
    current: bool

    @classmethod
    def from_model(cls, session: auth_models.AuthSession, current_session: uuid.UUID | None) -> Session:
        return cls(
            id=str(session.id),
            created_at=session.created_at,
            last_seen_at=session.last_seen_at,
            expires_at=session.expires_at,
            revoked_at=session.revoked_at,
            ip=session.ip,
            country=session.country,
            user_agent=session.user_agent,
            device=session.device,
            current=session.id == current_session,
        )


@strawberry.type(description="A staff member's note on a player (append-only).")
class PlayerNote(relay.Node):
    id: relay.NodeID[str]
    body: str
    created_at: datetime
    author_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_model(cls, note: m.PlayerNote) -> PlayerNote:
        return cls(id=str(note.id), body=note.body, created_at=note.created_at, author_id=note.author_id)

    @strawberry.field(description="The staff member who wrote it.")  # type: ignore[untyped-decorator]
    async def author(self, info: Info) -> StaffUser | None:
        found = await info.context.loaders.staff_user.load(self.author_id)
        return StaffUser.from_model(found) if found else None


@strawberry.type(description="A player account. Fields a role may not read resolve to null with FORBIDDEN.")
class Player(relay.Node):
    id: relay.NodeID[str]
    email: str | None
    first_name: str | None
    last_name: str | None
    phone: str | None
    address_line1: str | None = strawberry.field(description="The postal address's first line")
    address_line2: str | None = strawberry.field(description="The postal address's second line")
    city: str | None
    postal_code: str | None
    date_of_birth: date | None
    country: str | None
    currency: str | None
    marketing_consent: bool | None
    status: PlayerStatus | None
    status_reason: str | None
    created_at: datetime | None
    jurisdiction: str | None = strawberry.field(description="The responsible-gambling profile the player plays under")
    language: str | None = strawberry.field(description="The language messages are written in (en, de, pt-BR)")
    time_zone: str | None = strawberry.field(description="An IANA time zone name (quiet hours fall in it)")
    brand_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_model(cls, player: m.Player) -> Player:
        return cls(
            id=str(player.id),
            email=player.email,
            first_name=player.first_name,
            last_name=player.last_name,
            phone=player.phone,
            address_line1=player.address_line1,
            address_line2=player.address_line2,
            city=player.city,
            postal_code=player.postal_code,
            date_of_birth=player.date_of_birth,
            country=player.country,
            currency=player.currency,
            marketing_consent=player.marketing_consent,
            status=PlayerStatus(player.status),
            status_reason=player.status_reason,
            created_at=player.created_at,
            jurisdiction=player.jurisdiction,
            language=player.language,
            time_zone=player.time_zone,
            brand_id=player.brand_id,
        )

    @strawberry.field
    async def brand(self, info: Info) -> Brand | None:
        brand = await info.context.loaders.brand.load(self.brand_id)
        return Brand.from_model(brand) if brand else None

    @strawberry.field(description="Balances per currency.")  # type: ignore[untyped-decorator]
    async def wallet(self, info: Info) -> list[WalletBalance] | None:
        from resolvers.wallet import wallet_balance

        return [wallet_balance(b) for b in await info.context.loaders.wallet.load(uuid.UUID(self.id))]

    @strawberry.field(description="Money movements, newest first, with the balance after each.")  # type: ignore[untyped-decorator]
    async def transactions(
        self,
        info: Info,
        filter: TransactionFilter | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[LedgerTransaction] | None:
        from resolvers.wallet import player_transactions

        return await player_transactions(
            info, uuid.UUID(self.id), filter, first=first, after=after, last=last, before=before
        )

    @strawberry.field(description="Deposits and withdrawals, newest first.")  # type: ignore[untyped-decorator]
    async def payments(
        self,
        info: Info,
        filter: PaymentFilter | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Payment] | None:
        from resolvers.cashier import player_payments

        return await player_payments(
            info, uuid.UUID(self.id), filter, first=first, after=after, last=last, before=before
        )

    @strawberry.field(  # type: ignore[untyped-decorator]
        description="Where withdrawals in `currency` (default: the player's) must go first: the deposits' methods."
    )
    async def closed_loop(self, info: Info, currency: str | None = None) -> ClosedLoop | None:
        from resolvers.closed_loop import player_closed_loop

        return await player_closed_loop(info, uuid.UUID(self.id), currency)

    @strawberry.field(description="Game rounds, newest first, with their provider transactions.")  # type: ignore[untyped-decorator]
    async def rounds(
        self,
        info: Info,
        filter: RoundFilter | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[GameRound] | None:
        from resolvers.games import player_rounds

        return await player_rounds(info, uuid.UUID(self.id), filter, first=first, after=after, last=last, before=before)

    @strawberry.field(description="Limits, exclusions, reality checks, activity and RG history.")  # type: ignore[untyped-decorator]
    async def responsible_gambling(self, info: Info) -> ResponsibleGambling | None:
        from resolvers.rg import responsible_gambling

        return await responsible_gambling(info, uuid.UUID(self.id))

    @strawberry.field(description="KYC verification: level, required level and why, status, next steps.")  # type: ignore[untyped-decorator]
    async def kyc(self, info: Info) -> Kyc | None:
        from resolvers.kyc import player_kyc

        return await player_kyc(info, uuid.UUID(self.id))

    @strawberry.field(description="The affiliate partner who brought the player, from their last click (staff).")  # type: ignore[untyped-decorator]
    async def affiliate(self, info: Info) -> PlayerAffiliate | None:
        from resolvers.affiliates import player_affiliate

        return await player_affiliate(info, uuid.UUID(self.id))

    @strawberry.field(description="Linked accounts: the player's cluster and what links its members (risk staff).")  # type: ignore[untyped-decorator]
    def risk(self) -> PlayerRisk | None:
        return PlayerRisk(player_id=uuid.UUID(self.id))

    @strawberry.field(description="Bonuses, newest first, with wagering progress and history.")  # type: ignore[untyped-decorator]
    async def bonuses(self, info: Info) -> list[PlayerBonus] | None:
        from resolvers.bonuses import player_bonuses

        return await player_bonuses(info, uuid.UUID(self.id))

    @strawberry.field(description="Login sessions, newest first.")  # type: ignore[untyped-decorator]
    async def sessions(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Session] | None:
        from resolvers.players import player_sessions

        return await player_sessions(info, uuid.UUID(self.id), first=first, after=after, last=last, before=before)

    @strawberry.field(description="Staff notes on the player, newest first.")  # type: ignore[untyped-decorator]
    async def notes(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[PlayerNote] | None:
        from resolvers.players import player_notes

        return await player_notes(info, uuid.UUID(self.id), first=first, after=after, last=last, before=before)

    @strawberry.field(description="What the player did and what staff did to the account, newest first.")  # type: ignore[untyped-decorator]
    async def audit_trail(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[AuditRecord] | None:
        from resolvers.players import player_audit_trail

        return await player_audit_trail(info, uuid.UUID(self.id), first=first, after=after, last=last, before=before)

    @strawberry.field(description="The player's AML cases, newest first (the AML desk only).")  # type: ignore[untyped-decorator]
    async def aml_cases(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[AmlCase] | None:
        from resolvers.aml_cases import player_aml_cases

        return await player_aml_cases(info, uuid.UUID(self.id), first=first, after=after)

    @strawberry.field(description="The player's transaction-monitoring alerts, oldest first (all statuses by default).")  # type: ignore[untyped-decorator]
    async def aml_alerts(
        self, info: Info, status: AmlAlertStatus | None = None, first: int | None = None, after: str | None = None
    ) -> Connection[AmlAlert] | None:
        from resolvers.aml_monitoring import player_aml_alerts

        return await player_aml_alerts(info, uuid.UUID(self.id), status=status, first=first, after=after)

    @strawberry.field(description="The player's sanctions/PEP screening matches, oldest first (all states by default).")  # type: ignore[untyped-decorator]
    async def screening_alerts(
        self, info: Info, state: ScreeningAlertState | None = None, first: int | None = None, after: str | None = None
    ) -> Connection[ScreeningAlert] | None:
        from resolvers.aml import player_screening_alerts

        return await player_screening_alerts(info, uuid.UUID(self.id), state=state, first=first, after=after)

    @strawberry.field(description="The player's own on-site inbox, newest first (null or empty for anyone else).")  # type: ignore[untyped-decorator]
    async def inbox(
        self, info: Info, unread_only: bool = False, first: int | None = None, after: str | None = None
    ) -> Connection[InboxMessage] | None:
        from resolvers.crm_channels import player_inbox

        return await player_inbox(info, uuid.UUID(self.id), unread_only=unread_only, first=first, after=after)

    @strawberry.field(description="Marketing consents per product and channel (the player's own; support, marketing).")  # type: ignore[untyped-decorator]
    async def consents(self, info: Info) -> list[MarketingConsent] | None:
        from resolvers.crm_suppression import player_consents

        return await player_consents(info, uuid.UUID(self.id), bool(self.marketing_consent))

    @strawberry.field(description="Refusals to reach the player with a message or offer, newest first (staff).")  # type: ignore[untyped-decorator]
    async def crm_suppressions(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[CrmSuppression] | None:
        from resolvers.crm_suppression import player_suppressions

        return await player_suppressions(info, uuid.UUID(self.id), first=first, after=after)


@strawberry.input
class PlayerFilter:
    email: str | None = strawberry.field(default=None, description="Exact email, or a prefix ending in *")
    search: str | None = strawberry.field(
        default=None,
        description="Find as you type: an email or name prefix, a phone number or a player id. "
        "Matches only the fields the viewer may read.",
    )
    status: PlayerStatus | None = None
    country: str | None = None


@strawberry.input
class RegisterPlayerInput:
    brand: str = strawberry.field(description="Brand code")
    email: str = text(EMAIL)
    password: str = text(PASSWORD)
    date_of_birth: date
    country: str
    currency: str
    marketing_consent: bool = False
    first_name: str | None = text(PERSON_NAME, default=None)
    last_name: str | None = text(PERSON_NAME, default=None)
    phone: str | None = text(PHONE, default=None)
    address_line1: str | None = text(
        ADDRESS_LINE, default=None, description="Postal address, first line (with city, required if any part is given)"
    )
    address_line2: str | None = text(ADDRESS_LINE, default=None, description="Postal address, second line")
    city: str | None = text(CITY, default=None)
    postal_code: str | None = text(POSTAL_CODE, default=None, description="Letters, digits, spaces and hyphens")
    affiliate_click: str | None = text(
        64,
        default=None,
        description="The click id of the visitor's last affiliate link (the `click` query parameter or the "
        "`croupier_click` cookie the `/a/{code}` redirect set). One that is unknown, too old or of another brand "
        "attributes nobody; it never refuses the registration.",
    )
    language: str | None = text(8, default=None, description="A language code: en (default), de, pt-BR")
    time_zone: str | None = text(64, default=None, description="An IANA time zone name: UTC (default), Europe/Malta")


@strawberry.type
class RegisterPlayerPayload:
    player: Player | None = None
    tokens: AuthTokens | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class LoginInput:
    brand: str
    email: str = text(EMAIL)
    password: str = text(PASSWORD)
    purpose: LoginPurpose = LoginPurpose.PLAY


@strawberry.type
class LoginPayload:
    player: Player | None = None
    tokens: AuthTokens | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class UpdateProfileInput:
    first_name: str | None = text(PERSON_NAME, default=None)
    last_name: str | None = text(PERSON_NAME, default=None)
    phone: str | None = text(PHONE, default=None)
    address_line1: str | None = text(
        ADDRESS_LINE, default=None, description="Postal address, first line (with city, required if any part is given)"
    )
    address_line2: str | None = text(ADDRESS_LINE, default=None, description="Postal address, second line")
    city: str | None = text(CITY, default=None)
    postal_code: str | None = text(POSTAL_CODE, default=None, description="Letters, digits, spaces and hyphens")
    marketing_consent: bool | None = None
    language: str | None = text(8, default=None, description="A language code: en, de, pt-BR")
    time_zone: str | None = text(64, default=None, description="An IANA time zone name: Europe/Malta")


@strawberry.type
class UpdateProfilePayload:
    player: Player | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class SetPlayerStatusInput:
    player_id: strawberry.ID
    status: PlayerStatus
    reason: str = text(REASON)


@strawberry.type
class SetPlayerStatusPayload:
    player: Player | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class AddPlayerNoteInput:
    player_id: strawberry.ID
    body: str = text(NOTE, description="Not empty")


@strawberry.type
class AddPlayerNotePayload:
    note: PlayerNote | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(description="Something happened to the viewer's account.")
class AccountEvent:
    kind: str
    status: PlayerStatus | None
    at: datetime
