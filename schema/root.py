"""The one schema: Query, Mutation and Subscription composed from the domains, with its limits.

Extensions are given as classes or factories (never shared instances), so every request gets its
own: the request gate (rate limits, credentials, CSRF), the token limit and parser cache, bounded
validation (depth, aliases and cost in linear time, then GraphQL's rules, cached), text length limits
on every input, field permissions (Casbin), and masking of unexpected errors.
"""

from __future__ import annotations

from functools import partial

import strawberry
from graphql import GraphQLError
from graphql.execution.middleware import MiddlewareManager
from graphql.validation.rules import overlapping_fields_can_be_merged
from strawberry import relay
from strawberry.extensions import (
    DisableValidation,  # noqa: F401  (kept importable for benchmarks)
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
)
from strawberry.extensions.disable_introspection import DisableIntrospection
from strawberry.scalars import JSON
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from core.settings import Settings
from resolvers import affiliate_fraud as affiliate_fraud_resolvers
from resolvers import affiliate_plans as affiliate_plan_resolvers
from resolvers import affiliate_portal as affiliate_portal_resolvers
from resolvers import affiliate_postbacks as postback_resolvers
from resolvers import affiliate_runs as affiliate_run_resolvers
from resolvers import affiliates as affiliate_resolvers
from resolvers import aml as screening_resolvers
from resolvers import aml_cases as aml_resolvers
from resolvers import aml_monitoring as monitoring_resolvers
from resolvers import bonuses as bonus_resolvers
from resolvers import brands as brand_resolvers
from resolvers import cashier as cashier_resolvers
from resolvers import catalogue_sync as catalogue_sync_resolvers
from resolvers import closed_loop as closed_loop_resolvers
from resolvers import crm_channels as crm_channel_resolvers
from resolvers import crm_content as content_resolvers
from resolvers import crm_experiments as experiment_resolvers
from resolvers import crm_journeys as journey_resolvers
from resolvers import crm_lobby as lobby_layout_resolvers
from resolvers import crm_segments as crm_segment_resolvers
from resolvers import crm_suppression as crm_suppression_resolvers
from resolvers import crypto as crypto_resolvers
from resolvers import disputes as dispute_resolvers
from resolvers import free_rounds as free_rounds_resolvers
from resolvers import games as game_resolvers
from resolvers import jackpots as jackpot_resolvers
from resolvers import kyc as kyc_resolvers
from resolvers import kyc_documents as kyc_document_resolvers
from resolvers import leaderboards as leaderboard_resolvers
from resolvers import nodes as node_resolvers
from resolvers import payment_routing as routing_resolvers
from resolvers import permissions as permission_resolvers
from resolvers import players as player_resolvers
from resolvers import privacy as privacy_resolvers
from resolvers import providers as provider_resolvers
from resolvers import reports as report_resolvers
from resolvers import rg as rg_resolvers
from resolvers import risk as risk_resolvers
from resolvers import sessions as session_resolvers
from resolvers import staff as staff_resolvers
from resolvers import subscriptions as subscription_resolvers
from resolvers import tournaments as tournament_resolvers
from resolvers import wallet as wallet_resolvers
from schema.affiliate_fraud import AffiliateSubIdFlag, AffiliateSubIdFlagPayload
from schema.affiliate_plans import AffiliateDeal, AffiliateDealPayload, AffiliatePlan, AffiliatePlanPayload
from schema.affiliate_portal import (
    AffiliatePortal,
    AffiliatePortalLinkPayload,
    AffiliateSignInPayload,
    AffiliateSignOutPayload,
    CreateAffiliateTokenPayload,
    RevokeAffiliateTokenPayload,
)
from schema.affiliate_postbacks import (
    AffiliatePostbackConfig,
    AffiliatePostbackConfigPayload,
    AffiliatePostbackDelivery,
    AffiliatePostbackSecret,
    RetryAffiliatePostbackPayload,
    RotateAffiliatePostbackSecretPayload,
)
from schema.affiliate_runs import AffiliateRun, AffiliateRunLine, AffiliateRunPayload
from schema.affiliates import Affiliate, AffiliateLinkPayload, AffiliatePayload, AffiliatePortalUserPayload
from schema.aml import DecideScreeningAlertPayload, ScreeningAlert
from schema.aml_cases import (
    AmlCase,
    AmlCaseEvidencePayload,
    AmlCaseNotePayload,
    AmlCasePayload,
    ExportSarPayload,
)
from schema.aml_monitoring import (
    AmlAlert,
    AmlBacktestAlert,
    AmlBacktestRun,
    AmlMonitoringVersion,
    AmlMonitoringVersionPayload,
    DecideAmlAlertPayload,
)
from schema.base import Connection
from schema.bonuses import (
    BonusCampaign,
    BonusCampaignPayload,
    BonusEligibility,
    BonusLiability,
    BonusProgress,
    PayCashbackPayload,
    PlayerBonus,
    PlayerBonusPayload,
)
from schema.brands import Brand
from schema.cashier import (
    ApproveWithdrawalPayload,
    CancelWithdrawalPayload,
    DepositPayload,
    HeldDepositDecisionPayload,
    Payment,
    RejectWithdrawalPayload,
    RequestWithdrawalPayload,
)
from schema.catalogue_sync import CatalogueSyncPayload, CatalogueSyncRun
from schema.closed_loop import GrantClosedLoopExceptionPayload, RevokeClosedLoopExceptionPayload
from schema.completion_memo import MemoizingExecutionContext
from schema.crm_channels import (
    CrmMessage,
    CrmTemplate,
    CrmTemplatePayload,
    MarkMessageReadPayload,
    SendMessagePayload,
)
from schema.crm_content import ContentEntry, ContentItem, ContentItemPayload, ContentPreview, ContentVersion
from schema.crm_experiments import CrmExperiment, ExperimentPayload, ExperimentResult
from schema.crm_journeys import Journey, JourneyPayload, JourneyRun
from schema.crm_lobby import LobbyLayout, LobbyLayoutPayload, RefreshPopularGamesPayload
from schema.crm_segments import Segment, SegmentPayload, SegmentPreview, UploadSegmentMembersPayload
from schema.crm_suppression import SetConsentsPayload
from schema.crypto import (
    CryptoAddress,
    CryptoDepositAddressPayload,
    CryptoQuotePayload,
    CryptoTransfer,
    CryptoWithdrawPayload,
    HeldCryptoDepositPayload,
)
from schema.disputes import Dispute, DisputePayload
from schema.extensions import (
    DecidedMiddleware,
    DocumentValidation,
    FieldPermissions,
    InputLimits,
    MaskUnexpectedErrors,
    RequestGate,
    limit_inputs,
)
from schema.field_plan import DecisionCache
from schema.free_rounds import FreeRoundsGrant, FreeRoundsGrantPayload
from schema.games import Game, GameRound, LaunchGamePayload, LobbyCategory, SetGameAvailabilityPayload
from schema.jackpots import Jackpot, JackpotPayload, JackpotTick, JackpotVerification
from schema.kyc import KycCase, KycPayload, KycStartVerificationPayload
from schema.kyc_documents import (
    KycDocument,
    KycDocumentPayload,
    KycDocumentRequest,
    KycDocumentRequestPayload,
    KycUploadLinkPayload,
)
from schema.leaderboards import Leaderboard, TournamentVerification
from schema.live import BalanceUpdate, ComplianceQueues, OperationsFigures
from schema.payment_routing import RoutingPreview, RoutingVersion, RoutingVersionPayload
from schema.players import (
    AccountEvent,
    AddPlayerNotePayload,
    LoginPayload,
    Player,
    RegisterPlayerPayload,
    SetPlayerStatusPayload,
    UpdateProfilePayload,
)
from schema.privacy import (
    DataExportPayload,
    PlayerPrivacy,
    PlayerPrivacyPayload,
    PrivacyRequest,
    PrivacyRequestPayload,
)
from schema.providers import CatalogGame, CatalogGamePayload, GameProviderPayload, ImportGamesPayload, ProviderSettings
from schema.reports import (
    FileRegulatoryReturnPayload,
    RegulatoryReturn,
    ReportCohort,
    ReportCohortValue,
    ReportFigures,
    ReportFile,
    ReportGame,
    ReportRegistrations,
)
from schema.rg import (
    ExclusionPayload,
    LimitPayload,
    RealityCheckNotice,
    RealityCheckPayload,
    RecordRgInterventionPayload,
    ResolveRgFlagPayload,
    RgFlag,
)
from schema.risk import (
    RiskFlagPayload,
    RiskListEntry,
    RiskListEntryPayload,
    RiskQueueEntry,
    RiskRestrictionPayload,
    RiskRule,
    RiskRulePayload,
)
from schema.session_ops import ChangePasswordPayload, LogoutPayload, RefreshTokenPayload, RevokeSessionPayload
from schema.staff import (
    AuditRecord,
    CreateStaffUserPayload,
    SetStaffRolesPayload,
    SetStaffStatusPayload,
    StaffLoginPayload,
    StaffUser,
)
from schema.tournaments import JoinTournamentPayload, Tournament, TournamentEntry, TournamentPayload
from schema.wallet import Adjustment, DecideAdjustmentPayload, LedgerTransaction, RequestAdjustmentPayload


