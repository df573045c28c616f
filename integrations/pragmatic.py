"""Pragmatic Play's seamless wallet, served for every provider whose protocol is `pragmatic`.

`POST /providers/{provider_code}/{method}.html` for the methods in `METHODS` (authenticate, balance, bet,
result, bonusWin, jackpotWin, promoWin, endRound, refund, adjustment): the provider is configured with
`https://<croupier>/providers/<code>/` as its wallet URL and appends `<method>.html`, as Pragmatic Play does.
docs/providers-pragmatic.md is the operator's page; the codes, form, hash and amounts are
integrations/pragmatic_wire.py. In short:

- Bodies are `application/x-www-form-urlencoded` (UTF-8; a repeated or malformed parameter, a NUL or more
  than `MAX_PARAMS` parameters is error 7). `hash` is the MD5 (hex) of every other parameter as received,
  sorted by name, written `name=value` and joined by '&', with the provider's secret key appended
  (`a=1&b=2SECRET`); a missing or wrong hash, or an unknown or disabled provider, is error 5, checked before
  any other parameter. The secret is the `PROVIDER_SECRETS` entry the provider row names (`secret_ref`), else
  the one named after its code (services/providers/credentials.py), as for SoftSwiss.
- Amounts are decimals in currency units ("12.50"), converted exactly to ledger minor units in the player's
  currency (the token's session currency, else the player's wallet currency; promoWin names its own): one
  with more significant decimals than the currency has (0.001 EUR), negative (outside adjustment) or too
  large is error 7 and moves nothing.
- Every answer is HTTP 200 JSON `{error, description, ...}` with the method's fields; balances are numbers
  in currency units. `cash` is the player's whole playable balance (cash and bonus money together, as every
  protocol sees it) and `bonus` is 0: the bonus engine spends bonus money inside a stake (services/bonuses).
- Transactions are keyed by the provider's `reference`: a bet's and a result's own; a refund by its player and
  the bet's reference it names (`refund_key`), and bonusWin, jackpotWin, promoWin and adjustment each in
  their own namespace (`<method>:<reference>`), so one method's reference never meets another's.

What each method asks of services/provider_wallet: authenticate and balance read (`balance`,
`player_balance`); bet, result and refund are bet, win (by round: a result names no bet) and rollback;
jackpotWin, promoWin and a positive adjustment are credits with no bet and no session (`credit`, the player
may be offline), a negative adjustment a `debit`; bonusWin is a win in the free rounds' last round (bonus money
under a grant's wagering) or, with no such round, a credit (`free_rounds_total`); endRound closes the round
(`end_round`).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from core.clock import clock
from core.ids import new_id, parse_uuid
from core.logging import get_logger
from core.money import CURRENCIES
from core.runtime import Runtime
from integrations.pragmatic_wire import (
    BAD_PARAMETERS,
    DESCRIPTIONS,
    INVALID_HASH,
    MAX_BODY_BYTES,
    METHODS,
    PLAYER_NOT_FOUND,
    TX_NAMESPACE,
    PragmaticDialect,
    Refused,
    check_fields,
    parse_form,
    to_minor,
    verify_hash,
)
from services import game_sessions, provider_wallet
from services.provider_wallet import Answer, ProviderRef, Status, WalletCommand, WalletResult
from services.providers import credentials

log = get_logger(__name__)
router = APIRouter(include_in_schema=False)

PROTOCOL = "pragmatic"


def refusal(code: int) -> JSONResponse:
    return JSONResponse({"error": code, "description": DESCRIPTIONS[code]})


# ---- who is asking, and about whom ---------------------------------------------------------------

_LOOKUP = text("""
SELECT gp.id AS provider_id, gp.code, gp.protocol, gp.enabled, gp.secret_ref,
       p.id AS player_id, p.currency AS player_currency,
       s.player_id AS session_player, s.currency AS session_currency, s.mode, s.expires_at, s.ended_at
