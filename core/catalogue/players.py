"""Accounts: registration, sign-in and sign-out, profile, consent, password and status changes
(services/players.py, services/auth.py). Never the details themselves: a profile change names the fields
that changed, not their values; a login says how, not from where (no IP address, device or country)."""

from __future__ import annotations

from core.catalogue.fragments import CURRENCY, OPTIONAL_UUID, UUID, EventType, obj, one_of

PROFILE_FIELDS = ("first_name", "last_name", "phone", "address_line1", "address_line2", "city", "postal_code")
SESSION_END_REASONS = (
    "logout",  # the player signed out (this session, or all of them)
    "revoked",  # the player ended one of their sessions from another
    "password_changed",  # every other session ends with a new password
    "refresh_token_reuse",  # a spent refresh token came back: a stolen copy, so the session ends
    "account_blocked",  # staff blocked or closed the account
    "account_closed",
    "time_out",  # an exclusion started (the player's, staff's, or one of a matching account)
    "self_exclusion",
    "reality_check_stop",  # the player answered a reality check with "stop"
    "session_time_limit",  # the player's session-time limit was spent
)

TYPES = (
    EventType(
        "player.registered",
        1,
        "A player account was created (in the brand of the envelope), with its wallet currency.",
        obj(
            {
                "player_id": UUID,
                "currency": CURRENCY,
                "jurisdiction": {"type": "string", "maxLength": 16, "description": "the rules it plays under"},
                "marketing_consent": {"type": "boolean", "description": "the choice made at registration"},
            }
        ),
    ),
    EventType(
        "player.logged_in",
        1,
        "A player signed in: a login session started (registration signs the new player in too).",
        obj(
            {
                "player_id": UUID,
                "session_id": UUID,
                "purpose": {
                    **one_of("play", "withdrawal"),
                    "description": "withdrawal: a session that may only take money out (also while excluded)",
                },
                "method": one_of("password", "registration"),
                "two_factor": {"type": "boolean", "description": "whether a second factor was checked"},
            }
        ),
    ),
    EventType(
        "player.session_ended",
        1,
        "A player's login session ended before its expiry (sign-out, a password change, a block, an "
        "exclusion, a reality-check stop, a spent time limit): the games launched from it stop taking bets.",
        obj({"player_id": UUID, "session_id": UUID, "reason": one_of(*SESSION_END_REASONS)}),
    ),
    EventType(
        "player.profile_changed",
        1,
        "A player changed personal details: the names of the fields that changed, never their values.",
        obj(
            {
                "player_id": UUID,
                "fields": {
                    "type": "array",
                    "items": one_of(*PROFILE_FIELDS),
                    "minItems": 1,
                    "uniqueItems": True,
                },
            }
        ),
    ),
    EventType(
        "player.marketing_consent_changed",
        1,
        "A player's marketing consent changed: by the player, or withdrawn when an exclusion started.",
        obj({"player_id": UUID, "consent": {"type": "boolean"}, "cause": one_of("player", "exclusion")}),
    ),
    EventType(
        "player.password_changed",
        1,
        "A player changed their password (their other login sessions ended: player.session_ended each).",
        obj({"player_id": UUID, "sessions_ended": {"type": "integer", "minimum": 0}}),
    ),
    EventType(
        "player.status_changed",
        1,
        "Staff changed a player's account status (active, blocked, closed).",
        obj(
            {"player_id": UUID, "status": one_of("active", "blocked", "closed")},
            {"staff_id": {**OPTIONAL_UUID, "description": "who changed it (none: the platform)"}},
        ),
    ),
    EventType(
        "player.locale_changed",
        1,
        "A player changed their language or time zone: the names of the fields that changed.",
        obj(
            {
                "player_id": UUID,
                "fields": {
                    "type": "array",
                    "items": one_of("language", "time_zone"),
                    "minItems": 1,
                    "uniqueItems": True,
                },
            }
        ),
    ),
)