@strawberry.type
class Query:
    node: relay.Node | None = strawberry.field(resolver=node_resolvers.node, description="Any object by its global id.")
    me: Player | None = strawberry.field(resolver=player_resolvers.me, description="The logged-in player.")
    current_staff: StaffUser | None = strawberry.field(
        resolver=staff_resolvers.current_staff, description="The logged-in staff member."
    )
    brands: list[Brand] | None = strawberry.field(resolver=brand_resolvers.list_brands)
    brand: Brand | None = strawberry.field(resolver=brand_resolvers.brand)
    players: Connection[Player] | None = strawberry.field(
        resolver=player_resolvers.list_players, description="Players in the viewer's brand, newest first."
    )
    player: Player | None = strawberry.field(resolver=player_resolvers.player)
    staff_users: Connection[StaffUser] | None = strawberry.field(resolver=staff_resolvers.list_staff)
    audit_log: Connection[AuditRecord] | None = strawberry.field(
        resolver=staff_resolvers.audit_log, description="Audit records, newest first."
    )
    payments: Connection[Payment] | None = strawberry.field(
        resolver=cashier_resolvers.list_payments,
        description="Payments, newest first; the withdrawal queue is {kind: WITHDRAWAL, status: REQUESTED}.",
    )
    payment: Payment | None = strawberry.field(resolver=cashier_resolvers.payment)
    crypto_addresses: list[CryptoAddress] | None = strawberry.field(resolver=crypto_resolvers.crypto_addresses)
    crypto_transfers: Connection[CryptoTransfer] | None = strawberry.field(resolver=crypto_resolvers.crypto_transfers)
    ledger_transaction: LedgerTransaction | None = strawberry.field(resolver=wallet_resolvers.ledger_transaction)
    adjustments: Connection[Adjustment] | None = strawberry.field(
        resolver=wallet_resolvers.list_adjustments, description="Manual adjustments, newest first."
    )
    screening_alerts: Connection[ScreeningAlert] | None = strawberry.field(
        resolver=screening_resolvers.list_screening_alerts,
        description="Sanctions and PEP screening alerts, oldest first (the review queue: {state: OPEN}).",
    )
    screening_alert: ScreeningAlert | None = strawberry.field(resolver=screening_resolvers.screening_alert)
    games: Connection[Game] | None = strawberry.field(
        resolver=game_resolvers.list_games,
        description="The game catalog, newest first (anonymous visitors name the brand).",
    )
    game: Game | None = strawberry.field(resolver=game_resolvers.game)
    lobby: list[LobbyCategory] | None = strawberry.field(
        resolver=game_resolvers.lobby,
        description="The lobby's categories with their first `first` games the viewer may play.",
    )
    leaderboard: Leaderboard | None = strawberry.field(
        resolver=leaderboard_resolvers.leaderboard,
        description="A tournament's live leaderboard: its top `first` (at most 100) and the viewing player's position.",
    )
    tournament_verification: TournamentVerification | None = strawberry.field(
        resolver=leaderboard_resolvers.tournament_verification,
        description="Staff: the tournament's standings recomputed from its rounds and compared (and its results hash).",
    )
    risk_list_entries: Connection[RiskListEntry] | None = strawberry.field(
        resolver=risk_resolvers.risk_list_entries,
        description="Block and watch list entries, newest first (default: the active ones).",
    )
    routing_version: RoutingVersion | None = strawberry.field(
        resolver=routing_resolvers.routing_version,
        description="The cashier's routing (rules, PSP terms, payment limits, BIN rules): the live version or another.",
    )
    routing_versions: list[RoutingVersion] | None = strawberry.field(
        resolver=routing_resolvers.routing_versions, description="The stored routing versions, newest first."
    )
    routing_preview: RoutingPreview | None = strawberry.field(
        resolver=routing_resolvers.routing_preview,
        description="Which PSPs a payment with these facts would be tried at, in order, and why.",
    )
    risk_rules: list[RiskRule] | None = strawberry.field(
        resolver=risk_resolvers.risk_rules,
        description="The risk rules the staff member's brand runs (its own and every brand's), by code.",
    )
    risk_queue: Connection[RiskQueueEntry] | None = strawberry.field(
        resolver=risk_resolvers.risk_queue,
        description="Flags for the risk desk (default: open), the highest player score first, then the oldest.",
    )
    affiliate_sub_id_flags: Connection[AffiliateSubIdFlag] | None = strawberry.field(
        resolver=affiliate_fraud_resolvers.affiliate_sub_id_flags,
        description="Affiliate sub-ids flagged for fraud (default: open), newest first.",
    )
    affiliate_sub_id_flag: AffiliateSubIdFlag | None = strawberry.field(
        resolver=affiliate_fraud_resolvers.affiliate_sub_id_flag,
        description="One flagged sub-id with its evidence and its players' CPAs (null: none the viewer may see).",
    )
    kyc_review_queue: Connection[KycCase] | None = strawberry.field(
        resolver=kyc_resolvers.kyc_review_queue,
        description="Players whose KYC needs attention (default: every status but VERIFIED), newest change first.",
    )
    rg_flags: Connection[RgFlag] | None = strawberry.field(
        resolver=rg_resolvers.rg_flags, description="The RG team's queue of risk flags, newest first (default: open)."
    )
    aml_alerts: Connection[AmlAlert] | None = strawberry.field(
        resolver=monitoring_resolvers.aml_alerts,
        description="Transaction-monitoring alerts, newest first (default: open), filtered as asked.",
    )
    aml_alert: AmlAlert | None = strawberry.field(resolver=monitoring_resolvers.aml_alert)
    aml_monitoring_versions: list[AmlMonitoringVersion] | None = strawberry.field(
        resolver=monitoring_resolvers.aml_monitoring_versions, description="Monitoring rule versions, newest first."
    )
    aml_backtests: Connection[AmlBacktestRun] | None = strawberry.field(
        resolver=monitoring_resolvers.aml_backtests, description="Backtests of monitoring versions, newest first."
    )
    aml_backtest_alerts: Connection[AmlBacktestAlert] | None = strawberry.field(
        resolver=monitoring_resolvers.aml_backtest_alerts, description="The alerts a backtest found (never live)."
    )
    bonus_campaigns: list[BonusCampaign] | None = strawberry.field(
        resolver=bonus_resolvers.bonus_campaigns, description="Bonus campaigns of the staff's brands, newest first."
    )
    bonus_eligibility: BonusEligibility | None = strawberry.field(
        resolver=bonus_resolvers.bonus_eligibility, description="Would this player qualify for this campaign now?"
    )
    bonus_liability: list[BonusLiability] | None = strawberry.field(
        resolver=bonus_resolvers.bonus_liability, description="Outstanding bonus money and its expected cost."
    )
    free_rounds_grants: list[FreeRoundsGrant] | None = strawberry.field(
        resolver=free_rounds_resolvers.free_rounds_grants,
        description="Free rounds granted through providers' APIs, newest first (max 100).",
    )
    bonus_offers: list[BonusCampaign] | None = strawberry.field(
        resolver=bonus_resolvers.bonus_offers,
        description="Offers the player may claim now (coded offers are claimed with their code).",
    )
    game_providers: Connection[ProviderSettings] | None = strawberry.field(
        resolver=provider_resolvers.game_providers,
        description="Game providers with their protocol and credentials' fingerprints, newest first (staff).",
    )
    catalog_games: Connection[CatalogGame] | None = strawberry.field(
        resolver=provider_resolvers.catalog_games,
        description="A provider's games as the catalog holds them, disabled ones included, newest first (staff).",
    )
    catalogue_sync_runs: Connection[CatalogueSyncRun] | None = strawberry.field(
        resolver=catalogue_sync_resolvers.catalogue_sync_runs,
        description="Game-list sync runs (what each added, changed, withdrew, or why it failed), newest first (staff).",
    )
    permissions: list[str] | None = strawberry.field(
        resolver=permission_resolvers.permissions,
        description="Which of these schema coordinates (`Type.field`, `Mutation.name`) the viewer may use, in "
        "the request's brand: the decisions every field is checked with (all of them when omitted).",
    )
    reporting_currency: str | None = strawberry.field(
        resolver=report_resolvers.reporting_currency,
        description="The reporting currency (REPORTING_CURRENCY, e.g. EUR): what `reportingCurrency` arguments "
        "usually name to see every currency's figures converted into one.",
    )
    report_figures: list[ReportFigures] | None = strawberry.field(
        resolver=report_resolvers.report_figures,
        description="GGR, NGR, turnover, hold, bonus cost, deposits, withdrawals, FTDs, active and paying players "
        "and ARPPU per period from `start` to `end` (UTC days, inclusive), for the request's brand scope.",
    )
    report_registrations: list[ReportRegistrations] | None = strawberry.field(
        resolver=report_resolvers.report_registrations,
        description="Registrations per period and their conversion to a first deposit made by `asOf`.",
    )
    report_retention: list[ReportCohort] | None = strawberry.field(
        resolver=report_resolvers.report_retention,
        description="D1/D7/D30 (or `days`) retention of the cohorts registered from `start` to `end`.",
    )
    report_lifetime_value: list[ReportCohortValue] | None = strawberry.field(
        resolver=report_resolvers.report_lifetime_value,
        description="Cumulative NGR per registered player of each registration cohort, up to `asOf`.",
    )
    report_games: list[ReportGame] | None = strawberry.field(
        resolver=report_resolvers.report_games,
        description="The games with the highest GGR over the range (at most 100).",
    )
    regulatory_returns: list[RegulatoryReturn] | None = strawberry.field(
        resolver=report_resolvers.regulatory_returns,
        description="Regulatory and tax returns filed for the request's brand scope, newest first (at most 100).",
    )
    aml_cases: Connection[AmlCase] | None = strawberry.field(
        resolver=aml_resolvers.aml_cases,
        description="The AML case queue, newest first: filter by state, assignee, player, type and overdue.",
    )
    aml_case: AmlCase | None = strawberry.field(resolver=aml_resolvers.aml_case)
    disputes: Connection[Dispute] | None = strawberry.field(
        resolver=dispute_resolvers.disputes_list,
        description="Chargeback disputes, newest first: filter by state and player (finance and risk).",
    )
    dispute: Dispute | None = strawberry.field(resolver=dispute_resolvers.dispute)
    tournaments: Connection[Tournament] | None = strawberry.field(
        resolver=tournament_resolvers.tournaments_list,
        description="Tournaments by start, newest first: a player's brand's in their currency and jurisdiction; staff "
        "their brand scope's, with entry counts.",
    )
    tournament: Tournament | None = strawberry.field(resolver=tournament_resolvers.tournament)
    affiliate_runs: Connection[AffiliateRun] | None = strawberry.field(
        resolver=affiliate_run_resolvers.affiliate_runs,
        description="Affiliate commission runs by period, newest first, of the staff's brand scope (finance, affiliate "
        "managers).",
    )
    affiliate_run: AffiliateRun | None = strawberry.field(
        resolver=affiliate_run_resolvers.affiliate_run,
        description="A commission run with its deal sums (carry-over, tier, rate) and payouts.",
    )
    affiliate_run_lines: Connection[AffiliateRunLine] | None = strawberry.field(
        resolver=affiliate_run_resolvers.affiliate_run_lines,
        description="A run's lines (one per player per deal, and second-tier lines), optionally one partner's.",
    )
    affiliates: Connection[Affiliate] | None = strawberry.field(
        resolver=affiliate_resolvers.affiliates_list,
        description="Affiliate partners, newest first: by status, and `search` in their code or company (staff of "
        "a brand: the partners of that brand).",
    )
    affiliate: Affiliate | None = strawberry.field(resolver=affiliate_resolvers.affiliate)
    my_tournament_entries: Connection[TournamentEntry] | None = strawberry.field(
        resolver=tournament_resolvers.my_tournament_entries,
        description="The player's own tournament entries, newest first, with their scores.",
    )
    affiliate_plans: Connection[AffiliatePlan] | None = strawberry.field(
        resolver=affiliate_plan_resolvers.affiliate_plans,
        description="Affiliate commission plans, newest first (optionally of one kind).",
    )
    affiliate_plan: AffiliatePlan | None = strawberry.field(resolver=affiliate_plan_resolvers.affiliate_plan)
    affiliate_deals: Connection[AffiliateDeal] | None = strawberry.field(
        resolver=affiliate_plan_resolvers.affiliate_deals,
        description="Affiliate deals by start, latest first, of a partner and/or brand (the staff's brand scope).",
    )
    affiliate_deal_in_force: AffiliateDeal | None = strawberry.field(
        resolver=affiliate_plan_resolvers.affiliate_deal_in_force,
        description="The deal of a partner and brand in force on a UTC day (today by default); null: none.",
    )
    report_export: ReportFile | None = strawberry.field(
        resolver=report_resolvers.report_export,
        description="A report over a range of days as a CSV or Parquet file (base64), for downloads.",
    )
    my_kyc_documents: Connection[KycDocument] | None = strawberry.field(
        resolver=kyc_document_resolvers.my_kyc_documents,
        description="The player's own KYC documents (metadata and review, not the bytes), newest first.",
    )
    my_kyc_document_requests: list[KycDocumentRequest] | None = strawberry.field(
        resolver=kyc_document_resolvers.my_kyc_document_requests,
        description="The documents KYC asked the player for and is still waiting for.",
    )
    kyc_documents: Connection[KycDocument] | None = strawberry.field(
        resolver=kyc_document_resolvers.kyc_documents,
        description="KYC staff: the document queue (default: pending), or one player's documents, newest first.",
    )
    my_data_export: JSON | None = strawberry.field(
        resolver=privacy_resolvers.my_data_export,
        description="The player's own copy of everything held about them (docs/privacy.md; audited, 5 a day).",
    )
    jackpots: Connection[Jackpot] | None = strawberry.field(
        resolver=jackpot_resolvers.list_jackpots,
        description="The jackpots the viewer's brand plays, newest first, with their pots now (anonymous visitors "
        "name the brand; staff see their brand scope).",
    )
    jackpot: Jackpot | None = strawberry.field(resolver=jackpot_resolvers.jackpot)
    jackpot_verification: JackpotVerification | None = strawberry.field(
        resolver=jackpot_resolvers.jackpot_verification,
        description="Every revealed drop of a jackpot checked against its commitment and the books (anyone who "
        "sees the jackpot).",
    )
    affiliate_postback_configs: Connection[AffiliatePostbackConfig] | None = strawberry.field(
        resolver=postback_resolvers.postback_configs,
        description="Partners' postback configs (one partner's with `partnerCode`), newest first.",
    )
    affiliate_postback_deliveries: Connection[AffiliatePostbackDelivery] | None = strawberry.field(
        resolver=postback_resolvers.postback_deliveries,
        description="The postback delivery log, newest first, with every try.",
    )
    affiliate_postback_secret: AffiliatePostbackSecret | None = strawberry.field(
        resolver=postback_resolvers.postback_secret,
        description="What staff see of a partner's signing secret (null: it has none yet).",
    )
    privacy_requests: Connection[PrivacyRequest] | None = strawberry.field(
        resolver=privacy_resolvers.privacy_requests,
        description="The data-protection officer's queue: erasure requests waiting for a decision, newest first.",
    )
    player_privacy: PlayerPrivacy | None = strawberry.field(
        resolver=privacy_resolvers.player_privacy,
        description="The data-protection officer's view of a player: erasure, requests, retention holds.",
    )
    affiliate_portal: AffiliatePortal | None = strawberry.field(
        resolver=affiliate_portal_resolvers.affiliate_portal,
        description="A partner's own portal (signed-in portal users and API tokens); null for anyone else.",
    )
    crm_experiments: Connection[CrmExperiment] | None = strawberry.field(
        resolver=experiment_resolvers.crm_experiments,
        description="A/B tests, newest first, by status and subject kind (staff of a brand: that brand's).",
    )
    crm_experiment: CrmExperiment | None = strawberry.field(resolver=experiment_resolvers.crm_experiment)
    crm_experiment_result: ExperimentResult | None = strawberry.field(
        resolver=experiment_resolvers.crm_experiment_result,
        description="An A/B test's result per variant with 95 % confidence intervals, from the report projections.",
    )
    lobby_layouts: Connection[LobbyLayout] | None = strawberry.field(
        resolver=lobby_layout_resolvers.lobby_layouts,
        description="Segments' lobby layouts, newest first (staff of a brand: that brand's).",
    )

    segments: Connection[Segment] | None = strawberry.field(
        resolver=crm_segment_resolvers.crm_segments,
        description="CRM segments of the staff's brand scope, newest first (archived ones with `archived: true`).",
    )
    segment: Segment | None = strawberry.field(resolver=crm_segment_resolvers.crm_segment)
    segment_preview: SegmentPreview | None = strawberry.field(
        resolver=crm_segment_resolvers.segment_preview,
        description="The size of rules not saved yet and their first players (up to `limit`, at most 50), now.",
    )
    crm_messages: Connection[CrmMessage] | None = strawberry.field(
        resolver=crm_channel_resolvers.crm_messages,
        description="The CRM message log of the staff's brand scope, newest first: filter by status, channel, player, "
        "source, reason or template.",
    )
    crm_templates: list[CrmTemplate] | None = strawberry.field(
        resolver=crm_channel_resolvers.crm_templates,
        description="The message templates of the staff's brand scope (one key's with `key`), by key and language.",
    )
    banners: list[ContentEntry] = strawberry.field(
        resolver=content_resolvers.banners,
        description="The banners of a placement for the viewer's brand, language, segments and jurisdiction, "
        "highest priority first (anonymous visitors name the brand and get no segment content).",
    )
    promotion_page: ContentEntry | None = strawberry.field(
        resolver=content_resolvers.promotion_page,
        description="The promotion page of a slug the viewer gets now (null: none).",
    )
    content_block: ContentEntry | None = strawberry.field(
        resolver=content_resolvers.content_block,
        description="The content block of a key the viewer gets now (null: none).",
    )
    content_items: Connection[ContentItem] | None = strawberry.field(
        resolver=content_resolvers.content_items,
        description="Content items, last changed first (staff of a brand: that brand's).",
    )
    content_item: ContentItem | None = strawberry.field(resolver=content_resolvers.content_item)
    content_versions: list[ContentVersion] | None = strawberry.field(
        resolver=content_resolvers.content_versions, description="Every version of an item, newest first."
    )
    content_preview: ContentPreview | None = strawberry.field(
        resolver=content_resolvers.content_preview,
        description="What a given player (or an anonymous visitor) would see at an instant, a draft included.",
    )
    journeys: Connection[Journey] | None = strawberry.field(
        resolver=journey_resolvers.journeys, description="CRM journeys, every version, newest first."
    )
    journey: Journey | None = strawberry.field(resolver=journey_resolvers.journey, description="A journey version.")
    player_journey_runs: Connection[JourneyRun] | None = strawberry.field(
        resolver=journey_resolvers.player_journey_runs,
        description="A player's journey runs and skipped triggers, newest first, with each step's outcome.",
    )


