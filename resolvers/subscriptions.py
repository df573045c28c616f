"""Subscriptions. Each listens on a Redis pub/sub channel the outbox relay publishes committed
events on, so any replica can serve any subscriber; what is yielded is read from the database."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncGenerator
from typing import Any

import strawberry

from authz.viewer import still_valid
from core import events
from core.catalogue import money
from core.clock import clock
from core.errors import NotFound, bad_input, forbidden, unauthenticated
from core.runtime import Runtime
from resolvers.wallet import wallet_balance
from schema.base import Money, node_uuid, to_global_id
from schema.context import Info
from schema.live import BalanceUpdate, ComplianceQueues, OperationsFigures
from schema.players import AccountEvent, PlayerStatus
from services import compliance_queues, dashboard, live_balances, players


async def account_events(info: Info) -> AsyncGenerator[AccountEvent, None]:
    """The viewer's own account: status changes (a blocked player is told at once)."""
    viewer = info.context.viewer
    if not viewer.is_player or viewer.id is None:
        raise forbidden("Only players have account events.")
    async for event in events.listen(info.context.rt, events.player_channel(viewer.id)):
        if event.get("type") != "player.status_changed":
            continue
        status = event["data"].get("status")
        yield AccountEvent(kind="status_changed", status=PlayerStatus(status) if status else None, at=clock.now())
        await _recheck(info, "Subscription.accountEvents")  # after: a blocked player is told, then cut off


def idle_recheck_seconds() -> float:
    """How long a quiet subscription waits before it re-checks its session anyway: about a minute,
    spread, so thousands opened together (a reconnect storm) do not all wake in the same second."""
    return random.uniform(45.0, 75.0)


def _require(info: Info, coordinate: str) -> None:
    """The policy decides on the root field too (the same decision the field extension makes)."""
    if coordinate not in info.context.allowed:
        raise forbidden(f"Not allowed to read {coordinate}.")


async def _recheck(info: Info, coordinate: str) -> None:
    """Before every update: the subscriber must still hold what let them subscribe. A logout, a block,
    a password change, a disabled staff account, lost roles or an expired token end the subscription."""
    current = await still_valid(info.context.rt, info.context.viewer)
    if current is None:
        raise unauthenticated("The session has ended: log in and subscribe again.")
    info.context.viewer = current
    _require(info, coordinate)


async def _balances(rt: Runtime, player_id: uuid.UUID) -> list[Any]:
    return [wallet_balance(balance) for balance in await live_balances.reader_of(rt).balances(player_id)]


async def balance_changed(info: Info, player_id: strawberry.ID | None = None) -> AsyncGenerator[BalanceUpdate, None]:
    """A player's balances, now and after every money movement: players their own (no argument),
    staff any player they may read.

    Balances are re-read from the database on each event rather than taken from the event: the event
    names only the accounts that moved, while the update shows every currency with cash, bonus and
    pending; and pub/sub may drop a message, so a re-read never leaves a client on a stale figure.
    """
    viewer = info.context.viewer
    _require(info, "Subscription.balanceChanged")
    rt = info.context.rt
    if viewer.is_player and viewer.id is not None:
        target = viewer.id
        if player_id is not None and node_uuid(player_id, "Player") != viewer.id:
            raise forbidden("Players see only their own balance.")
    elif viewer.is_staff:
        if player_id is None:
            raise bad_input("Staff name the player: balanceChanged(playerId: …).", field="playerId")
        target = node_uuid(player_id, "Player")
        async with rt.database.session() as db:
            try:
                await players.get_readable(db, viewer, target)
            except NotFound:
                raise forbidden("Not allowed to watch this player's balance.") from None
    else:
        raise forbidden("Only players and staff have balances to watch.")
    async with events.subscribed(rt, events.player_channel(target)) as listener:
        yield BalanceUpdate(transaction_id=None, kind="snapshot", balances=await _balances(rt, target))
        while True:
            event = await listener.next(within=idle_recheck_seconds())
            await _recheck(info, "Subscription.balanceChanged")
            if event is not None and event.get("type") == events.RESUMED:  # events may have been lost
                yield BalanceUpdate(transaction_id=None, kind="snapshot", balances=await _balances(rt, target))
                continue
            if event is None or not money.is_movement(event.get("type")):
                continue
            if info.context.viewer.is_staff:  # still allowed to see this player (roles or brand may change)
                async with rt.database.session() as db:
                    try:
                        await players.get_readable(db, info.context.viewer, target)
                    except NotFound:
                        raise forbidden("Not allowed to watch this player's balance.") from None
            data = event.get("data") or {}
            yield BalanceUpdate(
                transaction_id=strawberry.ID(str(to_global_id("LedgerTransaction", data.get("transaction_id", "")))),
                kind=str(data.get("kind", "")),
                balances=await _balances(rt, target),
            )


