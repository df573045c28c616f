"""A partner's figures, aggregated: clicks, registrations, first deposits, deposits and NGR of its own players.

One statement per request. Each of its four parts (clicks; attributions; first deposits from
`report_players`; deposits and NGR from `report_player_days`) carries `affiliate_id = :affiliate` in its own
WHERE clause, so another partner's rows are never read, let alone returned; and the statement returns
sums only, never a player. NGR is the reports' own: stakes - wins - bonus cost (services/reports/kpis.py),
per player and UTC day from the projection.

Rows are per group key and currency (a partner's players may play in several currencies). Clicks have no
currency: they are counted on the rows in the partner's payout currency. Days are UTC days.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import DomainError

MAX_DAYS = 366
MAX_ROWS = 1000  # a partner with more sub-ids than this in one range reads them in shorter ranges


class Group(StrEnum):
    DAY = "day"
    SUB_ID = "sub_id"
    LINK = "link"
    BRAND = "brand"


@dataclass(frozen=True)
class StatsRow:
    key: str
    label: str | None
    currency: str
    clicks: int
    registrations: int
    ftds: int
    ftd_amount: int
    deposits: int
    ngr: int


def _key(group: Group, source: str, day: str) -> tuple[str, str, str]:
    """(key expression, label expression, joins) for a part whose link, brand and sub-id are `source`'s."""
    if group is Group.DAY:
        return f"CAST({day} AS text)", "CAST(NULL AS text)", ""
    if group is Group.SUB_ID:
        return f"coalesce({source}.sub_id, '')", "CAST(NULL AS text)", ""
    if group is Group.LINK:
        # The link is the partner's own (the source row is): the join adds its code, not rows of others.
        return "l.code", "l.tag", f"JOIN affiliate_links l ON l.id = {source}.link_id"
    return "b.code", "CAST(NULL AS text)", f"JOIN brands b ON b.id = {source}.brand_id"


def _statement(group: Group) -> str:
    clicks_key, clicks_label, clicks_join = _key(group, "c", "CAST(c.clicked_at AT TIME ZONE 'UTC' AS date)")
    reg_key, reg_label, reg_join = _key(group, "t", "CAST(t.attributed_at AT TIME ZONE 'UTC' AS date)")
    ftd_key, ftd_label, ftd_join = _key(group, "t", "r.first_deposit_on")
    day_key, day_label, day_join = _key(group, "t", "d.day")
    return f"""
WITH parts (key, label, currency, clicks, registrations, ftds, ftd_amount, deposits, ngr) AS (
  SELECT {clicks_key}, {clicks_label}, a.payout_currency, count(*), 0, 0, 0, 0, 0
  FROM affiliate_clicks c JOIN affiliates a ON a.id = c.affiliate_id {clicks_join}
  WHERE c.affiliate_id = :affiliate AND c.clicked_at >= :since AND c.clicked_at < :until
  GROUP BY 1, 2, 3
  UNION ALL
  SELECT {reg_key}, {reg_label}, p.currency, 0, count(*), 0, 0, 0, 0
  FROM affiliate_attributions t JOIN players p ON p.id = t.player_id {reg_join}
  WHERE t.affiliate_id = :affiliate AND t.attributed_at >= :since AND t.attributed_at < :until
  GROUP BY 1, 2, 3
  UNION ALL
  SELECT {ftd_key}, {ftd_label}, r.first_deposit_currency, 0, 0, count(*), sum(r.first_deposit_amount), 0, 0
  FROM affiliate_attributions t JOIN report_players r ON r.player_id = t.player_id {ftd_join}
  WHERE t.affiliate_id = :affiliate AND r.first_deposit_on BETWEEN :start AND :end
    AND r.first_deposit_currency IS NOT NULL
  GROUP BY 1, 2, 3
  UNION ALL
  SELECT {day_key}, {day_label}, d.currency, 0, 0, 0, 0, sum(d.deposits), sum(d.stakes - d.wins - d.bonus_cost)
  FROM affiliate_attributions t JOIN report_player_days d ON d.player_id = t.player_id {day_join}
  WHERE t.affiliate_id = :affiliate AND d.day BETWEEN :start AND :end
  GROUP BY 1, 2, 3
)
SELECT key, max(label) AS label, currency, sum(clicks) AS clicks, sum(registrations) AS registrations,
       sum(ftds) AS ftds, sum(ftd_amount) AS ftd_amount, sum(deposits) AS deposits, sum(ngr) AS ngr
FROM parts GROUP BY key, currency ORDER BY key, currency LIMIT {MAX_ROWS}"""  # noqa: S608  (fixed SQL per group)


_STATEMENTS = {group: text(_statement(group)) for group in Group}


async def partner_stats(
    db: AsyncSession, affiliate_id: uuid.UUID, start: date, end: date, group: Group
) -> list[StatsRow]:
    """The partner's figures from `start` to `end` (UTC days, both included), by `group`."""
    if end < start:
        raise DomainError("`to` is before `from`.", field="to")
    if (end - start).days >= MAX_DAYS:
        raise DomainError(f"At most {MAX_DAYS} days at a time.", field="to")
    if end >= date.max:  # its next day, the range's end below, is past the calendar
        raise DomainError(f"`to` is at most {date.max - timedelta(days=1)}.", field="to")
    since = datetime.combine(start, time(), tzinfo=UTC)
    until = datetime.combine(end + timedelta(days=1), time(), tzinfo=UTC)
    rows = await db.execute(
        _STATEMENTS[group],
        {"affiliate": affiliate_id, "start": start, "end": end, "since": since, "until": until},
    )
    return [
        StatsRow(
            key=row.key,
            label=row.label,
            currency=row.currency,
            clicks=int(row.clicks),
            registrations=int(row.registrations),
            ftds=int(row.ftds),
            ftd_amount=int(row.ftd_amount),
            deposits=int(row.deposits),
            ngr=int(row.ngr),
        )
        for row in rows
    ]
