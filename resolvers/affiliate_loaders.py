"""Per-request DataLoaders of affiliate partners: a page of partners loads its brands, links, portal users and
parents in one statement each, and a page of players their attributions in one."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from strawberry.dataloader import DataLoader

from core.runtime import Runtime
from models.affiliates import Affiliate, AffiliateLink, AffiliateUser
from services.affiliates import attribution, links, partners, portal_users
from services.affiliates.attribution import Attribution


class AffiliateLoaders:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.partner: DataLoader[uuid.UUID, Affiliate | None] = DataLoader(self._partners)
        self.brand_ids: DataLoader[uuid.UUID, list[uuid.UUID]] = DataLoader(self._brand_ids)
        # Keyed by (partner, the viewer's brand scope or None): a brand's staff load that brand's links only.
        self.links: DataLoader[tuple[uuid.UUID, uuid.UUID | None], list[AffiliateLink]] = DataLoader(self._links)
        self.portal_users: DataLoader[uuid.UUID, list[AffiliateUser]] = DataLoader(self._portal_users)
        self.attribution: DataLoader[uuid.UUID, Attribution | None] = DataLoader(self._attributions)

    async def _partners(self, ids: Sequence[uuid.UUID]) -> list[Affiliate | None]:
        async with self.rt.database.session() as db:
            found = await partners.many(db, ids)
        return [found.get(i) for i in ids]

    async def _brand_ids(self, ids: Sequence[uuid.UUID]) -> list[list[uuid.UUID]]:
        async with self.rt.database.session() as db:
            found = await partners.brands_of(db, ids)
        return [found.get(i, []) for i in ids]

    async def _links(self, keys: Sequence[tuple[uuid.UUID, uuid.UUID | None]]) -> list[list[AffiliateLink]]:
        found: dict[tuple[uuid.UUID, uuid.UUID | None], list[AffiliateLink]] = {}
        async with self.rt.database.session() as db:
            for brand_id in dict.fromkeys(brand for _, brand in keys):  # one viewer per request: one statement
                ids = [partner for partner, brand in keys if brand == brand_id]
                for partner, rows in (await links.links_of(db, ids, brand_id=brand_id)).items():
                    found[(partner, brand_id)] = rows
        return [found.get(key, []) for key in keys]

    async def _portal_users(self, ids: Sequence[uuid.UUID]) -> list[list[AffiliateUser]]:
        async with self.rt.database.session() as db:
            found = await portal_users.users_of(db, ids)
        return [found.get(i, []) for i in ids]

    async def _attributions(self, ids: Sequence[uuid.UUID]) -> list[Attribution | None]:
        async with self.rt.database.session() as db:
            found = await attribution.attributions_of(db, ids)
        return [found.get(i) for i in ids]
