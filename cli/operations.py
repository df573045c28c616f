"""Operations for cron or a person on call: PSP reconciliation, the RG scan, bonus expiry and cashback."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Annotated

import typer

from cli.base import bonuses_app, payments_app, rg_app, with_runtime

if TYPE_CHECKING:
    from core.runtime import Runtime


@payments_app.command("reconcile")
def payments_reconcile(
    older_than: Annotated[int | None, typer.Option(help="Only payments untouched for this many seconds")] = None,
) -> None:
    """Poll the PSPs about payments left open (a crash, a lost webhook) and apply their answers."""
    from services import cashier

    async def work(rt: Runtime) -> cashier.ReconcileReport:
        return await cashier.reconcile(rt, older_than_seconds=older_than)

    report = with_runtime(work)
    typer.echo(
        f"checked {report.checked} open attempts: {report.repaired} repaired, "
        f"{report.failed_unsent} never sent (failed), {report.abandoned} abandoned deposits (failed), "
        f"{report.payouts_started} payouts started"
    )
    for error in report.errors:
        typer.echo(f"  unreachable: {error}")
    if report.errors:
        raise typer.Exit(1)


@payments_app.command("crypto-held")
def payments_crypto_held(
    refund_after_days: Annotated[
        int | None,
        typer.Option(min=1, help="Refund those held longer, in days (default CRYPTO_HELD_REFUND_AFTER_DAYS)"),
    ] = None,
) -> None:
    """Crypto deposits a gate held: release those the gates now pass, refund to their senders those held too long
    (the server's worker does this every CRYPTO_HELD_SWEEP_SECONDS; run it from cron where that is 0)."""
    from datetime import timedelta

    from services.cashier.crypto import holds

    async def work(rt: Runtime) -> holds.Swept:
        days = rt.settings.crypto_held_refund_after_days if refund_after_days is None else refund_after_days
        return await holds.sweep(rt, refund_after=timedelta(days=days))

    swept = with_runtime(work)
    typer.echo(f"{len(swept.released)} released, {len(swept.refunded)} refunded, {len(swept.kept)} still held")
    for transfer_id, code in swept.kept:
        typer.echo(f"  held: {transfer_id} ({code})")


@rg_app.command("scan")
def rg_scan() -> None:
    """Scan once for risk patterns (long sessions, rising deposits, night play, cancelled withdrawals)."""
    from services.rg import flags

    typer.echo(f"{with_runtime(flags.scan)} new flags in the RG queue")


@bonuses_app.command("expire")
def bonuses_expire() -> None:
    """Expire bonuses past their date and convert those whose wagering is met (the server's worker does
    this every minute; run it from cron where no server runs)."""
    from services.bonuses.lifecycle import expire_due

    changed = with_runtime(expire_due)
    typer.echo(f"{changed} bonus(es) expired or converted")


@bonuses_app.command("cashback")
def bonuses_cashback(
    campaign: Annotated[str, typer.Argument(help="The cashback campaign: its id (uuid) or GraphQL global id")],
    period_end: Annotated[
        str | None,
        typer.Option(help="Pay the last period closed by the start of this day (YYYY-MM-DD, UTC; default: today)"),
    ] = None,
) -> None:
    """Pay a cashback campaign's last closed period (for cron; each player is paid once per period, so a
    second run, or one racing the server's worker, pays nobody twice)."""
    import base64
    import binascii
    from datetime import date

    from core.errors import DomainError
    from core.ids import parse_uuid
    from core.money import format_amount
    from services.bonuses import cashback

    campaign_id = parse_uuid(campaign)
    if campaign_id is None:
        with contextlib.suppress(binascii.Error, UnicodeDecodeError, ValueError):
            kind, _, raw = base64.b64decode(campaign, validate=True).decode().partition(":")
            campaign_id = parse_uuid(raw) if kind == "BonusCampaign" else None
    if campaign_id is None:
        typer.echo(f"not a campaign id: {campaign}", err=True)
        raise typer.Exit(2)
    try:
        end = date.fromisoformat(period_end) if period_end else None
    except ValueError as exc:
        typer.echo("--period-end is a day, YYYY-MM-DD", err=True)
        raise typer.Exit(2) from exc

    async def work(rt: Runtime) -> cashback.CashbackRun:
        return await cashback.pay_cashback(rt, campaign_id, period_end=end)

    try:
        run = with_runtime(work)
    except DomainError as exc:
        typer.echo(f"refused: {exc.message}", err=True)
        raise typer.Exit(1) from exc
    paid = ", ".join(f"{format_amount(amount, currency)} {currency}" for currency, amount in sorted(run.paid.items()))
    typer.echo(
        f"period {run.period.key}: {run.players_paid} player(s) paid ({paid or 'nothing'}; "
        f"{run.as_bonus} as a bonus), {run.already_paid} already paid, {run.below_minimum} below the minimum, "
        f"{run.not_eligible} not eligible"
    )
