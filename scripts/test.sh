#!/usr/bin/env bash
# Install everything the tests need, then run lint, types and the test suite.
# Tests use the PostgreSQL/Redis on 127.0.0.1 when they answer, else embedded ones. The back
# office's browser tests drive Debian's Chromium (/usr/bin/chromium), installed here when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
if [ -f tests/audit/package.json ]; then
  (cd tests/audit && npm install --silent --no-audit --no-fund)
fi
if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  echo "installing Debian's chromium for the browser tests"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) \
    >/tmp/croupier-chromium-install.log 2>&1 || { cat /tmp/croupier-chromium-install.log >&2; exit 1; }
fi
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy .
# Several workers, each with its own database cloned from one migrated template and its own Redis db;
# the fault and browser tests stay on one worker each (tests/conftest.py XDIST_GROUPS). The count was
# measured on a 2-core machine (docs/testing.md); CROUPIER_TEST_WORKERS overrides it (0: one process).
exec .venv/bin/pytest -n "${CROUPIER_TEST_WORKERS:-3}" --dist loadgroup "$@"
