"""Affiliates (docs/affiliates.md): partners and tracking, plans and deals, CPA qualification, commission runs,
postbacks, the partner's API and antifraud on sub-ids. One job per module:

- plans.py: commission terms as data (CPA, RevShare flat / tiered / ladder, Hybrid, second tier), validated;
- deals.py: a partner and a brand on a plan from a date on (never retroactive), `deal_in_force`;
- cpa.py: the `affiliate-cpa` consumer that qualifies attributed players for their CPA, exactly once;
- fraud.py: `cpa_hold_reason`, whether a qualification is withheld (its sub-id flagged).
"""
