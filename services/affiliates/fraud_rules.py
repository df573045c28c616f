"""The checks that find fraud on a partner's sub-id, as set-based reads over the sub-ids' players.

A sub-id is a (partner, brand, sub-id) triple; players attributed without a sub-id form the sub-id ''.
Each check reads the players attributed within `lookback_days` and names the sub-ids it finds, each with
the players behind the finding and what it saw about each (the evidence staff review):
- `linked_accounts`: players in a risk cluster with another account (services/risk/consumer.py builds the
  clusters from strong signals: a device, card, payment account, mailbox, phone, postal address), with the
  strong signal kinds they share with their cluster;
- `deposit_and_leave`: players who deposited and placed no bet within `within_days` of their first
  deposit, and withdrew in that time or let it pass (from `report_player_days`, by UTC day);
- `one_device`: players seen with one value of a signal kind (a device id by default; its value masked);
- `withheld_unreviewed`: CPAs withheld with no open flag on their sub-id (a player who qualified on a
  sub-id confirmed as fraud: `cpa_hold_reason` withholds it, and this check puts it before staff).
The thresholds are data (fraud.toml). Every statement is one read whatever the number of sub-ids.
"""

from __future__ import annotations

import tomllib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core import prepared
from core.prepared import Statement
from services.risk.signals import STRONG, mask

RULES = Path(__file__).with_name("fraud.toml")


class Reason(StrEnum):
    LINKED_ACCOUNTS = "linked_accounts"
    DEPOSIT_AND_LEAVE = "deposit_and_leave"
    ONE_DEVICE = "one_device"
    WITHHELD_UNREVIEWED = "withheld_unreviewed"


@dataclass(frozen=True)
class Thresholds:
    lookback_days: int = 90
    linked_min_players: int = 2
    leave_within_days: int = 7
    leave_min_players: int = 3
    leave_min_share_percent: int = 50
    device_kinds: tuple[str, ...] = ("device",)
    device_min_players: int = 3

    @classmethod
    def load(cls, path: Path = RULES) -> Thresholds:
        raw: dict[str, Any] = tomllib.loads(path.read_text())
        linked, leave, device = raw["linked_accounts"], raw["deposit_and_leave"], raw["one_device"]
        found = cls(
            lookback_days=int(raw["lookback_days"]),
            linked_min_players=int(linked["min_players"]),
            leave_within_days=int(leave["within_days"]),
            leave_min_players=int(leave["min_players"]),
            leave_min_share_percent=int(leave["min_share_percent"]),
            device_kinds=tuple(str(k) for k in device["kinds"]),
            device_min_players=int(device["min_players"]),
        )
        if min(found.linked_min_players, found.leave_min_players, found.device_min_players) < 1:
            raise ValueError(f"{path}: a check needs at least one player")
        if found.lookback_days < 1 or found.leave_within_days < 1 or not 0 <= found.leave_min_share_percent <= 100:
            raise ValueError(f"{path}: days are at least 1, a share is 0 to 100 per cent")
        return found


SubIdKey = tuple[uuid.UUID, uuid.UUID, str]  # partner, brand, sub-id ('' for none)


@dataclass
class Finding:
    """What the checks found on one sub-id: the players named, and the evidence per reason."""

    key: SubIdKey
    player_ids: set[uuid.UUID] = field(default_factory=set)
    evidence: dict[str, dict[str, Any]] = field(default_factory=dict)

    def add(self, reason: Reason, detail: str, players: Sequence[dict[str, Any]]) -> None:
        entry = self.evidence.setdefault(reason.value, {"detail": detail, "players": []})
        if entry["detail"] != detail:
            entry["detail"] = f"{entry['detail']}; {detail}"
        known = {p["player_id"] for p in entry["players"]}
        for player in players:
            self.player_ids.add(uuid.UUID(player["player_id"]))
            if player["player_id"] not in known:
                entry["players"].append(player)

    @property
    def reasons(self) -> list[str]:
        return sorted(self.evidence)


_SUB = """
WITH sub AS (
  SELECT a.affiliate_id, a.brand_id, coalesce(a.sub_id, '') AS sub_id, a.player_id
  FROM affiliate_attributions a WHERE a.attributed_at >= :since
)"""

_LINKED = Statement(
    f"""{_SUB}
SELECT s.affiliate_id, s.brand_id, s.sub_id, s.player_id, c.cluster_id,
       ARRAY(SELECT DISTINCT x.kind FROM risk_signals x
             WHERE x.player_id = s.player_id AND x.kind = ANY(:strong)
               AND EXISTS (SELECT 1 FROM risk_signals o JOIN risk_clusters oc ON oc.player_id = o.player_id
                           WHERE o.kind = x.kind AND o.value = x.value AND o.player_id <> x.player_id
                             AND oc.cluster_id = c.cluster_id)
             ORDER BY 1) AS kinds
FROM sub s JOIN risk_clusters c ON c.player_id = s.player_id
WHERE EXISTS (SELECT 1 FROM risk_clusters m WHERE m.cluster_id = c.cluster_id AND m.player_id <> s.player_id)
  AND (s.affiliate_id, s.brand_id, s.sub_id) IN (
    SELECT s2.affiliate_id, s2.brand_id, s2.sub_id FROM sub s2 JOIN risk_clusters c2 ON c2.player_id = s2.player_id
    WHERE EXISTS (SELECT 1 FROM risk_clusters m2 WHERE m2.cluster_id = c2.cluster_id AND m2.player_id <> s2.player_id)
    GROUP BY 1, 2, 3 HAVING count(*) >= :min_players)
ORDER BY s.player_id"""  # noqa: S608  (constants)
)

