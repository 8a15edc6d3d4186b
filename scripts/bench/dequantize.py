"""Float graph of a QDQ int8 model, for timing only (bench.mjs --float) when the training run's own
float export (training/runs/*/model.float.onnx) is not on the machine.

Weights become float initializers (DequantizeLinear applied once, here); every activation
QuantizeLinear -> DequantizeLinear pair becomes a Clip to the range it can represent (the int8
export has no Relu6 nodes left: the quantiser folded them into those ranges). Same convolutions,
shapes and MACs as the float export, plus a cheap Clip per former pair; the weights carry int8
rounding, so its outputs are close to, not equal to, the trained float model's. For timing only,
never for accuracy.

usage: python scripts/bench/dequantize.py model.int8.onnx out.float.onnx
"""
import sys

import numpy as np
import onnx
from onnx import numpy_helper


def attr(node, name, default):
    for a in node.attribute:
        if a.name == name:
            return onnx.helper.get_attribute_value(a)
    return default


def main(src, dst):
    m = onnx.load(src)
    g = m.graph
    inits = {i.name: numpy_helper.to_array(i) for i in g.initializer}
    producer = {o: n for n in g.node for o in n.output}
    keep, new_inits = [], []
    for n in g.node:
        if n.op_type == "DequantizeLinear" and n.input[0] in inits:
            q = inits[n.input[0]].astype(np.float32)
            scale = inits[n.input[1]].astype(np.float32)
            zp = inits[n.input[2]].astype(np.float32) if len(n.input) > 2 and n.input[2] else 0.0
            if np.ndim(scale) == 1:  # per-channel
                shape = [1] * q.ndim
                shape[attr(n, "axis", 1) if q.ndim > 1 else 0] = -1
                scale, zp = scale.reshape(shape), np.reshape(zp, shape) if np.ndim(zp) else zp
            new_inits.append(numpy_helper.from_array(((q - zp) * scale).astype(np.float32), n.output[0]))
        elif n.op_type == "DequantizeLinear" and producer.get(n.input[0]) is not None \
                and producer[n.input[0]].op_type == "QuantizeLinear":
            q = producer[n.input[0]]
            scale = float(inits[q.input[1]])
            zp = int(inits[q.input[2]]) if len(q.input) > 2 and q.input[2] else 0
            info = np.iinfo(inits[q.input[2]].dtype if len(q.input) > 2 and q.input[2] else np.uint8)
            lo, hi = n.output[0] + "_clip_min", n.output[0] + "_clip_max"
            new_inits.append(numpy_helper.from_array(np.array(scale * (info.min - zp), np.float32), lo))
            new_inits.append(numpy_helper.from_array(np.array(scale * (info.max - zp), np.float32), hi))
            keep.append(onnx.helper.make_node("Clip", [q.input[0], lo, hi], [n.output[0]], name=n.output[0] + "_clip"))
        elif n.op_type != "QuantizeLinear":
            keep.append(n)
    used = {i for n in keep for i in n.input}
    del g.node[:]
    g.node.extend(keep)
    replaced = {i.name for i in new_inits}
    old = [i for i in g.initializer if i.name in used and i.name not in replaced]
    del g.initializer[:]
    g.initializer.extend(old + [i for i in new_inits if i.name in used])
    onnx.checker.check_model(m)
    onnx.save(m, dst)
    ops = {}
    for n in keep:
        ops[n.op_type] = ops.get(n.op_type, 0) + 1
    print(f"{dst}: {ops}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
