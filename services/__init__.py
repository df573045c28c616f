"""Business logic per domain. No GraphQL, no FastAPI: every entry point calls these."""
