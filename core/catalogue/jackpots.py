"""Jackpots (services/jackpots): a jackpot created, its pots' contributions (one event per pool and consumer
batch, never one per stake: the stakes are already `ledger.game_bet` events), drops, reseeds and the
commitments of drop points. Amounts are in the pool's currency (a network pool's base currency); the win's
`paid_amount` in the player's."""

from __future__ import annotations

from typing import Any

from core.catalogue.fragments import CURRENCY, MINOR_UNITS, OPTIONAL_UUID, TEXT, UUID, EventType, obj, one_of

_POOL: dict[str, Any] = {"pool_id": UUID, "jackpot_id": UUID, "level": TEXT, "currency": CURRENCY}
_GENERATION: dict[str, Any] = {"type": "integer", "minimum": 1, "description": "the pot's number in its pool"}
_TRIGGER = one_of("amount", "time", "provider")
_HASH: dict[str, Any] = {"type": "string", "pattern": "^[0-9a-f]{64}$"}

CREATED = obj(
    {
        "jackpot_id": UUID,
        "code": TEXT,
        "kind": one_of("local", "network"),
        "type": one_of("fixed", "progressive"),
        "currency": CURRENCY,
        "brand_ids": {"type": "array", "items": UUID},
        "levels": {"type": "array", "items": TEXT},
    }
)
CONTRIBUTED = obj(
    {
        **_POOL,
        "amount": {**MINOR_UNITS, "description": "net contributions of the batch (negative: rollbacks outweighed)"},
        "bets": {"type": "integer", "minimum": 0},
        "rollbacks": {"type": "integer", "minimum": 0},
        "pot": {**MINOR_UNITS, "description": "the pot after the batch"},
    }
)
WON = obj(
    {
        **_POOL,
        "win_id": UUID,
        "generation": _GENERATION,
        "trigger": _TRIGGER,
        "player_id": UUID,
        "amount": MINOR_UNITS,
        "paid_amount": {"type": "integer", "description": "minor units of `paid_currency`"},
        "paid_currency": CURRENCY,
        "reference": {**TEXT, "description": "the winning bet, or the provider's win reference"},
    },
    {"drop_point": {"type": ["integer", "null"]}},
)
RESEEDED = obj({**_POOL, "generation": _GENERATION, "seed": MINOR_UNITS, "pot": MINOR_UNITS})
PUBLISHED = obj({**_POOL, "generation": _GENERATION, "trigger": _TRIGGER, "commitment": _HASH})
REVEALED = obj(
    {
        **_POOL,
        "generation": _GENERATION,
        "trigger": _TRIGGER,
        "commitment": _HASH,
        "drop_point": {"type": "integer", "minimum": 0},
        "salt": _HASH,
    },
    {"win_id": OPTIONAL_UUID, "void": {"type": "boolean", "description": "true: no drop, the jackpot was closed"}},
)
CLOSED = obj(
    {
        "jackpot_id": UUID,
        "refunds": {
            "type": "array",
            "items": obj({**_POOL, "generation": _GENERATION, "amount": MINOR_UNITS}),
            "description": "per pool, the pot that went back to the seed account",
        },
    }
)

TYPES = (
    EventType("jackpot.created", 1, "A jackpot was created with its levels, each pot seeded.", CREATED),
    EventType(
        "jackpot.contributed",
        1,
        "A consumer batch's contributions to one pool (one event per pool and batch).",
        CONTRIBUTED,
    ),
    EventType("jackpot.won", 1, "A pot dropped and was paid to the winner through the ledger.", WON),
    EventType(
        "jackpot.reseeded", 1, "A pot was seeded from its seed account (at creation and after each win).", RESEEDED
    ),
    EventType(
        "jackpot.commitment_published",
        1,
        "The commitment (SHA-256) to a pot's drop point, published when the pot is seeded.",
        PUBLISHED,
    ),
    EventType(
        "jackpot.commitment_revealed",
        1,
        "A dropped pot's drop point and salt (or a closed jackpot's pot's: `void`), revealed so anyone can check its "
        "commitment.",
        REVEALED,
    ),
    EventType(
        "jackpot.closed",
        1,
        "A jackpot was closed: every pot back to its seed account through the ledger, its commitment voided.",
        CLOSED,
    ),
)