_DEVICE = Statement(
    f"""{_SUB}
SELECT s.affiliate_id, s.brand_id, s.sub_id, r.kind, r.value, array_agg(DISTINCT s.player_id) AS players
FROM sub s JOIN risk_signals r ON r.player_id = s.player_id AND r.kind = ANY(:kinds)
GROUP BY 1, 2, 3, 4, 5 HAVING count(DISTINCT s.player_id) >= :min_players
ORDER BY 4, 5"""  # noqa: S608  (constants)
)

_LEAVE = Statement(
    f"""{_SUB},
firsts AS (
  SELECT s.affiliate_id, s.brand_id, s.sub_id, s.player_id, min(d.day) AS first_day
  FROM sub s JOIN report_player_days d ON d.player_id = s.player_id AND d.deposits > 0
  GROUP BY 1, 2, 3, 4
), judged AS (
  SELECT f.affiliate_id, f.brand_id, f.sub_id, f.player_id, f.first_day,
         coalesce(sum(d.bet_count), 0) = 0
           AND (coalesce(sum(d.withdrawal_count), 0) > 0
                OR CAST(:today AS date) >= f.first_day + CAST(:days AS integer)) AS left_,
         coalesce(sum(d.withdrawal_count), 0) > 0 AS withdrew
  FROM firsts f LEFT JOIN report_player_days d
    ON d.player_id = f.player_id AND d.day >= f.first_day AND d.day < f.first_day + CAST(:days AS integer)
  GROUP BY 1, 2, 3, 4, 5
), counted AS (
  SELECT j.*, count(*) OVER w AS depositors, count(*) FILTER (WHERE j.left_) OVER w AS leavers
  FROM judged j WINDOW w AS (PARTITION BY j.affiliate_id, j.brand_id, j.sub_id)
)
SELECT affiliate_id, brand_id, sub_id, player_id, first_day, withdrew, depositors, leavers FROM counted
WHERE left_ AND leavers >= :min_players AND leavers * 100 >= :share * depositors
ORDER BY player_id"""  # noqa: S608  (constants)
)

_UNREVIEWED = Statement("""
SELECT a.affiliate_id, a.brand_id, coalesce(a.sub_id, '') AS sub_id, q.player_id, q.reason
FROM affiliate_qualifications q JOIN affiliate_attributions a ON a.player_id = q.player_id
WHERE q.status = 'withheld'
  AND NOT EXISTS (SELECT 1 FROM affiliate_subid_flags f
                  WHERE f.affiliate_id = a.affiliate_id AND f.brand_id = a.brand_id
                    AND f.sub_id = coalesce(a.sub_id, '') AND f.status = 'open')
ORDER BY q.player_id""")


def _key(row: Any) -> SubIdKey:
    return (row.affiliate_id, row.brand_id, row.sub_id)


async def findings(db: AsyncSession, thresholds: Thresholds, *, now: datetime) -> dict[SubIdKey, Finding]:
    """Every sub-id a check finds now, with its evidence (four statements)."""
    found: dict[SubIdKey, Finding] = {}

    def finding(row: Any) -> Finding:
        return found.setdefault(_key(row), Finding(_key(row)))

    since = now - timedelta(days=thresholds.lookback_days)
    strong = sorted(k.value for k in STRONG)
    linked = await prepared.rows(
        db, _LINKED, {"since": since, "strong": strong, "min_players": thresholds.linked_min_players}
    )
    for row in linked:
        kinds = ", ".join(row.kinds) or "linked through other accounts"
        finding(row).add(
            Reason.LINKED_ACCOUNTS,
            f"at least {thresholds.linked_min_players} players linked to other accounts",
            [{"player_id": str(row.player_id), "detail": f"cluster {row.cluster_id}: {kinds}"}],
        )
    device = await prepared.rows(
        db,
        _DEVICE,
        {"since": since, "kinds": list(thresholds.device_kinds), "min_players": thresholds.device_min_players},
    )
    for row in device:
        finding(row).add(
            Reason.ONE_DEVICE,
            f"{len(row.players)} players seen with one {row.kind} ({mask(row.kind, row.value)})",
            [{"player_id": str(p), "detail": f"{row.kind} {mask(row.kind, row.value)}"} for p in sorted(row.players)],
        )
    today: date = now.date()
    leave = await prepared.rows(
        db,
        _LEAVE,
        {
            "since": since,
            "today": today,
            "days": thresholds.leave_within_days,
            "min_players": thresholds.leave_min_players,
            "share": thresholds.leave_min_share_percent,
        },
    )
    for row in leave:
        then = "withdrew" if row.withdrew else "nothing since"
        finding(row).add(
            Reason.DEPOSIT_AND_LEAVE,
            f"{row.leavers} of {row.depositors} depositing players placed no bet within "
            f"{thresholds.leave_within_days} days of their first deposit",
            [{"player_id": str(row.player_id), "detail": f"first deposit {row.first_day}, no bet, {then}"}],
        )
    for row in await prepared.rows(db, _UNREVIEWED, {}):
        finding(row).add(
            Reason.WITHHELD_UNREVIEWED,
            "CPA withheld with no open flag on the sub-id",
            [{"player_id": str(row.player_id), "detail": row.reason or "withheld"}],
        )
    return found
