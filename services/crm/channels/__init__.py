"""CRM channels (docs/crm-channels.md): how a message travels, in order.

- `queue`: `enqueue` (journeys and services; idempotent by key) and staff's send of a template to a segment;
- `templates`: marketing's templates per brand, key and language, rendered in Jinja2's sandbox;
- `sender`: the `crm-sender` loop — claims due messages, checks suppression right before each send
  (services/crm/suppression.py), renders, sends, records sent / suppressed / failed, retries with backoff;
- `email` (SMTP through aiosmtplib, with the unsubscribe headers) and `webhook` (SMS and push through a
  provider, HMAC-signed POSTs); the inbox is delivered by the sender itself (stored, read over GraphQL);
- `tracking`: the open pixel and the signed click redirects rewritten into an email's HTML;
- `log`: the staff's message log and a player's inbox, with their ownership filters.
"""
