"""`python -m integrations.demo.psp --port N [--secrets JSON] [--webhook-base URL]`."""

from __future__ import annotations

import argparse
import json
import os

import uvicorn

from core.logging import configure_logging
from integrations.demo.psp.app import create_demo_psp


def main() -> None:
    parser = argparse.ArgumentParser(description="Croupier demo PSP")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--secrets", default=None, help='JSON {"psp": "secret"} (defaults: the demo secrets)')
    parser.add_argument(
        "--webhook-base",
        default=None,
        help="deliver webhooks to <base>/<psp> (e.g. http://127.0.0.1:8000/webhooks/psp)",
    )
    args = parser.parse_args()
    raw = args.secrets or os.environ.get("DEMO_PSP_SECRETS")  # the environment keeps them out of `ps`
    secrets = json.loads(raw) if raw else None
    app = create_demo_psp(secrets=secrets, webhook_base=args.webhook_base)
    configure_logging("WARNING")  # the same JSON lines as the platform's, on the same console in a demo
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", log_config=None)


if __name__ == "__main__":
    main()