@strawberry.type
class Mutation:
    register_player: RegisterPlayerPayload = strawberry.mutation(resolver=player_resolvers.register_player)
    login: LoginPayload = strawberry.mutation(resolver=player_resolvers.login)
    refresh_token: RefreshTokenPayload = strawberry.mutation(resolver=session_resolvers.refresh_token)
    logout: LogoutPayload = strawberry.mutation(resolver=session_resolvers.logout)
    change_password: ChangePasswordPayload = strawberry.mutation(resolver=session_resolvers.change_password)
    revoke_session: RevokeSessionPayload = strawberry.mutation(resolver=session_resolvers.revoke_session)
    update_profile: UpdateProfilePayload = strawberry.mutation(resolver=player_resolvers.update_profile)
    set_player_status: SetPlayerStatusPayload = strawberry.mutation(resolver=player_resolvers.set_player_status)
    add_player_note: AddPlayerNotePayload = strawberry.mutation(
        resolver=player_resolvers.add_player_note, description="A staff note on a player (append-only, audited)."
    )
    staff_login: StaffLoginPayload = strawberry.mutation(resolver=staff_resolvers.staff_login)
    create_staff_user: CreateStaffUserPayload = strawberry.mutation(resolver=staff_resolvers.create_staff_user)
    set_staff_roles: SetStaffRolesPayload = strawberry.mutation(resolver=staff_resolvers.set_staff_roles)
    set_staff_status: SetStaffStatusPayload = strawberry.mutation(resolver=staff_resolvers.set_staff_status)
    deposit: DepositPayload = strawberry.mutation(resolver=cashier_resolvers.deposit)
    crypto_deposit_address: CryptoDepositAddressPayload = strawberry.mutation(
        resolver=crypto_resolvers.crypto_deposit_address,
        description="The player's deposit address for an asset (taken from the crypto processor the first time).",
    )
    crypto_quote: CryptoQuotePayload = strawberry.mutation(
        resolver=crypto_resolvers.crypto_quote, description="Lock a crypto rate for a while (deposits, withdrawals)."
    )
    crypto_withdraw: CryptoWithdrawPayload = strawberry.mutation(
        resolver=crypto_resolvers.crypto_withdraw,
        description="Withdraw to a crypto address, screened on chain before it is taken and before it is paid.",
    )
    release_held_crypto_deposit: HeldCryptoDepositPayload = strawberry.mutation(
        resolver=crypto_resolvers.release_held_crypto_deposit,
        description="Finance: credit a crypto deposit a gate held, once the deposit gates pass (docs/crypto.md).",
    )
    refund_held_crypto_deposit: HeldCryptoDepositPayload = strawberry.mutation(
        resolver=crypto_resolvers.refund_held_crypto_deposit,
        description="Finance: send a held crypto deposit back to its sender's address, screened first.",
    )
    request_withdrawal: RequestWithdrawalPayload = strawberry.mutation(resolver=cashier_resolvers.request_withdrawal)
    approve_withdrawal: ApproveWithdrawalPayload = strawberry.mutation(resolver=cashier_resolvers.approve_withdrawal)
    reject_withdrawal: RejectWithdrawalPayload = strawberry.mutation(resolver=cashier_resolvers.reject_withdrawal)
    cancel_withdrawal: CancelWithdrawalPayload = strawberry.mutation(
        resolver=cashier_resolvers.cancel_withdrawal, description="The player takes back a withdrawal not yet sent."
    )
    grant_closed_loop_exception: GrantClosedLoopExceptionPayload = strawberry.mutation(
        resolver=closed_loop_resolvers.grant_closed_loop_exception,
        description="Waive (part of) a player's loop share, with a reason (audited): withdrawals may go elsewhere.",
    )
    revoke_closed_loop_exception: RevokeClosedLoopExceptionPayload = strawberry.mutation(
        resolver=closed_loop_resolvers.revoke_closed_loop_exception,
        description="Revoke a closed-loop exception, with a reason (audited): its amount is owed to the share again.",
    )
    release_held_deposit: HeldDepositDecisionPayload = strawberry.mutation(
        resolver=cashier_resolvers.release_held_deposit,
        description="The risk desk lets a deposit a risk rule held go on to the PSPs (audited).",
    )
    decline_held_deposit: HeldDepositDecisionPayload = strawberry.mutation(
        resolver=cashier_resolvers.decline_held_deposit,
        description="The risk desk declines a deposit a risk rule held: it fails with RISK_DECLINED (audited).",
    )
    request_adjustment: RequestAdjustmentPayload = strawberry.mutation(resolver=wallet_resolvers.request_adjustment)
    decide_adjustment: DecideAdjustmentPayload = strawberry.mutation(resolver=wallet_resolvers.decide_adjustment)
    decide_screening_alert: DecideScreeningAlertPayload = strawberry.mutation(
        resolver=screening_resolvers.decide_screening_alert,
        description="A staff decision on a screening alert: false positive (remembered) or confirmed match.",
    )
    set_game_availability: SetGameAvailabilityPayload = strawberry.mutation(
        resolver=game_resolvers.set_game_availability
    )
    launch_game: LaunchGamePayload = strawberry.mutation(resolver=game_resolvers.launch_game)
    add_game_provider: GameProviderPayload = strawberry.mutation(
        resolver=provider_resolvers.add_game_provider, description="Onboard a game provider (audited)."
    )
    update_game_provider: GameProviderPayload = strawberry.mutation(
        resolver=provider_resolvers.update_game_provider, description="Change a provider's name or launch URL."
    )
    set_game_provider_key: GameProviderPayload = strawberry.mutation(
        resolver=provider_resolvers.set_game_provider_key,
        description="Set or rotate an RSA provider's public key: the old key stops verifying at once (audited with "
        "both fingerprints).",
    )
    set_game_provider_secret_ref: GameProviderPayload = strawberry.mutation(
        resolver=provider_resolvers.set_game_provider_secret_ref,
        description="Point an HMAC provider at another PROVIDER_SECRETS entry (the secret stays in the settings).",
    )
    set_game_provider_enabled: GameProviderPayload = strawberry.mutation(
        resolver=provider_resolvers.set_game_provider_enabled,
        description="Switch a provider on or off: off, its wallet calls are refused and its games leave the lobbies.",
    )
    create_game: CatalogGamePayload = strawberry.mutation(
        resolver=provider_resolvers.create_game, description="Add a game to a provider's catalog (audited)."
    )
    update_game: CatalogGamePayload = strawberry.mutation(
        resolver=provider_resolvers.update_game, description="Change a game's catalog fields (null: unchanged)."
    )
    set_game_enabled: CatalogGamePayload = strawberry.mutation(
        resolver=provider_resolvers.set_game_enabled,
        description="Switch a game on or off for every brand (each brand has its own: setGameAvailability).",
    )
    import_games: ImportGamesPayload = strawberry.mutation(
        resolver=provider_resolvers.import_games,
        description="Upsert a provider's games from its game list (Hub88 /game/list shape); `dryRun` only reports.",
    )
    sync_game_catalogue: CatalogueSyncPayload = strawberry.mutation(
        resolver=catalogue_sync_resolvers.sync_game_catalogue,
        description="Pull a provider's game list into the catalogue now, as the schedule does (the run is reported).",
    )
    set_limit: LimitPayload = strawberry.mutation(
        resolver=rg_resolvers.set_limit,
        description="Set or remove a limit: lower applies at once, higher or removed after cooling-off + confirmation.",
    )
    confirm_limit_change: LimitPayload = strawberry.mutation(resolver=rg_resolvers.confirm_limit_change)
    cancel_limit_change: LimitPayload = strawberry.mutation(resolver=rg_resolvers.cancel_limit_change)
    take_time_out: ExclusionPayload = strawberry.mutation(resolver=rg_resolvers.take_time_out)
    self_exclude: ExclusionPayload = strawberry.mutation(resolver=rg_resolvers.self_exclude)
    impose_exclusion: ExclusionPayload = strawberry.mutation(
        resolver=rg_resolvers.impose_exclusion,
        description="Staff exclude a player, with a reason (audited); it reaches the person's accounts at every brand.",
    )
    set_reality_check: RealityCheckPayload = strawberry.mutation(resolver=rg_resolvers.set_reality_check)
    answer_reality_check: RealityCheckPayload = strawberry.mutation(resolver=rg_resolvers.answer_reality_check)
    record_rg_intervention: RecordRgInterventionPayload = strawberry.mutation(
        resolver=rg_resolvers.record_rg_intervention
    )
    resolve_rg_flag: ResolveRgFlagPayload = strawberry.mutation(resolver=rg_resolvers.resolve_rg_flag)
    kyc_approve_level: KycPayload = strawberry.mutation(
        resolver=kyc_resolvers.kyc_approve_level,
        description="Approve a player's next KYC level once its other requirements are met (four eyes where required).",
    )
    kyc_reject_level: KycPayload = strawberry.mutation(resolver=kyc_resolvers.kyc_reject_level)
    add_risk_list_entry: RiskListEntryPayload = strawberry.mutation(
        resolver=risk_resolvers.add_risk_list_entry,
        description="Add a block or watch list entry for the staff member's brand, with a reason (audited).",
    )
    remove_risk_list_entry: RiskListEntryPayload = strawberry.mutation(
        resolver=risk_resolvers.remove_risk_list_entry,
        description="Remove a list entry, with a reason (audited); it stays in the history.",
    )
    save_routing_rule: RoutingVersionPayload = strawberry.mutation(
        resolver=routing_resolvers.save_routing_rule,
        description="Add a routing rule or replace the one of its name: a new routing version (audited).",
    )
    save_routing_psp_terms: RoutingVersionPayload = strawberry.mutation(
        resolver=routing_resolvers.save_routing_psp_terms,
        description="Set a PSP's terms (used or not, limits and fees per currency): a new routing version (audited).",
    )
    save_routing_limit: RoutingVersionPayload = strawberry.mutation(
        resolver=routing_resolvers.save_routing_limit,
        description="Add a payment limit or replace the one of its name: a new routing version (audited).",
    )
    save_routing_bin_rule: RoutingVersionPayload = strawberry.mutation(
        resolver=routing_resolvers.save_routing_bin_rule,
        description="Add a card BIN rule or replace the one of its name: a new routing version (audited).",
    )
    delete_routing_entry: RoutingVersionPayload = strawberry.mutation(
        resolver=routing_resolvers.delete_routing_entry,
        description="Delete a routing rule, payment limit or BIN rule: a new routing version (audited).",
    )
    restore_routing_version: RoutingVersionPayload = strawberry.mutation(
        resolver=routing_resolvers.restore_routing_version,
        description="Make an old routing version's content live again, as a new version (audited).",
    )
    create_risk_rule: RiskRulePayload = strawberry.mutation(
        resolver=risk_resolvers.create_risk_rule,
        description="Add a risk rule for the staff member's brand (every brand's staff: for every brand); audited.",
    )
    update_risk_rule: RiskRulePayload = strawberry.mutation(
        resolver=risk_resolvers.update_risk_rule,
        description="Change a rule's name, parameters, points, actions or enabled state (version + 1, audited).",
    )
    impose_risk_action: RiskRestrictionPayload = strawberry.mutation(
        resolver=risk_resolvers.impose_risk_action,
        description="Impose a restriction on a player, with a reason and an optional expiry (audited).",
    )
    lift_risk_action: RiskRestrictionPayload = strawberry.mutation(
        resolver=risk_resolvers.lift_risk_action,
        description="Lift a restriction in force, with a reason (audited); held withdrawals then go on.",
    )
    review_risk_flag: RiskFlagPayload = strawberry.mutation(
        resolver=risk_resolvers.review_risk_flag,
        description="Confirm or dismiss an open flag of the risk queue, with a note (audited).",
    )
    review_affiliate_sub_id_flag: AffiliateSubIdFlagPayload = strawberry.mutation(
        resolver=affiliate_fraud_resolvers.review_affiliate_sub_id_flag,
        description="Clear (CPAs qualified again) or confirm (CPAs rejected) a flagged sub-id, with a note (audited).",
    )
    kyc_request_more: KycPayload = strawberry.mutation(
        resolver=kyc_resolvers.kyc_request_more, description="Ask the player for more for their next level."
    )
    kyc_restrict: KycPayload = strawberry.mutation(
        resolver=kyc_resolvers.kyc_restrict,
        description="Restrict an account pending review: no deposits or games; withdrawals wait, held.",
    )
    kyc_lift_restriction: KycPayload = strawberry.mutation(resolver=kyc_resolvers.kyc_lift_restriction)
    kyc_set_high_risk: KycPayload = strawberry.mutation(
        resolver=kyc_resolvers.kyc_set_high_risk, description="High-risk players' levels take two officers."
    )
    kyc_record_provider_check: KycPayload = strawberry.mutation(
        resolver=kyc_resolvers.kyc_record_provider_check,
        description="Record an identity-verification provider's result for a player.",
    )
    kyc_require_level: KycPayload = strawberry.mutation(
        resolver=kyc_resolvers.kyc_require_level,
        description="KYC and AML staff require a KYC level of a player (withdrawals wait until it is reached).",
    )
    activate_aml_monitoring_version: AmlMonitoringVersionPayload = strawberry.mutation(
        resolver=monitoring_resolvers.activate_aml_monitoring_version,
        description="The MLRO makes a stored monitoring version live (audited, like `croupier aml activate-version`).",
    )
    kyc_start_verification: KycStartVerificationPayload = strawberry.mutation(
        resolver=kyc_resolvers.kyc_start_verification,
        description="A player starts their identity check: their applicant at the provider (created once) and "
        "a link to its hosted flow; the result arrives by the provider's webhook.",
    )
    decide_aml_alert: DecideAmlAlertPayload = strawberry.mutation(
        resolver=monitoring_resolvers.decide_aml_alert,
        description="Confirm or dismiss a monitoring alert, with a reason.",
    )
    create_bonus_campaign: BonusCampaignPayload = strawberry.mutation(
        resolver=bonus_resolvers.create_bonus_campaign, description="A draft campaign; activate it to take claims."
    )
    update_bonus_campaign: BonusCampaignPayload = strawberry.mutation(
        resolver=bonus_resolvers.update_bonus_campaign,
        description="Change a draft or paused campaign (audited); bonuses already issued keep their terms.",
    )
    set_bonus_campaign_status: BonusCampaignPayload = strawberry.mutation(
        resolver=bonus_resolvers.set_bonus_campaign_status
    )
    file_regulatory_return: FileRegulatoryReturnPayload = strawberry.mutation(
        resolver=report_resolvers.file_regulatory_return,
        description="File the return of a finished period (audited); the same figures return the filed revision.",
    )
    pay_cashback: PayCashbackPayload = strawberry.mutation(
        resolver=bonus_resolvers.pay_cashback,
        description="Pay a cashback campaign's last closed period (audited); each player once per period.",
    )
    claim_bonus: PlayerBonusPayload = strawberry.mutation(resolver=bonus_resolvers.claim_bonus)
    forfeit_bonus: PlayerBonusPayload = strawberry.mutation(resolver=bonus_resolvers.forfeit_bonus)
    grant_bonus: PlayerBonusPayload = strawberry.mutation(
        resolver=bonus_resolvers.grant_bonus, description="Support grants a bonus by hand (audited)."
    )
    cancel_bonus: PlayerBonusPayload = strawberry.mutation(
        resolver=bonus_resolvers.cancel_bonus, description="Support takes a bonus back (audited)."
    )
    grant_free_rounds: FreeRoundsGrantPayload = strawberry.mutation(
        resolver=free_rounds_resolvers.grant_free_rounds,
        description="Support grants a free-spins campaign's rounds by hand, sent to the provider's API at once.",
    )
    send_free_rounds: FreeRoundsGrantPayload = strawberry.mutation(
        resolver=free_rounds_resolvers.send_free_rounds,
        description="Send pending free rounds to their provider now (else the bonus worker retries them).",
    )
    cancel_free_rounds: FreeRoundsGrantPayload = strawberry.mutation(
        resolver=free_rounds_resolvers.cancel_free_rounds,
        description="Cancel free rounds at the provider, then their bonus (audited).",
    )
    upload_kyc_document: KycDocumentPayload = strawberry.mutation(
        resolver=kyc_document_resolvers.upload_kyc_document,
        description="A player uploads a document as a GraphQL multipart request (the same bytes again: the same "
        "document). Requests must carry a preflight header (Apollo-Require-Preflight, or the CSRF header).",
    )
    create_kyc_upload_link: KycUploadLinkPayload = strawberry.mutation(
        resolver=kyc_document_resolvers.create_kyc_upload_link,
        description="A short-lived signed URL a player's client sends one document's bytes to (PUT or POST).",
    )
    review_kyc_document: KycDocumentPayload = strawberry.mutation(
        resolver=kyc_document_resolvers.review_kyc_document,
        description="A KYC officer approves (with the document's expiry) or rejects a pending document, with a "
        "reason the player sees (audited).",
    )
    request_kyc_document: KycDocumentRequestPayload = strawberry.mutation(
        resolver=kyc_document_resolvers.request_kyc_document,
        description="A KYC officer asks a player for a document of a kind, with a reason the player sees (audited).",
    )
    open_aml_case: AmlCasePayload = strawberry.mutation(
        resolver=aml_resolvers.open_aml_case,
        description="Open an AML case about a player (naming an alert's source and id finds the case it opened).",
    )
    assign_aml_case: AmlCasePayload = strawberry.mutation(resolver=aml_resolvers.assign_aml_case)
    add_aml_case_note: AmlCaseNotePayload = strawberry.mutation(resolver=aml_resolvers.add_aml_case_note)
    add_aml_case_evidence: AmlCaseEvidencePayload = strawberry.mutation(resolver=aml_resolvers.add_aml_case_evidence)
    change_aml_case_state: AmlCasePayload = strawberry.mutation(
        resolver=aml_resolvers.change_aml_case_state,
        description="Investigate, escalate to the MLRO, or (MLRO) send an escalated case back.",
    )
    close_aml_case: AmlCasePayload = strawberry.mutation(
        resolver=aml_resolvers.close_aml_case,
        description="Close with an outcome (sar_filed, account_closed: the MLRO; not reporting an escalated case: "
        "two MLROs).",
    )
    set_aml_restriction: AmlCasePayload = strawberry.mutation(
        resolver=aml_resolvers.set_aml_restriction,
        description="Restrict the case's player's account (investigators) or lift it (the MLRO).",
    )
    export_sar: ExportSarPayload = strawberry.mutation(
        resolver=aml_resolvers.export_sar,
        description="The MLRO's goAML SAR/STR draft of a case, validated against the FIU's published schema.",
    )
    export_player_data: DataExportPayload = strawberry.mutation(
        resolver=privacy_resolvers.export_player_data,
        description="The data-protection officer's full export of a player's data (audited).",
    )
    request_data_erasure: PrivacyRequestPayload = strawberry.mutation(
        resolver=privacy_resolvers.request_data_erasure,
        description="A player asks to be erased; the data-protection officer decides.",
    )
    erase_player: PlayerPrivacyPayload = strawberry.mutation(
        resolver=privacy_resolvers.erase_player,
        description="Pseudonymise a player now, holding what retention requires (refused while an AML case or "
        "SAR, money or a payment in flight holds them; audited).",
    )
    reject_data_erasure: PrivacyRequestPayload = strawberry.mutation(
        resolver=privacy_resolvers.reject_data_erasure,
        description="Refuse a player's waiting erasure request, with a reason (audited).",
    )
    submit_dispute_evidence: DisputePayload = strawberry.mutation(
        resolver=dispute_resolvers.submit_dispute_evidence,
        description="Record that the dispute's evidence went to the PSP, with what was sent (open disputes; audited).",
    )
    create_jackpot: JackpotPayload = strawberry.mutation(
        resolver=jackpot_resolvers.create_jackpot,
        description="A jackpot with its levels, each pot seeded from the seed account and its drop point committed "
        "(audited). Staff of one brand create local jackpots of it; network jackpots need every brand.",
    )
    configure_jackpot: JackpotPayload = strawberry.mutation(
        resolver=jackpot_resolvers.configure_jackpot,
        description="Change a jackpot's eligible games, providers or minimum bet (from the next contributions; "
        "audited).",
    )
    set_jackpot_status: JackpotPayload = strawberry.mutation(
        resolver=jackpot_resolvers.set_jackpot_status,
        description="Pause (no contributions, no drops), resume or close a jackpot (closed stays closed; audited).",
    )
    close_dispute_lost: DisputePayload = strawberry.mutation(
        resolver=dispute_resolvers.close_dispute_lost,
        description="Close a dispute as lost: the chargeback and its debt stand (a later PSP reversal still wins it).",
    )
    create_tournament: TournamentPayload = strawberry.mutation(
        resolver=tournament_resolvers.create_tournament,
        description="Schedule a tournament from its definition (validated; audited).",
    )
    update_tournament: TournamentPayload = strawberry.mutation(
        resolver=tournament_resolvers.update_tournament,
        description="Change the definition of a tournament that has not started and has no entries (audited).",
    )
    join_tournament: JoinTournamentPayload = strawberry.mutation(
        resolver=tournament_resolvers.join_tournament,
        description="Opt in to a tournament, paying its buy-in if it has one; `rebuy` buys another set of rounds.",
    )
    cancel_tournament: TournamentPayload = strawberry.mutation(
        resolver=tournament_resolvers.cancel_tournament,
        description="Cancel a tournament not yet settled: every buy-in and re-buy goes back, once (audited).",
    )
    settle_tournament: TournamentPayload = strawberry.mutation(
        resolver=tournament_resolvers.settle_tournament,
        description="Pay a finished tournament's prizes and publish its results hash (once; audited).",
    )
    create_affiliate_run: AffiliateRunPayload = strawberry.mutation(
        resolver=affiliate_run_resolvers.create_affiliate_run,
        description="Compute a draft commission run of a brand over a period (default: last month; audited).",
    )
    approve_affiliate_run: AffiliateRunPayload = strawberry.mutation(
        resolver=affiliate_run_resolvers.approve_affiliate_run,
        description="Finance approves a draft run; above the threshold a second, different approver completes it.",
    )
    discard_affiliate_run: AffiliateRunPayload = strawberry.mutation(
        resolver=affiliate_run_resolvers.discard_affiliate_run,
        description="Throw a draft run away (its CPAs become payable again; audited).",
    )
    book_affiliate_run: AffiliateRunPayload = strawberry.mutation(
        resolver=affiliate_run_resolvers.book_affiliate_run,
        description="Book an approved run in the ledger: each partner's commission to its affiliate payable.",
    )
    pay_affiliate_run: AffiliateRunPayload = strawberry.mutation(
        resolver=affiliate_run_resolvers.pay_affiliate_run,
        description="Pay a booked run's partners out through the PSPs (idempotent: a paid payout is never sent again).",
    )
    affiliate_sign_in: AffiliateSignInPayload = strawberry.mutation(
        resolver=affiliate_portal_resolvers.affiliate_sign_in,
        description="A partner's portal user signs in: a short-lived access token for the affiliate API.",
    )
    affiliate_sign_out: AffiliateSignOutPayload = strawberry.mutation(
        resolver=affiliate_portal_resolvers.affiliate_sign_out,
        description="A portal user ends its sign-in: its access token stops working at once.",
    )
    create_affiliate_link: AffiliatePortalLinkPayload = strawberry.mutation(
        resolver=affiliate_portal_resolvers.create_affiliate_link,
        description="A partner makes a tracking link on one of its brands (scope links:write).",
    )
    create_affiliate_token: CreateAffiliateTokenPayload = strawberry.mutation(
        resolver=affiliate_portal_resolvers.create_affiliate_token,
        description="A portal user makes a scoped API token: its secret is in this payload only, never again.",
    )
    revoke_affiliate_token: RevokeAffiliateTokenPayload = strawberry.mutation(
        resolver=affiliate_portal_resolvers.revoke_affiliate_token,
        description="A portal user revokes one of the partner's API tokens, at once.",
    )
    create_affiliate: AffiliatePayload = strawberry.mutation(
        resolver=affiliate_resolvers.create_affiliate,
        description="A new affiliate partner with its contacts, payout details and brands (audited).",
    )
    update_affiliate: AffiliatePayload = strawberry.mutation(
        resolver=affiliate_resolvers.update_affiliate,
        description="Change a partner's details, payout details, brands or parent (audited; `code` never changes).",
    )
    set_affiliate_status: AffiliatePayload = strawberry.mutation(
        resolver=affiliate_resolvers.set_affiliate_status,
        description="Suspend, reactivate or close a partner, with a reason (audited; closed is final).",
    )
    create_affiliate_portal_user: AffiliatePortalUserPayload = strawberry.mutation(
        resolver=affiliate_resolvers.create_affiliate_portal_user,
        description="A person who signs in to the partner portal for a partner, with a password (audited).",
    )
    disable_affiliate_portal_user: AffiliatePortalUserPayload = strawberry.mutation(
        resolver=affiliate_resolvers.disable_affiliate_portal_user,
        description="Stop a portal user signing in, with a reason (audited).",
    )
    add_affiliate_link: AffiliateLinkPayload = strawberry.mutation(
        resolver=affiliate_resolvers.add_affiliate_link,
        description="Staff make a tracking link for a partner on one of its brands (a random code; audited).",
    )
    archive_affiliate_link: AffiliateLinkPayload = strawberry.mutation(
        resolver=affiliate_resolvers.archive_affiliate_link,
        description="Archive a tracking link: its code answers 404 from then on (audited).",
    )
    create_affiliate_plan: AffiliatePlanPayload = strawberry.mutation(
        resolver=affiliate_plan_resolvers.create_affiliate_plan,
        description="A commission plan from validated terms (never edited afterwards; audited).",
    )
    create_affiliate_deal: AffiliateDealPayload = strawberry.mutation(
        resolver=affiliate_plan_resolvers.create_affiliate_deal,
        description="Put a partner on a plan for a brand from a day on: today at the earliest, tomorrow when a deal "
        "is in force today (never retroactive; audited).",
    )
    cancel_affiliate_deal: AffiliateDealPayload = strawberry.mutation(
        resolver=affiliate_plan_resolvers.cancel_affiliate_deal,
        description="Cancel a deal that has not begun (audited).",
    )
    create_affiliate_postback_config: AffiliatePostbackConfigPayload = strawberry.mutation(
        resolver=postback_resolvers.create_postback_config,
        description="A partner's postback for one trigger (the partner's first makes its signing secret, shown "
        "once; audited).",
    )
    update_affiliate_postback_config: AffiliatePostbackConfigPayload = strawberry.mutation(
        resolver=postback_resolvers.update_postback_config,
        description="Change a postback's URL template or method, or switch it off or on (audited).",
    )
    rotate_affiliate_postback_secret: RotateAffiliatePostbackSecretPayload = strawberry.mutation(
        resolver=postback_resolvers.rotate_postback_secret,
        description="A new signing secret for a partner, shown once (audited).",
    )
    retry_affiliate_postback: RetryAffiliatePostbackPayload = strawberry.mutation(
        resolver=postback_resolvers.retry_postback,
        description="Send a waiting or failed postback now (a failed one gets five more tries; audited).",
    )
    create_experiment: ExperimentPayload = strawberry.mutation(
        resolver=experiment_resolvers.create_experiment,
        description="A draft A/B test of a journey, bonus campaign or segment lobby (audited).",
    )
    update_experiment: ExperimentPayload = strawberry.mutation(
        resolver=experiment_resolvers.update_experiment,
        description="Edit a draft A/B test (a running one is frozen; audited).",
    )
    start_experiment: ExperimentPayload = strawberry.mutation(
        resolver=experiment_resolvers.start_experiment,
        description="Start a draft A/B test: players are assigned on exposure from now on (audited).",
    )
    stop_experiment: ExperimentPayload = strawberry.mutation(
        resolver=experiment_resolvers.stop_experiment,
        description="Stop a running A/B test, optionally naming the winner everyone gets (audited).",
    )
    create_lobby_layout: LobbyLayoutPayload = strawberry.mutation(
        resolver=lobby_layout_resolvers.create_lobby_layout,
        description="A segment's lobby layout: category order and featured games, optionally an A/B variant "
        "(audited; cached lobbies are dropped).",
    )
    update_lobby_layout: LobbyLayoutPayload = strawberry.mutation(
        resolver=lobby_layout_resolvers.update_lobby_layout,
        description="Change or archive a lobby layout (audited; cached lobbies are dropped).",
    )
    refresh_popular_games: RefreshPopularGamesPayload = strawberry.mutation(
        resolver=lobby_layout_resolvers.refresh_popular_games,
        description="Recompute the popular games per brand, segment and country now (also done periodically).",
    )

    create_segment: SegmentPayload = strawberry.mutation(
        resolver=crm_segment_resolvers.create_segment,
        description="A CRM segment: dynamic (by rules, members computed at once) or static (upload its members).",
    )
    update_segment: SegmentPayload = strawberry.mutation(
        resolver=crm_segment_resolvers.update_segment,
        description="Rename a segment, or change a dynamic one's rules (its members follow at once; audited).",
    )
    archive_segment: SegmentPayload = strawberry.mutation(
        resolver=crm_segment_resolvers.archive_segment, description="Archive a segment: it has no members since."
    )
    upload_segment_members: UploadSegmentMembersPayload = strawberry.mutation(
        resolver=crm_segment_resolvers.upload_segment_members,
        description="Add players (ids or e-mail addresses, one per line) to a static segment (audited).",
    )
    save_crm_template: CrmTemplatePayload = strawberry.mutation(
        resolver=crm_channel_resolvers.save_crm_template,
        description="Create or replace a message template of a brand in one language (checked in the sandbox; "
        "audited).",
    )
    send_message: SendMessagePayload = strawberry.mutation(
        resolver=crm_channel_resolvers.send_message,
        description="Queue one message of a template to every member of a segment (once per batch key; each is "
        "checked against suppression right before it is sent; audited).",
    )
    mark_message_read: MarkMessageReadPayload = strawberry.mutation(
        resolver=crm_channel_resolvers.mark_message_read,
        description="The player marks one of their inbox messages read.",
    )
    create_content_item: ContentItemPayload = strawberry.mutation(
        resolver=content_resolvers.create_content_item,
        description="A banner, promotion page or content block, its first version a draft (audited).",
    )
    update_content_item: ContentItemPayload = strawberry.mutation(
        resolver=content_resolvers.update_content_item,
        description="Save a new version of an item; the live one serves until this one is published (audited).",
    )
    publish_content_item: ContentItemPayload = strawberry.mutation(
        resolver=content_resolvers.publish_content_item,
        description="Serve a version within a window, now or scheduled (audited).",
    )
    unpublish_content_item: ContentItemPayload = strawberry.mutation(
        resolver=content_resolvers.unpublish_content_item,
        description="Stop serving an item now or at an instant (audited).",
    )
    create_journey: JourneyPayload = strawberry.mutation(
        resolver=journey_resolvers.create_journey, description="A new CRM journey: its first version, a draft."
    )
    update_journey: JourneyPayload = strawberry.mutation(
        resolver=journey_resolvers.update_journey,
        description="Change a draft journey (an active or paused one: make a new version).",
    )
    new_journey_version: JourneyPayload = strawberry.mutation(
        resolver=journey_resolvers.new_journey_version,
        description="A draft copy of a journey version as its next version.",
    )
    set_journey_status: JourneyPayload = strawberry.mutation(
        resolver=journey_resolvers.set_journey_status,
        description="Activate, pause, resume or archive a journey version (activating supersedes the live one).",
    )
    set_consents: SetConsentsPayload = strawberry.mutation(
        resolver=crm_suppression_resolvers.set_consents,
        description="A player sets their marketing consents per product and channel (audited).",
    )


