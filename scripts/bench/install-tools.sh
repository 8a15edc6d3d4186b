#!/usr/bin/env bash
# Times building the two tools a new machine compiles (trunk, wasm-bindgen-cli) the way
# scripts/setup.sh did before 2026-12-05 and the way it does now, each into an empty target
# directory, one after the other. Prints seconds and binary size per variant. Takes about 25
# minutes on a 2-core machine; run it with nothing else running.
# Usage: bash scripts/bench/install-tools.sh
set -uo pipefail
WB_VERSION="$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/[^0-9.]/,""); print; exit}' "$(dirname "$0")/../../Cargo.lock")"
run() { # label, then the command's environment and arguments
  local label=$1
  shift
  local dir
  dir="$(mktemp -d "${TMPDIR:-/tmp}/marrowscope-install-XXXX")"
  local start rc size
  start=$(date +%s)
  env CARGO_TARGET_DIR="$dir/target" "$@" --root "$dir" >"$dir.log" 2>&1
  rc=$?
  size=$(du -cb "$dir"/bin/* 2>/dev/null | tail -n 1 | cut -f1)
  printf '%-75s exit %s  %4d s  %s bytes\n' "$label" "$rc" "$(( $(date +%s) - start ))" "${size:-0}"
  rm -rf "$dir" "$dir.log"
}
NOLTO=(CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16)
run "trunk, before (its own profile: fat LTO, 1 codegen unit; default features)" cargo install -q --locked trunk@0.21.14
run "trunk, no default features, no LTO, 16 codegen units" "${NOLTO[@]}" cargo install -q --locked --no-default-features trunk@0.21.14
run "trunk, the same at opt-level 1 (setup.sh now)" "${NOLTO[@]}" CARGO_PROFILE_RELEASE_OPT_LEVEL=1 cargo install -q --locked --no-default-features trunk@0.21.14
run "wasm-bindgen-cli $WB_VERSION, before (default features)" cargo install -q "wasm-bindgen-cli@$WB_VERSION"
run "wasm-bindgen-cli, no default features, no LTO (setup.sh now)" "${NOLTO[@]}" CARGO_PROFILE_RELEASE_OPT_LEVEL=3 cargo install -q --no-default-features "wasm-bindgen-cli@$WB_VERSION"
