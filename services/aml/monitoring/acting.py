"""What a monitoring alert's outcome does at raise, in the consumer's transaction (services/aml/monitoring/
consumer.py), so it commits with the alert and the processed event ids: redelivery changes nothing.

- `review`: nothing more; staff triage the alert, and confirming it opens a case (monitoring/alerts.py).
- `block_and_review`: an AML case is opened (source `monitoring`, the alert's id: the same case a later
  confirmation finds) and the account is restricted by it (services/aml/restrictions.py: no deposits, no
  new real-money play, no bonus claims, withdrawals held for a person).
- `decline`: the same, and the case goes straight to the MLRO (`escalated`, the escalation deadline).
  Monitoring reads committed facts, so the money already moved; what declines from now on is the
  restriction's gates, until the MLRO lifts it.

Why raw SQL and not `cases.open_case` / `restrictions.restrict`: those take an ORM session, and a consumer's
effects commit on its own asyncpg connection with the processed ids (core/consumers.py). Opening the case
through a second transaction (or a case-opening consumer) would leave a window where the alert exists and
the restriction does not; one transaction keeps "raised at block_and_review" and "restricted" together.
The statements write what those functions write: the case (`ON CONFLICT (source, source_id) DO NOTHING`,
the case module's own idempotency), its history, the restriction, the `aml.case_opened` and
`aml.restriction_changed` events (subject `aml_case:<id>`, never the player's channel) and the audit
records (`audit.append_system`, the same hash chain).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

from core import outbox
from core.clock import clock
from core.ids import new_id
from models.aml_cases import CaseState
from services import audit
from services.aml.cases import case_type

ACTING = ("block_and_review", "decline")
SOURCE = "monitoring"  # as monitoring/alerts.decide names it: confirming such an alert finds this case

_OPEN = """
INSERT INTO aml_cases (id, brand_id, player_id, source, source_id, case_type, summary, state, due_at, escalated_at,
                       created_at, updated_at)
SELECT t.i, p.brand_id, t.p, $1, t.s, t.k, t.m, t.st, t.d, t.e, $2, $2
FROM unnest($3::uuid[], $4::uuid[], $5::text[], $6::text[], $7::text[], $8::text[], $9::timestamptz[],
            $10::timestamptz[]) AS t(i, p, s, k, m, st, d, e)
JOIN players p ON p.id = t.p
ON CONFLICT (source, source_id) DO NOTHING
RETURNING id, brand_id, player_id, source_id, case_type, state, due_at"""
_RESTRICT = """
INSERT INTO aml_restrictions (id, case_id, player_id, brand_id, imposed_by, created_at)
SELECT i, c, p, b, NULL, $5 FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[]) AS t(i, c, p, b)"""
_HISTORY = """
INSERT INTO aml_case_events (id, case_id, action, actor_id, details, created_at)
SELECT i, c, a, NULL, d, $5 FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::jsonb[]) AS t(i, c, a, d)"""


@dataclass(frozen=True)
class Raised:
    """A new alert as the consumer stored it."""

    alert_id: str
    player_id: str
    score: int
    outcome: str
    rules: Sequence[str]


async def act(conn: asyncpg.Connection, alerts: Sequence[Raised]) -> int:
    """Open a restricting case for each new alert at `block_and_review` or `decline`; returns how many."""
    acting = [a for a in alerts if a.outcome in ACTING]
    if not acting:
        return 0
    now = clock.now()
    ids, players, sources, kinds, summaries, states, dues, escalations = [], [], [], [], [], [], [], []
    for alert in acting:
        kind = case_type("structuring" if "structuring" in alert.rules else "monitoring")
        escalated = alert.outcome == "decline"
        ids.append(new_id())
        players.append(uuid.UUID(alert.player_id))
        sources.append(alert.alert_id)
        kinds.append(kind.name)
        summaries.append(
            f"Monitoring alert at {alert.outcome}: {', '.join(sorted(alert.rules))} (score {alert.score}); "
            "the account is restricted until the MLRO lifts it."
        )
        states.append(CaseState.ESCALATED.value if escalated else CaseState.OPEN.value)
        dues.append(now + (kind.escalated if escalated else kind.review))
        escalations.append(now if escalated else None)
    opened = await conn.fetch(_OPEN, SOURCE, now, ids, players, sources, kinds, summaries, states, dues, escalations)
    if not opened:
        return 0
    await conn.execute(
        _RESTRICT,
        [new_id() for _ in opened],
        [c["id"] for c in opened],
        [c["player_id"] for c in opened],
        [c["brand_id"] for c in opened],
        now,
    )
    outcome_of = {a.alert_id: a.outcome for a in acting}
    history: list[tuple[uuid.UUID, str, dict[str, object]]] = []
    events: list[outbox.Event] = []
    entries: list[audit.SystemEntry] = []
    for case in opened:
        details = {
            "source": SOURCE,
            "source_id": case["source_id"],
            "case_type": case["case_type"],
            "due_at": case["due_at"].isoformat(),
            "state": case["state"],
        }
        restricted: dict[str, object] = {"restricted": True}
        history += [(case["id"], "case_opened", details), (case["id"], "account_restricted", restricted)]
        base = {"case_id": str(case["id"]), "player_id": str(case["player_id"]), "staff_id": None}
        subject, brand = f"aml_case:{case['id']}", case["brand_id"]
        events += [
            outbox.event(
                "aml.case_opened",
                subject,
                {**base, "source": SOURCE, "case_type": case["case_type"]},
                brand_id=brand,
                at=now,
            ),
            outbox.event("aml.restriction_changed", subject, {**base, **restricted}, brand_id=brand, at=now),
        ]
        why = f"monitoring alert {case['source_id']} at {outcome_of[case['source_id']]}"
        after, case_id = {"player_id": str(case["player_id"])}, str(case["id"])
        entries += [
            audit.SystemEntry("aml.case_opened", "aml_case", case_id, brand, {**after, **details}, why),
            audit.SystemEntry("aml.account_restricted", "aml_case", case_id, brand, {**after, **restricted}, why),
        ]
    await conn.execute(
        _HISTORY,
        [new_id() for _ in history],
        [h[0] for h in history],
        [h[1] for h in history],
        [json.dumps(h[2]) for h in history],
        now,
    )
    await conn.execute(outbox.INSERT_EVENTS_ASYNCPG, *outbox.events_params(events).values())
    await audit.append_system(conn, entries)  # last: the audit chain's lock is held until the commit
    return len(opened)
