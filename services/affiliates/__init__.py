"""Affiliates (issue 19): partners and tracking, plans and CPA, commission runs, postbacks, the partner's
API, and antifraud on sub-ids (fraud_rules.py: the checks; fraud.py: flags and withheld CPAs;
fraud_review.py: staff's review; runs/: commission runs, booking and payouts)."""
