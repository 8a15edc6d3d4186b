#!/usr/bin/env bash
# Builds the static site into dist/: trunk build, then the Content-Security-Policy and the
# offline service worker.
# Usage: bash scripts/build.sh [--dev] [--relaxed-simd]
#   --dev           unoptimised app code (dependencies optimised), no wasm-opt: fast to build
#   --relaxed-simd  also build the worker with WebAssembly relaxed SIMD; the loader then picks it
#                   where the browser supports it (scripts/worker-variants.mjs). Off by default:
#                   with tract 0.23.9 it measured no faster than SIMD128 (docs/benchmarks.md).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
MODE=--release
RELAXED=0
for arg in "$@"; do
  case "$arg" in
    --dev) MODE="" ;;
    --relaxed-simd) RELAXED=1 ;;
    *) echo "usage: bash scripts/build.sh [--dev] [--relaxed-simd]" >&2; exit 2 ;;
  esac
done
bash scripts/setup.sh
. .tools/env
start=$(date +%s)
trunk build $MODE --offline
if [ "$RELAXED" = 1 ]; then
  bash scripts/relaxed-worker.sh dist $( [ -z "$MODE" ] && echo --dev )
fi
node scripts/csp.mjs dist
node scripts/gen-sw.mjs dist
echo "built dist/ in $(( $(date +%s) - start )) s ($( [ -n "$MODE" ] && echo release || echo dev )$( [ "$RELAXED" = 1 ] && echo ', with the relaxed-SIMD worker' ))"
