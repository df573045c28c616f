"""SQLModel tables, one module per domain. Importing this package registers every table."""

from models.adjustments import Adjustment
from models.affiliate_cpa import AffiliateCpaActivity
from models.affiliate_fraud import AffiliateSubIdFlag
from models.affiliate_postbacks import (
    AffiliatePostbackAttempt,
    AffiliatePostbackConfig,
    AffiliatePostbackDelivery,
    AffiliatePostbackSecret,
)
from models.affiliate_runs import (
    AffiliatePayout,
    AffiliateRun,
    AffiliateRunApproval,
    AffiliateRunDeal,
    AffiliateRunLine,
)
from models.affiliate_tokens import AffiliateApiToken
from models.affiliates import (
    Affiliate,
    AffiliateAttribution,
    AffiliateBrand,
    AffiliateClick,
    AffiliateDeal,
    AffiliateLink,
    AffiliatePlan,
    AffiliateQualification,
    AffiliateUser,
)
from models.aml import PlayerScreening, ScreeningAlert, ScreeningListVersion
from models.aml_cases import AmlCase, AmlCaseEvent, AmlCaseEvidence, AmlCaseNote, AmlRestriction
from models.aml_monitoring import (
    AmlAlert,
    AmlBacktestAlert,
    AmlBacktestRun,
    AmlMonitoringDeposit,
    AmlMonitoringPlayer,
    AmlMonitoringVersion,
)
from models.audit import AuditRecord
from models.auth import AuthSession, RefreshToken
from models.bonuses import BonusCampaign, BonusEvent, BonusWager, PlayerBonus
from models.brands import Brand
from models.closed_loop import ClosedLoopException
from models.crm import CrmConsent, CrmMessage, CrmPlayerTag, CrmSegment, CrmSegmentMember, CrmSuppression
from models.crm_channels import CrmTemplate
from models.crm_content import ContentItem, ContentVersion
from models.crm_experiments import CrmExperiment, CrmExperimentAssignment
from models.crm_journeys import CrmJourney, CrmJourneyRun, CrmJourneyStep
from models.crm_lobby import CrmLobbyLayout, CrmLobbyPopular
from models.crypto import CryptoAddress, CryptoQuote, CryptoTransfer
from models.crypto_refunds import CryptoRefundPayout
from models.disputes import Dispute
from models.free_rounds import FreeRoundsGrant
from models.games import (
    BrandGame,
    CatalogueSyncRun,
    Game,
    GameRound,
    GameSession,
    LobbyCategory,
    LobbyCategoryGame,
    Provider,
    ProviderCall,
    ProviderTransaction,
)
from models.jackpots import (
    Jackpot,
    JackpotCommitment,
    JackpotDay,
    JackpotPool,
    JackpotRefund,
    JackpotSeed,
    JackpotStake,
    JackpotWin,
)
from models.kyc import KycCheck, KycRequirement, KycReview, KycState
from models.kyc_documents import KycDocument, KycDocumentRequest
from models.kyc_idv import IdvApplicant, IdvWebhookReceipt
from models.ledger import Currency, LedgerAccount, LedgerHold, LedgerPosting, LedgerTransaction
from models.outbox import ConsumerParked, ConsumerProcessed, EventConsumer, OutboxEvent, SinkInflight
from models.payment_routing import PaymentRoutingVersion
from models.payments import Payment, PaymentAttempt, PspWebhookReceipt
from models.players import Player, PlayerNote, PlayerStatus
from models.privacy import PrivacyHold, PrivacyRequest
from models.register_hits import RgRegisterHit
from models.reports import (
    FxRate,
    ReportCashierDay,
    ReportCohortDay,
    ReportCohortNgr,
    ReportGameDay,
    ReportPlayer,
    ReportPlayerDay,
    ReportPlayerGap,
)
from models.returns import RegulatoryReturn, ReportExport
from models.rg import RgActivityDay, RgEvent, RgExclusion, RgFlag, RgLimit, RgRealityCheck
from models.staff import StaffRole, StaffStatus, StaffUser
from models.tournaments import Tournament, TournamentEntry, TournamentPrize, TournamentRound

