"""Domain errors with stable codes.

Services raise `DomainError` subclasses; each edge maps them once: GraphQL mutations into the
payload's `errors`, REST routes into their protocol's statuses. `ApiError` is for the request level
(authentication, authorisation, malformed input, rate limits) and becomes a GraphQL error with
`extensions.code`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    """Codes of business refusals, shown in mutation payloads as `UserError.code`."""

    INVALID_INPUT = "INVALID_INPUT"
    NOT_FOUND = "NOT_FOUND"
    ALREADY_EXISTS = "ALREADY_EXISTS"
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    INVALID_TOTP = "INVALID_TOTP"
    ACCOUNT_BLOCKED = "ACCOUNT_BLOCKED"
    ACCOUNT_CLOSED = "ACCOUNT_CLOSED"
    UNDERAGE = "UNDERAGE"
    COUNTRY_NOT_ALLOWED = "COUNTRY_NOT_ALLOWED"
    CURRENCY_NOT_ALLOWED = "CURRENCY_NOT_ALLOWED"
    WEAK_PASSWORD = "WEAK_PASSWORD"
    TOKEN_INVALID = "TOKEN_INVALID"
    TOKEN_REUSED = "TOKEN_REUSED"
    NOT_ALLOWED = "NOT_ALLOWED"
    INVALID_AMOUNT = "INVALID_AMOUNT"
    UNKNOWN_CURRENCY = "UNKNOWN_CURRENCY"
    INSUFFICIENT_FUNDS = "INSUFFICIENT_FUNDS"
    IDEMPOTENCY_CONFLICT = "IDEMPOTENCY_CONFLICT"
    APPROVAL_REQUIRED = "APPROVAL_REQUIRED"
    INVALID_STATE = "INVALID_STATE"
    PAYMENT_DECLINED = "PAYMENT_DECLINED"
    PAYMENT_UNAVAILABLE = "PAYMENT_UNAVAILABLE"
    GAME_NOT_AVAILABLE = "GAME_NOT_AVAILABLE"
    GAME_NOT_CERTIFIED = "GAME_NOT_CERTIFIED"  # the game is not certified in the player's country
    GAME_LIMITS_MISSING = "GAME_LIMITS_MISSING"  # the game's bet limits name no limit in the player's currency
    # Responsible gambling: the refusal's `limit` says which rule and when it resets.
    LIMIT_REACHED = "LIMIT_REACHED"
    LIMIT_REQUIRED = "LIMIT_REQUIRED"
    SELF_EXCLUDED = "SELF_EXCLUDED"
    TIMED_OUT = "TIMED_OUT"
    REALITY_CHECK_DUE = "REALITY_CHECK_DUE"
    REGISTER_UNAVAILABLE = "REGISTER_UNAVAILABLE"
    # KYC: the refusal's `kyc` says which level is required, why, and the next step.
    KYC_REQUIRED = "KYC_REQUIRED"
    VERIFICATION_UNAVAILABLE = "VERIFICATION_UNAVAILABLE"  # the identity-verification provider did not answer
    # Bonuses.
    BONUS_NOT_ALLOWED = "BONUS_NOT_ALLOWED"  # a jurisdiction's bonus rules refuse it
    BONUS_NOT_ELIGIBLE = "BONUS_NOT_ELIGIBLE"
    BONUS_CODE_INVALID = "BONUS_CODE_INVALID"
    BONUS_ALREADY_CLAIMED = "BONUS_ALREADY_CLAIMED"
    BONUS_ACTIVE = "BONUS_ACTIVE"  # another bonus is in play, or a withdrawal must forfeit it first
    # Game providers.
    INVALID_PUBLIC_KEY = "INVALID_PUBLIC_KEY"  # not PEM, not RSA, or too short
    # KYC documents: an upload refused for its bytes, a signed link refused, the storage away.
    DOCUMENT_EMPTY = "DOCUMENT_EMPTY"
    DOCUMENT_TOO_LARGE = "DOCUMENT_TOO_LARGE"
    DOCUMENT_TYPE_NOT_ALLOWED = "DOCUMENT_TYPE_NOT_ALLOWED"  # sniffed from the bytes: PDF, JPEG, PNG, WebP, HEIC
    DOCUMENT_CORRUPT = "DOCUMENT_CORRUPT"  # a PDF that does not parse, or is password-protected
    DOCUMENT_TOO_MANY_PAGES = "DOCUMENT_TOO_MANY_PAGES"
    UPLOAD_LINK_INVALID = "UPLOAD_LINK_INVALID"  # a bad signature, expired, or used for other bytes
    DOCUMENT_STORAGE_UNAVAILABLE = "DOCUMENT_STORAGE_UNAVAILABLE"
    # AML cases.
    AML_RESTRICTED = "AML_RESTRICTED"  # the account is restricted pending an AML review
    # An erasure refused (services/privacy/erasure.py): what has to be settled first.
    ERASURE_AML_HOLD = "ERASURE_AML_HOLD"  # an AML case is open, or a SAR was filed about the player
    ERASURE_BALANCE = "ERASURE_BALANCE"  # money is still in one of the player's accounts
    ERASURE_PAYMENT_PENDING = "ERASURE_PAYMENT_PENDING"  # a withdrawal (or deposit) is still in flight
    SAR_INVALID = "SAR_INVALID"  # the SAR/STR draft does not satisfy the FIU's goAML schema
    # Risk: a block list names something of the request (services/risk/lists.py).
    RISK_BLOCKED = "RISK_BLOCKED"
    # Risk rules and actions (services/risk/actions.py): what is in force on the player, or a rule's refusal.
    RISK_RESTRICTED = "RISK_RESTRICTED"  # block_account: no deposits, play or bonuses until risk staff lift it
    RISK_BONUS_BLOCKED = "RISK_BONUS_BLOCKED"  # block_bonuses: bonus claims refused
    RISK_BONUS_ABUSE = "RISK_BONUS_ABUSE"  # a linked account already claimed this offer
    RISK_HOLD = "RISK_HOLD"  # a withdrawal held for risk review may not be approved until the hold is lifted
    RISK_DECLINED = "RISK_DECLINED"  # a deposit held by a risk rule was declined by risk staff (its failure code)
    # Closed loop (services/cashier/closed_loop.py): a withdrawal to another method or instrument, or more to one
    # than it is owed, while deposits' loop shares are open.
    CLOSED_LOOP = "CLOSED_LOOP"
    # Reports.
    FX_RATE_MISSING = "FX_RATE_MISSING"  # no reference rate for a currency on a day a report converts
    # Tournaments (services/tournaments): a definition refused for one of its parts, or a join / settle refused.
    TOURNAMENT_SCHEDULE_INVALID = "TOURNAMENT_SCHEDULE_INVALID"  # ends before it starts, or starts in the past
    TOURNAMENT_SCORING_INVALID = "TOURNAMENT_SCORING_INVALID"
    TOURNAMENT_ELIGIBILITY_INVALID = "TOURNAMENT_ELIGIBILITY_INVALID"  # an unknown game, category or provider
    TOURNAMENT_ENTRY_INVALID = "TOURNAMENT_ENTRY_INVALID"  # buy-in, re-buys and entry mode do not fit together
    TOURNAMENT_PRIZES_INVALID = "TOURNAMENT_PRIZES_INVALID"  # overlapping ranks, shares over 100 %, no campaign
    TOURNAMENT_CLOSED = "TOURNAMENT_CLOSED"  # not open to joining (finished, settled, cancelled)
    TOURNAMENT_NOT_ELIGIBLE = "TOURNAMENT_NOT_ELIGIBLE"  # another brand, currency or jurisdiction
    TOURNAMENT_ALREADY_JOINED = "TOURNAMENT_ALREADY_JOINED"
    TOURNAMENT_REBUY_NOT_ALLOWED = "TOURNAMENT_REBUY_NOT_ALLOWED"  # no re-buys, or all of them used
    TOURNAMENT_SCORES_PENDING = "TOURNAMENT_SCORES_PENDING"  # the scoring consumer has events still to apply
    # Affiliate plans and deals (services/affiliates/plans.py, deals.py): the part of a plan or deal refused.
    AFFILIATE_PLAN_INVALID = "AFFILIATE_PLAN_INVALID"  # its code, name, currency, kind, or terms of another kind
    AFFILIATE_CPA_INVALID = "AFFILIATE_CPA_INVALID"  # the CPA amount or its qualification rule
    AFFILIATE_REVSHARE_INVALID = "AFFILIATE_REVSHARE_INVALID"  # the revenue share's kind, rate or tiers
    AFFILIATE_SECOND_TIER_INVALID = "AFFILIATE_SECOND_TIER_INVALID"  # the parent's rate on sub-partners
    AFFILIATE_DEAL_RETROACTIVE = "AFFILIATE_DEAL_RETROACTIVE"  # a deal from a date already begun under other terms
    AFFILIATE_DEAL_INVALID = "AFFILIATE_DEAL_INVALID"  # the partner is closed or not on the brand
    PROJECTION_BEHIND = "PROJECTION_BEHIND"  # the report projection has not applied a period's events yet
    # Cashier limits at intake (services/cashier/payment_limits.py).
    CARD_BIN_BLOCKED = "CARD_BIN_BLOCKED"  # a BIN rule refuses cards of that range or issuing country
    CARD_BIN_UNKNOWN = "CARD_BIN_UNKNOWN"  # a blocking BIN rule cannot tell the card's BIN or country (fails closed)
    PAYMENT_LIMIT_EXCEEDED = "PAYMENT_LIMIT_EXCEEDED"  # above the most one payment may be
    PAYMENT_VELOCITY_EXCEEDED = "PAYMENT_VELOCITY_EXCEEDED"  # too many, or too much, within the limit's window
    FREE_ROUNDS_UNAVAILABLE = "FREE_ROUNDS_UNAVAILABLE"  # the provider's free-rounds API did not answer
    FREE_ROUNDS_REFUSED = "FREE_ROUNDS_REFUSED"  # the provider refused the grant or its cancellation
    # Crypto (services/cashier/crypto): a destination the on-chain screening refuses, a quote past its time.
    CRYPTO_ADDRESS_REFUSED = "CRYPTO_ADDRESS_REFUSED"  # sanctioned, stolen funds, mixer...: never paid to
    CRYPTO_QUOTE_EXPIRED = "CRYPTO_QUOTE_EXPIRED"  # the locked rate's time is over: ask for a new quote
    CRYPTO_QUOTE_USED = "CRYPTO_QUOTE_USED"  # another withdrawal took this quote
    CRYPTO_DEPOSIT_NOT_HELD = "CRYPTO_DEPOSIT_NOT_HELD"  # released, refunded or never held: nothing to decide
    CRYPTO_DEPOSIT_DROPPED = "CRYPTO_DEPOSIT_DROPPED"  # held, then dropped from the chain: waits to be mined again


@dataclass(frozen=True)
class LimitDetails:
    """Which responsible-gambling rule refused, for a frontend to explain it."""

    kind: str  # deposit | loss | wager | session_time | time_out | self_exclusion | register | reality_check
    period: str | None = None
    amount: int | None = None  # minor units (money limits) or seconds (session time)
    currency: str | None = None
    resets_at: datetime | None = None  # None: permanent, or until the player acts


@dataclass(frozen=True)
class KycDetails:
    """Which KYC level a refusal waits for, what raised it, and what the player does next."""

    required_level: str
    trigger: str | None
    next_step: str


class DomainError(Exception):
    code: ErrorCode = ErrorCode.INVALID_INPUT

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        code: ErrorCode | None = None,
        limit: LimitDetails | None = None,
        kyc: KycDetails | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.limit = limit
        self.kyc = kyc
        if code is not None:
            self.code = code


class NotFound(DomainError):
    code = ErrorCode.NOT_FOUND


class ApiErrorCode(StrEnum):
    """Request-level codes, shown as `extensions.code` on GraphQL errors."""

    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    BAD_USER_INPUT = "BAD_USER_INPUT"
    RATE_LIMITED = "RATE_LIMITED"
    INTERNAL = "INTERNAL"
    PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"  # the hash is unknown: send the text with it


class ApiError(Exception):
    """An error that is safe to show the client as it is (never masked)."""

    def __init__(self, code: ApiErrorCode, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extensions: dict[str, Any] = {"code": code.value, **extra}


def unauthenticated(message: str = "Authentication required.") -> ApiError:
    return ApiError(ApiErrorCode.UNAUTHENTICATED, message)


def forbidden(message: str = "Not allowed.") -> ApiError:
    return ApiError(ApiErrorCode.FORBIDDEN, message)


def bad_input(message: str, **extra: Any) -> ApiError:
    return ApiError(ApiErrorCode.BAD_USER_INPUT, message, **extra)


def rate_limited(retry_after: int) -> ApiError:
    return ApiError(ApiErrorCode.RATE_LIMITED, f"Too many attempts; retry in {retry_after} s.", retryAfter=retry_after)
