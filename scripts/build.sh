#!/usr/bin/env bash
# Builds the static site into dist/ (or $1): trunk build, then the Content-Security-Policy
# and the offline service worker. Usage: bash scripts/build.sh [--dev]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
bash scripts/setup.sh
. .tools/env
MODE=--release
[ "${1:-}" = "--dev" ] && MODE=""
start=$(date +%s)
trunk build $MODE --offline
node scripts/csp.mjs dist
node scripts/gen-sw.mjs dist
echo "built dist/ in $(( $(date +%s) - start )) s ($( [ -n "$MODE" ] && echo release || echo dev ))"
