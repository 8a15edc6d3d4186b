#!/usr/bin/env python
"""Static int8 quantisation (QDQ, per-channel weights) calibrated on stratified training images
preprocessed by the contract, then float-vs-int8 evaluation with onnxruntime on the whole test
split (and val, used for the confidence threshold by make_manifest.py).

    python training/quantize.py --ckpt training/runs/final160/best.pt \
        --float training/runs/final160/model.float.onnx --out training/runs/final160/model.int8.onnx

Writes <out> and <out dir>/eval_onnx.json.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402


def stratified(items, classes, split, n_total, seed):
    rs = np.random.RandomState(seed)
    per = max(1, n_total // len(classes))
    out = []
    for c in classes:
        cand = [it for it in items if it[1] == c and it[2] == split]
        sel = rs.choice(len(cand), min(per, len(cand)), replace=False)
        out += [cand[j] for j in sorted(sel)]
    return out


def chunked_collection(chunk):
    """Make onnxruntime's calibraters collect `chunk` images at a time: their histograms and
    ranges merge across calls to collect_data, but one call keeps every activation in memory."""
    from onnxruntime.quantization import calibrate as cal

    class Part:
        def __init__(self, xs):
            self.it = iter(xs)

        def get_next(self):
            return next(self.it, None)

    for cls in (cal.MinMaxCalibrater, cal.HistogramCalibrater):
        whole = cls.collect_data

        def collect_data(self, reader, whole=whole):
            while True:
                part = []
                while len(part) < chunk and (x := reader.get_next()) is not None:
                    part.append(x)
                if not part:
                    return
                whole(self, Part(part))

        cls.collect_data = collect_data


def run_onnx(path, xs, threads=2):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    return np.concatenate([sess.run(["logits"], {"input": x})[0] for x in xs])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", required=True, help="training checkpoint (classes, size, data path)")
    ap.add_argument("--float", required=True, help="float ONNX from export.py")
    ap.add_argument("--out", required=True)
    ap.add_argument("--data", nargs="+", help="dataset folder(s), one per source (default: those recorded in the checkpoint)")
    ap.add_argument("--calib", type=int, default=256, help="number of stratified train images")
    ap.add_argument("--activation", choices=["QUInt8", "QInt8"], default="QUInt8")
    ap.add_argument("--quantize-fc", action="store_true", help="also quantise the classifier Gemm")
    ap.add_argument("--method", choices=["MinMax", "Percentile", "Entropy"], default="Percentile",
                    help="activation range calibration (Percentile: tract agrees with onnxruntime on 99.7 %% of the test split, MinMax 99.1 %%)")
    ap.add_argument("--per-tensor", action="store_true", help="one weight scale per tensor, not per channel")
    ap.add_argument("--symmetric-activations", action="store_true",
                    help="int8 activations with zero point 0 (with --activation QInt8)")
    ap.add_argument("--keep-float", default="",
                    help="comma-separated node-name substrings (or 'depthwise') to leave in float")
    ap.add_argument("--calib-chunk", type=int, default=0,
                    help="collect activation statistics this many images at a time (onnxruntime keeps "
                         "every activation of every calibration image: about 20 MB each at 160 px)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--eval-limit", type=int, default=0, help="debug: evaluate only every k-th image")
    args = ap.parse_args()

    import onnx
    import torch
    from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat,
                                          QuantType, quantize_static)
    from onnxruntime.quantization.shape_inference import quant_pre_process

    ck = torch.load(args.ckpt, map_location="cpu", weights_only=False)
    classes, size = ck["classes"], ck["size"]
    datas = args.data or ck["data"]
    items, found = common.discover_sources(datas if isinstance(datas, list) else [datas])
    assert found == classes, (found, classes)
    cidx = {c: i for i, c in enumerate(classes)}

    calib = stratified(items, classes, "train", args.calib, args.seed)
    calib_x = [common.preprocess_path(it[0], size) for it in calib]
    print(f"calibration: {len(calib_x)} train images ({len(calib_x) // len(classes)} per class)")

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.it = iter(calib_x)

        def get_next(self):
            x = next(self.it, None)
            return None if x is None else {"input": x}

    pre = args.out + ".pre.onnx"
    quant_pre_process(args.float, pre, skip_symbolic_shape=False)
    m = onnx.load(pre)
    exclude = [] if args.quantize_fc else [n.name for n in m.graph.node if n.op_type in ("Gemm", "MatMul")]
    for key in filter(None, args.keep_float.split(",")):
        if key == "depthwise":
            exclude += [n.name for n in m.graph.node if n.op_type == "Conv"
                        and any(a.name == "group" and a.i > 1 for a in n.attribute)]
        else:
            exclude += [n.name for n in m.graph.node if key in n.name]
    print("excluded from quantisation:", exclude)
    if args.calib_chunk:
        chunked_collection(args.calib_chunk)
    t = time.time()
    quantize_static(pre, args.out, Reader(), quant_format=QuantFormat.QDQ, per_channel=not args.per_tensor,
                    activation_type=getattr(QuantType, args.activation), weight_type=QuantType.QInt8,
                    nodes_to_exclude=exclude, calibrate_method=getattr(CalibrationMethod, args.method),
                    extra_options={"ActivationSymmetric": bool(args.symmetric_activations)})
    os.remove(pre)
    print(f"quantised in {time.time() - t:.1f}s -> {args.out} ({os.path.getsize(args.out)} bytes)")
    q = onnx.load(args.out)
    used = {n.domain for n in q.graph.node}
    keep = [o for o in q.opset_import if o.domain in used or o.domain in ("", "ai.onnx")]
    del q.opset_import[:]
    q.opset_import.extend(keep)  # drop the unused ORT-internal domains quant_pre_process adds
    q.producer_name = "marrowscope-training"
    onnx.checker.check_model(q)
    onnx.save(q, args.out)
    from collections import Counter
    print("int8 ops:", dict(Counter(n.op_type for n in q.graph.node)))
    print("int8 outputs:", [o.name for o in q.graph.output], "opsets:", [(o.domain, o.version) for o in q.opset_import])

    res = {"classes": classes, "size": size, "calibration_images": len(calib_x), "calibration_chunk": args.calib_chunk,
           "activation_type": args.activation, "calibrate_method": args.method,
           "fc_quantised": bool(args.quantize_fc),
           "per_channel": not args.per_tensor, "symmetric_activations": bool(args.symmetric_activations), "keep_float": args.keep_float,
           "float_bytes": os.path.getsize(args.float), "int8_bytes": os.path.getsize(args.out)}
    for split in ("test", "val"):
        sel = [it for it in items if it[2] == split]
        if args.eval_limit:
            sel = sel[::args.eval_limit]
        xs = [common.preprocess_path(it[0], size) for it in sel]
        y = np.array([cidx[it[1]] for it in sel])
        srcs = np.array([it[3] for it in sel])
        for name, path in (("float", args.float), ("int8", args.out)):
            t = time.time()
            logits = run_onnx(path, xs)
            mt = common.metrics(y, logits.argmax(1), classes)
            mt["ms_per_image_2threads"] = round((time.time() - t) * 1000 / len(xs), 2)
            mt["per_source"] = {s: common.metrics(y[srcs == s], logits.argmax(1)[srcs == s], classes)
                                for s in sorted(set(srcs))}
            res[f"{split}_{name}"] = mt
            print(f"{split} {name}: acc {mt['accuracy']:.4f} macro-F1 {mt['macro_f1']:.4f} "
                  f"per-class F1 " + " ".join(f"{c}={mt['per_class'][c]['f1']:.3f}" for c in classes))
            for s, ms in mt["per_source"].items():
                print(f"  {s}: acc {ms['accuracy']:.4f} macro-F1 {ms['macro_f1']:.4f} (n={ms['n']})")
            if split == "val" and name == "int8":
                p = common.softmax(logits)
                res["val_int8_maxprob"] = [round(float(v), 6) for v in p.max(1)]
                res["val_int8_correct"] = [bool(v) for v in (p.argmax(1) == y)]
            if name == "int8":
                res[f"{split}_top1_agreement_float_int8"] = round(float(
                    (logits.argmax(1) == res[f"_{split}_float_pred"]).mean()), 4)
            else:
                res[f"_{split}_float_pred"] = logits.argmax(1)
    for k in [k for k in res if k.startswith("_")]:
        del res[k]
    print("top-1 agreement float vs int8: test", res["test_top1_agreement_float_int8"],
          "val", res["val_top1_agreement_float_int8"])
    out_json = os.path.join(os.path.dirname(os.path.abspath(args.out)), "eval_onnx.json")
    json.dump(res, open(out_json, "w"), indent=1)
    print("wrote", out_json)


if __name__ == "__main__":
    main()
