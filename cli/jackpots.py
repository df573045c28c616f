"""`croupier jackpots`: create, list, configure, read the history and commitments of, verify, and report a
provider's win on, jackpots from the command line.

Each command calls the same service function as GraphQL (services/jackpots), acting as the platform itself
(audited as `system`). Amounts are decimal strings in the jackpot's currency. Refusals print
`refused: FIELD: MESSAGE` on stderr and exit 1.
"""

from __future__ import annotations

import json
import uuid
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from cli.base import app, run_or_refuse

if TYPE_CHECKING:
    from core.runtime import Runtime
    from services.jackpots.admin import LevelSpec

jackpots_app = typer.Typer(help="Jackpots: pools, history, commitments, verification", no_args_is_help=True)
app.add_typer(jackpots_app, name="jackpots")
T = TypeVar("T")


def _level(text: str, currency: str) -> LevelSpec:
    """`grand,seed=1000.00,rate=1%,cap=5000.00` | `…,window=3600` (seconds) | `…,provider`."""
    from core.money import parse_amount
    from services.jackpots.admin import LevelSpec

    name, *parts = [p.strip() for p in text.split(",")]
    given = {p.partition("=")[0]: p.partition("=")[2] for p in parts}
    try:
        rate = Decimal(given.get("rate", "0").rstrip("%")) * 10_000
        if rate != rate.to_integral_value():
            raise InvalidOperation
        seed = parse_amount(given.get("seed", "0"), currency, field="seed", allow_zero=True)
        trigger = "provider" if "provider" in given else "time" if "window" in given else "amount"
        cap = parse_amount(given["cap"], currency, field="cap") if "cap" in given else None
        window = int(given["window"]) if "window" in given else None
    except (InvalidOperation, ValueError, KeyError) as exc:
        typer.echo(
            f"refused: level: cannot read {text!r} (name,seed=AMOUNT,rate=PERCENT%,cap=AMOUNT|window=SECONDS|provider)",
            err=True,
        )
        raise typer.Exit(1) from exc
    return LevelSpec(name, seed, int(rate), trigger, cap, window)


@jackpots_app.command("create")
def create(
    code: str,
    name: Annotated[str, typer.Option("--name")],
    brand: Annotated[list[str], typer.Option("--brand", help="A brand code (a network jackpot: several)")],
    level: Annotated[
        list[str], typer.Option("--level", help="name,seed=AMOUNT,rate=PERCENT%,cap=AMOUNT|window=S|provider")
    ],
    currency: Annotated[str, typer.Option("--currency")] = "EUR",
    kind: Annotated[str, typer.Option("--kind", help="local | network")] = "local",
    type_: Annotated[str, typer.Option("--type", help="fixed | progressive")] = "progressive",
    game: Annotated[list[str] | None, typer.Option("--game", help="An eligible game code (none: all)")] = None,
    provider: Annotated[list[str] | None, typer.Option("--provider", help="An eligible provider (none: all)")] = None,
    min_bet: Annotated[str, typer.Option("--min-bet")] = "0",
    reason: Annotated[str, typer.Option("--reason", help="Why (goes to the audit log)")] = "",
) -> None:
    """Create a jackpot and seed its pots (each drop point committed at once)."""
    from sqlalchemy import text

    from authz.subjects import SYSTEM
    from core.money import parse_amount
    from services.jackpots.admin import JackpotSpec, create_jackpot

    levels = [_level(item, currency) for item in level]

    async def work(rt: Runtime) -> Any:
        async with rt.database.transaction() as db:
            rows = (await db.execute(text("SELECT code, id FROM brands WHERE code = ANY(:c)"), {"c": brand})).all()
            ids = {row.code: row.id for row in rows}
            missing = [b for b in brand if b not in ids]
            if missing:
                from core.errors import DomainError

                raise DomainError(f"Unknown brand {missing[0]!r}.", field="brand")
            spec = JackpotSpec(
                code=code, name=name, kind=kind, type=type_, currency=currency, brand_ids=[ids[b] for b in brand],
                levels=levels, games=game or [], providers=provider or [],
                min_bet=parse_amount(min_bet, currency, field="minBet", allow_zero=True),
            )  # fmt: skip
            return await create_jackpot(db, spec, actor=SYSTEM, reason=reason or None)

    view = run_or_refuse(work)
    typer.echo(f"created {view.kind} {view.type} jackpot {view.code} {view.id}")
    for pool in view.pools:
        typer.echo(
            f"{pool.level}\t{pool.id}\tpot {_amount(pool.amount, pool.currency)}\tcommitment {pool.commitment or '-'}"
        )


def _amount(minor: int, currency: str) -> str:
    from core.money import format_amount

    return f"{format_amount(minor, currency)} {currency}"


@jackpots_app.command("list")
def list_jackpots() -> None:
    """Every jackpot with its pots now."""
    from services.jackpots import admin

    async def work(rt: Runtime) -> Any:
        async with rt.database.session() as db:
            return await admin.list_jackpots(db)

    found = run_or_refuse(work)
    for view in found:
        typer.echo(f"{view.code}\t{view.id}\t{view.kind}\t{view.type}\t{view.status}")
        for pool in view.pools:
            typer.echo(f"  {pool.level}\tpot {_amount(pool.amount, pool.currency)}\tgeneration {pool.generation}")
    typer.echo(f"{len(found)} jackpots")


