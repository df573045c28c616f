"""SQLModel tables, one module per domain. Importing this package registers every table."""

from models.adjustments import Adjustment
from models.audit import AuditRecord
from models.auth import AuthSession, RefreshToken
from models.brands import Brand
from models.ledger import Currency, LedgerAccount, LedgerHold, LedgerPosting, LedgerTransaction
from models.outbox import OutboxEvent
from models.payments import Payment, PaymentAttempt, PspWebhookReceipt
from models.players import Player, PlayerStatus
from models.staff import StaffRole, StaffStatus, StaffUser

__all__ = [
    "Adjustment",
    "AuditRecord",
    "AuthSession",
    "Brand",
    "Currency",
    "LedgerAccount",
    "LedgerHold",
    "LedgerPosting",
    "LedgerTransaction",
    "OutboxEvent",
    "Payment",
    "PaymentAttempt",
    "Player",
    "PlayerStatus",
    "PspWebhookReceipt",
    "RefreshToken",
    "StaffRole",
    "StaffStatus",
    "StaffUser",
]
