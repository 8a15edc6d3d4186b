#!/usr/bin/env bash
# Adds the relaxed-SIMD build of the classification worker to a trunk-built site and writes the
# loader that picks between the two builds (scripts/build/worker-variants.mjs).
# Usage: bash scripts/build/relaxed-worker.sh DIST [--dev]
# (run by `bash scripts/build.sh --relaxed-simd` after trunk)
#
# trunk builds worker.js/worker_bg.wasm with the project's flags (+simd128, .cargo/config.toml).
# This builds the same `worker` binary again with +simd128,+relaxed-simd in its own target
# directory (different flags, so it never invalidates trunk's cache), runs wasm-bindgen exactly
# as trunk does for a worker (--target no-modules) and, like trunk's worker (data-wasm-opt="0"),
# no wasm-opt; release builds lose their name section (scripts/build/strip-names.mjs).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
DIST="${1:?usage: relaxed-worker.sh DIST [--dev]}"
DEV="${2:-}"
cd "$ROOT"
# shellcheck source=/dev/null
. .tools/env
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}/relaxed"
if [ "$DEV" = "--dev" ]; then PROFILE=wasm-dev; else PROFILE=release; fi
RUSTFLAGS='--cfg getrandom_backend="wasm_js" -C target-feature=+simd128,+relaxed-simd' \
  cargo build --bin worker --target wasm32-unknown-unknown --profile "$PROFILE" --target-dir "$TARGET_DIR"
WASM="$TARGET_DIR/wasm32-unknown-unknown/$PROFILE/worker.wasm"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
wasm-bindgen --target no-modules --no-typescript --out-dir "$TMP" --out-name worker_relaxed "$WASM"
cp "$TMP/worker_relaxed_bg.wasm" "$DIST/worker_relaxed_bg.wasm"
if [ "$DEV" != "--dev" ]; then node scripts/build/strip-names.mjs "$DIST"; fi
cp "$TMP/worker_relaxed.js" "$DIST/worker_relaxed.js"
node scripts/build/worker-variants.mjs "$DIST"
