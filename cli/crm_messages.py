"""`croupier messages send-due`: send the CRM messages that are due now, once (services/crm/channels/sender.py;
the server does this continuously where EVENT_CONSUMERS is on: run it from cron where no server runs the loop)."""

from __future__ import annotations

import typer

from cli.base import app, with_runtime

messages_app = typer.Typer(help="CRM messages (templates, email, SMS/push, the inbox)", no_args_is_help=True)
app.add_typer(messages_app, name="messages")


@messages_app.command("send-due")
def send_due() -> None:
    """Send what is due (each message checked against suppression right before it goes); prints how many."""
    from services.crm.channels import sender

    claimed = with_runtime(sender.send_due)
    typer.echo(f"{claimed} message(s) handled")
