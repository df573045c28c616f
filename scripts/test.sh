#!/usr/bin/env bash
# Install everything the tests need, then run lint, types and the test suite.
# Tests use the PostgreSQL/Redis on 127.0.0.1 when they answer, else embedded ones.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
if [ -f tests/audit/package.json ]; then
  (cd tests/audit && npm install --silent --no-audit --no-fund)
fi
.venv/bin/ruff check .
.venv/bin/mypy .
exec .venv/bin/pytest "$@"
