"""The `risk-signals` consumer: turns what the flows observed into signals, and signals into clusters of
linked accounts, as the events stream by.

A batch, in the consumer framework's transaction (core/consumers.py records the batch's event ids in it,
so a redelivered event changes nothing):
1. read the observations the events name (a login's session id, a payment's id) and the players'
   current details (email, phone, postal address, country), one query each (events carry no personal
   data: a `player.profile_changed` names the fields that changed, the players table has their values);
2. upsert each signal (first_seen the earliest, last_seen the latest: the same whatever the order);
3. for each strong signal new to its player, union the clusters of every player holding it: the root is
   the smallest cluster id, every player of the other clusters is rewritten to it (so a player's cluster
   is one lookup, `risk_clusters.cluster_id`), and a `risk.accounts_linked` event says who joined whom
   and by what kind of signal (never its value);
4. flag a disposable email domain once per player.
Union is commutative and associative, so the clusters do not depend on the order of the events. A
rebuild (`croupier events replay risk-signals`) forgets signals and clusters and replays the outbox.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

import asyncpg

from core import outbox
from core.clock import clock
from core.consumers import Consumer, Event
from core.ids import new_id
from services.risk import signals
from services.risk.signals import Observed, Signal, SignalKind

NAME = "risk-signals"
TYPES = frozenset({"player.logged_in", "payment.created", "payment.requested", "player.profile_changed"})
STRONG = sorted(k.value for k in signals.STRONG)

_OBSERVATIONS = """
SELECT reference::text, device_id, host(ip) AS ip, user_agent, card_bin, card_fingerprint
FROM risk_observations WHERE reference = ANY($1::uuid[])"""
_PLAYERS = """
SELECT id::text, brand_id, email, phone, country, address_line1, address_line2, city, postal_code
FROM players WHERE id = ANY($1::uuid[])"""
_ADDRESS_FIELDS = frozenset({"address_line1", "address_line2", "city", "postal_code"})
_PAYMENTS = "SELECT id::text, method, instrument_token FROM payments WHERE id = ANY($1::uuid[])"
_UPSERT = """
INSERT INTO risk_signals AS s (kind, value, player_id, first_seen, last_seen, first_event_id)
SELECT * FROM unnest($1::varchar[], $2::varchar[], $3::uuid[], $4::timestamptz[], $4::timestamptz[], $5::bigint[])
ON CONFLICT (kind, value, player_id) DO UPDATE
  SET first_seen = least(s.first_seen, excluded.first_seen), last_seen = greatest(s.last_seen, excluded.last_seen),
      first_event_id = least(s.first_event_id, excluded.first_event_id)
