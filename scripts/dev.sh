#!/usr/bin/env bash
# Builds Marrowscope with the bundled model and serves it on 127.0.0.1.
#   PORT=8080 (default), BASE=/ (or e.g. /marrowscope/), MARROWSCOPE_DATA=<dataset for the gallery>
#   bash scripts/dev.sh --dev   builds faster (unoptimised UI code, bigger files)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
bash scripts/build.sh "${1:-}"
exec node scripts/serve.mjs --dir dist --host 127.0.0.1 --port "${PORT:-8080}" --base "${BASE:-/}"
