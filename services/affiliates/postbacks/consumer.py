"""The `affiliate-postbacks` consumer: one delivery per (config, event id), enqueued exactly once.

It reads three facts about attributed players and, in the consumer framework's transaction (the event ids
commit with the deliveries, so a redelivered event enqueues nothing), inserts a delivery for every active
config of the player's partner for that trigger (the player's brand, or every brand):
- registration: `affiliate.attributed` (made in the registration's transaction);
- first deposit: `payment.succeeded` of a deposit, when the player is attributed and no credited deposit of
  theirs was created before this one. Two deposits credited out of their creation order could both look
  first; the unique (config, player) key keeps the second out, so a partner hears of one first deposit;
- qualification: `affiliate.qualified` (the CPA qualification row gives the amount).
The click id and sub-ids come from the player's attribution row; the amount is a decimal string in the
currency's units. Deliveries start due now; a NOTIFY on `affiliate_postbacks` (sent at commit) wakes the
worker, so the first try follows the event within the worker's reaction time, not its poll interval.

Replaying would send partners every postback again: `reset` refuses (ReplayRefused).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

import asyncpg

from core.clock import clock
from core.consumers import Event, ReplayRefused
from core.ids import new_id
from core.money import format_amount
from models.affiliate_postbacks import PostbackMethod, PostbackTrigger
from services.affiliates.postbacks import templates

NAME = "affiliate-postbacks"
CHANNEL = "affiliate_postbacks"
ATTRIBUTED, DEPOSITED, QUALIFIED = "affiliate.attributed", "payment.succeeded", "affiliate.qualified"
TYPES = frozenset({ATTRIBUTED, DEPOSITED, QUALIFIED})

_ATTRIBUTIONS = """
SELECT player_id, affiliate_id, brand_id, click_id, sub_ids FROM affiliate_attributions WHERE player_id = ANY($1)"""
# The deposits of the batch that are their player's first credited one (by creation, then id).
_FIRST_DEPOSITS = """
SELECT p.id FROM payments p WHERE p.id = ANY($1) AND p.kind = 'deposit' AND NOT EXISTS (
    SELECT 1 FROM payments q WHERE q.player_id = p.player_id AND q.kind = 'deposit' AND q.id <> p.id
      AND q.transaction_id IS NOT NULL AND (q.created_at, q.id) < (p.created_at, p.id))"""
_QUALIFICATIONS = """
SELECT player_id, amount, currency FROM affiliate_qualifications
WHERE player_id = ANY($1) AND status = 'qualified'"""
_CONFIGS = """
SELECT c.id, c.affiliate_id, c.brand_id, c.trigger, c.method, c.url_template, s.ref_salt
FROM affiliate_postback_configs c JOIN affiliate_postback_secrets s USING (affiliate_id)
WHERE c.active AND c.affiliate_id = ANY($1)"""
_ENQUEUE = """
INSERT INTO affiliate_postback_deliveries (id, config_id, affiliate_id, player_id, event_id, trigger, method, url,
                                           body, event_at, max_attempts, next_attempt_at)
SELECT d.*, $11::int, $12::timestamptz FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::bigint[],
    $6::varchar[], $7::varchar[], $8::varchar[], $9::text[], $10::timestamptz[]) AS d
