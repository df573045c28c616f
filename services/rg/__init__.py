"""Responsible gambling: limits, time-outs and self-exclusion, reality checks, jurisdiction profiles,
and the RG team's view and risk flags. The gates (services/rg/gates.py) are called where money moves:
registration and login, deposits, game launches and provider bets."""
