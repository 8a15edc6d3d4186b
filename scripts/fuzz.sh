#!/usr/bin/env bash
# Fuzzes bytes → decode → preprocess → tensor with cargo-fuzz (libFuzzer) for a given time.
#   bash scripts/fuzz.sh [SECONDS=1800]
# Seeds: real cells from the MLL subset and the bad-input corpus. Crashes land in
# fuzz/artifacts/decode_preprocess/. Not part of CI.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
SECS="${1:-1800}"
command -v cargo-fuzz >/dev/null || cargo install -q cargo-fuzz --locked
CORPUS=fuzz/corpus/decode_preprocess
mkdir -p "$CORPUS"
if [ -z "$(ls -A "$CORPUS")" ]; then
  DATA="${MLL_DATA:-$ROOT/../shared/data/mll-subset}"
  for c in ART BLA EOS LYT; do find "$DATA/images/$c" -maxdepth 1 -type f | sort | head -n 2 | while read -r f; do cp "$f" "$CORPUS/"; done; done
  PY="$ROOT/.tools/py/bin/python"; [ -x "$PY" ] || PY=python3
  "$PY" scripts/data/make-bad-inputs.py /tmp/marrowscope-fuzz-seeds >/dev/null && find /tmp/marrowscope-fuzz-seeds -type f -size -2M ! -name '*.json' -exec cp {} "$CORPUS/" \;
fi
# Stable toolchain with RUSTC_BOOTSTRAP for the sanitizer flags cargo-fuzz passes.
RUSTC_BOOTSTRAP=1 cargo fuzz run decode_preprocess "$CORPUS" -- \
  -max_total_time="$SECS" -rss_limit_mb=2048 -max_len=2000000 -print_final_stats=1 2>&1 | tee fuzz/last-run.log
