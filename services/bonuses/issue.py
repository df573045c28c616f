"""Issuing bonuses: a player's claim (with a promo code), a claim made with a deposit, support's manual
grant, the deposit that activates a waiting deposit match (cashback: services/bonuses/cashback.py).

Claims serialise on the player's cash row (the same lock as their bets), then count: two concurrent
claims of a once-per-player offer are decided one after the other, and the unique
(campaign, player, claim number) key refuses the second even if that lock were ever skipped.
"""

from __future__ import annotations

import uuid

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from authz.subjects import Viewer
from core.clock import clock
from core.errors import DomainError, ErrorCode, NotFound
from core.money import format_amount, parse_amount
from core.runtime import Runtime
from models.bonuses import BonusCampaign, BonusStatus, CampaignKind, CampaignStatus, PlayerBonus
from models.payments import Payment
from models.players import Player
from services import audit, wallet
from services.aml import restrictions as aml
from services.bonuses import books, events, lifecycle
from services.bonuses.campaigns import next_claim_number, reasons_not_eligible, refuse, rules_of, successful_deposits
from services.bonuses.rules import CampaignRules
from services.free_rounds import record as free_rounds_record
from services.kyc import gates as kyc_gates
from services.rg import exclusions
from services.risk import actions as risk_actions
from services.risk import inline as risk_inline
from services.risk.observe import observed
from services.risk.signals import Observed
from services.risk.store import OnSession
from services.wallet import Actor

CLAIMABLE = (CampaignKind.DEPOSIT_MATCH, CampaignKind.RELOAD, CampaignKind.NO_DEPOSIT, CampaignKind.FREE_SPINS)


async def lock_cash(db: AsyncSession, player: Player) -> None:
    """The player's money lock (their cash row, services/wallet.py): every command on a player's money and
    bonuses serialises on it."""
    accounts = await wallet.player_accounts(db, player.id, player.brand_id, player.currency)
    await wallet.lock_player_money(db, player.id, cash=accounts.cash)


async def _campaign_by_code(db: AsyncSession, player: Player, code: str) -> BonusCampaign:
    campaign = (
        await db.scalars(
            select(BonusCampaign).where(
                col(BonusCampaign.brand_id) == player.brand_id, col(BonusCampaign.promo_code) == code.strip().upper()
            )
        )
    ).first()
    if campaign is None or campaign.status != CampaignStatus.ACTIVE:
        raise DomainError("That bonus code is not valid.", field="code", code=ErrorCode.BONUS_CODE_INVALID)
    return campaign


def _amount_or_refuse(rules: CampaignRules, table: dict[str, str], currency: str) -> int:
    amount = rules.amount(table, currency)
    if amount is None:
        raise DomainError(f"The offer is not available in {currency}.", code=ErrorCode.BONUS_NOT_ELIGIBLE)
    return amount


async def issue_bonus(
    db: AsyncSession,
    campaign: BonusCampaign,
    player: Player,
    actor: Actor,
    *,
    payment_id: uuid.UUID | None = None,
    amount: int | None = None,
    issued_by: uuid.UUID | None = None,
    period_key: str | None = None,
) -> PlayerBonus:
    """Insert the bonus (claim numbered) and, unless it waits for a deposit, activate it."""
    rules = rules_of(campaign)
    kind = CampaignKind(campaign.kind)
    currency = player.currency
    bonus = PlayerBonus(
        campaign_id=campaign.id,
        player_id=player.id,
        brand_id=player.brand_id,
        currency=currency,
        kind=kind.value,
        status=BonusStatus.ISSUED.value,
        claim_number=await next_claim_number(db, campaign.id, player.id),
        period_key=period_key,
        payment_id=payment_id,
        max_bet=rules.amount(rules.max_bet, currency),
        max_conversion=rules.amount(rules.max_conversion, currency),
        terms={
            "spend_order": rules.spend_order.value,
            "contributions": rules.contributions.model_dump(mode="json"),
            "wagering_multiplier": rules.wagering_multiplier,
            "games": rules.games,
            "max_conversion_multiple": rules.max_conversion_multiple,
        },
        issued_by=issued_by,
        issued_at=clock.now(),
        expires_at=lifecycle.claim_expiry(kind, rules),
    )
    if kind == CampaignKind.FREE_SPINS:
        bonus.reward_uuid = str(uuid.uuid4())  # what the provider's free rounds name (Hub88 `reward_uuid`)
        bonus.spins_total = bonus.spins_left = rules.free_spins
        bonus.spin_bet = _amount_or_refuse(rules, rules.spin_bet, currency)
    db.add(bonus)
    try:
        async with db.begin_nested():
            await db.flush()
    except IntegrityError as exc:  # a racing claim won (the lock makes this the backstop only)
        raise DomainError(
            "You have already had this offer, or have a bonus in play.", code=ErrorCode.BONUS_ALREADY_CLAIMED
        ) from exc
    await books.note(
        db,
        bonus,
        "issued",
        actor,
        details={"campaign": campaign.name, "payment": str(payment_id) if payment_id else None},
    )
    await events.issued(db, bonus, _origin(bonus))
    if kind in (CampaignKind.DEPOSIT_MATCH, CampaignKind.RELOAD) and amount is None:
        # Waits for its deposit under the rules of now, whatever marketing changes meanwhile.
        bonus.terms = {**bonus.terms, "rules": rules.model_dump(mode="json")}
        await db.flush()
        return bonus  # waits for its deposit
    held = await books.lock_player(db, bonus)
    if kind == CampaignKind.NO_DEPOSIT and amount is None:
        amount = _amount_or_refuse(rules, rules.fixed_amount, currency)
    await lifecycle.activate(db, bonus, held, amount or 0, rules, actor)
    if kind == CampaignKind.FREE_SPINS:  # granted through the provider's API when it has one (after the commit)
        await free_rounds_record.request(db, bonus)
    return bonus


