"""Affiliates (docs/affiliates.md): partners and tracking, plans and deals, CPA qualification, commission runs,
postbacks, the partner's API and antifraud on sub-ids. One job per module; `postbacks/` is the package of the
server-to-server calls to partners (docs/affiliate-postbacks.md).
"""
