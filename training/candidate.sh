#!/usr/bin/env bash
# A trained run made into an app model and measured on the other laboratories (issue 50):
# float ONNX, int8, a manifest without calibration in RUN/model, then
# `examples/other_labs.rs --home` (five-way macro-F1 per other laboratory, the home val and test
# figures and the selection rule), printed and kept in RUN/other_labs.json.
#   PYTHON=/tmp/venv/bin/python bash training/candidate.sh training/runs/RUN [make_manifest flags, e.g. --fill glass]
set -euo pipefail
RUN="${1:?usage: candidate.sh RUN_DIR [make_manifest.py flags]}"
shift
PY="${PYTHON:-python}"
cd "$(dirname "$0")/.."
"$PY" training/export.py --ckpt "$RUN/best.pt" --out "$RUN/model.float.onnx"
"$PY" training/quantize.py --ckpt "$RUN/best.pt" --float "$RUN/model.float.onnx" --out "$RUN/model.int8.onnx"
"$PY" training/make_manifest.py --ckpt "$RUN/best.pt" --int8 "$RUN/model.int8.onnx" --out-dir "$RUN/model" --no-calibrate "$@"
cargo run --quiet --release --example other_labs -- --model "$RUN/model" --home --json "$RUN/other_labs.json" | tee "$RUN/other_labs.txt"
