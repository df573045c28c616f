"""`python -m integrations.demo.provider --port N --platform-url URL --private-key PATH`."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import uvicorn

from core.logging import configure_logging
from integrations.demo.provider.app import CONTROL_ENV, create_demo_provider


def main() -> None:
    parser = argparse.ArgumentParser(description="Croupier demo game provider")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8200)
    parser.add_argument("--platform-url", required=True, help="the platform's base URL (wallet calls go there)")
    parser.add_argument("--private-key", required=True, type=Path, help="PEM file that signs the wallet calls")
    parser.add_argument("--timeout", type=float, default=2.0, help="seconds before a wallet call is resent")
    parser.add_argument(
        "--control",
        action="store_true",
        help="serve /control/calls (the signed bodies sent, tokens included): tests and demos only",
    )
    args = parser.parse_args()
    control = args.control or os.environ.get(CONTROL_ENV) == "1"
    app = create_demo_provider(
        platform_url=args.platform_url, private_key_path=args.private_key, timeout=args.timeout, control=control
    )
    configure_logging("WARNING")  # the same JSON lines as the platform's, on the same console in a demo
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", log_config=None)


if __name__ == "__main__":
    main()
