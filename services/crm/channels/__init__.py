"""STAND-IN package (crmjourney's branch only; crmchan's package replaces it at merge)."""
