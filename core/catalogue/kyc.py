"""KYC (services/kyc): levels required and reached, officers' reviews and restrictions, the IDV provider's
results. Codes and figures only: the officer's reason and what they asked for stay in the audit log and the
review."""

from __future__ import annotations

from core.catalogue.fragments import TEXT, UUID, EventType, obj, one_of

LEVEL = {"type": "string", "pattern": "^[a-z_]{1,32}$", "description": "a level of the player's KYC profile"}
DECIMAL = {"type": "string", "pattern": "^-?[0-9]+(\\.[0-9]+)?$"}
SIGNAL = {"type": "string", "pattern": "^[a-z0-9_.:-]{1,64}$"}
BASE = {"player_id": UUID, "level": {**LEVEL, "description": "the level the player has reached"}}

TYPES = (
    EventType(
        "kyc.level_required",
        1,
        "A trigger (deposits past a threshold, a first withdrawal, a risk signal…) requires a level of the player.",
        obj(
            {
                **BASE,
                "required_level": LEVEL,
                "trigger": TEXT,
                "gates": {"type": "array", "items": {"enum": ["deposit", "withdrawal"]}},
                "details": {
                    **obj(
                        {},
                        {
                            "threshold": {**DECIMAL, "description": "money triggers: the threshold"},
                            "figure": {**DECIMAL, "type": ["string", "null"], "description": "what crossed it"},
                            "currency": {"type": "string", "pattern": "^[A-Z0-9]{3,8}$"},
                            "window_days": {"type": "integer", "minimum": 1},
                            "unmeasured": {
                                "type": "array",
                                "items": {"type": "string", "pattern": "^[A-Z0-9]{3,8}$"},
                                "description": "currencies without a stated rate, which set the trigger off",
                            },
                            "payment_id": {**UUID, "description": "the payment that set it off"},
                            "method": {
                                **one_of("card", "ewallet", "bank_transfer", "crypto"),
                                "description": "a first withdrawal's method (grows with the cashier's: treat as open)",
                            },
                            "signal": {**SIGNAL, "description": "risk signals: the calling module's code"},
                        },
                    ),
                    "description": "the trigger's figures (money as decimal strings in `currency`)",
                },
            }
        ),
    ),
    EventType(
        "kyc.requirement_withdrawn",
        1,
        "The source of a risk signal's requirement withdrew it (risk lifted the action): the level required falls "
        "back to the highest requirement left.",
        obj(
            {
                **BASE,
                "required_level": {**LEVEL, "description": "the level required now"},
                "trigger": TEXT,
                "withdrawn": {"type": "array", "items": LEVEL, "description": "the levels the requirements asked"},
                "details": obj({"signal": {**SIGNAL, "description": "the calling module's code"}}),
            }
        ),
    ),
    EventType(
        "kyc.level_reached",
        1,
        "A player reached a level (its last requirement was met).",
        obj({**BASE, "rank": {"type": "integer", "minimum": 0}}),
    ),
    EventType(
        "kyc.review_decided",
        1,
        "A KYC officer decided on a level: first_approval (four eyes), approved, rejected or more_requested.",
        obj(
            {
                **BASE,
                "reviewed_level": LEVEL,
                "decision": {"enum": ["first_approval", "approved", "rejected", "more_requested"]},
                "officer": UUID,
            }
        ),
    ),
    EventType(
        "kyc.restricted",
        1,
        "Staff (or a chargeback) restricted an account pending review (`restricted` true) or staff lifted the "
        "restriction (false).",
        obj({**BASE, "restricted": {"type": "boolean"}}),
    ),
    EventType(
        "kyc.verification_reviewed",
        1,
        "The identity-verification provider's review result was applied (newer than the one before it): GREEN "
        "passes the player's provider check, RED fails it (RETRY: they may try again; FINAL: they may not).",
        obj(
            {
                **BASE,
                "provider": {"type": "string", "pattern": "^[a-z0-9_-]{1,32}$"},
                "answer": {"enum": ["GREEN", "RED"]},
                "reject_type": {"enum": ["FINAL", "RETRY", None]},
                "reject_labels": {
                    "type": "array",
                    "items": {"type": "string", "maxLength": 64},
                    "description": "the provider's rejection labels (codes such as UNSATISFACTORY_PHOTOS)",
                },
            }
        ),
    ),
)
