"""`croupier risk affiliate-sweep`: run the affiliate sub-id fraud checks once (services/affiliates/fraud.py;
the server does this every AFFILIATE_FRAUD_INTERVAL_SECONDS: run it from cron where no server runs)."""

from __future__ import annotations

import typer

from cli.base import risk_app, with_runtime


@risk_app.command("affiliate-sweep")
def affiliate_sweep() -> None:
    """Flag the affiliate sub-ids the checks find (fraud.toml), withholding their unpaid CPAs; prints the new flags."""
    from services.affiliates import fraud

    raised = with_runtime(fraud.sweep)
    for flag_id in raised:
        typer.echo(str(flag_id))
    typer.echo(f"{len(raised)} sub-id(s) flagged")
