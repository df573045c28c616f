"""`python -m integrations.demo.idv --port N [--webhook-base URL]` (secrets: DEMO_IDV_* in the environment)."""

from __future__ import annotations

import argparse
import os

import uvicorn

from core.logging import configure_logging
from integrations.demo.idv.app import DEMO_APP_TOKEN, DEMO_SECRET_KEY, DEMO_WEBHOOK_SECRET, create_demo_idv


def main() -> None:
    parser = argparse.ArgumentParser(description="Croupier demo identity-verification provider")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8200)
    parser.add_argument(
        "--webhook-base",
        default=None,
        help="deliver webhooks to <base>/sumsub (e.g. http://127.0.0.1:8000/webhooks/idv); unset: held in its log",
    )
    args = parser.parse_args()
    # The environment keeps the secrets out of `ps`; the defaults are the platform's demo defaults.
    app = create_demo_idv(
        app_token=os.environ.get("DEMO_IDV_APP_TOKEN", DEMO_APP_TOKEN),
        secret_key=os.environ.get("DEMO_IDV_SECRET_KEY", DEMO_SECRET_KEY),
        webhook_secret=os.environ.get("DEMO_IDV_WEBHOOK_SECRET", DEMO_WEBHOOK_SECRET),
        webhook_base=args.webhook_base,
    )
    configure_logging("WARNING")
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", log_config=None)


if __name__ == "__main__":
    main()