RETURNING kind, value, player_id::text, (xmax = 0) AS inserted"""
_JOIN = """
INSERT INTO risk_clusters (player_id, cluster_id, joined_at) SELECT p, p, $2 FROM unnest($1::uuid[]) AS p
ON CONFLICT (player_id) DO NOTHING"""
_HOLDERS = """
SELECT DISTINCT c.cluster_id::text FROM risk_signals s JOIN risk_clusters c ON c.player_id = s.player_id
WHERE s.kind = $1 AND s.value = $2"""
_MERGE = """
UPDATE risk_clusters SET cluster_id = $1, joined_at = $3 WHERE cluster_id = ANY($2::uuid[])
RETURNING player_id::text"""
_EMIT = """
INSERT INTO outbox_events (topic, key, brand_id, schema_version, payload, created_at)
SELECT * FROM unnest($1::varchar[], $2::varchar[], $3::uuid[], $4::smallint[], $5::jsonb[], $6::timestamptz[])"""
_SIZE = "SELECT count(*) FROM risk_clusters WHERE cluster_id = $1"
_DISPOSABLE = """
INSERT INTO risk_flags (id, player_id, brand_id, source, occasion, outcome, detail, raised_at, status)
VALUES ($1, $2, $3, 'disposable_email', 'registration', 'watch', $4, $5, 'open')
ON CONFLICT (player_id, detail) WHERE source = 'disposable_email' DO NOTHING"""


class SignalsConsumer:
    name: ClassVar[str] = NAME
    types: ClassVar[frozenset[str] | None] = TYPES
    transient: ClassVar[tuple[type[BaseException], ...]] = ()

    async def apply(self, conn: asyncpg.Connection, events: Sequence[Event]) -> None:
        readable = [e for e in events if e.schema_version == 1 and e.type in TYPES]
        if not readable:
            return
        references = [_reference(e) for e in readable]
        observed = {
            r["reference"]: r for r in await conn.fetch(_OBSERVATIONS, [r for r in references if r is not None])
        }
        payment_ids = [e.data["payment_id"] for e in readable if e.type.startswith("payment.")]
        payments = {r["id"]: r for r in await conn.fetch(_PAYMENTS, payment_ids)} if payment_ids else {}
        players = {r["id"]: r for r in await conn.fetch(_PLAYERS, list({e.data["player_id"] for e in readable}))}
        found: list[tuple[Signal, str, datetime, int]] = []
        for event, reference in zip(readable, references, strict=True):
            player = players.get(event.data["player_id"])
            if player is None:
                continue
            for signal in _signals(event, observed.get(reference or ""), player, payments):
                found.append((signal, player["id"], event.time, event.id))
        if not found:
            return
        now = clock.now()
        await conn.execute(_JOIN, list({p for _, p, _, _ in found}), now)
        # One row per (signal, player) in the statement (an upsert cannot touch a row twice); the first
        # sighting of the batch, as the upsert keeps the first of all.
        first: dict[tuple[Signal, str], tuple[datetime, int]] = {}
        for signal, player_id, at, event_id in sorted(found, key=lambda f: (f[2], f[3])):
            first.setdefault((signal, player_id), (at, event_id))
        rows = await conn.fetch(
            _UPSERT,
            [s.kind.value for s, _ in first],
            [s.value for s, _ in first],
            [p for _, p in first],
            [at for at, _ in first.values()],
            [e for _, e in first.values()],
        )
        for row in rows:
            if row["inserted"] and row["kind"] in STRONG:
                await _union(conn, row["kind"], row["value"], row["player_id"], players[row["player_id"]]["brand_id"])
        for player_id, player in players.items():  # once per player (a unique index), whichever event shows it
            domain = signals.email_domain(player["email"])
            if signals.is_disposable(domain):
                await conn.execute(_DISPOSABLE, new_id(), player_id, player["brand_id"], domain, now)

    async def reset(self, conn: asyncpg.Connection) -> None:
        """Forget signals and clusters (the replay rebuilds them). Flags stay: they are staff's queue."""
        await conn.execute("DELETE FROM risk_clusters")
        await conn.execute("DELETE FROM risk_signals")


def _reference(event: Event) -> str | None:
    data = event.data
    if event.type == "player.logged_in":
        return str(data["session_id"])
    if event.type.startswith("payment."):
        return str(data["payment_id"])
    return None


def _signals(event: Event, row: Any, player: Any, payments: dict[str, Any]) -> list[Signal]:
    seen = (
        Observed(row["device_id"], row["ip"], row["user_agent"], row["card_bin"], row["card_fingerprint"])
        if row is not None
        else Observed()
    )
    account = None
    if event.type.startswith("payment."):
        payment = payments.get(event.data["payment_id"])
        if payment is not None and payment["method"] != "card" and payment["instrument_token"]:
            account = f"{payment['method']}:{payment['instrument_token']}"
    postal_address = signals.address(
        player["address_line1"], player["address_line2"], player["city"], player["postal_code"], player["country"]
    )
    if event.type == "player.profile_changed":  # only a changed phone or address says something new
        changed = set(event.data.get("fields", []))
        return signals.signals_of(
            seen,
            phone_number=player["phone"] if "phone" in changed else None,
            country=player["country"],
            postal_address=postal_address if changed & _ADDRESS_FIELDS else None,
        )
    return signals.signals_of(
        seen,
        email_address=player["email"],
        phone_number=player["phone"],
        country=player["country"],
        payment_account=account,
        postal_address=postal_address,
    )


async def _union(conn: asyncpg.Connection, kind: str, value: str, player_id: str, brand_id: Any) -> None:
    """One cluster for every player holding this signal: the smallest cluster id absorbs the others."""
    clusters = sorted(r[0] for r in await conn.fetch(_HOLDERS, kind, value))
    if len(clusters) < 2:
        return
    root, others = clusters[0], clusters[1:]
    moved = [r[0] for r in await conn.fetch(_MERGE, root, others, clock.now())]
    size = await conn.fetchval(_SIZE, root)
    written = outbox.event(
        "risk.accounts_linked",
        f"player:{player_id}",
        {
            "cluster_id": root,
            "player_id": player_id,
            "kind": SignalKind(kind).value,
            "merged_player_ids": sorted(moved)[:100],
            "cluster_size": int(size),
        },
        brand_id=brand_id,
        at=clock.now(),
    )
    await conn.execute(_EMIT, *outbox.events_params([written]).values())


if TYPE_CHECKING:
    _checked: Consumer = SignalsConsumer()
