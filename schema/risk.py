"""Risk types, inputs and payloads: a player's linked accounts (`Player.risk`) and the block and watch
lists (services/risk)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay

from models.risk import RiskListEntry as EntryRow
from schema.base import UserError
from schema.input_limits import REASON, text
from services.risk.lists import EntryKind, ListName

if TYPE_CHECKING:
    from schema.players import Player

strawberry.enum(ListName, name="RiskList", description="BLOCK refuses with RISK_BLOCKED; WATCH lets through, flagged")
strawberry.enum(
    EntryKind,
    name="RiskListKind",
    description="What an entry names: an email (normalised: case, plus-tags, Gmail dots), an email domain, an IP "
    "address or CIDR range, a device id (X-Device-Id), a card BIN (6-8 digits) or fingerprint, a country",
)


@strawberry.type(description="A strong signal two linked accounts share; the value is masked.")
class SharedSignal:
    kind: str = strawberry.field(description="device, card_fingerprint, payment_account, email or phone")
    value: str = strawberry.field(description="Masked: enough to tell two apart, not to reuse")
    first_seen: datetime


@strawberry.type(description="Another account of the player's cluster, with what links it to the cluster.")
class LinkedPlayer:
    shared_signals: list[SharedSignal] = strawberry.field(
        description="The strong signals it shares with another member (empty: linked through others)"
    )
    player_id: strawberry.Private[uuid.UUID]

    @strawberry.field(description="The linked account (null when the viewer may not read it).")  # type: ignore[untyped-decorator]
    async def player(self, info: strawberry.Info) -> Annotated[Player, strawberry.lazy("schema.players")] | None:
        from resolvers.risk import linked_player

        return await linked_player(info, self.player_id)


@strawberry.type(description="Something about a player for the risk desk to review: a list hit or a signal.")
class RiskFlag:
    id: strawberry.ID
    source: str = strawberry.field(description="list (a block or watch list entry) or disposable_email")
    outcome: str = strawberry.field(description="block (the request was refused) or watch (let through)")
    detail: str = strawberry.field(description="The list entry's kind, or the disposable domain")
    occasion: str = strawberry.field(description="registration, deposit or withdrawal")
    status: str
    raised_at: datetime


@strawberry.type(
    description="A player's risk picture: the accounts linked to it by shared devices, cards, "
    "payment accounts, mailboxes or phones."
)
class PlayerRisk:
    player_id: strawberry.Private[uuid.UUID]

    @strawberry.field(description="Accounts in the player's cluster, the player included (1: linked to no one).")  # type: ignore[untyped-decorator]
    async def cluster_size(self, info: strawberry.Info) -> int:
        from resolvers.risk import cluster_size

        return await cluster_size(info, self.player_id)

    @strawberry.field(description="The player's flags for review, newest first (the last 50).")  # type: ignore[untyped-decorator]
    async def flags(self, info: strawberry.Info) -> list[RiskFlag]:
        from resolvers.risk import player_flags

        return await player_flags(info, self.player_id)

    @strawberry.field(description="The other accounts of the cluster, each with what links it.")  # type: ignore[untyped-decorator]
    async def linked_players(self, info: strawberry.Info) -> list[LinkedPlayer]:
        from resolvers.risk import linked_players

        return await linked_players(info, self.player_id)


@strawberry.type(description="An entry of a block or watch list.")
class RiskListEntry(relay.Node):
    id: relay.NodeID[str]
    list: ListName
    kind: EntryKind
    value: str
    reason: str
    all_brands: bool = strawberry.field(description="Applies to every brand (added by staff of every brand)")
    added_by: uuid.UUID | None
    added_at: datetime
    expires_at: datetime | None
    removed_at: datetime | None

    @classmethod
    def from_model(cls, entry: EntryRow) -> RiskListEntry:
        return cls(
            id=str(entry.id),
            list=ListName(entry.list),
            kind=EntryKind(entry.kind),
            value=entry.value,
            reason=entry.reason,
            all_brands=entry.brand_id is None,
            added_by=entry.added_by,
            added_at=entry.added_at,
            expires_at=entry.expires_at,
            removed_at=entry.removed_at,
        )


@strawberry.input
class AddRiskListEntryInput:
    list: ListName
    kind: EntryKind
    value: str = text(320)
    reason: str = text(REASON)
    expires_at: datetime | None = strawberry.field(default=None, description="None: until removed")


@strawberry.input
class RemoveRiskListEntryInput:
    entry_id: relay.GlobalID
    reason: str = text(REASON)


@strawberry.type
class RiskListEntryPayload:
    entry: RiskListEntry | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