def _origin(bonus: PlayerBonus) -> str:
    """How a bonus came (its `bonus.issued` event): a cashback payout, a staff grant, or a claim made with a
    deposit or without one."""
    if bonus.period_key is not None:
        return "cashback"
    if bonus.issued_by is not None:
        return "staff"
    return "deposit" if bonus.payment_id is not None else "claim"


async def claim(
    rt: Runtime, viewer: Viewer, *, code: str | None = None, campaign_id: uuid.UUID | None = None
) -> PlayerBonus:
    """The player claims an offer, by its promo code or (offers without one) by id."""
    if not viewer.is_player or viewer.id is None:
        raise DomainError("Only players claim bonuses.", code=ErrorCode.NOT_ALLOWED)
    try:
        return await _claim(rt, viewer, viewer.id, code, campaign_id)
    except risk_inline.RiskRefused as refusal:  # rolled back: no bonus; the hits that refused it are recorded
        await risk_inline.record_refused(rt, refusal)
        raise


async def _claim(
    rt: Runtime, viewer: Viewer, player_id: uuid.UUID, code: str | None, campaign_id: uuid.UUID | None
) -> PlayerBonus:
    async with rt.database.transaction() as db:
        player = await db.get(Player, player_id)
        assert player is not None
        await lock_cash(db, player)
        await aml.check(db, player.id, "claiming bonuses")
        await kyc_gates.check_claim(db, player)
        if code:
            campaign = await _campaign_by_code(db, player, code)
        elif campaign_id is not None:
            found = await db.get(BonusCampaign, campaign_id)
            if found is None or found.brand_id != player.brand_id:
                raise NotFound("No such offer.", field="campaignId")
            campaign = found
        else:
            raise DomainError("Give the bonus code or the offer.", field="code")
        if CampaignKind(campaign.kind) not in CLAIMABLE:
            raise DomainError(
                "Cashback is paid automatically; it is not claimed.",
                field="campaignId",
                code=ErrorCode.BONUS_NOT_ELIGIBLE,
            )
        refuse(await reasons_not_eligible(db, campaign, player, code=code), "code" if code else "campaignId")
        await risk_inline.at_claim(
            db, player_id=player.id, brand_id=player.brand_id, campaign_id=campaign.id, seen=observed(viewer.meta)
        )
        bonus = await issue_bonus(db, campaign, player, Actor("player", player.id))
        await risk_inline.audit_deferred(db)  # last: the audit chain's lock is held until the commit
        return bonus


async def claim_with_deposit(
    db: AsyncSession, player: Player, payment: Payment, code: str, *, seen: Observed | None = None
) -> PlayerBonus:
    """A deposit that quotes a bonus code: the deposit match waits for this payment (same transaction). Only a
    deposit in the player's currency, the bonus's, can activate it (a deposit in another would use the claim
    up on a bonus it can never activate): the code is refused with any other, and the deposit with it."""
    if payment.currency != player.currency:
        raise DomainError(
            f"Bonus offers are for deposits in your account currency, {player.currency}.",
            field="bonusCode",
            code=ErrorCode.BONUS_NOT_ELIGIBLE,
        )
    await lock_cash(db, player)
    campaign = await _campaign_by_code(db, player, code)
    if CampaignKind(campaign.kind) not in (CampaignKind.DEPOSIT_MATCH, CampaignKind.RELOAD):
        raise DomainError("That code is not a deposit offer.", field="bonusCode", code=ErrorCode.BONUS_CODE_INVALID)
    refuse(await reasons_not_eligible(db, campaign, player, code=code), "bonusCode")
    # Risk (RiskRefused rolls the deposit back too; services/cashier/deposits.py records its hits after, and
    # audits the hits applied here last in its transaction: risk_inline.audit_deferred).
    await risk_inline.at_claim(db, player_id=player.id, brand_id=player.brand_id, campaign_id=campaign.id, seen=seen)
    rules = rules_of(campaign)
    minimum = rules.amount(rules.min_deposit, payment.currency)
    if minimum is not None and payment.amount < minimum:
        raise DomainError(
            "The deposit is below the offer's minimum.", field="amount", code=ErrorCode.BONUS_NOT_ELIGIBLE
        )
    return await issue_bonus(db, campaign, player, Actor("player", player.id), payment_id=payment.id)


