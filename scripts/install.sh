#!/usr/bin/env bash
# Install Croupier into ./.venv (idempotent). Used by scripts/demo.sh and scripts/test.sh.
# The back office (admin/, served at /admin) loads lit, graphql-ws and uplot as ES modules from
# admin/node_modules, and GraphiQL (/graphql in development) its scripts (graphiql, react, react-dom):
# npm installs them from admin/package-lock.json (no bundler, no CDN).
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
  echo "npm not found: the back office at /admin and GraphiQL need Node.js and npm for their scripts (lit, graphql-ws, uplot, graphiql, react)" >&2
fi
