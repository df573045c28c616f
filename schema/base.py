"""Shared GraphQL pieces: user errors, JSON, Relay ids and connections."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Generic, TypeVar

import strawberry
from strawberry import relay

from core.errors import DomainError, ErrorCode, KycDetails, LimitDetails, bad_input
from core.money import format_amount
from core.pagination import Page

strawberry.enum(ErrorCode, name="UserErrorCode", description="Why a mutation refused its input.")


@strawberry.type(description="An amount of money: an exact decimal string in the currency's units, never a float.")
class Money:
    amount: str
    currency: str

    @classmethod
    def of(cls, minor: int, currency: str) -> Money:
        return cls(amount=format_amount(minor, currency), currency=currency)


@strawberry.type(description="The responsible-gambling rule behind a refusal, for the frontend to explain it.")
class LimitRefusal:
    kind: str = strawberry.field(
        description="deposit, loss, wager, session_time, time_out, self_exclusion, register, reality_check"
    )
    period: str | None = strawberry.field(description="day, week or month, for limits")
    limit: Money | None = strawberry.field(description="The money limit that refused")
    minutes: int | None = strawberry.field(description="The time limit that refused, in minutes")
    resets_at: datetime | None = strawberry.field(
        description="When play or deposits can resume (null: permanent, or when the player acts)"
    )

    @classmethod
    def of(cls, details: LimitDetails) -> LimitRefusal:
        money = details.amount is not None and details.currency is not None
        return cls(
            kind=details.kind,
            period=details.period,
            limit=Money.of(details.amount, details.currency) if money else None,  # type: ignore[arg-type]
            minutes=details.amount // 60 if details.amount is not None and not money else None,
            resets_at=details.resets_at,
        )


@strawberry.type(description="Why a refusal waits for KYC (code KYC_REQUIRED), and what the player does next.")
class KycRefusal:
    required_level: str
    trigger: str | None = strawberry.field(description="What required it (lifetime_deposits, restricted, …)")
    next_step: str

    @classmethod
    def of(cls, details: KycDetails) -> KycRefusal:
        return cls(required_level=details.required_level, trigger=details.trigger, next_step=details.next_step)


@strawberry.type(description="A business refusal: the request was understood but not carried out.")
class UserError:
    code: ErrorCode
    field: str | None
    message: str
    limit: LimitRefusal | None = None
    kyc: KycRefusal | None = None

    @classmethod
    def from_domain(cls, error: DomainError) -> UserError:
        return cls(
            code=error.code,
            field=error.field,
            message=error.message,
            limit=LimitRefusal.of(error.limit) if error.limit is not None else None,
            kyc=KycRefusal.of(error.kyc) if error.kyc is not None else None,
        )


def node_uuid(global_id: relay.GlobalID | str, expected: str) -> uuid.UUID:
    """Decode a global id, checking it names the expected type (an alias of another type is refused)."""
    try:
        gid = global_id if isinstance(global_id, relay.GlobalID) else relay.GlobalID.from_id(global_id)
        if gid.type_name != expected:
            raise ValueError
        return uuid.UUID(gid.node_id)
    except (ValueError, TypeError) as exc:
        raise bad_input(f"Expected the id of a {expected}.") from exc


def to_global_id(type_name: str, node_id: uuid.UUID | str | int) -> relay.GlobalID:
    return relay.GlobalID(type_name, str(node_id))


N = TypeVar("N")


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


def page_info(page: Page[Any]) -> PageInfo:
    return PageInfo(
        has_next_page=page.has_next_page,
        has_previous_page=page.has_previous_page,
        start_cursor=page.cursors[0] if page.cursors else None,
        end_cursor=page.cursors[-1] if page.cursors else None,
    )


@strawberry.type
class Edge(Generic[N]):
    cursor: str
    node: N


@strawberry.type
class Connection(Generic[N]):
    edges: list[Edge[N]]
    page_info: PageInfo

    @classmethod
    def of(cls, page: Page[Any], convert: Any) -> Connection[Any]:
        return cls(
            edges=[
                Edge(cursor=cursor, node=convert(item)) for item, cursor in zip(page.items, page.cursors, strict=True)
            ],
            page_info=page_info(page),
        )
