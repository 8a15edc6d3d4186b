#!/bin/bash
# Resolution sweep (see RESOLUTION.md): identical short budget per size =
# 1 epoch over a stratified 20 % of train (1008 images), seed 0, freeze 2, then val macro-F1;
# plus onnxruntime single-thread latency of the float export at each size.
# Run from the repo root:  bash training/sweep_resolution.sh [DATA]
set -e
DATA=${1:-../shared/data/mll-subset}
for s in 128 160 224; do
  nice -n 5 python training/train.py --data "$DATA" --out training/runs/sweep$s \
     --size $s --epochs 1 --train-frac 0.2 --warmup 0.3 --freeze-blocks 2 --seed 0 --skip-test
done
python training/latency.py --sizes 128 160 224 --out training/runs/latency.json
