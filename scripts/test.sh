#!/usr/bin/env bash
# Runs every test: native (cargo test), wasm in headless Chromium (wasm-bindgen-test),
# and end to end (Playwright on the built site).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
bash scripts/setup.sh
. .tools/env
section() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

section "native tests (cargo test)"
cargo test --all-targets

section "wasm tests in headless Chromium (wasm-bindgen-test)"
cargo test --profile wasm-dev --target wasm32-unknown-unknown --test web

section "build the site"
bash scripts/build.sh ${MARROWSCOPE_TEST_BUILD:---dev}

section "end-to-end tests (Playwright, Chromium)"
node --test --test-concurrency=1 tests/e2e/
