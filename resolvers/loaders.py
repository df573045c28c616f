"""Per-request DataLoaders: relations load in one query per batch, each with its own session."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING

from strawberry.dataloader import DataLoader

from authz.subjects import Viewer
from core.runtime import Runtime
from models.bonuses import BonusEvent
from models.brands import Brand
from models.crm import CrmConsent
from models.payments import PaymentAttempt
from models.players import Player
from models.staff import StaffUser
from services import brands, cashier, players, staff, wallet, wallet_reads
from services.staff import RoleGrant
from services.wallet import Balance
from services.wallet_reads import Movement, PostingLine, Reference

if TYPE_CHECKING:
    from resolvers.affiliate_loaders import AffiliateLoaders
    from resolvers.affiliate_postbacks import PostbackLoaders
    from resolvers.aml_loaders import AmlLoaders
    from resolvers.crm_journeys import JourneyLoaders
    from resolvers.crm_segments import SegmentLoaders
    from resolvers.game_loaders import GameLoaders
    from resolvers.jackpot_loaders import JackpotLoaders
    from resolvers.risk_loaders import RiskLoaders


class Loaders:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.brand: DataLoader[uuid.UUID, Brand | None] = DataLoader(self._brands)
        self.staff_roles: DataLoader[uuid.UUID, list[RoleGrant]] = DataLoader(self._staff_roles)
        self.wallet: DataLoader[uuid.UUID, list[Balance]] = DataLoader(self._wallets)
        self.payment_attempts: DataLoader[uuid.UUID, list[PaymentAttempt]] = DataLoader(self._payment_attempts)
        self.bonus_events: DataLoader[uuid.UUID, list[tuple[BonusEvent, str]]] = DataLoader(self._bonus_events)
        self._readable_players: dict[Viewer, DataLoader[uuid.UUID, Player | None]] = {}
        self._postings: dict[Viewer, DataLoader[uuid.UUID, list[PostingLine]]] = {}
        self._referenced: dict[Viewer, DataLoader[Reference, list[Movement]]] = {}
        self.staff_user: DataLoader[uuid.UUID, StaffUser | None] = DataLoader(self._staff_users)

    @cached_property
    def games(self) -> GameLoaders:
        from resolvers.game_loaders import GameLoaders

        return GameLoaders(self.rt, self.readable_player)

    @cached_property
    def jackpots(self) -> JackpotLoaders:
        from resolvers.jackpot_loaders import JackpotLoaders

        return JackpotLoaders(self.rt)

    @cached_property
    def risk(self) -> RiskLoaders:
        from resolvers.risk_loaders import RiskLoaders

        return RiskLoaders(self.rt)

    @cached_property
    def affiliates(self) -> AffiliateLoaders:
        from resolvers.affiliate_loaders import AffiliateLoaders

        return AffiliateLoaders(self.rt)

    @cached_property
    def affiliate_postbacks(self) -> PostbackLoaders:
        from resolvers.affiliate_postbacks import PostbackLoaders

        return PostbackLoaders(self.rt)

    @cached_property
    def aml(self) -> AmlLoaders:
        from resolvers.aml_loaders import AmlLoaders

        return AmlLoaders(self.rt)

    @cached_property
    def crm_segments(self) -> SegmentLoaders:
        from resolvers.crm_segments import SegmentLoaders

        return SegmentLoaders(self.rt)

    @cached_property
    def crm_journeys(self) -> JourneyLoaders:
        from resolvers.crm_journeys import JourneyLoaders

        return JourneyLoaders(self.rt)

    @cached_property
    def crm_consents(self) -> DataLoader[uuid.UUID, list[CrmConsent]]:
        from resolvers.crm_suppression import consent_loader

        return consent_loader(self.rt)

    async def _brands(self, ids: Sequence[uuid.UUID]) -> list[Brand | None]:
        async with self.rt.database.session() as db:
            found = await brands.get_many(db, list(ids))
        return [found.get(i) for i in ids]

    async def _wallets(self, ids: Sequence[uuid.UUID]) -> list[list[Balance]]:
        async with self.rt.database.session() as db:
            found = await wallet.balances_of(db, list(ids))
        return [found.get(i, []) for i in ids]

    async def _payment_attempts(self, ids: Sequence[uuid.UUID]) -> list[list[PaymentAttempt]]:
        async with self.rt.database.session() as db:
            found = await cashier.attempts_of(db, list(ids))
        return [found.get(i, []) for i in ids]

    async def _bonus_events(self, ids: Sequence[uuid.UUID]) -> list[list[tuple[BonusEvent, str]]]:
        from services.bonuses import queries as bonus_queries

        async with self.rt.database.session() as db:
            found = await bonus_queries.events_of(db, list(ids))
        return [found.get(i, []) for i in ids]

    def readable_player(self, viewer: Viewer) -> DataLoader[uuid.UUID, Player | None]:
        """Players by id through the viewer's ownership filter (`readable_players`), batched."""
        loader = self._readable_players.get(viewer)
        if loader is None:

            async def load(ids: Sequence[uuid.UUID]) -> list[Player | None]:
                async with self.rt.database.session() as db:
                    found = await players.readable_many(db, viewer, list(ids))
                return [found.get(i) for i in ids]

            loader = self._readable_players[viewer] = DataLoader(load)
        return loader

    def postings(self, viewer: Viewer) -> DataLoader[uuid.UUID, list[PostingLine]]:
        """Every posting of ledger transactions by id, house side included, of the ones the viewer may read."""
        loader = self._postings.get(viewer)
        if loader is None:

            async def load(ids: Sequence[uuid.UUID]) -> list[list[PostingLine]]:
                async with self.rt.database.session() as db:
                    found = await wallet_reads.postings_of(db, viewer, list(ids))
                return [found.get(i, []) for i in ids]

            loader = self._postings[viewer] = DataLoader(load)
        return loader

    def referenced_transactions(self, viewer: Viewer) -> DataLoader[Reference, list[Movement]]:
        """The readable ledger transactions of payments or adjustments, by (reference type, id)."""
        loader = self._referenced.get(viewer)
        if loader is None:

            async def load(keys: Sequence[Reference]) -> list[list[Movement]]:
                async with self.rt.database.session() as db:
                    found = await wallet_reads.referenced_many(db, viewer, list(keys))
                return [found.get(k, []) for k in keys]

            loader = self._referenced[viewer] = DataLoader(load)
        return loader

    async def _staff_users(self, ids: Sequence[uuid.UUID]) -> list[StaffUser | None]:
        async with self.rt.database.session() as db:
            found = await staff.get_many(db, list(ids))
        return [found.get(i) for i in ids]

    async def _staff_roles(self, ids: Sequence[uuid.UUID]) -> list[list[RoleGrant]]:
        async with self.rt.database.session() as db:
            found = await staff.roles_of(db, list(ids))
        return [found.get(i, []) for i in ids]
