"""SQLModel tables, one module per domain. Importing this package registers every table."""

from models.audit import AuditRecord
from models.auth import AuthSession, RefreshToken
from models.brands import Brand
from models.players import Player, PlayerStatus
from models.staff import StaffRole, StaffStatus, StaffUser

__all__ = [
    "AuditRecord",
    "AuthSession",
    "Brand",
    "Player",
    "PlayerStatus",
    "RefreshToken",
    "StaffRole",
    "StaffStatus",
    "StaffUser",
]
