#!/usr/bin/env bash
# Leave-one-source-out (issue 32): trains one model on marrow only and one on blood only with the
# shipped recipe (or with the extra train.py flags given), then tests each on the other source's
# cells of the five shared codes (training/leave_one_source_out.py).
#
#   bash training/leave_one_source_out.sh [NAME [train.py flags...]]
#
# NAME (default `loso`) names the runs: training/runs/NAME-marrow, training/runs/NAME-blood, and
# the report training/runs/NAME.json. The crops are examples/make_crops.rs's, in $CROPS (default
# ~/.cache/marrowscope/crops/{marrow,blood}; README step 0). Python: $PYTHON (default python).
# On 2 cores: about 10 minutes per epoch for both runs together.
set -euo pipefail
cd "$(dirname "$0")/.."
name=${1:-loso}
shift || true
crops=${CROPS:-$HOME/.cache/marrowscope/crops}
py=${PYTHON:-python}
# The shipped recipe (training/README.md, step 1); flags given after NAME are added to it.
recipe=(--size 160 --epochs 7 --freeze-blocks 3 --warmup 0.3 --seed 0)
for source in marrow blood; do
  out=training/runs/$name-$source
  if [[ -f $out/best.pt && -f $out/metrics_test.json ]]; then
    echo "$out: trained already"
    continue
  fi
  nice -n 5 "$py" training/train.py --data "$crops/$source" --out "$out" "${recipe[@]}" "$@"
done
"$py" training/leave_one_source_out.py --marrow-ckpt "training/runs/$name-marrow/best.pt" \
  --blood-ckpt "training/runs/$name-blood/best.pt" --marrow "$crops/marrow" --blood "$crops/blood" \
  --json "training/runs/$name.json"
