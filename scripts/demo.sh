#!/usr/bin/env bash
# Install, migrate, seed demo data, print demo credentials and serve on http://127.0.0.1:8000.
# Without DATABASE_URL / REDIS_URL it runs an embedded PostgreSQL and Redis in ./.croupier.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
exec .venv/bin/croupier demo --host "${HOST:-127.0.0.1}" --port "${PORT:-8000}"