@strawberry.type
class Subscription:
    account_events: AccountEvent = strawberry.subscription(  # type: ignore[assignment]
        resolver=subscription_resolvers.account_events
    )
    balance_changed: BalanceUpdate = strawberry.subscription(  # type: ignore[assignment]
        resolver=subscription_resolvers.balance_changed,
        description="Balances now and after every money movement: players their own, staff a player they may read.",
    )
    operations_feed: OperationsFigures = strawberry.subscription(  # type: ignore[assignment]
        resolver=subscription_resolvers.operations_feed,
        description="Live operations figures for the staff's brand scope (at most 1 update/s, heartbeat 5 s).",
    )
    compliance_queues: ComplianceQueues = strawberry.subscription(  # type: ignore[assignment]
        resolver=subscription_resolvers.compliance_queues_feed,
        description="Live lengths of the KYC and AML queues for the staff's brand scope (at most 1 update/s, "
        "heartbeat 30 s); each count is read by the desks that work its queue.",
    )
    reality_check: RealityCheckNotice = strawberry.subscription(  # type: ignore[assignment]
        resolver=rg_resolvers.reality_checks,
        description="The player's session: a reality check is due, or the session was ended by a limit.",
    )
    bonus_progress: BonusProgress = strawberry.subscription(  # type: ignore[assignment]
        resolver=bonus_resolvers.bonus_progress,
        description="The player's bonuses in play (and just ended), now and after every bet or bonus change.",
    )
    leaderboard_changed: Leaderboard = strawberry.subscription(  # type: ignore[assignment]
        resolver=leaderboard_resolvers.leaderboard_changed,
        description="A tournament's live leaderboard (top `first` and the viewer's position): now, then after "
        "changes, at most once a second per board (the last change always sent).",
    )
    jackpot_changed: JackpotTick = strawberry.subscription(  # type: ignore[assignment]
        resolver=jackpot_resolvers.jackpot_changed,
        description="A jackpot's pots now, then after every change: at most one update a second per jackpot, "
        "the last change always told (anyone who may see the jackpot).",
    )


