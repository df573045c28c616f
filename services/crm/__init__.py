"""CRM: segments, journeys, channels with suppression in one place, A/B tests, personalised lobbies
and content (docs/crm.md)."""
