"""Cold-start experiment (issue 17): does a second, short-lived worker that loads a tiny model of
the same operators make the first worker's load faster?

Most of a cold start's model load in Chromium is V8 compiling tract's functions lazily, on first
call (docs/benchmarks.md). Workers of one page share their compiled WebAssembly, so a second
worker that runs the same load code on a tiny model, at the same time, might compile those
functions on the second core before the first worker reaches them. This script makes such a
site from a built one, for `scripts/bench/bench-cold.mjs` to compare:

    python scripts/bench/warm_worker.py --dist dist --out /tmp/warm-dist
    node scripts/bench/bench-cold.mjs --dist dist --runs 5
    node scripts/bench/bench-cold.mjs --dist /tmp/warm-dist --runs 5

It copies DIST to OUT, writes `warm/warm.int8.onnx` (a 12 KB network of the shipped model's
operators: QuantizeLinear, DequantizeLinear, 1x1, 3x3, depthwise 3x3 and 5x5 and strided Conv, Add,
ReduceMean, a float Gemm; quantised as training/quantize.py quantises: QDQ, per-channel int8
weights, uint8 activations, percentile ranges) with a manifest derived from DIST's, and appends to
`worker-boot.js` a second worker that loads it once the worker is alive and is then terminated.
Measured 2026-12-03 (docs/benchmarks.md): no gain beyond the runs' spread; not shipped.

Needs numpy, onnx and onnxruntime (python -m venv /tmp/ox && /tmp/ox/bin/pip install numpy onnx onnxruntime).
"""
import argparse
import hashlib
import json
import os
import shutil

import numpy as np
import onnx
from onnx import TensorProto
from onnx import helper as h
from onnx import numpy_helper as nh
from onnxruntime.quantization import CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType, quantize_static

SIZE = 64

BOOT = r"""
// scripts/bench/warm_worker.py (experiment, not shipped): a short-lived second worker loads a tiny model
// of the same operators while the first worker loads the real one.
(function () {
  'use strict';
  if (typeof Worker === 'undefined') return;
  try {
    var warm = new Worker('./worker_loader.js');
    var files = Promise.all([
      fetch('./warm/warm.manifest.json').then(function (r) { return r.text(); }),
      fetch('./warm/warm.int8.onnx').then(function (r) { return r.arrayBuffer(); }),
    ]);
    warm.onmessage = function (e) {
      var k = e.data && e.data.kind;
      if (k === 'alive') files.then(function (v) { warm.postMessage({ kind: 'load', manifest: v[0], model: v[1] }, [v[1]]); });
      else if (k === 'loaded' || k === 'load_error') warm.terminate();
    };
  } catch (e) { /* the experiment only */ }
})();
"""


def tiny_float_model(classes):
    rng = np.random.default_rng(0)
    inits, nodes = [], []

    def weight(name, shape):
        a = (rng.standard_normal(shape) / np.sqrt(np.prod(shape[1:]))).astype(np.float32)
        inits.append(nh.from_array(a, name))
        return name

    def conv(x, y, cin, cout, k, stride=1, group=1, relu6=True):
        z = y + "_pre" if relu6 else y
        nodes.append(h.make_node("Conv", [x, weight(y + "_w", [cout, cin // group, k, k]), weight(y + "_b", [cout])], [z],
                                 name=y + "/Conv", kernel_shape=[k, k], strides=[stride] * 2, pads=[k // 2] * 4, group=group))
        if relu6:
            inits.append(nh.from_array(np.array(0, np.float32), y + "_lo"))
            inits.append(nh.from_array(np.array(6, np.float32), y + "_hi"))
            nodes.append(h.make_node("Clip", [z, y + "_lo", y + "_hi"], [y], name=y + "/Clip"))
        return y

    stem = conv("input", "stem", 3, 8, 3, 2)
    proj = conv(conv(stem, "b0_dw", 8, 8, 3, 1, 8), "b0_proj", 8, 8, 1, relu6=False)
    nodes.append(h.make_node("Add", [proj, stem], ["b0_add"], name="b0/Add"))
    x = conv(conv(conv("b0_add", "b1_exp", 8, 16, 1), "b1_dw", 16, 16, 5, 2, 16), "b1_proj", 16, 8, 1, relu6=False)
    conv(x, "features", 8, 16, 1)
    nodes.append(h.make_node("ReduceMean", ["features"], ["pooled"], name="ReduceMean", axes=[2, 3], keepdims=0))
    nodes.append(h.make_node("Gemm", ["pooled", weight("fc_w", [classes, 16]), weight("fc_b", [classes])], ["logits"],
                             name="fc/Gemm", transB=1))
    graph = h.make_graph(nodes, "warm", [h.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, SIZE, SIZE])],
                         [h.make_tensor_value_info("logits", TensorProto.FLOAT, [1, classes]),
                          h.make_tensor_value_info("features", TensorProto.FLOAT, [1, 16, SIZE // 4, SIZE // 4])], inits)
    m = h.make_model(graph, opset_imports=[h.make_opsetid("", 13)])
    m.ir_version = 8
    onnx.checker.check_model(m)
    return m


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dist", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    shutil.rmtree(args.out, ignore_errors=True)
    shutil.copytree(args.dist, args.out)
    warm = os.path.join(args.out, "warm")
    os.makedirs(warm)
    manifest = json.load(open(os.path.join(args.dist, "model", "manifest.json")))
    classes = len(manifest["classes"])

    float_path = os.path.join(warm, "warm.float.onnx")
    onnx.save(tiny_float_model(classes), float_path)
    rng = np.random.default_rng(1)

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.it = iter([{"input": rng.standard_normal((1, 3, SIZE, SIZE)).astype(np.float32)} for _ in range(8)])

        def get_next(self):
            return next(self.it, None)

    model_path = os.path.join(warm, "warm.int8.onnx")
    quantize_static(float_path, model_path, Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, nodes_to_exclude=["fc/Gemm"],
                    calibrate_method=CalibrationMethod.Percentile)
    os.remove(float_path)

    inits = {i.name: nh.to_array(i) for i in onnx.load(model_path).graph.initializer}
    manifest.update(model_id="warm-up", onnx_file="warm.int8.onnx",
                    sha256=hashlib.sha256(open(model_path, "rb").read()).hexdigest())
    manifest["input"]["width"] = manifest["input"]["height"] = SIZE
    manifest["cam"] = {"features_output": "features", "channels": 16,
                       "weights": inits["fc_w"].tolist(), "bias": inits["fc_b"].tolist()}
    for key in ("conformal", "ood", "metrics", "training"):
        manifest.pop(key, None)
    json.dump(manifest, open(os.path.join(warm, "warm.manifest.json"), "w"))

    boot = os.path.join(args.out, "worker-boot.js")
    with open(boot, "a") as f:
        f.write(BOOT)
    for ext in (".br", ".gz"):  # the precompressed copies would be stale
        if os.path.exists(boot + ext):
            os.remove(boot + ext)
    print(f"{args.out}: warm/warm.int8.onnx ({os.path.getsize(model_path)} bytes), worker-boot.js with the warm-up worker")


if __name__ == "__main__":
    main()
