#!/usr/bin/env python
"""onnxruntime CPU single-thread latency (batch 1) of the float EfficientNet-Lite0 export at
several input sizes (the graph, hence the latency, does not depend on the trained weights).

    python training/latency.py --sizes 128 160 224 --out training/runs/latency.json
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
from export import export  # noqa: E402


def bench(path, size, runs):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    x = np.random.RandomState(0).randn(1, 3, size, size).astype(np.float32)
    for _ in range(5):
        sess.run(None, {"input": x})
    ts = []
    for _ in range(runs):
        t = time.perf_counter()
        sess.run(None, {"input": x})
        ts.append((time.perf_counter() - t) * 1000)
    return {"median_ms": round(float(np.median(ts)), 2), "p10_ms": round(float(np.percentile(ts, 10)), 2)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[128, 160, 224])
    ap.add_argument("--classes", type=int, default=8)
    ap.add_argument("--runs", type=int, default=40)
    ap.add_argument("--models", nargs="*", default=[], help="extra onnx files to time (size from input)")
    ap.add_argument("--out")
    args = ap.parse_args()
    torch.set_num_threads(1)
    res = {}
    os.makedirs("/tmp/marrowscope_lat", exist_ok=True)
    for s in args.sizes:
        p = f"/tmp/marrowscope_lat/lite0_{s}.onnx"
        export(common.build_model(args.classes, s, pretrained=False).eval(), s, p)
        res[str(s)] = bench(p, s, args.runs)
        print(s, res[str(s)], flush=True)
    for p in args.models:
        import onnx
        s = onnx.load(p).graph.input[0].type.tensor_type.shape.dim[2].dim_value
        res[os.path.basename(p)] = bench(p, s, args.runs)
        print(p, res[os.path.basename(p)], flush=True)
    if args.out:
        json.dump(res, open(args.out, "w"), indent=1)


if __name__ == "__main__":
    main()
