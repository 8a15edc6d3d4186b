#!/usr/bin/env bash
# Runs every test, as CI does (.ci/run):
#   1. lint: shellcheck on every shell script, no src/ modules that import each other
#      (scripts/lint/check-imports.mjs), cargo fmt --check, cargo clippy -D warnings
#      (native with all targets; wasm32 for the page and the worker);
#   2. native tests (cargo test); 3. the core in headless Chromium (wasm-bindgen-test);
#   4. the README's first command, `bash scripts/dev.sh`, exactly as users run it (release build,
#      served on 127.0.0.1), started in the background before step 2 (the release build's
#      single-threaded link-time optimisation runs beside the tests) and stopped at the end;
#   5. the end-to-end tests (Playwright, Chromium) against the site that command serves.
# MARROWSCOPE_TEST_BUILD=--dev tests a dev build instead (faster, for iteration only).
# MARROWSCOPE_TEST_PORT picks the port for step 4 (default: a free one).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
T0=$(date +%s)
bash scripts/setup.sh
# shellcheck source=/dev/null
. .tools/env
section() { printf '\n\033[1m==> %s\033[0m (at %s s)\n' "$*" "$(( $(date +%s) - T0 ))"; }

section "lint: shellcheck, import loops, cargo fmt, cargo clippy (native; wasm32 page and worker)"
mapfile -t SCRIPTS < <(find . \( -path ./node_modules -o -path ./target -o -path ./.tools -o -path ./fuzz/target -o -path ./.git \) -prune \
  -o -type f \( -name '*.sh' -o -path ./.ci/run \) -print | sort)
shellcheck "${SCRIPTS[@]}"
echo "shellcheck: ${#SCRIPTS[@]} scripts clean"
node scripts/lint/check-imports.mjs
cargo fmt --all --check
cargo clippy --all-targets -- -D warnings
cargo clippy --target wasm32-unknown-unknown --no-default-features --bin marrowscope -- -D warnings
cargo clippy --target wasm32-unknown-unknown --bin worker -- -D warnings

section "the README's first command: bash scripts/dev.sh ${MARROWSCOPE_TEST_BUILD:-} (started now, in the background: it builds while the native and wasm tests run)"
mkdir -p tests/e2e/artifacts
DEV_LOG="$ROOT/tests/e2e/artifacts/dev-sh.log"
PORT="${MARROWSCOPE_TEST_PORT:-$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')}"
URL="http://127.0.0.1:$PORT/"
# Its own session (process group), so that the build and the server stop with this script.
# Its own cargo target directory: cargo locks a target directory for the whole of a build, and
# the site (release, wasm32) shares no compiled code with the tests (dev, native; wasm-dev).
# shellcheck disable=SC2086  # MARROWSCOPE_TEST_BUILD holds zero or more flags
CARGO_TARGET_DIR="$CARGO_TARGET_DIR-site" PORT="$PORT" setsid bash scripts/dev.sh ${MARROWSCOPE_TEST_BUILD:-} >"$DEV_LOG" 2>&1 &
DEV_PID=$!
stop_dev() { kill -TERM -- "-$DEV_PID" 2>/dev/null || true; wait "$DEV_PID" 2>/dev/null || true; }
trap stop_dev EXIT
served() { node -e 'fetch(process.argv[1]).then(r=>r.text().then(t=>process.exit(r.ok&&t.includes("<title>Marrowscope")?0:1)),()=>process.exit(1))' "$1"; }

section "native tests (cargo test)"
cargo test --all-targets

section "wasm tests in headless Chromium (wasm-bindgen-test)"
cargo test --profile wasm-dev --target wasm32-unknown-unknown --test web

section "waiting for the README's first command to serve $URL"
deadline=$(( $(date +%s) + ${MARROWSCOPE_DEV_TIMEOUT:-3600} ))
until served "$URL"; do
  if ! kill -0 "$DEV_PID" 2>/dev/null; then
    echo "FAILED: the README's first command (bash scripts/dev.sh) exited before serving $URL; its output ends:" >&2
    tail -n 30 "$DEV_LOG" >&2
    exit 1
  fi
  if [ "$(date +%s)" -gt "$deadline" ]; then
    echo "FAILED: bash scripts/dev.sh did not serve $URL in time; its output ends:" >&2
    tail -n 30 "$DEV_LOG" >&2
    exit 1
  fi
  sleep 2
done
grep -E '^built dist/|^Serving ' "$DEV_LOG"

section "end-to-end tests (Playwright, Chromium) against $URL"
E2E_URL="$URL" E2E_DEV_LOG="$DEV_LOG" node --test --test-concurrency=1 tests/e2e/
section "all tests passed"
