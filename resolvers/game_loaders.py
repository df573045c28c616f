"""Per-request DataLoaders of the games domain (hung on `Loaders.games`): one statement per batch,
each batch in its own session, so a lobby or a page of rounds costs the same whatever its size."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence

from strawberry.dataloader import DataLoader

from authz.subjects import Viewer
from core.errors import NotFound
from core.runtime import Runtime
from models.games import BrandGame, Game, Provider, ProviderCall, ProviderTransaction
from models.players import Player
from services import games
from services.games import Audience
from services.providers import catalog

CallKey = tuple[uuid.UUID, str]  # (provider id, transaction uuid)


class GameLoaders:
    def __init__(self, rt: Runtime, players: Callable[[Viewer], DataLoader[uuid.UUID, Player | None]]) -> None:
        self.rt = rt
        self._players = players  # Loaders.readable_player: the viewer's own row, shared with `me`
        self._audiences: dict[tuple[str, str | None], Audience] = {}
        self.game: DataLoader[uuid.UUID, Game | None] = DataLoader(self._games)
        self.provider: DataLoader[uuid.UUID, Provider | None] = DataLoader(self._providers)
        self.available: DataLoader[tuple[Audience, uuid.UUID], bool] = DataLoader(self._available)
        self.round_transactions: DataLoader[uuid.UUID, list[ProviderTransaction]] = DataLoader(self._round_transactions)
        self.transaction_calls: DataLoader[CallKey, list[ProviderCall]] = DataLoader(self._calls)
        self.brand_switch: DataLoader[tuple[uuid.UUID, uuid.UUID], BrandGame | None] = DataLoader(self._brand_switches)
        self.provider_game_count: DataLoader[uuid.UUID, int] = DataLoader(self._provider_game_counts)

    async def audience(self, viewer: Viewer, brand_code: str | None, *, alone: bool = False) -> Audience:
        """The request's audience, resolved once per brand argument. `alone`: a player's read by a prepared
        statement of its own rather than with the row `me` loads (a kept answer's key: nothing else to share)."""
        key = (f"{viewer.kind}:{viewer.id}:{viewer.brand_id}", (brand_code or "").strip().lower() or None)
        found = self._audiences.get(key)
        if found is None and viewer.is_player and viewer.id is not None and not alone:
            # The row `me` loads too (one statement for both when a page asks for both).
            player = await self._players(viewer).load(viewer.id)
            if player is None:
                raise NotFound("No such player.")
            found = self._audiences[key] = games.audience_of(player)
        elif found is None:
            found = self._audiences[key] = await games.audience_now(self.rt, viewer, brand_code)
        return found

    async def _games(self, ids: Sequence[uuid.UUID]) -> list[Game | None]:
        async with self.rt.database.session() as db:
            found = await games.games_by_id(db, list(ids))
        return [found.get(i) for i in ids]

    async def _providers(self, ids: Sequence[uuid.UUID]) -> list[Provider | None]:
        async with self.rt.database.session() as db:
            found = await games.providers_by_id(db, list(ids))
        return [found.get(i) for i in ids]

    async def _provider_game_counts(self, ids: Sequence[uuid.UUID]) -> list[int]:
        async with self.rt.database.session() as db:
            found = await catalog.game_counts(db, list(ids))
        return [found.get(i, 0) for i in ids]

    async def _available(self, keys: Sequence[tuple[Audience, uuid.UUID]]) -> list[bool]:
        by_audience: dict[Audience, list[uuid.UUID]] = defaultdict(list)
        for audience, game_id in keys:
            by_audience[audience].append(game_id)
        yes: set[tuple[Audience, uuid.UUID]] = set()
        async with self.rt.database.session() as db:
            for audience, ids in by_audience.items():
                yes.update((audience, i) for i in await games.availability_of(db, audience, ids))
        return [key in yes for key in keys]

    async def _brand_switches(self, keys: Sequence[tuple[uuid.UUID, uuid.UUID]]) -> list[BrandGame | None]:
        by_brand: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
        for brand_id, game_id in keys:
            by_brand[brand_id].append(game_id)
        found: dict[tuple[uuid.UUID, uuid.UUID], BrandGame] = {}
        async with self.rt.database.session() as db:
            for brand_id, ids in by_brand.items():
                found.update(((brand_id, g), row) for g, row in (await games.brand_switches(db, brand_id, ids)).items())
        return [found.get(key) for key in keys]

    async def _round_transactions(self, ids: Sequence[uuid.UUID]) -> list[list[ProviderTransaction]]:
        async with self.rt.database.session() as db:
            found = await games.transactions_of_rounds(db, list(ids))
        return [found.get(i, []) for i in ids]

    async def _calls(self, keys: Sequence[CallKey]) -> list[list[ProviderCall]]:
        async with self.rt.database.session() as db:
            found = await games.calls_of_transactions(db, list(keys))
        return [found.get(k, []) for k in keys]
