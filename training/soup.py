#!/usr/bin/env python
"""A weight-space average ("model soup", Wortsman et al. 2022) of checkpoints trained from the same
ImageNet start with the same classes, size and backbone (for example the shipped recipe and the
robustness recipe of issue 32): each floating-point weight and batch-norm statistic is the
weighted mean of the checkpoints'; integer buffers come from the first. No retraining, and the
result costs nothing more at inference than one model.

    python training/soup.py --ckpt training/runs/A/best.pt training/runs/B/best.pt \
        --weights 0.5 0.5 --out training/runs/SOUP/best.pt

`--bn-data FOLDER...` re-estimates the batch-norm statistics of the layers where the ingredients
differ (a mean of statistics is not the statistics of the mean network) on `--bn-n` un-augmented
train images of those folders, as the app gives them to the model.

The output is a checkpoint like train.py's (`export.py`, `quantize.py`, `make_manifest.py`,
`eval_checkpoint.py` read it); its `soup` field names the ingredients and weights. Choose the
weights on val (`eval_checkpoint.py --split val`), never on test.
"""
from __future__ import annotations

import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def soup(ckpts: list[dict], weights: list[float]) -> dict:
    """The weighted mean of the checkpoints' state dicts (floating tensors); others from the first."""
    first = ckpts[0]
    for ck in ckpts[1:]:
        for key in ("classes", "size", "backbone"):
            if ck.get(key) != first.get(key):
                raise SystemExit(f"checkpoints differ in {key}: {first.get(key)} vs {ck.get(key)}")
        if ck["state_dict"].keys() != first["state_dict"].keys():
            raise SystemExit("checkpoints have different layers")
    total = sum(weights)
    out = {}
    for name, t in first["state_dict"].items():
        if t.is_floating_point():
            out[name] = sum(w / total * ck["state_dict"][name].float() for w, ck in zip(weights, ckpts)).to(t.dtype)
        else:
            out[name] = t.clone()
    return out


def recompute_bn(ck: dict, ckpts: list[dict], folders: list[str], n: int, seed: int = 0) -> dict:
    """`ck`'s state dict with the batch-norm statistics of the layers where `ckpts` differ measured
    again on `n` train images of `folders` (the others, such as frozen blocks, kept)."""
    import random

    import numpy as np

    import common
    from eval_checkpoint import read

    model = common.build_model(len(ck["classes"]), ck["size"], pretrained=False, backbone=ck.get("backbone", "lite0"))
    model.load_state_dict(ck["state_dict"])
    model.eval()
    names = {name: m for name, m in model.named_modules() if isinstance(m, torch.nn.BatchNorm2d)}
    differ = [name for name in names
              if not all(torch.equal(c["state_dict"][name + ".running_mean"], ckpts[0]["state_dict"][name + ".running_mean"])
                         for c in ckpts[1:])]
    for name in differ:
        m = names[name]
        m.reset_running_stats()
        m.momentum = None  # a cumulative mean over every batch
        m.train()
    items = [p for folder in folders for p, _ in read(folder, "train")]
    random.Random(seed).shuffle(items)
    items = items[:n]
    with torch.no_grad():
        for i in range(0, len(items), 64):
            x = np.stack([common.contract_uint8(common.load_rgb(p), ck["size"]) for p in items[i:i + 64]])
            model(torch.from_numpy(common.normalize_nchw(x)))
    print(f"batch-norm statistics of {len(differ)} of {len(names)} layers measured again on {len(items)} train images")
    return model.state_dict()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ckpt", nargs="+", required=True)
    ap.add_argument("--weights", nargs="+", type=float, help="one per checkpoint (default: equal)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--bn-data", nargs="+", help="re-estimate batch-norm statistics on these folders' train images")
    ap.add_argument("--bn-n", type=int, default=2000)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    weights = args.weights or [1.0] * len(args.ckpt)
    if len(weights) != len(args.ckpt) or any(w < 0 for w in weights) or sum(weights) <= 0:
        raise SystemExit("--weights: one non-negative weight per checkpoint, not all zero")
    ckpts = [torch.load(p, map_location="cpu", weights_only=False) for p in args.ckpt]
    out = dict(ckpts[0])
    out["state_dict"] = soup(ckpts, weights)
    if args.bn_data:
        out["state_dict"] = recompute_bn(out, ckpts, args.bn_data, args.bn_n)
    out["soup"] = [{"ckpt": os.path.abspath(p), "weight": w, "val": ck.get("val")} for p, w, ck in zip(args.ckpt, weights, ckpts)]
    out["val"] = None  # not measured: eval_checkpoint.py --split val
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    torch.save(out, args.out)
    print(f"wrote {args.out}: {' + '.join(f'{w:g} x {p}' for p, w in zip(args.ckpt, weights))}")


if __name__ == "__main__":
    main()