ON CONFLICT DO NOTHING"""


@dataclass(frozen=True)
class _Fact:
    """One event as a postback sees it: whose, which trigger, and its amount if it has one."""

    event: Event
    player_id: uuid.UUID
    trigger: PostbackTrigger
    amount: int | None = None
    currency: str | None = None


def _player(event: Event) -> uuid.UUID | None:
    value = event.data.get("player_id")
    if value is None and event.subject.startswith("player:"):
        value = event.subject.removeprefix("player:")
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


def _sub_ids(value: Any) -> dict[str, str]:
    found = json.loads(value) if isinstance(value, str) else (value or {})
    return {k: str(v) for k, v in found.items() if v is not None}


class PostbacksConsumer:
    """core.consumers.Consumer: deliveries enqueued exactly once per (config, event id)."""

    name: ClassVar[str] = NAME
    types: ClassVar[frozenset[str] | None] = TYPES
    transient: ClassVar[tuple[type[BaseException], ...]] = ()

    def __init__(self, max_attempts: int) -> None:
        self.max_attempts = max_attempts

    async def apply(self, conn: asyncpg.Connection, events: Sequence[Event]) -> None:
        candidates = [(e, p) for e in events if e.type in TYPES and (p := _player(e)) is not None]
        if not candidates:
            return
        # Attributed players first: most deposits are not theirs, and need no first-deposit check then.
        players = sorted({p for _, p in candidates})
        attributions = {r["player_id"]: r for r in await conn.fetch(_ATTRIBUTIONS, players)}
        facts = await self._facts(conn, [(e, p) for e, p in candidates if p in attributions])
        if not facts:
            return
        configs = await conn.fetch(_CONFIGS, sorted({attributions[f.player_id]["affiliate_id"] for f in facts}))
        rows: list[tuple[Any, ...]] = []
        for fact in facts:
            attribution = attributions[fact.player_id]
            for config in configs:
                if (
                    config["affiliate_id"] == attribution["affiliate_id"]
                    and config["trigger"] == fact.trigger.value
                    and config["brand_id"] in (None, attribution["brand_id"])
                ):
                    rows.append(self._delivery(fact, attribution, config))
        if not rows:
            return
        columns = list(zip(*rows, strict=True))
        await conn.execute(_ENQUEUE, *columns, self.max_attempts, clock.now())
        await conn.execute("SELECT pg_notify($1, '')", CHANNEL)

    async def _facts(self, conn: asyncpg.Connection, events: Sequence[tuple[Event, uuid.UUID]]) -> list[_Fact]:
        """What the events of attributed players announce (their player given)."""
        facts: list[_Fact] = []
        deposits: dict[uuid.UUID, tuple[Event, uuid.UUID]] = {}
        qualified: list[tuple[Event, uuid.UUID]] = []
        for event, player in events:
            if event.type == ATTRIBUTED:
                facts.append(_Fact(event, player, PostbackTrigger.REGISTRATION))
            elif event.type == DEPOSITED and event.data.get("kind") == "deposit" and event.data.get("payment_id"):
                deposits[uuid.UUID(event.data["payment_id"])] = (event, player)
            elif event.type == QUALIFIED:
                qualified.append((event, player))
        if deposits:
            for row in await conn.fetch(_FIRST_DEPOSITS, list(deposits)):
                event, player = deposits[row["id"]]
                amount, currency = int(event.data["amount"]), str(event.data["currency"])
                facts.append(_Fact(event, player, PostbackTrigger.FIRST_DEPOSIT, amount, currency))
        if qualified:
            rows = {r["player_id"]: r for r in await conn.fetch(_QUALIFICATIONS, [p for _, p in qualified])}
            for event, player in qualified:
                if (row := rows.get(player)) is not None:  # withheld or rejected since: no CPA to announce
                    facts.append(_Fact(event, player, PostbackTrigger.QUALIFICATION, row["amount"], row["currency"]))
        return facts

    def _delivery(self, fact: _Fact, attribution: Any, config: Any) -> tuple[Any, ...]:
        method = PostbackMethod(config["method"])
        values = templates.Facts(
            event=fact.trigger,
            event_id=fact.event.id,
            player_ref=templates.player_ref(config["ref_salt"], fact.player_id),
            click_id=str(attribution["click_id"]) if attribution["click_id"] else None,
            sub_ids=_sub_ids(attribution["sub_ids"]),
            amount=format_amount(fact.amount, fact.currency) if fact.amount is not None and fact.currency else None,
            currency=fact.currency,
        )
        event_at: datetime = fact.event.time
        return (
            new_id(),
            config["id"],
            config["affiliate_id"],
            fact.player_id,
            fact.event.id,
            fact.trigger.value,
            method.value,
            templates.render(config["url_template"], values),
            templates.body_of(method, values),
            event_at,
        )

    async def reset(self, conn: asyncpg.Connection) -> None:
        raise ReplayRefused("a replay would call partners again for every past event; retry deliveries instead")
