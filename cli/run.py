"""Run the platform: migrate, serve, export the schema, rotate the JWT signing keys."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Annotated

import typer

from cli.base import app, keys_app, migrate_database, use_public_base_url
from core.settings import DEFAULT_HOST, DEFAULT_PORT, get_settings


@app.command()
def migrate(
    to: Annotated[
        str | None,
        typer.Option("--to", help="Move the schema to this revision (up or down), `head` or `base`"),
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", help="Undo revisions without asking")] = False,
) -> None:
    """Apply pending database migrations, or move the schema to a revision (rolling a release back)."""
    if to is None:
        migrate_database()
        typer.echo("database is at the latest revision")
        return
    from core import embedded, migrations

    url = embedded.resolve_database_url(get_settings())
    try:
        move = migrations.plan_move(url, to)
    except migrations.UnknownRevision as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    if move.direction == "none":
        typer.echo(f"database is already at {to}")
        return
    if move.direction == "down":
        typer.echo(f"undoing {', '.join(move.revisions)}: what they added (tables, columns, data) is dropped")
        if not yes and not typer.confirm("take a backup first (docs/operations.md); undo them?"):
            raise typer.Exit(1)
    migrations.move_to(url, to, move)
    done = "undid" if move.direction == "down" else "applied"
    typer.echo(f"{done} {', '.join(move.revisions)}; database is at {to}")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind")] = DEFAULT_HOST,
    port: Annotated[int, typer.Option(help="Port")] = DEFAULT_PORT,
    workers: Annotated[int, typer.Option(help="Worker processes (needs DATABASE_URL and REDIS_URL)")] = 1,
) -> None:
    """Serve the API (GraphQL at /graphql, GraphiQL in development)."""
    import uvicorn

    use_public_base_url(host, port)
    settings = get_settings()
    if workers > 1 and not (settings.database_url and settings.redis_url):
        typer.echo("several workers need a shared DATABASE_URL and REDIS_URL", err=True)
        raise typer.Exit(2)
    try:
        settings.check_production_exposure(host)
    except RuntimeError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    uvicorn.run(
        "server:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=False,
        log_config=None,
        ws=websocket_protocol(),  # websockets-sansio, keeping less per connection
        ws_per_message_deflate=settings.websocket_compression,
        ws_max_size=settings.websocket_max_message_bytes,
    )


@app.command("export-schema")
def export_schema(path: Annotated[Path, typer.Argument()] = Path("schema.graphql")) -> None:
    """Write the GraphQL SDL (checked in; a test fails when it drifts)."""
    from schema.root import build_schema

    sdl = build_schema(get_settings()).as_str() + "\n"
    if str(path) == "-":
        sys.stdout.write(sdl)
    else:
        path.write_text(sdl)
        typer.echo(f"wrote {path}")


@keys_app.command("rotate")
def keys_rotate() -> None:
    """Add a new signing key; it signs from now on, and older keys keep verifying."""
    from authz.jwt import generate_key

    folder: Path = get_settings().key_dir
    kid = generate_key(folder)
    typer.echo(f"new signing key {kid} in {folder}; delete older keys after one access-token lifetime")


def websocket_protocol() -> str:
    """Our lean protocol (core/websocket_protocol.py) where this uvicorn has the websockets-sansio
    implementation it extends; else uvicorn's own choice, rather than a server that cannot start."""
    if importlib.util.find_spec("uvicorn.protocols.websockets.websockets_sansio_impl") is None:
        return "auto"
    return "core.websocket_protocol:LeanWebSocketProtocol"
