"""STAND-IN package (crmjourney's branch only; crmab's package replaces it at merge)."""
