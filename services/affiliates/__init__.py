"""Affiliates: partners, tracking, plans and deals, commission runs, postbacks (docs/affiliates.md)."""
