"""STAND-IN package (crmjourney's branch only; crmseg's package replaces it at merge)."""
