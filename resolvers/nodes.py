"""`node(id:)`: any object by global id, through the same ownership filters as its own query."""

from __future__ import annotations

import re
from typing import Any

import strawberry
from sqlmodel import col, select
from strawberry import relay

from core.errors import bad_input
from core.ids import parse_uuid
from models import audit as audit_models
from models import brands as brand_models
from models import players as player_models
from models import staff as staff_models
from resolvers.audit import readable_topics
from schema.brands import Brand
from schema.context import Info
from schema.players import Player, Session
from schema.staff import AuditRecord, StaffUser
from services import audit, players, staff


async def node(info: Info, id: strawberry.ID) -> relay.Node | None:
    try:
        gid = relay.GlobalID.from_id(id)
    except (ValueError, TypeError) as exc:
        raise bad_input("Malformed global id.", field="id") from exc
    viewer = info.context.viewer
    allowed = info.context.allowed
    rt = info.context.rt
    found: Any = None
    async with rt.database.session() as db:
        if gid.type_name == "AuditRecord":
            if not re.fullmatch(r"[0-9]{1,18}", gid.node_id) or "Query.auditLog" not in allowed:
                return None
            record = await db.scalar(
                audit.readable_records(viewer, audit.AuditFilter(), topics=readable_topics(info)).where(
                    col(audit_models.AuditRecord.seq) == int(gid.node_id)
                )
            )
            return AuditRecord.from_model(record) if record else None
        node_id = parse_uuid(gid.node_id)
        if node_id is None:
            raise bad_input("Malformed global id.", field="id")
        if gid.type_name == "Player":
            if viewer.is_staff and "Query.player" not in allowed:
                return None
            found = await db.scalar(players.readable_players(viewer).where(col(player_models.Player.id) == node_id))
            return Player.from_model(found) if found else None
        if gid.type_name == "Session":
            if viewer.id is None or (viewer.is_staff and "Player.sessions" not in allowed):
                return None
            from models.auth import AuthSession

            session = await db.get(AuthSession, node_id)
            if session is None or session.subject_type != "player":
                return None
            visible = await db.scalar(
                players.readable_sessions(viewer, session.subject_id).where(col(AuthSession.id) == node_id)
            )
            return Session.from_model(visible, viewer.session_id) if visible else None
        if gid.type_name == "StaffUser":
            if not viewer.is_staff:
                return None
            if viewer.id != node_id and "Query.staffUsers" not in allowed:
                return None
            found = await db.scalar(staff.readable_staff(viewer).where(col(staff_models.StaffUser.id) == node_id))
            return StaffUser.from_model(found) if found else None
        if gid.type_name == "LedgerTransaction":
            if "Query.ledgerTransaction" not in allowed and not viewer.is_player:
                return None
            from resolvers.wallet import ledger_transaction

            return await ledger_transaction(info, id)
        if gid.type_name == "RgFlag":
            if "Query.rgFlags" not in allowed:
                return None
            from models.rg import RgFlag as FlagRow
            from schema.rg import RgFlag
            from services.rg.flags import readable_flags

            flag = await db.scalar(readable_flags(viewer).where(col(FlagRow.id) == node_id))
            return RgFlag.from_model(flag) if flag else None
        if gid.type_name == "Adjustment":
            if "Query.adjustments" not in allowed:
                return None
            from models.adjustments import Adjustment as AdjustmentRow
            from schema.wallet import Adjustment

            readable = players.readable_players(viewer).with_only_columns(col(player_models.Player.id))
            row = await db.scalar(
                select(AdjustmentRow).where(
                    col(AdjustmentRow.id) == node_id, col(AdjustmentRow.player_id).in_(readable)
                )
            )
            return Adjustment.from_model(row) if row else None
        if gid.type_name == "ScreeningAlert":
            if "Query.screeningAlerts" not in allowed:
                return None
            from schema.aml import ScreeningAlert
            from services.aml import alerts

            alert = await db.scalar(alerts.readable_alerts(viewer).where(alerts.by_id(node_id)))
            return ScreeningAlert.from_model(alert) if alert else None
        if gid.type_name == "Payment":
            if viewer.is_staff and "Query.payment" not in allowed:
                return None
            from models.payments import Payment as PaymentRow
            from schema.cashier import Payment
            from services import cashier

            row = await db.scalar(cashier.readable_payments(viewer).where(col(PaymentRow.id) == node_id))
            return Payment.from_model(row) if row else None
        if gid.type_name == "Game":
            from resolvers.games import game

            return await game(info, id)
        if gid.type_name == "GameRound":
            if viewer.is_staff and "Player.rounds" not in allowed:
                return None
            from resolvers.games import game_round

            return await game_round(info, node_id)
        if gid.type_name == "BonusCampaign":
            if ("Query.bonusCampaigns" if viewer.is_staff else "Query.bonusOffers") not in allowed:
                return None
            from models.bonuses import BonusCampaign as CampaignRow
            from schema.bonuses import BonusCampaign
            from services.bonuses.queries import readable_campaigns

            campaign = await db.scalar(readable_campaigns(viewer).where(col(CampaignRow.id) == node_id))
            return BonusCampaign.from_model(campaign) if campaign else None
        if gid.type_name == "PlayerBonus":
            if "Player.bonuses" not in allowed:
                return None
            from models.bonuses import PlayerBonus as BonusRow
            from schema.bonuses import PlayerBonus
            from services.bonuses.queries import readable_bonuses

            bonus = await db.scalar(readable_bonuses(viewer).where(col(BonusRow.id) == node_id))
            return PlayerBonus.from_model(bonus) if bonus else None
        if gid.type_name == "Tournament":
            if "Query.tournament" not in allowed:
                return None
            from resolvers.tournaments import tournament

            return await tournament(info, id)
        if gid.type_name == "Brand":
            found = await db.scalar(select(brand_models.Brand).where(col(brand_models.Brand.id) == node_id))
            return Brand.from_model(found) if found else None
    raise bad_input(f"{gid.type_name} is not a node type.", field="id")
