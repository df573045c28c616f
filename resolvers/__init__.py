"""Thin resolvers: authenticate, call a service, map the result."""
