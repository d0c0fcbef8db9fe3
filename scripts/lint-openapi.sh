#!/usr/bin/env bash
# Lints docs/openapi.json with the OpenAPI linter pinned in tests/openapi
# (@redocly/cli, exact version in package.json and package-lock.json), under
# the rules of tests/openapi/redocly.yaml. Installs the linter with `npm ci`
# when it is missing or not the pinned version; the lint itself needs no
# network (telemetry and the update check are turned off). Exit 0: no errors.
set -euo pipefail
cd "$(dirname "$0")/../tests/openapi"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "lint-openapi: needs Node.js (>= 20.19) and npm" >&2
  exit 2
fi
pinned=$(node -p 'require("./package-lock.json").packages["node_modules/@redocly/cli"].version')
installed=$(node -p 'try { require("./node_modules/@redocly/cli/package.json").version } catch (e) { "" }')
if [ "$installed" != "$pinned" ]; then
  echo "lint-openapi: installing @redocly/cli $pinned (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
fi
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true
exec node_modules/.bin/redocly lint --config redocly.yaml ../../docs/openapi.json
