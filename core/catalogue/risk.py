"""Risk (services/risk): accounts linked by a shared signal, and list hits. Never the signal's value (no
device id, IP address, card fingerprint, email, phone or postal address in an event): consumers that need it ask the
risk tables, which staff access controls."""

from __future__ import annotations

from core.catalogue.fragments import OPTIONAL_UUID, UUID, EventType, obj, one_of

_STRONG = one_of("device", "card_fingerprint", "payment_account", "email", "phone", "address")
_ACTIONS = one_of("require_kyc_level", "block_bonuses", "route_3ds", "route_psps", "hold_withdrawals", "block_account")
_RULE_CODE = {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]{1,63}$"}
_LIST_KINDS = one_of("email", "email_domain", "ip", "device", "card_bin", "card_fingerprint", "country")

TYPES = (
    EventType(
        "risk.accounts_linked",
        1,
        "Players came to share a strong signal (a device, a card, a payment account, a mailbox, a phone, "
        "a postal address): "
        "their linked-account clusters merged into one.",
        obj(
            {
                "cluster_id": {**UUID, "description": "the merged cluster's id (its smallest player id)"},
                "player_id": {**UUID, "description": "the player whose new signal linked the clusters"},
                "kind": _STRONG,
                "merged_player_ids": {
                    "type": "array",
                    "items": UUID,
                    "maxItems": 100,
                    "description": "the players who moved into the cluster (the first 100)",
                },
                "cluster_size": {"type": "integer", "minimum": 2},
            }
        ),
    ),
    EventType(
        "risk.list_hit",
        1,
        "A registration, deposit or withdrawal matched a block list entry (refused: RISK_BLOCKED) or a "
        "watch list entry (let through, flagged for review).",
        obj(
            {
                "flag_id": UUID,
                "entry_id": UUID,
                "list": one_of("block", "watch"),
                "kind": _LIST_KINDS,
                "occasion": one_of("registration", "login", "deposit", "withdrawal"),
                "player_id": {**OPTIONAL_UUID, "description": "none for a refused registration"},
            }
        ),
    ),
    EventType(
        "risk.rule_hit",
        1,
        "A risk rule found something on a player: its points now count towards their score (one contribution "
        "per rule, refreshed by each hit) and its actions were taken.",
        obj(
            {
                "player_id": UUID,
                "rule_code": _RULE_CODE,
                "kind": {"type": "string", "maxLength": 32},
                "points": {"type": "integer", "minimum": 0, "maximum": 100},
                "occasion": {"type": "string", "maxLength": 16},
                "hits": {
                    "type": "integer",
                    "minimum": 1,
                    "description": "the rule's hits on the player since it last expired",
                },
            }
        ),
    ),
    EventType(
        "risk.action_imposed",
        1,
        "A restriction came into force on a player, imposed by a risk rule or by risk staff.",
        obj(
            {
                "action_id": UUID,
                "player_id": UUID,
                "kind": _ACTIONS,
                "rule_code": {**_RULE_CODE, "type": ["string", "null"], "description": "none when staff imposed it"},
                "staff_id": OPTIONAL_UUID,
            }
        ),
    ),
    EventType(
        "risk.action_lifted",
        1,
        "Risk staff lifted a restriction from a player, or its expiry did (the reason is in the audit log).",
        obj(
            {
                "action_id": UUID,
                "player_id": UUID,
                "kind": _ACTIONS,
                "staff_id": {**OPTIONAL_UUID, "description": "none when the command line or the expiry lifted it"},
            },
            {"expired": {"type": "boolean", "description": "true: its expiry lifted it (no staff decision)"}},
        ),
    ),
    EventType(
        "risk.flag_raised",
        1,
        "A risk rule put a player in the risk queue (one open flag per player and rule).",
        obj(
            {
                "flag_id": UUID,
                "player_id": UUID,
                "rule_code": _RULE_CODE,
                "occasion": {"type": "string", "maxLength": 16},
            }
        ),
    ),
    EventType(
        "risk.flag_reviewed",
        1,
        "Risk staff reviewed a flag of the risk queue: confirmed, or dismissed as a false positive (a rule's "
        "dismissed flag withdraws its contribution from the score). The note is in the audit log.",
        obj(
            {
                "flag_id": UUID,
                "player_id": {**OPTIONAL_UUID, "description": "none for a refused registration's flag"},
                "status": one_of("confirmed", "dismissed"),
                "source": one_of("list", "disposable_email", "rule"),
                "rule_code": {**_RULE_CODE, "type": ["string", "null"], "description": "a rule's flag: its rule"},
                "staff_id": {**OPTIONAL_UUID, "description": "none when the command line reviewed it"},
            }
        ),
    ),
    EventType(
        "risk.rule_changed",
        1,
        "Risk staff created or changed a risk rule (subject `risk_rule:<id>`; what changed, before and after, is "
        "in the audit log). Its next evaluations use the new version.",
        obj(
            {
                "rule_id": UUID,
                "rule_code": _RULE_CODE,
                "kind": {"type": "string", "maxLength": 32},
                "version": {"type": "integer", "minimum": 1},
                "enabled": {"type": "boolean"},
                "changed": {
                    "type": "array",
                    "items": one_of("created", "name", "params", "points", "actions", "enabled"),
                    "description": "what changed (`created`: a new rule)",
                },
                "staff_id": {**OPTIONAL_UUID, "description": "none when the command line changed it"},
            }
        ),
    ),
)