class CroupierSchema(strawberry.Schema):
    # The permission decision's caches (FieldPermissions), set by build_schema; tests read their counts.
    field_plans: DecisionCache
    field_decisions: DecisionCache

    def _get_middleware_manager(self, extensions: list[SchemaExtension]) -> MiddlewareManager:
        """strawberry's per-request manager of the per-field hooks, as one the permission decision can
        switch off (FieldPermissions.on_execute): a request whose every field is allowed runs bare."""
        manager = DecidedMiddleware(*(ext for ext in extensions if ext._implements_resolve()))
        for extension in extensions:
            if isinstance(extension, FieldPermissions):
                extension.middleware = manager
        return manager

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        """Log only what nobody expected; refusals (FORBIDDEN, BAD_USER_INPUT, …) are normal traffic.
        The masking extension logs unexpected errors with their request id."""


def build_schema(settings: Settings) -> CroupierSchema:
    # GraphQL's rule for merging fields compares same-named fields pairwise: within the token limit,
    # `{ brands { code } brands { code } … }` would cost a second. Its work budget is a module setting
    # of graphql-core (read when a validation starts); past it the document is refused as too complex.
    overlapping_fields_can_be_merged.MAX_COMPLEXITY_BUDGET = settings.graphql_max_merge_work
    plans, decisions = DecisionCache(settings.graphql_cache_size), DecisionCache(settings.graphql_cache_size)
    extensions: list[object] = [
        RequestGate,
        partial(MaxTokensLimiter, max_token_count=settings.graphql_max_tokens),
        partial(ParserCache, maxsize=settings.graphql_cache_size),
        partial(
            DocumentValidation,
            max_depth=settings.graphql_max_depth,
            max_aliases=settings.graphql_max_aliases,
            max_cost=settings.graphql_max_cost,
            cache_size=settings.graphql_cache_size,
        ),
        InputLimits,
        partial(FieldPermissions, plans=plans, decisions=decisions),
        MaskUnexpectedErrors,
    ]
    if settings.is_production:
        extensions.append(DisableIntrospection)
    schema = CroupierSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,  # type: ignore[arg-type]
        execution_context_class=MemoizingExecutionContext,
        types=[
            Brand,
            Player,
            StaffUser,
            AuditRecord,
            LedgerTransaction,
            Adjustment,
            ScreeningAlert,
            Payment,
            Game,
            GameRound,
            BonusCampaign,
            PlayerBonus,
        ],
        config=StrawberryConfig(relay_max_results=100, disable_field_suggestions=settings.is_production),
    )
    limit_inputs(schema._schema)
    schema.field_plans, schema.field_decisions = plans, decisions
    return schema


def schema_coordinates(schema: strawberry.Schema) -> list[str]:
    """Every `Type.field` of the schema's object types (what the policy decides on)."""
    from graphql import GraphQLObjectType

    coordinates: list[str] = []
    for name, graphql_type in schema._schema.type_map.items():
        if name.startswith("__") or not isinstance(graphql_type, GraphQLObjectType):
            continue
        coordinates.extend(f"{name}.{field}" for field in graphql_type.fields)
    return sorted(coordinates)
