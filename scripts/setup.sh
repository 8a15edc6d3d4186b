#!/usr/bin/env bash
# Installs everything Marrowscope needs to build and test, idempotently.
# Quick (seconds) when everything is already there. Writes tool paths to .tools/env.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
TOOLS="$ROOT/.tools"
CACHE="${MARROWSCOPE_CACHE:-$HOME/.cache/marrowscope}"
TRUNK_VERSION=0.21.14
mkdir -p "$TOOLS/bin" "$CACHE"
T0=$(date +%s)
log() { printf '\033[1m[setup]\033[0m %s (+%ss)\n' "$*" "$(( $(date +%s) - T0 ))"; }
SUDO=""; if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null; then SUDO=sudo; fi
apt_install() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if [ ${#missing[@]} -gt 0 ]; then
    log "apt-get install ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

# 1. A Rust toolchain that can build wasm32-unknown-unknown.
TOOLCHAIN=""
if [ -n "${MARROWSCOPE_TOOLCHAIN:-}" ]; then
  TOOLCHAIN="$MARROWSCOPE_TOOLCHAIN"   # e.g. "web": use this rustup toolchain as it is
elif rustup toolchain list 2>/dev/null | grep -q '^web' && ls /usr/lib/rustlib/wasm32-unknown-unknown/lib/libstd-*.rlib >/dev/null 2>&1; then
  TOOLCHAIN=web                        # set up by an earlier run (Debian rustc-web + std built here)
elif rustup target list --installed 2>/dev/null | grep -q '^wasm32-unknown-unknown$'; then
  TOOLCHAIN="$(rustup show active-toolchain | cut -d' ' -f1)"
elif timeout 180 rustup target add wasm32-unknown-unknown >/dev/null 2>&1; then  # it hangs on some offline machines
  log "installed wasm32 target with rustup"
  TOOLCHAIN="$(rustup show active-toolchain | cut -d' ' -f1)"
else
  log "rustup cannot download the wasm32 target here (or timed out): using Debian's rustc-web with std built from source"
  apt_install rustc-web cargo-web rust-web-src lld-22
  SYSROOT="$(/usr/bin/rustc --print sysroot)"
  WASM_LIB="$SYSROOT/lib/rustlib/wasm32-unknown-unknown/lib"
  if ! ls "$WASM_LIB"/libstd-*.rlib >/dev/null 2>&1; then
    log "building std for wasm32 from source (once, ~1 min)"
    STDB="$CACHE/std-build"; rm -rf "$STDB"; mkdir -p "$STDB/src"
    printf '[package]\nname="stdbuild"\nversion="0.0.0"\nedition="2021"\n[lib]\npath="src/lib.rs"\n' > "$STDB/Cargo.toml"
    echo '#![no_std]' > "$STDB/src/lib.rs"
    rustup toolchain list | grep -q '^web' || rustup toolchain link web /usr
    (cd "$STDB" && RUSTUP_TOOLCHAIN=web RUSTC_BOOTSTRAP=1 RUSTFLAGS=-Cembed-bitcode=yes cargo build -q --release \
        -Zbuild-std=std,panic_abort --target wasm32-unknown-unknown)
    $SUDO mkdir -p "$WASM_LIB"
    $SUDO cp "$STDB"/target/wasm32-unknown-unknown/release/deps/*.rlib "$WASM_LIB/"
    rm -f "$WASM_LIB"/libstdbuild-*.rlib
  fi
  rustup toolchain list | grep -q '^web' || rustup toolchain link web /usr
  TOOLCHAIN=web
fi

# 2. Chromium and its driver for the browser tests; Node.js for Playwright; shellcheck for the lint step.
apt_install chromium chromium-driver shellcheck
command -v node >/dev/null || apt_install nodejs npm

# 3. npm packages from the committed lockfile (playwright-core, binaryen for wasm-opt, onnxruntime-web).
if [ ! -d "$ROOT/node_modules" ] || [ "$ROOT/package-lock.json" -nt "$ROOT/node_modules/.package-lock.json" ]; then
  log "npm ci"
  (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error)
fi
ln -sf "$ROOT/node_modules/binaryen/bin/wasm-opt" "$TOOLS/bin/wasm-opt"

# 4. trunk and wasm-bindgen-cli at pinned versions, in .tools/bin (built once per machine, cached).
# Without their default features (TLS, trunk's update check: neither downloads anything here) and
# without link-time optimisation. trunk's own profile (fat LTO, one codegen unit) made it the
# slowest step of a new machine's setup; trunk only runs cargo, wasm-bindgen and wasm-opt and
# copies files, so it is built at opt-level 1 (no difference in a build's time; measured in
# docs/benchmarks.md, "The test command and the set-up"). wasm-bindgen reads and writes the
# 20 MB worker: it keeps opt-level 3.
install_crate() { # name version bin opt-level [cargo install flags...]
  local name=$1 version=$2 bin=$3 opt=$4
  shift 4
  if [ -x "$TOOLS/bin/$bin" ] && "$TOOLS/bin/$bin" --version 2>/dev/null | grep -q "$version"; then return; fi
  local dir="$CACHE/tools/$name-$version"
  if ! [ -x "$dir/bin/$bin" ]; then
    log "cargo install $name@$version (once per machine, a few minutes)"
    CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 CARGO_PROFILE_RELEASE_OPT_LEVEL="$opt" \
      cargo install -q "$@" "$name@$version" --root "$dir"
  fi
  cp "$dir/bin/$bin" "$TOOLS/bin/$bin"
}
install_crate trunk "$TRUNK_VERSION" trunk 1 --locked --no-default-features
WB_VERSION="$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/[^0-9.]/,""); print; exit}' "$ROOT/Cargo.lock")"
install_crate wasm-bindgen-cli "$WB_VERSION" wasm-bindgen 3 --no-default-features
cp "$CACHE/tools/wasm-bindgen-cli-$WB_VERSION/bin/wasm-bindgen-test-runner" "$TOOLS/bin/" 2>/dev/null || true

# 5. Python for the parity check against onnxruntime (small: onnxruntime + numpy).
if ! [ -x "$TOOLS/py/bin/python" ] || ! "$TOOLS/py/bin/python" -c 'import onnxruntime, numpy' 2>/dev/null; then
  log "python venv with onnxruntime"
  python3 -m venv "$TOOLS/py"
  "$TOOLS/py/bin/pip" install -q -r "$ROOT/training/requirements-parity.txt"
fi

# 6. Vendored crates with a fixed old file time where their content is what their version names, so
# that a fresh clone reuses the shared build cache instead of recompiling tract (scripts/vendor/vendor-times.sh).
bash "$ROOT/scripts/vendor/vendor-times.sh" "$ROOT"

cat > "$TOOLS/env" <<ENV
export RUSTUP_TOOLCHAIN=$TOOLCHAIN
# Build cache shared by every checkout on this machine (a fresh clone reuses compiled dependencies).
export CARGO_TARGET_DIR="\${CARGO_TARGET_DIR:-$CACHE/target}"
export PATH="$TOOLS/bin:\$PATH"
export TRUNK_SKIP_VERSION_CHECK=true
export CHROMEDRIVER=/usr/bin/chromedriver
export WASM_BINDGEN_TEST_TIMEOUT=600
ENV
log "ready (toolchain: $TOOLCHAIN; trunk $TRUNK_VERSION; wasm-bindgen $WB_VERSION)"
