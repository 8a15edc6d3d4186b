#!/usr/bin/env python3
"""Multiply-accumulates (MACs) per image of an ONNX model.

    python scripts/bench/macs.py MODEL.onnx [--json]

Sums Conv / ConvTranspose / Gemm / MatMul and their quantized forms (QLinearConv,
ConvInteger, QLinearMatMul, MatMulInteger) using shapes from onnx.shape_inference,
with every symbolic/unknown input dimension set to 1 (batch 1).

QDQ models: the weights of a Conv are outputs of DequantizeLinear nodes, not initializers;
shape inference gives them a shape, and as a fallback the shape is taken from the
DequantizeLinear node's (quantized) initializer input. Elementwise ops, pooling, resizes
and activations are not counted (they are small next to the convolutions in a CNN).

Prints one JSON object: {"macs": N, "gmacs": N/1e9, "params": N, "by_op": {...}, "nodes": N}.
"""
import json
import sys
from math import prod

import onnx
from onnx import numpy_helper, shape_inference

COUNTED = {"Conv", "ConvTranspose", "Gemm", "MatMul", "QLinearConv", "ConvInteger", "QLinearMatMul", "MatMulInteger"}


def dims_of(type_proto):
    t = type_proto.tensor_type
    if not t.HasField("shape"):
        return None
    out = []
    for d in t.shape.dim:
        out.append(d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else 1)
    return out


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if not args:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    model = onnx.load(args[0])
    g = model.graph
    init_names = {i.name for i in g.initializer}
    # batch 1: pin symbolic dims of graph inputs
    for inp in g.input:
        if inp.name in init_names:
            continue
        for d in inp.type.tensor_type.shape.dim:
            if not (d.HasField("dim_value") and d.dim_value > 0):
                d.Clear()
                d.dim_value = 1
    try:
        model = shape_inference.infer_shapes(model, strict_mode=False, data_prop=True)
    except Exception as e:  # noqa: BLE001 - fall back to whatever shapes exist
        print(f"macs.py: shape inference failed ({e}); using declared shapes only", file=sys.stderr)
    g = model.graph

    shapes = {}
    for vi in list(g.input) + list(g.value_info) + list(g.output):
        d = dims_of(vi.type)
        if d is not None:
            shapes[vi.name] = d
    params = 0
    for init in g.initializer:
        shapes[init.name] = list(init.dims)
        params += prod(init.dims) if init.dims else 1
    # QDQ fallback: DequantizeLinear output has the shape of its quantized input
    producers = {}
    for n in g.node:
        for o in n.output:
            producers[o] = n
    # Constant nodes carry weights in some exports
    for n in g.node:
        if n.op_type == "Constant":
            for a in n.attribute:
                if a.name == "value":
                    shapes.setdefault(n.output[0], list(a.t.dims))

    def shape(name):
        if name in shapes:
            return shapes[name]
        p = producers.get(name)
        while p is not None and p.op_type in ("DequantizeLinear", "QuantizeLinear", "Cast", "Identity"):
            src = p.input[0]
            if src in shapes:
                return shapes[src]
            p = producers.get(src)
        return None

    total = 0
    by_op = {}
    unknown = []
    for n in g.node:
        if n.op_type not in COUNTED:
            continue
        macs = None
        if n.op_type in ("Conv", "ConvInteger", "QLinearConv", "ConvTranspose"):
            w_name = n.input[3] if n.op_type == "QLinearConv" else n.input[1]
            y_name = n.output[0]
            w, y = shape(w_name), shape(y_name)
            if w and y and len(w) >= 3:
                if n.op_type == "ConvTranspose":
                    x = shape(n.input[0])
                    # each input pixel scatters C_in x (C_out/g) x k MACs
                    if x:
                        macs = prod(x) * prod(w[1:])
                else:
                    # y: [N, M, *spatial]; w: [M, C/g, *k]
                    macs = prod(y) * prod(w[1:])
        else:  # Gemm / MatMul family
            a_name = n.input[0]
            y_name = n.output[0]
            a, y = shape(a_name), shape(y_name)
            if a and y:
                k = a[-1]
                if n.op_type == "Gemm":
                    trans_a = next((at.i for at in n.attribute if at.name == "transA"), 0)
                    k = a[0] if trans_a else a[-1]
                macs = prod(y) * k
        if macs is None:
            unknown.append(f"{n.op_type}:{n.name or n.output[0]}")
            continue
        total += macs
        by_op[n.op_type] = by_op.get(n.op_type, 0) + macs
    out = {
        "model": args[0],
        "macs": total,
        "gmacs": round(total / 1e9, 4),
        "params": params,
        "by_op": by_op,
        "nodes": len(g.node),
        "op_types": sorted({n.op_type for n in g.node}),
        "uncounted": unknown,
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
