"""`croupier affiliates`: partners (list, create) and their tracking links (list, create, archive), as the
platform (audited as `system`). Refusals print their code and message and exit 1."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cli.base import app, with_runtime

if TYPE_CHECKING:
    from core.runtime import Runtime

affiliates_app = typer.Typer(help="Affiliate partners and their tracking links", no_args_is_help=True)
links_app = typer.Typer(help="A partner's tracking links", no_args_is_help=True)
affiliates_app.add_typer(links_app, name="links")
app.add_typer(affiliates_app, name="affiliates")


def _run(work: Any) -> Any:
    from core.errors import DomainError

    try:
        return with_runtime(work)
    except DomainError as exc:
        typer.echo(f"refused ({exc.code.value}): {exc.message}", err=True)
        raise typer.Exit(1) from exc


async def _partner_id(rt: Runtime, code: str) -> uuid.UUID:
    from core.errors import NotFound
    from services.affiliates import partners

    async with rt.database.session() as db:
        found = await partners.by_code(db, code)
    if found is None:
        raise NotFound(f"No partner {code!r}.", field="code")
    return found.id


@affiliates_app.command("list")
def partners_list(
    brand: Annotated[str | None, typer.Option(help="Only the partners of this brand")] = None,
) -> None:
    """Every partner: code, status, payout currency, brands, company."""
    from sqlmodel import col

    from authz.subjects import SYSTEM
    from models.affiliates import Affiliate
    from services import brands
    from services.affiliates import partners

    async def work(rt: Runtime) -> list[str]:
        async with rt.database.session() as db:
            stmt = partners.readable_partners(SYSTEM)
            if brand is not None:
                stmt = stmt.where(partners.in_brand((await brands.get_by_code(db, brand)).id))
            found = list((await db.execute(stmt.order_by(col(Affiliate.code)))).scalars())
            by_partner = await partners.brands_of(db, [a.id for a in found])
            names = {b.id: b.code for b in await brands.list_brands(db)}
        return [
            f"{a.code:24} {a.status:9} {a.payout_currency:4} "
            f"{','.join(sorted(names[b] for b in by_partner.get(a.id, []))):16} {a.company}"
            for a in found
        ]

    for line in _run(work):
        typer.echo(line)


@affiliates_app.command("create")
def partners_create(
    code: str,
    company: Annotated[str, typer.Option(help="The partner's company name")],
    email: Annotated[str, typer.Option(help="The contact email")],
    brand: Annotated[list[str], typer.Option(help="A brand code it promotes (repeat for more)")],
    currency: Annotated[str, typer.Option(help="The payout currency")] = "EUR",
    contact: Annotated[str | None, typer.Option(help="The contact's name")] = None,
    parent: Annotated[str | None, typer.Option(help="The code of the partner that brought it in")] = None,
) -> None:
    """Create a partner; prints its id."""
    from authz.subjects import SYSTEM
    from services import brands
    from services.affiliates import partners

    async def work(rt: Runtime) -> uuid.UUID:
        async with rt.database.session() as db:
            brand_ids = [(await brands.get_by_code(db, b)).id for b in brand]
        draft = partners.PartnerDraft(
            code=code,
            company=company,
            contact_name=contact,
            contact_email=email,
            payout_currency=currency,
            brand_ids=brand_ids,
            parent_id=await _partner_id(rt, parent) if parent else None,
        )
        return (await partners.create(rt, SYSTEM, draft)).id

    typer.echo(str(_run(work)))


@links_app.command("list")
def links_list(partner: Annotated[str, typer.Argument(help="The partner's code")]) -> None:
    """A partner's links, newest first: code, brand, tag, landing path, state."""
    from services import brands
    from services.affiliates import links

    async def work(rt: Runtime) -> list[str]:
        partner_id = await _partner_id(rt, partner)
        async with rt.database.session() as db:
            found = (await links.links_of(db, [partner_id])).get(partner_id, [])
            names = {b.id: b.code for b in await brands.list_brands(db)}
        return [
            f"/a/{x.code:14} {names[x.brand_id]:12} {x.tag:20} {x.landing_path:30} "
            f"{'archived' if x.archived_at else 'live'}"
            for x in found
        ]

    for line in _run(work):
        typer.echo(line)


@links_app.command("create")
def links_create(
    partner: Annotated[str, typer.Argument(help="The partner's code")],
    brand: Annotated[str, typer.Option(help="The brand's code")],
    tag: Annotated[str, typer.Option(help="The link's tag (unique per partner and brand)")],
    landing: Annotated[str, typer.Option(help="The landing path on the brand's site")] = "/",
) -> None:
    """Make a link; prints its click path `/a/{code}`."""
    from authz.subjects import SYSTEM
    from services import brands
    from services.affiliates import links

    async def work(rt: Runtime) -> str:
        partner_id = await _partner_id(rt, partner)
        async with rt.database.session() as db:
            brand_id = (await brands.get_by_code(db, brand)).id
        made = await links.create(
            rt, SYSTEM, partner_id, links.LinkDraft(brand_id=brand_id, tag=tag, landing_path=landing)
        )
        return f"/a/{made.code}"

    typer.echo(_run(work))


@links_app.command("archive")
def links_archive(
    partner: Annotated[str, typer.Argument(help="The partner's code")],
    code: Annotated[str, typer.Argument(help="The link's code (what follows /a/)")],
) -> None:
    """Archive a link: its code answers 404 from then on."""
    from sqlmodel import col, select

    from authz.subjects import SYSTEM
    from core.errors import NotFound
    from models.affiliates import AffiliateLink
    from services.affiliates import links

    async def work(rt: Runtime) -> None:
        partner_id = await _partner_id(rt, partner)
        async with rt.database.session() as db:
            link_id = await db.scalar(select(col(AffiliateLink.id)).where(col(AffiliateLink.code) == code))
        if link_id is None:
            raise NotFound(f"No link {code!r}.", field="code")
        await links.archive(rt, SYSTEM, partner_id, link_id)

    _run(work)
    typer.echo("archived")