async def issued_rules(db: AsyncSession, bonus: PlayerBonus) -> CampaignRules:
    """The rules a waiting bonus was issued under (its snapshot; bonuses issued before snapshots were
    kept follow their campaign)."""
    if "rules" in bonus.terms:
        return CampaignRules.model_validate(bonus.terms["rules"])
    campaign = await db.get(BonusCampaign, bonus.campaign_id)
    assert campaign is not None
    return rules_of(campaign)


async def on_deposit(db: AsyncSession, payment: Payment) -> PlayerBonus | None:
    """In the transaction that credits a deposit: a deposit match waiting for it (claimed with this
    payment, or claimed before with no payment named) is activated — if the deposit qualifies, and never
    during a time-out or self-exclusion (taken while the deposit was in flight): the offer is cancelled,
    the deposit credited as any other."""
    waiting = (
        await db.scalars(
            select(PlayerBonus).where(
                col(PlayerBonus.player_id) == payment.player_id,
                col(PlayerBonus.currency) == payment.currency,
                col(PlayerBonus.status) == BonusStatus.ISSUED.value,
                (col(PlayerBonus.payment_id) == payment.id) | col(PlayerBonus.payment_id).is_(None),
            )
        )
    ).first()
    if waiting is None:
        return None
    bonus, held = await lifecycle.locked(db, waiting.id)
    actor = Actor("system")
    if await exclusions.active(db, payment.player_id) is not None:  # no marketing money to an excluded player
        await lifecycle.end(db, bonus.id, BonusStatus.CANCELLED, actor, "time-out or self-exclusion", cause="exclusion")
        return None
    # Nor to a player whose bonuses risk blocked since the claim (the bonus engine's decision reads them).
    if (await risk_actions.in_force(OnSession(db), payment.player_id)).bonuses_blocked:
        await lifecycle.end(db, bonus.id, BonusStatus.CANCELLED, actor, "bonuses blocked by risk", cause="risk")
        return None
    rules = await issued_rules(db, bonus)
    minimum = rules.amount(rules.min_deposit, payment.currency) or 0
    deposits = await successful_deposits(db, payment.player_id)  # this one included (already succeeded)
    number = rules.eligibility.deposit_number or (1 if rules.eligibility.first_deposit_only else None)
    if payment.amount < minimum or (number is not None and deposits != number):
        await books.note(
            db,
            bonus,
            "deposit_did_not_qualify",
            actor,
            amount=payment.amount,
            details={"payment": str(payment.id), "deposit_number": deposits},
        )
        if number is not None and deposits >= number:  # it can never qualify now
            await lifecycle.end(
                db,
                bonus.id,
                BonusStatus.CANCELLED,
                actor,
                "the qualifying deposit has passed",
                cause="deposit_not_qualifying",
            )
        return None
    cap = rules.amount(rules.max_bonus, payment.currency) or 0
    amount = min(payment.amount * rules.match_percent // 100, cap)
    bonus.payment_id = payment.id
    await lifecycle.activate(db, bonus, held, amount, rules, actor, deposit=payment.amount)
    return bonus


async def on_deposit_failed(db: AsyncSession, payment: Payment) -> None:
    """In the transaction that fails a deposit (declined, or abandoned: never sent, no PSP available): the
    deposit offer claimed with it is released — it never counted, so its code and the other offers can be
    claimed again — and the release is a line of its history. Called under the payment's row lock; the
    player's money lock comes after it (the cashier's lock order)."""
    waiting = (
        await db.scalars(
            select(PlayerBonus.id).where(
                col(PlayerBonus.payment_id) == payment.id, col(PlayerBonus.status) == BonusStatus.ISSUED.value
            )
        )
    ).all()
    for bonus_id in waiting:
        # Found before the player's lock: support, the player or the expiry worker may have ended it since.
        # An offer that has ended has nothing to release, and the deposit fails all the same.
        bonus, _ = await lifecycle.locked(db, bonus_id)
        if bonus.status != BonusStatus.ISSUED:
            continue
        reason = f"the deposit failed ({payment.failure_code or 'failed'})"
        await lifecycle.end(db, bonus_id, BonusStatus.RELEASED, Actor("system"), reason, cause=None)


# A manual grant chooses the amount only of the campaigns whose amount depends on the player (a deposit
# offer's match, a cashback), and at most the campaign's own maximum in the player's currency; a campaign
# that sets its amount (no-deposit, free spins) gives that amount, by hand as by claim.
HAND_AMOUNT_CAP = {
    CampaignKind.DEPOSIT_MATCH: "max_bonus",
    CampaignKind.RELOAD: "max_bonus",
    CampaignKind.CASHBACK: "cashback_max",
}


def _hand_amount(campaign: BonusCampaign, raw: str | None, currency: str) -> int | None:
    """The amount a manual grant gives (None: the campaign's own), held to the campaign's terms."""
    kind = CampaignKind(campaign.kind)
    table = HAND_AMOUNT_CAP.get(kind)
    if table is None:
        if raw is not None:
            raise DomainError(f"A {kind.value} campaign gives its own amount: leave the amount out.", field="amount")
        return None
    if raw is None or not raw.strip():
        raise DomainError("Give the bonus amount for this kind of campaign.", field="amount")
    amount = parse_amount(raw, currency)
    rules = rules_of(campaign)
    cap = _amount_or_refuse(rules, getattr(rules, table), currency)
    if amount > cap:
        raise DomainError(
            f"The campaign gives at most {format_amount(cap, currency)} {currency} ({table}).",
            field="amount",
            code=ErrorCode.INVALID_AMOUNT,
        )
    return amount


async def grant(
    rt: Runtime, viewer: Viewer, *, player_id: uuid.UUID, campaign_id: uuid.UUID, amount: str | None, reason: str
) -> PlayerBonus:
    """Support grants a campaign's bonus by hand (audited, with a reason). RG, the jurisdiction's rules, risk's
    `block_bonuses` (no override), one bonus in play and the campaign's amounts still apply (`amount`, a
    decimal string in the player's currency: only for deposit offers and cashback, at most their maximum);
    marketing conditions do not."""
    if not viewer.is_staff:
        raise DomainError("Only staff grant bonuses.", code=ErrorCode.NOT_ALLOWED)
    reason = reason.strip()
    if len(reason) < 3:
        raise DomainError("Say why (at least 3 characters).", field="reason")
    async with rt.database.transaction() as db:
        player = await db.get(Player, player_id)
        if player is None or (viewer.brand_id is not None and player.brand_id != viewer.brand_id):
            raise NotFound("No such player.", field="playerId")
        campaign = await db.get(BonusCampaign, campaign_id)
        if campaign is None or campaign.brand_id != player.brand_id:
            raise NotFound("No such campaign.", field="campaignId")
        given = _hand_amount(campaign, amount, player.currency)
        await lock_cash(db, player)
        refuse(await reasons_not_eligible(db, campaign, player, manual=True), "playerId")
        bonus = await issue_bonus(db, campaign, player, Actor("staff", viewer.id), amount=given, issued_by=viewer.id)
        await audit.append(
            db,
            actor=viewer,
            action="bonus.grant",
            target_type="player_bonus",
            target_id=bonus.id,
            brand_id=player.brand_id,
            reason=reason,
            after={
                "player": str(player.id),
                "campaign": str(campaign.id),
                "amount": bonus.amount,
                "status": bonus.status,
            },
        )
    return bonus


async def cancel(rt: Runtime, viewer: Viewer, bonus_id: uuid.UUID, reason: str) -> PlayerBonus:
    """Support takes a bonus back (audited): its remaining bonus money returns to the operator."""
    async with rt.database.transaction() as db:
        found = await db.get(PlayerBonus, bonus_id)
        if found is None or (viewer.brand_id is not None and found.brand_id != viewer.brand_id):
            raise NotFound("No such bonus.", field="bonusId")
        bonus = await lifecycle.end(
            db, bonus_id, BonusStatus.CANCELLED, Actor("staff", viewer.id), reason, cause="staff"
        )
        await audit.append(
            db,
            actor=viewer,
            action="bonus.cancel",
            target_type="player_bonus",
            target_id=bonus.id,
            brand_id=bonus.brand_id,
            reason=reason,
            after={"status": bonus.status},
        )
    return bonus


async def forfeit(rt: Runtime, viewer: Viewer, bonus_id: uuid.UUID) -> PlayerBonus:
    """The player gives their bonus up (and the bonus money left on it)."""
    async with rt.database.transaction() as db:
        found = await db.get(PlayerBonus, bonus_id)
        if found is None or found.player_id != viewer.id:
            raise NotFound("No such bonus.", field="bonusId")
        return await lifecycle.end(
            db, bonus_id, BonusStatus.FORFEITED, Actor("player", viewer.id), "player", cause="player"
        )
