"""CRM segment types (marketing, brand admins): segments with their rules, size and members, the preview
before saving, and the inputs and payloads of creating, changing, archiving and uploading members."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import strawberry
from strawberry import relay
from strawberry.file_uploads import Upload

from models import crm as m
from schema.base import Connection, UserError
from schema.context import Info
from schema.input_limits import text
from schema.players import Player
from services.crm.segments import rules as r

SegmentKind = m.SegmentKind
strawberry.enum(
    m.SegmentKind,
    name="SegmentKind",
    description="dynamic: its rules decide its members, kept current from the events; static: an uploaded list.",
)
SegmentMatch = r.Match
strawberry.enum(r.Match, name="SegmentMatch", description="all: every condition holds; any: at least one does.")
SegmentOp = r.Op
strawberry.enum(
    r.Op,
    name="SegmentOp",
    description="IN / NOT_IN for lists (with values), IS for flags (with flag), EQ NE GT GTE LT LTE for numbers "
    "(with value) and money (with amount and currency).",
)
SegmentField = r.SegmentField
strawberry.enum(
    r.SegmentField,
    name="SegmentField",
    description="What a condition tests (docs/crm-segments.md): attributes (country, language, currency, "
    "jurisdiction, KYC level and status, tags, marketing consent) and metrics from the report projection "
    "(recency in days, deposit count, deposit amount, NGR, bonuses issued and completed, VIP level, risk score).",
)


@strawberry.type(description="One condition of a segment's rules.")
class SegmentCondition:
    field: SegmentField
    op: SegmentOp
    values: list[str] | None
    flag: bool | None
    value: int | None
    amount: str | None = strawberry.field(description="A decimal amount in `currency` (money fields)")
    currency: str | None
    days: int | None = strawberry.field(description="The window: the last N days (null: ever)")


@strawberry.type(description="A segment's rules: every condition (ALL) or any one (ANY) holds.")
class SegmentRules:
    match: SegmentMatch
    conditions: list[SegmentCondition]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SegmentRules:
        parsed = r.Rules.model_validate(data or {})
        return cls(
            match=parsed.match,
            conditions=[
                SegmentCondition(
                    field=c.field,
                    op=c.op,
                    values=c.values,
                    flag=c.flag,
                    value=c.value,
                    amount=c.amount,
                    currency=c.currency,
                    days=c.days,
                )
                for c in parsed.conditions
            ],
        )


@strawberry.input(description="One condition: a field, an operator and the operand its kind takes.")
class SegmentConditionInput:
    field: SegmentField
    op: SegmentOp
    values: list[str] | None = strawberry.field(default=None, description="For IN / NOT_IN: 1 to 200 codes or tags")
    flag: bool | None = strawberry.field(default=None, description="For IS")
    value: int | None = strawberry.field(default=None, description="For numbers: days, counts, levels, scores")
    amount: str | None = text(32, default=None, description="For money: a decimal amount in `currency`")
    currency: str | None = text(8, default=None)
    days: int | None = strawberry.field(default=None, description="Counts and money within the last N days")


@strawberry.input
class SegmentRulesInput:
    match: SegmentMatch = SegmentMatch.ALL
    conditions: list[SegmentConditionInput] = strawberry.field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The rules as services/crm/segments/rules.py reads them (it validates)."""
        conditions = []
        for c in self.conditions:
            item = {"field": c.field.value, "op": c.op.value}
            for name in ("values", "flag", "value", "amount", "currency", "days"):
                if (found := getattr(c, name)) is not None:
                    item[name] = found
            conditions.append(item)
        return {"match": self.match.value, "conditions": conditions}


@strawberry.type(description="A CRM segment: players by rules (dynamic) or by an uploaded list (static).")
class Segment(relay.Node):
    id: relay.NodeID[str]
    brand_id: uuid.UUID
    name: str
    kind: SegmentKind
    rules: SegmentRules | None = strawberry.field(description="null: a static segment")
    archived: bool
    version: int = strawberry.field(description="Goes up with every change of the rules")
    created_at: datetime
    updated_at: datetime

    @strawberry.field(description="How many players are members now.")  # type: ignore[untyped-decorator]
    async def size(self, info: Info) -> int:
        return await info.context.loaders.crm_segments.size.load(uuid.UUID(self.id))

    @strawberry.field(description="The members, newest registrations first (fields as the viewer may read them).")  # type: ignore[untyped-decorator]
    async def members(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Player]:
        from resolvers.crm_segments import segment_members

        return await segment_members(info, uuid.UUID(self.id), first=first, after=after, last=last, before=before)

    @classmethod
    def from_model(cls, segment: m.CrmSegment) -> Segment:
        return cls(
            id=str(segment.id),
            brand_id=segment.brand_id,
            name=segment.name,
            kind=m.SegmentKind(segment.kind),
            rules=SegmentRules.from_json(segment.rules) if segment.kind == m.SegmentKind.DYNAMIC else None,
            archived=segment.status == "archived",
            version=segment.version,
            created_at=segment.created_at,
            updated_at=segment.updated_at,
        )


@strawberry.type(description="What rules would select now, before they are saved.")
class SegmentPreview:
    size: int
    players: list[Player] = strawberry.field(description="The first of them, newest registrations first")


@strawberry.input
class CreateSegmentInput:
    brand: str | None = text(32, default=None, description="Brand code (staff scoped to a brand: theirs)")
    name: str = text(120)
    kind: SegmentKind
    rules: SegmentRulesInput | None = strawberry.field(default=None, description="A dynamic segment's rules")


@strawberry.input
class UpdateSegmentInput:
    segment_id: strawberry.ID
    name: str | None = text(120, default=None)
    rules: SegmentRulesInput | None = strawberry.field(default=None, description="New rules (dynamic segments)")


@strawberry.input
class ArchiveSegmentInput:
    segment_id: strawberry.ID


@strawberry.input(description="The list as text (`members`) or as a CSV file in a GraphQL multipart request (`file`).")
class UploadSegmentMembersInput:
    segment_id: strawberry.ID
    members: str | None = text(
        2_000_000,
        default=None,
        description="Player ids or e-mail addresses of the segment's brand, one per line (a CSV's first column; "
        "a header line is skipped)",
    )
    file: Upload | None = strawberry.field(default=None, description="The same as a UTF-8 CSV file")


@strawberry.type
class SegmentPayload:
    segment: Segment | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class UploadSegmentMembersPayload:
    segment: Segment | None = None
    added: int = 0
    already: int = strawberry.field(default=0, description="Already members, or listed twice")
    not_found: int = strawberry.field(default=0, description="No such player at the brand, or not reachable")
    bad_lines: list[int] = strawberry.field(
        default_factory=list, description="Line numbers of the first entries not found or malformed"
    )
    errors: list[UserError] = strawberry.field(default_factory=list)
