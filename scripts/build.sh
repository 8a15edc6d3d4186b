#!/usr/bin/env bash
# Builds the static site into dist/: trunk build, then the Content-Security-Policy, the
# offline service worker and (release) precompressed .br/.gz copies.
# Usage: bash scripts/build.sh [--dev] [--relaxed-simd]
#   --dev           unoptimised app code (dependencies optimised), no wasm-opt: fast to build
#   --relaxed-simd  also build the worker with WebAssembly relaxed SIMD; the loader then picks it
#                   where the browser supports it (scripts/build/worker-variants.mjs). Off by default:
#                   with tract 0.23.9 it measured no faster than SIMD128 (docs/benchmarks.md).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
DEV=0
RELAXED=0
for arg in "$@"; do
  case "$arg" in
    --dev) DEV=1 ;;
    --relaxed-simd) RELAXED=1 ;;
    *) echo "usage: bash scripts/build.sh [--dev] [--relaxed-simd]" >&2; exit 2 ;;
  esac
done
bash scripts/setup.sh
# shellcheck source=/dev/null
. .tools/env
start=$(date +%s)
if [ "$DEV" = 1 ]; then trunk build --offline; else trunk build --release --offline; fi
if [ "$RELAXED" = 1 ]; then
  if [ "$DEV" = 1 ]; then bash scripts/build/relaxed-worker.sh dist --dev; else bash scripts/build/relaxed-worker.sh dist; fi
fi
node scripts/build/preload-model.mjs dist
node scripts/build/csp.mjs dist
node scripts/build/gen-sw.mjs dist
# Release builds: brotli and gzip copies beside each compressible file, for servers that send them.
if [ "$DEV" = 0 ]; then node scripts/build/precompress.mjs dist; fi
echo "built dist/ in $(( $(date +%s) - start )) s ($( [ "$DEV" = 1 ] && echo dev || echo release )$( [ "$RELAXED" = 1 ] && echo ', with the relaxed-SIMD worker' ))"
