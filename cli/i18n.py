"""`croupier i18n`: the Babel catalogues of player-facing texts (services/crm/i18n)."""

from __future__ import annotations

import typer

from cli.base import app

i18n_app = typer.Typer(help="Translations: extract, update, compile and check the catalogues.", no_args_is_help=True)
app.add_typer(i18n_app, name="i18n")


@i18n_app.command("extract")
def extract() -> None:
    """Write services/crm/i18n/locales/croupier.pot from the code's player-facing messages."""
    from services.crm.i18n import catalogue

    typer.echo(f"{catalogue.write_template()} messages in {catalogue.TEMPLATE}")


@i18n_app.command("update")
def update(language: str | None = typer.Argument(None, help="A new or existing language (default: all)")) -> None:
    """Merge the template into each language's .po (or start a new language)."""
    from services.crm.i18n import catalogue

    for code in catalogue.update(language):
        typer.echo(f"updated {code}")


@i18n_app.command("compile")
def compile_catalogues() -> None:
    """Compile every .po into the .mo read at run time."""
    from services.crm.i18n import catalogue

    for code, translated in catalogue.compile_all():
        typer.echo(f"{code}: {translated} messages translated")


@i18n_app.command("check")
def check() -> None:
    """Fail when the template is out of date with the code (run `croupier i18n extract`)."""
    from services.crm.i18n import catalogue

    if not catalogue.template_is_current():
        typer.echo("croupier.pot is out of date: run `croupier i18n extract` and `croupier i18n update`", err=True)
        raise typer.Exit(1)
    typer.echo("croupier.pot is current")
