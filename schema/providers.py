"""Provider onboarding types: providers as staff manage them, the full catalog entry of a game, the
inputs of the provider and game commands, and the report of a catalog import.

Credentials show as what identifies them, never as what they are: an RSA key as its SHA-256
fingerprint and size, an HMAC secret as the name of its settings entry.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from models import games as m
from schema.base import Money, UserError, to_global_id
from schema.context import Info
from schema.games import GameType, Volatility
from schema.input_limits import GAME_LIST, PUBLIC_KEY, REASON, text
from services.providers import catalog, imports, registry

ProviderProtocol = m.ProviderProtocol
strawberry.enum(m.ProviderProtocol, name="ProviderProtocol")


@strawberry.type(description="A game provider as staff manage it (platform-wide: every brand shares it).")
class ProviderSettings:
    code: str = strawberry.field(description="Its wallet routes' path: /providers/{code}/…")
    name: str
    protocol: ProviderProtocol
    enabled: bool = strawberry.field(description="Off: its wallet calls are refused and its games leave every lobby.")
    launch_url: str | None = strawberry.field(description="Where its game client lives.")
    game_list_url: str | None = strawberry.field(
        description="Where its game list is pulled from by the scheduled catalogue sync (null: not synced)."
    )
    free_rounds_url: str | None = strawberry.field(
        description="The base of its free-rounds API (Hub88 Freebets: /freebet/rewards/create|cancel); null: free "
        "rounds reach it in the launch URL."
    )
    public_key_fingerprint: str | None = strawberry.field(
        description="RSA protocols: SHA-256 of the public key's DER encoding, hex (null: no key set)."
    )
    public_key_bits: int | None
    secret_ref: str | None = strawberry.field(
        description="HMAC protocols: the PROVIDER_SECRETS entry it signs with (null: the entry named after its code)."
    )
    secret_configured: bool = strawberry.field(
        description="HMAC protocols: that entry exists in this server's settings (never the secret itself)."
    )
    created_at: datetime
    provider_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_model(cls, provider: m.Provider, secrets: dict[str, str]) -> ProviderSettings:
        shown = registry.view(provider, secrets)
        return cls(
            code=provider.code,
            name=provider.name,
            protocol=ProviderProtocol(provider.protocol),
            enabled=provider.enabled,
            launch_url=provider.launch_url,
            game_list_url=provider.game_list_url,
            free_rounds_url=provider.free_rounds_url,
            public_key_fingerprint=shown.public_key_fingerprint,
            public_key_bits=shown.public_key_bits,
            secret_ref=shown.secret_ref,
            secret_configured=shown.secret_configured,
            created_at=provider.created_at,
            provider_id=provider.id,
        )

    @strawberry.field(description="How many games it has in the catalog, disabled ones included.")  # type: ignore[untyped-decorator]
    async def game_count(self, info: Info) -> int:
        return await info.context.loaders.games.provider_game_count.load(self.provider_id)


def _limits(limits: dict[str, str]) -> list[Money]:
    return [Money(amount=amount, currency=code) for code, amount in sorted(limits.items())]


@strawberry.type(description="A game as the catalog holds it, for staff (bet limits in every currency).")
class CatalogGame:
    id: strawberry.ID = strawberry.field(description="The game's global id (the same as `Game.id`).")
    code: str
    title: str
    type: GameType
    rtp: str = strawberry.field(description='Return to player in percent, a decimal string ("96.12").')
    volatility: Volatility
    min_bets: list[Money]
    max_bets: list[Money]
    contribution_category: str
    countries: list[str] = strawberry.field(description="Where it may be played (empty: everywhere).")
    currencies: list[str]
    demo_available: bool
    image_url: str | None
    tags: list[str]
    enabled: bool = strawberry.field(description="The platform-wide switch (brands have their own).")
    created_at: datetime
    features: list[str] = strawberry.field(description="What it offers, from the provider's list (free-spins, …).")
    jurisdictions: list[str] = strawberry.field(
        description="Where it is certified, from the provider's list (empty: not declared); launch refuses elsewhere."
    )
    withdrawn_at: datetime | None = strawberry.field(
        description="When the provider's list stopped naming it (it was switched off then); null: listed."
    )
    provider_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_model(cls, game: m.Game) -> CatalogGame:
        return cls(
            id=strawberry.ID(str(to_global_id("Game", game.id))),
            code=game.code,
            title=game.title,
            type=GameType(game.type),
            rtp=catalog.rtp_text(game.rtp_basis_points),
            volatility=Volatility(game.volatility),
            min_bets=_limits(game.min_bet),
            max_bets=_limits(game.max_bet),
            contribution_category=game.contribution_category,
            countries=list(game.countries),
            currencies=list(game.currencies),
            demo_available=game.demo_available,
            image_url=game.image_url,
            tags=list(game.tags),
            enabled=game.enabled,
            created_at=game.created_at,
            features=list(game.features),
            jurisdictions=list(game.jurisdictions),
            withdrawn_at=game.withdrawn_at,
            provider_id=game.provider_id,
        )

    @strawberry.field
    async def provider(self, info: Info) -> ProviderSettings | None:
        found = await info.context.loaders.games.provider.load(self.provider_id)
        return ProviderSettings.from_model(found, info.context.rt.settings.provider_secrets) if found else None


@strawberry.input
class AddGameProviderInput:
    code: str = strawberry.field(description="Lowercase letters, digits, '-' or '_' (1–32); never changes.")
    name: str
    protocol: ProviderProtocol
    launch_url: str | None = None
    public_key_pem: str | None = text(PUBLIC_KEY, default=None, description="Hub88: its RSA public key (PEM).")
    secret_ref: str | None = strawberry.field(default=None, description="SoftSwiss: a PROVIDER_SECRETS entry name.")
    enabled: bool = True
    reason: str = text(REASON, default="")
    game_list_url: str | None = strawberry.field(default=None, description="Where its game list is pulled from")
    free_rounds_url: str | None = strawberry.field(
        default=None, description="The base of its free-rounds API (Hub88 Freebets shape)"
    )


@strawberry.input
class UpdateGameProviderInput:
    provider: str = strawberry.field(description="The provider's code")
    name: str | None = None
    launch_url: str | None = strawberry.field(default=None, description='"" removes it')
    game_list_url: str | None = strawberry.field(default=None, description='"" removes it (no more sync)')
    free_rounds_url: str | None = strawberry.field(
        default=None, description='"" removes it (free rounds then go in the launch URL)'
    )
    reason: str = text(REASON, default="")


@strawberry.input
class SetGameProviderKeyInput:
    provider: str
    public_key_pem: str = text(PUBLIC_KEY, description="PEM, RSA, at least 2048 bits")
    reason: str = text(REASON, default="", description="Required (audited)")


@strawberry.input
class SetGameProviderSecretRefInput:
    provider: str
    secret_ref: str = strawberry.field(description="The name of an entry of PROVIDER_SECRETS on the servers")
    reason: str = text(REASON, default="", description="Required (audited)")


@strawberry.input
class SetGameProviderEnabledInput:
    provider: str
    enabled: bool
    reason: str = text(REASON, default="", description="Required (audited)")


@strawberry.type
class GameProviderPayload:
    provider: ProviderSettings | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input(description="A bet limit in one currency.")
class BetLimitInput:
    currency: str
    amount: str = strawberry.field(description='An exact decimal string ("0.10")')


@strawberry.input
class CreateGameInput:
    provider: str = strawberry.field(description="The provider's code")
    code: str = strawberry.field(description="The provider's game_code (unique per provider)")
    title: str
    type: GameType
    rtp: str = strawberry.field(description='Percent, at most two decimals ("96.12")')
    volatility: Volatility | None = None
    min_bets: list[BetLimitInput] | None = None
    max_bets: list[BetLimitInput] | None = None
    contribution_category: str | None = strawberry.field(
        default=None, description="How bets count towards bonus wagering (default: from the type)"
    )
    countries: list[str] | None = strawberry.field(default=None, description="Empty: every country")
    currencies: list[str] | None = None
    demo_available: bool | None = None
    image_url: str | None = None
    tags: list[str] | None = None
    enabled: bool = True
    reason: str = text(REASON, default="")


@strawberry.input(description="Fields left null stay as they are.")
class UpdateGameInput:
    game_id: strawberry.ID
    title: str | None = None
    type: GameType | None = None
    rtp: str | None = None
    volatility: Volatility | None = None
    min_bets: list[BetLimitInput] | None = None
    max_bets: list[BetLimitInput] | None = None
    contribution_category: str | None = None
    countries: list[str] | None = None
    currencies: list[str] | None = None
    demo_available: bool | None = None
    image_url: str | None = strawberry.field(default=None, description='"" removes it')
    tags: list[str] | None = None
    reason: str = text(REASON, default="")


@strawberry.input
class SetGameEnabledInput:
    game_id: strawberry.ID
    enabled: bool
    reason: str = text(REASON, default="")


@strawberry.type
class CatalogGamePayload:
    game: CatalogGame | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class ImportGamesInput:
    provider: str = strawberry.field(description="The provider's code")
    games: JSON = text(GAME_LIST, description="The provider's game list: Hub88's /game/list answer (a JSON array)")
    currencies: list[str] = strawberry.field(
        default_factory=list, description="Currencies new games are offered in (existing games keep theirs)"
    )
    dry_run: bool = strawberry.field(default=False, description="Only report what would change; write nothing")
    reason: str = text(REASON, default="")


@strawberry.type(description="One field of a game before and after an import.")
class GameFieldChange:
    field: str
    old: JSON | None
    new: JSON | None


@strawberry.type(description="A game an import adds (every field it gets) or changes (the fields that differ).")
class GameImportChange:
    code: str
    title: str
    changes: list[GameFieldChange]

    @classmethod
    def of(cls, diff: imports.GameDiff) -> GameImportChange:
        return cls(
            code=diff.code,
            title=diff.title,
            changes=[GameFieldChange(field=c.field, old=c.old, new=c.new) for c in diff.changes],
        )


@strawberry.type(description="What an import did, or with `dryRun` would do, to a provider's catalog.")
class GameImportReport:
    provider: str
    dry_run: bool
    added: list[GameImportChange]
    changed: list[GameImportChange]
    unchanged: list[str] = strawberry.field(description="Codes of listed games already as listed")
    missing: list[str] = strawberry.field(description="Codes of the provider's games the list does not name (kept)")
    restored: list[GameImportChange] = strawberry.field(description="Withdrawn games the list names again (on again)")

    @classmethod
    def of(cls, report: imports.ImportReport) -> GameImportReport:
        return cls(
            provider=report.provider,
            dry_run=report.dry_run,
            added=[GameImportChange.of(d) for d in report.added],
            changed=[GameImportChange.of(d) for d in report.changed],
            unchanged=list(report.unchanged),
            missing=list(report.missing),
            restored=[GameImportChange.of(d) for d in report.restored],
        )


@strawberry.type
class ImportGamesPayload:
    report: GameImportReport | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