async def _figures(rt: Runtime, brand_id: uuid.UUID | None, trigger: str) -> OperationsFigures:
    async with rt.database.session() as db:
        figures = await dashboard.figures(db, brand_id, clock.now())
    return OperationsFigures(
        at=figures.at,
        trigger=trigger,
        bets_per_minute=figures.bets_per_minute,
        wins_per_minute=figures.wins_per_minute,
        active_players=figures.active_players,
        ggr_today=[Money.of(amount, currency) for currency, amount in figures.ggr_today.items()],
        deposits_today=[Money.of(amount, currency) for currency, amount in figures.deposits_today.items()],
    )


async def _concerns(rt: Runtime, event: dict[str, Any], brand_id: uuid.UUID | None) -> bool:
    if event.get("type") == events.RESUMED:  # after an outage of Redis: figures may have moved unseen
        return True
    if not money.is_movement(event.get("type")):
        return False
    if brand_id is None:
        return True
    try:
        player = uuid.UUID(str((event.get("data") or {}).get("player_id")))
    except ValueError:
        return False
    async with rt.database.session() as db:
        return await dashboard.brand_of_player(db, player) == brand_id


async def operations_feed(info: Info) -> AsyncGenerator[OperationsFigures, None]:
    """Live figures for the staff's brand scope: now, after money moves (at most once a second), and
    at least every few seconds (per-minute rates change as time passes)."""
    viewer = info.context.viewer
    _require(info, "Subscription.operationsFeed")
    if not viewer.is_staff:
        raise forbidden("The operations feed is for staff.")
    rt = info.context.rt
    loop = asyncio.get_running_loop()
    async with events.subscribed(rt, events.all_channel()) as listener:
        yield await _figures(rt, viewer.brand_id, "initial")
        last, dirty = loop.time(), False
        while True:
            due = last + (dashboard.UPDATE_INTERVAL_SECONDS if dirty else dashboard.HEARTBEAT_SECONDS)
            event = await listener.next(within=due - loop.time())
            if event is not None:
                dirty = dirty or await _concerns(rt, event, viewer.brand_id)
                if loop.time() < last + (dashboard.UPDATE_INTERVAL_SECONDS if dirty else dashboard.HEARTBEAT_SECONDS):
                    continue
            await _recheck(info, "Subscription.operationsFeed")
            yield await _figures(rt, viewer.brand_id, "activity" if dirty else "heartbeat")
            last, dirty = loop.time(), False


def _queues(figures: compliance_queues.QueueCounts, trigger: str) -> ComplianceQueues:
    return ComplianceQueues(
        at=figures.at,
        trigger=trigger,
        kyc_level_reviews=figures.kyc_level_reviews,
        kyc_documents=figures.kyc_documents,
        screening_matches=figures.screening_matches,
        aml_alerts=figures.aml_alerts,
        aml_cases_open=figures.aml_cases_open,
        aml_cases_investigating=figures.aml_cases_investigating,
        aml_cases_escalated=figures.aml_cases_escalated,
        aml_cases_overdue=figures.aml_cases_overdue,
    )


async def compliance_queues_feed(info: Info) -> AsyncGenerator[ComplianceQueues, None]:
    """The compliance queues' lengths for the staff's brand scope: now, after a KYC or AML event (at most
    once a second, counts shared by every subscriber of the brand in this process), and at least every
    30 seconds (cases become overdue as time passes). Which counts a viewer reads is the policy's, per field."""
    viewer = info.context.viewer
    _require(info, "Subscription.complianceQueues")
    if not viewer.is_staff:
        raise forbidden("The compliance queues are for staff.")
    rt, brand_id = info.context.rt, viewer.brand_id
    shared, loop = compliance_queues.shared_of(rt), asyncio.get_running_loop()
    interval, heartbeat = compliance_queues.UPDATE_INTERVAL_SECONDS, compliance_queues.HEARTBEAT_SECONDS
    async with events.subscribed(rt, events.all_channel()) as listener:
        yield _queues(await shared.since(brand_id, loop.time(), clock.now()), "initial")
        last, changed_at = loop.time(), None
        while True:
            due = last + (interval if changed_at is not None else heartbeat)
            event = await listener.next(within=due - loop.time())
            if event is not None:
                moved = event.get("type") == events.RESUMED or compliance_queues.concerns(event, brand_id)
                if moved and changed_at is None:
                    changed_at = loop.time()
                if loop.time() < last + (interval if changed_at is not None else heartbeat):
                    continue
            await _recheck(info, "Subscription.complianceQueues")
            fresh_from = changed_at if changed_at is not None else loop.time() - heartbeat / 2
            figures = await shared.since(brand_id, fresh_from, clock.now())
            yield _queues(figures, "activity" if changed_at is not None else "heartbeat")
            last, changed_at = loop.time(), None