__all__ = [
    "Adjustment",
    "Affiliate",
    "AffiliateApiToken",
    "AffiliateAttribution",
    "AffiliateBrand",
    "AffiliateClick",
    "AffiliateCpaActivity",
    "AffiliateDeal",
    "AffiliateLink",
    "AffiliatePayout",
    "AffiliatePlan",
    "AffiliatePostbackAttempt",
    "AffiliatePostbackConfig",
    "AffiliatePostbackDelivery",
    "AffiliatePostbackSecret",
    "AffiliateQualification",
    "AffiliateRun",
    "AffiliateRunApproval",
    "AffiliateRunDeal",
    "AffiliateRunLine",
    "AffiliateSubIdFlag",
    "AffiliateUser",
    "AmlAlert",
    "AmlBacktestAlert",
    "AmlBacktestRun",
    "AmlCase",
    "AmlCaseEvent",
    "AmlCaseEvidence",
    "AmlCaseNote",
    "AmlMonitoringDeposit",
    "AmlMonitoringPlayer",
    "AmlMonitoringVersion",
    "AmlRestriction",
    "AuditRecord",
    "AuthSession",
    "BonusCampaign",
    "BonusEvent",
    "BonusWager",
    "Brand",
    "BrandGame",
    "CatalogueSyncRun",
    "ClosedLoopException",
    "ConsumerParked",
    "ConsumerProcessed",
    "ContentItem",
    "ContentVersion",
    "CrmConsent",
    "CrmExperiment",
    "CrmExperimentAssignment",
    "CrmJourney",
    "CrmJourneyRun",
    "CrmJourneyStep",
    "CrmLobbyLayout",
    "CrmLobbyPopular",
    "CrmMessage",
    "CrmPlayerTag",
    "CrmSegment",
    "CrmSegmentMember",
    "CrmSuppression",
    "CrmTemplate",
    "CryptoAddress",
    "CryptoQuote",
    "CryptoRefundPayout",
    "CryptoTransfer",
    "Currency",
    "Dispute",
    "EventConsumer",
    "FreeRoundsGrant",
    "FxRate",
    "Game",
    "GameRound",
    "GameSession",
    "IdvApplicant",
    "IdvWebhookReceipt",
    "Jackpot",
    "JackpotCommitment",
    "JackpotDay",
    "JackpotPool",
    "JackpotRefund",
    "JackpotSeed",
    "JackpotStake",
    "JackpotWin",
    "KycCheck",
    "KycDocument",
    "KycDocumentRequest",
    "KycRequirement",
    "KycReview",
    "KycState",
    "LedgerAccount",
    "LedgerHold",
    "LedgerPosting",
    "LedgerTransaction",
    "LobbyCategory",
    "LobbyCategoryGame",
    "OutboxEvent",
    "Payment",
    "PaymentAttempt",
    "PaymentRoutingVersion",
    "Player",
    "PlayerBonus",
    "PlayerNote",
    "PlayerScreening",
    "PlayerStatus",
    "PrivacyHold",
    "PrivacyRequest",
    "Provider",
    "ProviderCall",
    "ProviderTransaction",
    "PspWebhookReceipt",
    "RefreshToken",
    "RegulatoryReturn",
    "ReportCashierDay",
    "ReportCohortDay",
    "ReportCohortNgr",
    "ReportExport",
    "ReportGameDay",
    "ReportPlayer",
    "ReportPlayerDay",
    "ReportPlayerGap",
    "RgActivityDay",
    "RgEvent",
    "RgExclusion",
    "RgFlag",
    "RgLimit",
    "RgRealityCheck",
    "RgRegisterHit",
    "ScreeningAlert",
    "ScreeningListVersion",
    "SinkInflight",
    "StaffRole",
    "StaffStatus",
    "StaffUser",
    "Tournament",
    "TournamentEntry",
    "TournamentPrize",
    "TournamentRound",
]
