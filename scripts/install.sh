#!/usr/bin/env bash
# Install Croupier into ./.venv (idempotent). Used by scripts/demo.sh and scripts/test.sh.
# The back office (admin/, served at /admin) loads lit, graphql-ws and uplot as ES modules from
# admin/node_modules: npm installs them from admin/package-lock.json (no bundler, no CDN).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[dev]'
if command -v npm >/dev/null 2>&1; then
  (cd admin && npm install --silent --no-audit --no-fund)
else
  echo "npm not found: the back office at /admin needs Node.js and npm for its ES modules (lit, graphql-ws, uplot)" >&2
fi