@jackpots_app.command("configure")
def configure(
    jackpot: str,
    status: Annotated[str | None, typer.Option("--status", help="active | paused | closed")] = None,
    reason: Annotated[str, typer.Option("--reason")] = "",
) -> None:
    """Pause, resume or close a jackpot. Closing (a reason required) refunds every pot to the seed account and
    voids the pots' commitments."""
    from authz.subjects import SYSTEM
    from services.jackpots import admin, views

    async def work(rt: Runtime) -> Any:
        async with rt.database.transaction() as db:
            found = await admin.find_jackpot(db, jackpot)
            view = await admin.configure_jackpot(db, found.id, actor=SYSTEM, status=status, reason=reason or None)
            closed = [(p, await views.history(db, p.id)) for p in view.pools] if status == "closed" else []
            return view, closed

    view, closed = run_or_refuse(work)
    for pool, h in closed:
        for r in h.refunds:
            typer.echo(
                f"  {pool.level}	pot {r.generation} refunded {_amount(r.amount, pool.currency)}	commitment void"
            )
    typer.echo(f"{view.code} {view.status}")


@jackpots_app.command("history")
def history(jackpot: str, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Each pool's contributions by day, wins and reseeds, and whether they add up to the pot."""
    from services.jackpots import admin, views

    async def work(rt: Runtime) -> Any:
        async with rt.database.session() as db:
            found = await admin.find_jackpot(db, jackpot)
            return [await views.history(db, pool.id) for pool in found.pools]

    found = run_or_refuse(work)
    if as_json:
        typer.echo(json.dumps([_history_json(h) for h in found], default=str, indent=2))
        return
    for h in found:
        pool = h.pool
        typer.echo(
            f"{pool.level}\tpot {_amount(pool.amount, pool.currency)}\tadds up: {'yes' if h.adds_up() else 'NO'}"
        )
        for d in h.days:
            typer.echo(
                f"  day {d.day}\t+{d.contributed}\t-{d.taken_back}\t{d.bets} bets\t{d.rollbacks} rollbacks"
                f"\t{d.forgone} forgone"
            )
        for s in h.seeds:
            typer.echo(f"  seed {s.generation}\t{s.amount}\t{s.seeded_at.isoformat()}")
        for w in h.wins:
            typer.echo(f"  win {w.generation}\t{w.amount}\tplayer {w.player_id}\t{w.won_at.isoformat()}")
        for r in h.refunds:
            typer.echo(f"  refund {r.generation}\t{r.amount}\t{r.reason}\t{r.refunded_at.isoformat()}")


def _history_json(h: Any) -> dict[str, Any]:
    from dataclasses import asdict

    return {**asdict(h), "adds_up": h.adds_up()}


@jackpots_app.command("commitments")
def commitments(jackpot: str) -> None:
    """Every pot's commitment: published ones, and the drop point and salt of those revealed."""
    from services.jackpots import admin, views

    async def work(rt: Runtime) -> Any:
        async with rt.database.session() as db:
            found = await admin.find_jackpot(db, jackpot)
            return [(pool.level, await views.commitments(db, pool.id)) for pool in found.pools]

    for level, items in run_or_refuse(work):
        for c in items:
            revealed = f"point {c.drop_point} salt {c.salt}" if c.revealed_at else "not revealed"
            revealed += " VOID (closed, never dropped)" if c.voided_at else ""
            typer.echo(f"{level}\t{c.generation}\t{c.trigger}\t{c.commitment}\t{revealed}")


@jackpots_app.command("verify")
def verify(jackpot: str, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Check every revealed drop: the commitment, the drop point, the payout and the ledger behind the pot."""
    from services.jackpots import admin, views

    async def work(rt: Runtime) -> Any:
        async with rt.database.session() as db:
            found = await admin.find_jackpot(db, jackpot)
            return await views.verify(db, found.id)

    drops = run_or_refuse(work)
    if as_json:
        typer.echo(json.dumps([d.as_dict() for d in drops], indent=2))
    else:
        for d in drops:
            state = "ok" if d.ok else "WRONG: " + "; ".join(d.problems)
            typer.echo(f"{d.level}\t{d.generation}\t{d.trigger}\tpoint {d.drop_point}\t{state}")
        typer.echo(f"{len(drops)} drops checked, {sum(not d.ok for d in drops)} wrong")
    if any(not d.ok for d in drops):
        raise typer.Exit(1)


@jackpots_app.command("win")
def provider_win(
    pool: uuid.UUID,
    player: Annotated[uuid.UUID, typer.Option("--player")],
    provider: Annotated[str, typer.Option("--provider")],
    reference: Annotated[str, typer.Option("--reference", help="The provider's id of the win")],
    generation: Annotated[int | None, typer.Option("--generation", help="The pot the provider saw")] = None,
) -> None:
    """Pay a provider-triggered pot to the player its provider reported (once per reference)."""
    from authz.subjects import SYSTEM
    from services.jackpots import admin

    async def work(rt: Runtime) -> Any:
        async with rt.database.transaction() as db:
            return await admin.report_provider_win(
                db, pool_id=pool, player_id=player, provider=provider, reference=reference,
                rates=rt.settings.stated_rates, generation=generation, actor=SYSTEM,
            )  # fmt: skip

    win = run_or_refuse(work)
    typer.echo(f"won {win.id} pot {win.generation}: {win.amount} -> {win.paid_amount} {win.paid_currency}")
