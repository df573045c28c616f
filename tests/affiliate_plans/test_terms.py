"""Plan terms as data (services/affiliates/plans.py): what parses, what is refused with the code of its part, and
the arithmetic of flat, tiered and ladder revenue shares (the figures of docs/affiliate-plans.md)."""

from __future__ import annotations

from typing import Any

import pytest

from core.errors import DomainError, ErrorCode
from services.affiliates.plans import PPM, RevShareKind, parse, ppm_of

CPA = {"amount": 5000, "qualification": {"min_first_deposit": 2000, "min_wagering": 10000, "within_days": 30}}
TIERS = [{"from_ngr": 0, "rate_ppm": 250_000}, {"from_ngr": 1_000_000, "rate_ppm": 300_000},
         {"from_ngr": 5_000_000, "rate_ppm": 400_000}]  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "terms"),
    [
        ("cpa", {**CPA, "second_tier_ppm": 0}),
        ("revshare", {"revshare": {"kind": "flat", "rate_ppm": 300_000}, "second_tier_ppm": 50_000}),
        ("revshare", {"revshare": {"kind": "tiered", "tiers": TIERS}, "second_tier_ppm": 0}),
        ("hybrid", {**CPA, "revshare": {"kind": "ladder", "tiers": TIERS}, "second_tier_ppm": 0}),
    ],
)
def test_valid_terms_parse_and_store_as_they_came(kind: str, terms: dict[str, Any]) -> None:
    parsed = parse(kind, terms)
    assert parsed.kind.value == kind
    assert parsed.to_json() == terms
    assert parse(kind, parsed.to_json()) == parsed


def test_the_second_tier_defaults_to_nothing() -> None:
    assert parse("cpa", CPA).second_tier_ppm == 0


REFUSALS = [
    ("bogus", CPA, ErrorCode.AFFILIATE_PLAN_INVALID, "kind"),
    ("cpa", {**CPA, "bonus": 1}, ErrorCode.AFFILIATE_PLAN_INVALID, "terms"),
    ("cpa", [], ErrorCode.AFFILIATE_PLAN_INVALID, "terms"),
    ("cpa", {"revshare": {"kind": "flat", "rate_ppm": 1}}, ErrorCode.AFFILIATE_CPA_INVALID, "cpa"),
    ("revshare", CPA, ErrorCode.AFFILIATE_CPA_INVALID, "cpa"),
    ("hybrid", CPA, ErrorCode.AFFILIATE_REVSHARE_INVALID, "revshare"),
    ("cpa", {**CPA, "amount": 0}, ErrorCode.AFFILIATE_CPA_INVALID, "cpa.amount"),
    ("cpa", {**CPA, "amount": "50.00"}, ErrorCode.AFFILIATE_CPA_INVALID, "cpa.amount"),
    ("cpa", {**CPA, "amount": True}, ErrorCode.AFFILIATE_CPA_INVALID, "cpa.amount"),
    ("cpa", {"amount": 5000}, ErrorCode.AFFILIATE_CPA_INVALID, "cpa.qualification"),
    (
        "cpa",
        {**CPA, "qualification": {**CPA["qualification"], "within_days": 0}},  # type: ignore[dict-item]
        ErrorCode.AFFILIATE_CPA_INVALID,
        "cpa.qualification.withinDays",
    ),
    (
        "cpa",
        {**CPA, "qualification": {**CPA["qualification"], "within_days": 366}},  # type: ignore[dict-item]
        ErrorCode.AFFILIATE_CPA_INVALID,
        "cpa.qualification.withinDays",
    ),
    (
        "cpa",
        {**CPA, "qualification": {**CPA["qualification"], "min_wagering": -1}},  # type: ignore[dict-item]
        ErrorCode.AFFILIATE_CPA_INVALID,
        "cpa.qualification.minWagering",
    ),
    ("revshare", {"revshare": {"kind": "steep"}}, ErrorCode.AFFILIATE_REVSHARE_INVALID, "revshare.kind"),
    ("revshare", {"revshare": {"kind": "flat"}}, ErrorCode.AFFILIATE_REVSHARE_INVALID, "revshare.ratePpm"),
    (
        "revshare",
        {"revshare": {"kind": "flat", "rate_ppm": PPM + 1}},
        ErrorCode.AFFILIATE_REVSHARE_INVALID,
        "revshare.ratePpm",
    ),
    (
        "revshare",
        {"revshare": {"kind": "flat", "rate_ppm": 1, "tiers": TIERS}},
        ErrorCode.AFFILIATE_REVSHARE_INVALID,
        "revshare.tiers",
    ),
    (
        "revshare",
        {"revshare": {"kind": "tiered", "tiers": TIERS[:1]}},
        ErrorCode.AFFILIATE_REVSHARE_INVALID,
        "revshare.tiers",
    ),
    (
        "revshare",
        {"revshare": {"kind": "tiered", "rate_ppm": 1, "tiers": TIERS}},
        ErrorCode.AFFILIATE_REVSHARE_INVALID,
        "revshare.ratePpm",
    ),
    (
        "revshare",
        {"revshare": {"kind": "ladder", "tiers": [{"from_ngr": 10, "rate_ppm": 1}, {"from_ngr": 20, "rate_ppm": 2}]}},
        ErrorCode.AFFILIATE_REVSHARE_INVALID,
        "revshare.tiers[0].fromNgr",
    ),
    (
        "revshare",
        {"revshare": {"kind": "ladder", "tiers": [TIERS[0], TIERS[2], TIERS[1]]}},
        ErrorCode.AFFILIATE_REVSHARE_INVALID,
        "revshare.tiers[2].fromNgr",
    ),
    (
        "revshare",
        {"revshare": {"kind": "ladder", "tiers": [TIERS[0], {"from_ngr": 5, "rate_ppm": -1}]}},
        ErrorCode.AFFILIATE_REVSHARE_INVALID,
        "revshare.tiers[1].ratePpm",
    ),
    ("cpa", {**CPA, "second_tier_ppm": PPM + 1}, ErrorCode.AFFILIATE_SECOND_TIER_INVALID, "secondTierPpm"),
]