FROM (SELECT 1) AS one
LEFT JOIN game_providers gp ON gp.code = :code
LEFT JOIN players p ON p.id = CAST(:player AS uuid)
LEFT JOIN game_sessions s ON s.token = :token
""")


@dataclass(frozen=True)
class Caller:
    provider: ProviderRef
    secret: str | None
    player: uuid.UUID | None  # the player named by userId (None: no such player)
    currency: str | None  # the session's when the token is the player's, else the player's wallet currency
    session_player: uuid.UUID | None
    session_live: bool  # the token's session may still play (authenticate)


async def _caller(rt: Runtime, code: str, params: dict[str, str]) -> Caller:
    player = parse_uuid(params.get("userId", ""))
    token = params.get("token") or None
    async with rt.database.session() as db:
        row = (
            await db.execute(_LOOKUP, {"code": code, "player": str(player) if player else None, "token": token})
        ).one()
    if row.provider_id is None or not row.enabled or row.protocol != PROTOCOL:
        raise Refused(INVALID_HASH)  # nothing to check the hash with
    currency = row.player_currency
    if row.session_player is not None and row.session_player == row.player_id:
        currency = row.session_currency
    live = row.mode == "real" and game_sessions.can_bet(row.ended_at, row.expires_at, clock.now())
    return Caller(
        ProviderRef(row.provider_id, row.code),
        credentials.secret_for(rt.settings.provider_secrets, row.code, row.secret_ref),
        row.player_id,
        currency,
        row.session_player,
        live,
    )


# ---- the methods ---------------------------------------------------------------------------------

Handler = Callable[[Runtime, WalletCommand, Any], Awaitable[Answer]]


def _base(method: str, caller: Caller, raw: bytes, params: dict[str, str], **fields: Any) -> WalletCommand:
    return WalletCommand(
        provider=caller.provider,
        endpoint=f"/{method}.html",
        raw_request=raw,
        request_uuid=str(new_id()),  # no request id in this protocol: every call is logged, retries replay by reference
        user=params.get("userId"),
        token=params.get("token") or None,
        # a refund names its player (userId): one of a bet we never saw refuses that bet to that player only
        player_scoped_rollbacks=True,
        **fields,
    )


async def _authenticate(rt: Runtime, caller: Caller, raw: bytes, params: dict[str, str], dialect: Any) -> Answer:
    command = _base("authenticate", caller, raw, params)
    if caller.session_player is None or not caller.session_live:
        result = WalletResult(Status.INVALID_TOKEN)
        return Answer(result, dialect.render(command, result))
    command = replace(command, user=str(caller.session_player))
    return await provider_wallet.balance(rt, command, dialect)


def _money(
    method: str, caller: Caller, raw: bytes, params: dict[str, str], refund: str | None = None
) -> tuple[Handler, WalletCommand]:
    """The wallet function and command of a method that moves (or may move) money (`refund`: a refund's key)."""
    currency = params["currency"] if method == "promoWin" else caller.currency
    if currency not in CURRENCIES:
        raise Refused(BAD_PARAMETERS if method == "promoWin" else PLAYER_NOT_FOUND)
    reference = params["reference"]
    if method == "refund":  # the bet it names decides the rest (its player, currency, round)
        assert caller.player is not None
        command = _base(
            method,
            caller,
            raw,
            params,
            transaction_uuid=refund or refund_key(caller.player, reference),
            reference_uuid=reference,
        )
        return provider_wallet.rollback, command
    amount = to_minor(params["amount"], currency, signed=method == "adjustment")
    game = params.get("gameId") or None
    if method in ("bet", "result"):
        free = method == "bet" and bool(params.get("bonusCode"))
        command = _base(
            method,
            caller,
            raw,
            params,
            transaction_uuid=reference,
            round_ref=params["roundId"],
            # A result is the round's last money call (endRound only confirms): a bonus whose wagering the round
            # met converts with it, a lost round included. Not a free round's: its grant waits for bonusWin.
            round_closed=method == "result" and not params.get("bonusCode"),
            game_code=game,
            currency=currency,
            # A free-round result pays nothing: the free rounds' total comes once, in bonusWin.
            amount=0 if method == "result" and params.get("bonusCode") else amount,
            is_free=free,
            reward_uuid=params.get("bonusCode") if free else None,
        )
        return (provider_wallet.bet if method == "bet" else provider_wallet.win), command
    command = _base(
        method,
        caller,
        raw,
        params,
        transaction_uuid=f"{method}:{reference}",
        # bonusWin names the free rounds' last round: their winnings follow its free bets (free_rounds_total)
        round_ref=(params.get("roundId") or None) if method == "bonusWin" else None,
        round_closed=method == "bonusWin",  # the free rounds are over: a grant with nothing won (0.00) ends
        game_code=game,
        currency=currency,
        amount=abs(amount),
    )
    if method == "bonusWin" and command.round_ref is not None:
        return free_rounds_total, command
    return (provider_wallet.debit if amount < 0 else provider_wallet.credit), command


def refund_key(player: uuid.UUID, reference: str) -> str:
    """A refund's transaction: one per player and bet reference, so that a refund naming a reference under the
    wrong userId (of a bet we never saw) is another transaction than the refund of the bet's own player, which
    still works. A digest (39 characters), so that it fits beside the provider's code whatever the reference's
    length; the reference itself is stored with it (`reference_transaction_uuid`)."""
    return f"refund:{uuid.uuid5(TX_NAMESPACE, f'{player}:{reference}').hex}"


async def free_rounds_total(rt: Runtime, command: WalletCommand, dialect: Any) -> Answer:
    """bonusWin: paid as a win in the free rounds' last round, so a bonus grant's free rounds (their bets named
    the grant) turn their total into bonus money under its wagering, as the bonus engine rules; with no such
    round of the player's, credited to cash. Both ways are the same transaction (uuid, content), so a retry
    replays whichever way it was first paid."""
    answer = await provider_wallet.win(rt, command, dialect)
    if answer.result.status != Status.TRANSACTION_DOES_NOT_EXIST:
        return answer
    # refused and not recorded: credit it (as a call of its own: the refused one's answer is logged)
    return await provider_wallet.credit(rt, replace(command, request_uuid=str(new_id())), dialect)


async def _serve(method: str, provider_code: str, request: Request) -> JSONResponse:
    rt: Runtime = request.app.state.rt
    raw = await request.body()
    dialect = PragmaticDialect(method)
    try:
        if len(raw) > MAX_BODY_BYTES:
            raise Refused(BAD_PARAMETERS)
        params = parse_form(raw)
        caller = await _caller(rt, provider_code, params)
        if not verify_hash(params, caller.secret):
            log.warning("pragmatic_bad_hash", provider=provider_code, method=method)
            raise Refused(INVALID_HASH)
        check_fields(method, params)
        answer = await _answer(rt, method, caller, raw, params, dialect)
    except Refused as refused:
        return refusal(refused.code)
    except Exception:  # the database is away: still an answer in protocol, which the provider retries
        log.exception("pragmatic_wallet_failed", provider=provider_code, method=method)
        return refusal(dialect.code(Status.UNKNOWN))
    return JSONResponse(dict(answer.body))


async def _answer(
    rt: Runtime, method: str, caller: Caller, raw: bytes, params: dict[str, str], dialect: PragmaticDialect
) -> Answer:
    if method == "authenticate":
        return await _authenticate(rt, caller, raw, params, dialect)
    if caller.player is None:
        raise Refused(PLAYER_NOT_FOUND)
    if method == "balance":
        return await provider_wallet.player_balance(
            rt, _base(method, caller, raw, params, currency=caller.currency), dialect
        )
    if method == "endRound":
        command = _base(method, caller, raw, params, round_ref=params["roundId"], game_code=params["gameId"])
        return await provider_wallet.end_round(rt, replace(command, currency=caller.currency), dialect)
    refund = await _refund_of(rt, caller, params["reference"]) if method == "refund" else None
    handler, command = _money(method, caller, raw, params, refund)
    # the cash drop's amount is checked before the result is paid: a 7 must move nothing
    promo = (
        to_minor(params["promoWinAmount"], command.currency or "")
        if method == "result" and params.get("promoWinAmount")
        else None
    )
    answer = await handler(rt, command, dialect)
    if promo is not None and answer.result.status == Status.OK:
        answer = await _result_promo(rt, caller, params, command, answer, promo)
    return answer


_REFUND = text("""
SELECT (SELECT player_id FROM provider_transactions WHERE provider_id = :provider AND transaction_uuid = :reference)
           AS owner,
       EXISTS (SELECT 1 FROM provider_transactions WHERE provider_id = :provider AND transaction_uuid = :legacy
                AND kind = 'rollback' AND player_id = CAST(:player AS uuid)) AS legacy,
       EXISTS (SELECT 1 FROM provider_transactions WHERE provider_id = :provider AND transaction_uuid = :own)
           AS recorded
""")


async def _refund_of(rt: Runtime, caller: Caller, reference: str) -> str:
    """The refund's transaction key: this player's refund of the reference as the release before per-player keys
    recorded it (`refund:<reference>`), so that its retry after the deploy is the same transaction (its first answer,
    its transaction id, nothing moved again), else `refund_key`. Refused(7) when it names another player's known
    bet: refused, not recorded; unless this player's refund of it is recorded already (answered 0 while the bet was
    unknown), whose retry gets its first answer."""
    assert caller.player is not None
    legacy, own = f"refund:{reference}", refund_key(caller.player, reference)
    named = {
        "provider": caller.provider.id,
        "reference": reference,
        "legacy": legacy,
        "own": own,
        "player": str(caller.player),
    }
    async with rt.database.session() as db:
        found = (await db.execute(_REFUND, named)).one()
    if found.legacy:
        return legacy
    if found.owner is not None and found.owner != caller.player and not found.recorded:
        raise Refused(BAD_PARAMETERS)
    return own


async def _result_promo(
    rt: Runtime, caller: Caller, params: dict[str, str], command: WalletCommand, answer: Answer, amount: int
) -> Answer:
    """A result carrying a promotion's prize (a cash drop: promoWinAmount, promoWinReference) pays it to cash as a
    promoWin would, after the win; the result's answer then shows the balance after both."""
    reference = params.get("promoWinReference") or command.transaction_uuid
    promo = replace(
        command,
        request_uuid=str(new_id()),  # a call of its own in the log (the result's would replay the result's answer)
        transaction_uuid=f"promoWin:{reference}",
        amount=amount,
        round_ref=None,
    )
    paid = await provider_wallet.credit(rt, promo, PragmaticDialect("promoWin"))
    if paid.result.status != Status.OK:
        log.warning("pragmatic_result_promo_refused", provider=caller.provider.code, status=paid.result.status.value)
        return answer
    body = dict(answer.body)
    body["cash"] = paid.body.get("cash", body.get("cash"))
    return Answer(answer.result, body)


def _route(method: str) -> None:
    async def handler(provider_code: str, request: Request) -> JSONResponse:
        return await _serve(method, provider_code, request)

    handler.__name__ = f"pragmatic_{method}"
    router.add_api_route(f"/providers/{{provider_code}}/{method}.html", handler, methods=["POST"])


for _method in METHODS:
    _route(_method)
