#!/usr/bin/env python
"""Export a checkpoint to ONNX (opset 17, batch 1) with outputs "logits" [1,N] and
"features" [1,C,h,w] (head conv+BN+ReLU6 output, before global pooling).

    python training/export.py --ckpt training/runs/final160/best.pt \
        --out training/runs/final160/model.float.onnx

Verifies with onnxruntime that logits == fc(mean_hw(features)) and that ORT matches torch.
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402


def export(model, size, out_path):
    model.eval()
    x = torch.randn(1, 3, size, size)
    kw = dict(input_names=["input"], output_names=["logits", "features"], opset_version=17,
              do_constant_folding=True)
    try:
        torch.onnx.export(model, (x,), out_path, dynamo=False, **kw)
    except TypeError:  # very old torch without the dynamo flag
        torch.onnx.export(model, (x,), out_path, **kw)
    import onnx
    import onnxruntime as ort
    # The TF-'SAME' ZeroPad2d layers export as Pad with a computed (Concat/Slice/...) pads
    # subgraph. ORT's *basic* (standard-ONNX-only) optimisation folds those constants and fuses
    # Pad into Conv, leaving a clean Conv/Clip/Add/ReduceMean/Gemm graph (friendly to tract).
    tmp = out_path + ".raw.onnx"
    os.replace(out_path, tmp)
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    so.optimized_model_filepath = out_path
    ort.InferenceSession(tmp, so, providers=["CPUExecutionProvider"])
    os.remove(tmp)
    m = onnx.load(out_path)
    used = {n.domain for n in m.graph.node}
    keep = [o for o in m.opset_import if o.domain in used or o.domain in ("", "ai.onnx")]
    del m.opset_import[:]
    m.opset_import.extend(keep)
    for o in m.opset_import:
        if o.domain in ("", "ai.onnx"):
            o.version = 17
    m.producer_name = "marrowscope-training"
    m = onnx.shape_inference.infer_shapes(m)
    from collections import Counter
    print("ops", dict(Counter(n.op_type for n in m.graph.node)), "opsets", [(o.domain, o.version) for o in m.opset_import])
    onnx.checker.check_model(m)
    onnx.save(m, out_path)
    return x


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    torch.set_num_threads(2)
    model, ck = common.load_checkpoint(args.ckpt)
    size = ck["size"]
    export(model, size, args.out)

    import onnxruntime as ort
    sess = ort.InferenceSession(args.out, providers=["CPUExecutionProvider"])
    ins = [(i.name, i.shape) for i in sess.get_inputs()]
    outs = [(o.name, o.shape) for o in sess.get_outputs()]
    print("inputs", ins, "outputs", outs)
    assert ins == [("input", [1, 3, size, size])], ins
    assert [o[0] for o in outs] == ["logits", "features"], outs
    rng = np.random.RandomState(0)
    W = model.net._fc.weight.detach().numpy()
    b = model.net._fc.bias.detach().numpy()
    worst_fc, worst_torch = 0.0, 0.0
    for _ in range(3):
        x = rng.randn(1, 3, size, size).astype(np.float32)
        logits, feats = sess.run(["logits", "features"], {"input": x})
        recon = feats.mean(axis=(2, 3)) @ W.T + b
        worst_fc = max(worst_fc, float(np.abs(recon - logits).max()))
        with torch.no_grad():
            tl, _ = model(torch.from_numpy(x))
        worst_torch = max(worst_torch, float(np.abs(tl.numpy() - logits).max()))
    print(f"features shape {feats.shape}; max|logits - fc(mean(features))| = {worst_fc:.2e}; "
          f"max|ort - torch| = {worst_torch:.2e}")
    assert worst_fc < 1e-3 and worst_torch < 1e-3
    print("wrote", args.out, os.path.getsize(args.out), "bytes")


if __name__ == "__main__":
    main()
