#!/usr/bin/env bash
# The README's first command: builds Marrowscope (release, as deployed) and serves it.
#   bash scripts/dev.sh                  release build, served on http://127.0.0.1:8080/
#   bash scripts/dev.sh --dev            faster build (unoptimised app code, bigger files)
#   bash scripts/dev.sh --relaxed-simd   also build the relaxed-SIMD worker (see build.sh)
#   PORT=8080 (default), BASE=/ (or e.g. /marrowscope/), MARROWSCOPE_DATA=<dataset for the gallery>
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
usage() { echo "usage: [PORT=8080] [BASE=/] bash scripts/dev.sh [--dev] [--relaxed-simd]"; }
BUILD_ARGS=()
for arg in "$@"; do
  case "$arg" in
    --dev|--relaxed-simd) BUILD_ARGS+=("$arg") ;;
    -h|--help) usage; exit 0 ;;
    *) echo "dev.sh: unknown option '$arg'" >&2; usage >&2; exit 2 ;;
  esac
done
PORT="${PORT:-8080}"
BASE="${BASE:-/}"
if ! [[ "$PORT" =~ ^[0-9]+$ ]] || [ "$PORT" -gt 65535 ]; then
  echo "dev.sh: PORT must be a number from 0 to 65535, not '$PORT'" >&2; exit 2
fi
# Check the port before a build of several minutes, not after.
# (A connection that succeeds means something already listens there.)
if [ "$PORT" != 0 ] && (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
  echo "dev.sh: port $PORT on 127.0.0.1 is already in use (another Marrowscope, or another server)." >&2
  echo "        Stop that server, or choose another port: PORT=8081 bash scripts/dev.sh" >&2
  exit 1
fi
bash scripts/build.sh ${BUILD_ARGS[@]+"${BUILD_ARGS[@]}"}
exec node scripts/serve.mjs --dir dist --host 127.0.0.1 --port "$PORT" --base "$BASE"