@pytest.mark.parametrize(("kind", "terms", "code", "field"), REFUSALS)
def test_refusals_name_the_part_and_the_field(kind: str, terms: Any, code: ErrorCode, field: str) -> None:
    with pytest.raises(DomainError) as refused:
        parse(kind, terms)
    assert (refused.value.code, refused.value.field) == (code, field), refused.value.message


def test_a_rate_rounds_toward_zero() -> None:
    assert ppm_of(999, 250_000) == 249  # 249.75
    assert ppm_of(-999, 250_000) == -249
    assert ppm_of(12_345, PPM) == 12_345


def _revshare(kind: str) -> Any:
    terms = parse("revshare", {"revshare": {"kind": kind, "tiers": TIERS}})
    assert terms.revshare is not None
    assert terms.revshare.kind == RevShareKind(kind)
    return terms.revshare


def test_tiered_pays_each_slice_at_its_own_rate() -> None:
    # NGR 60,000.00 EUR: 10,000.00 at 25 % + 40,000.00 at 30 % + 10,000.00 at 40 % = 2,500 + 12,000 + 4,000.
    share = _revshare("tiered").share(6_000_000)
    assert (share.amount, share.rate_ppm, share.tier) == (1_850_000, 400_000, 2)
    assert _revshare("tiered").share(1_000_000).amount == 250_000  # the first slice only


def test_ladder_pays_the_whole_ngr_at_the_rate_reached() -> None:
    share = _revshare("ladder").share(6_000_000)
    assert (share.amount, share.rate_ppm, share.tier) == (2_400_000, 400_000, 2)  # 60,000.00 at 40 %
    assert _revshare("ladder").share(999_999).amount == 249_999  # below the second tier: all at 25 %
    assert _revshare("ladder").share(1_000_000).amount == 300_000  # on it: all at 30 %


def test_negative_ngr_is_charged_at_the_first_tier_either_way() -> None:
    for kind in ("tiered", "ladder"):
        share = _revshare(kind).share(-400_000)
        assert (share.amount, share.rate_ppm, share.tier) == (-100_000, 250_000, 0)


def test_flat_is_one_rate() -> None:
    terms = parse("revshare", {"revshare": {"kind": "flat", "rate_ppm": 350_000}})
    assert terms.revshare is not None
    assert terms.revshare.share(1_000_001).amount == 350_000
    assert terms.revshare.share(-10).amount == -3
