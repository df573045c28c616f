"""The demo identity-verification provider: a small stand-alone service in Sumsub's shape that the platform
talks to over real HTTP (services/kyc/idv).

It creates applicants (one per external user id; a second create answers 409), hands out links to its
hosted flow — an HTML page where the demo player "submits documents" and picks the outcome (approve,
reject with a retry, reject for good) — and sends the result as a webhook signed with the shared secret
(`X-Payload-Digest`, HMAC-SHA256 of the raw body). Its webhooks go late, twice, out of order, are held
(kept in its log for a test to deliver) or not sent at all, as `/control/behaviour` says. Run it with
`python -m integrations.demo.idv --port 8200 --webhook-base http://127.0.0.1:8000/webhooks/idv`.
"""

from integrations.demo.idv.app import DEMO_APP_TOKEN, DEMO_SECRET_KEY, DEMO_WEBHOOK_SECRET, create_demo_idv

__all__ = ["DEMO_APP_TOKEN", "DEMO_SECRET_KEY", "DEMO_WEBHOOK_SECRET", "create_demo_idv"]
