"""A click on a tracking link: counted against its IP's rate limit, recorded (time, IP, user agent, sub-ids),
and answered with where to redirect and the click id the player's registration carries back.

Outcomes, so the route never has to guess: `Redirect` (recorded: the landing path with `?click=<id>`; for a
suspended partner the landing path alone, nothing recorded), `Gone` (no such live link: 404), `Throttled`
(the IP clicked more than tracking.toml allows this minute: 429). A click is one INSERT, no lock: clicks of
one link never wait for each other.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from authz.subjects import RequestMeta
from core.runtime import Runtime
from models.affiliates import AffiliateClick, AffiliateStatus
from services.affiliates import links
from services.affiliates.tracking import printable, sub_ids_of, tracking

USER_AGENT_MAX = 512
CODE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")  # what `links.new_code` makes, within the column's width
WINDOW_SECONDS = 60


@dataclass(frozen=True)
class Redirect:
    location: str
    click_id: uuid.UUID | None
    cookie_max_age: int  # seconds: the brand's attribution window


@dataclass(frozen=True)
class Gone:
    pass


@dataclass(frozen=True)
class Throttled:
    retry_after: int


Outcome = Redirect | Gone | Throttled


def landing(path: str, click_id: uuid.UUID | None) -> str:
    """The landing path with `click=<id>` added to its own query (an older `click` replaced)."""
    parts = urlsplit(path)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "click"]
    if click_id is not None:
        query.append(("click", str(click_id)))
    return urlunsplit(("", "", parts.path or "/", urlencode(query), ""))


async def record(rt: Runtime, code: str, meta: RequestMeta, params: dict[str, str]) -> Outcome:
    """Record a click on `code` (see the module's docstring for the outcomes)."""
    data = tracking()
    if meta.ip:
        decision = await rt.rate_limiter.hit(
            f"affiliate:click:{meta.ip}", limit=data.clicks_per_ip_per_minute, window=WINDOW_SECONDS
        )
        if not decision.allowed:
            return Throttled(decision.retry_after)
    if not CODE.match(code):  # no link has such a code: answered before the database sees it
        return Gone()
    async with rt.database.transaction() as db:
        found = await links.target(db, code)
        if found is None:
            return Gone()
        max_age = int(data.window(found.brand_code).total_seconds())
        if found.partner_status != AffiliateStatus.ACTIVE:  # suspended: the visitor still lands, untracked
            return Redirect(landing(found.link.landing_path, None), None, max_age)
        sub_ids = sub_ids_of(params)
        click = AffiliateClick(
            link_id=found.link.id,
            affiliate_id=found.link.affiliate_id,
            brand_id=found.link.brand_id,
            ip=meta.ip[:45] if meta.ip else None,
            user_agent=printable(meta.user_agent)[:USER_AGENT_MAX] or None,
            sub_id=sub_ids.get("sub1"),
            sub_ids=sub_ids,
        )
        db.add(click)
        await db.flush()
    return Redirect(landing(found.link.landing_path, click.id), click.id, max_age)
