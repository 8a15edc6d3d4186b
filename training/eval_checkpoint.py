#!/usr/bin/env python
"""Quick evaluation of a training checkpoint (torch float, the preprocessing contract) on one or
more labelled folders, to compare training choices before export:

    python training/eval_checkpoint.py --ckpt training/runs/RUN/best.pt --split val \
        --data CROPS/marrow CROPS/blood [--flips] [--json out.json]

Each --data folder is read like training's (splits.csv in the MLL or PBC layout, or the
`splits.csv` that examples/make_crops.rs writes, or a `path,label` labels.csv such as
pbc-sample's, whose PBC file names give the class). Prints accuracy and macro-F1 per folder,
per-class F1, and for peripheral blood the eight groups of Acevedo et al. (2020). `--flips`
averages the softmax over the four flips (test-time augmentation), to measure what it would
add; the app does not do it.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

# PBC file-name prefix -> MLL code; PLT: platelet (the one copy of the map, also read by the app).
with open(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data", "pbc-prefixes.json")) as _f:
    PBC_PREFIX = json.load(_f)
GROUP = {"BAS": "basophil", "EOS": "eosinophil", "EBO": "erythroblast", "PMO": "ig", "MYB": "ig", "MMZ": "ig",
         "ig": "ig", "LYT": "lymphocyte", "MON": "monocyte", "NGS": "neutrophil", "NGB": "neutrophil", "PLT": "platelet"}


def read(folder, split):
    root = Path(folder)
    name = "splits.csv" if (root / "splits.csv").exists() else "labels.csv"
    out = []
    with open(root / name, newline="") as f:
        for row in csv.DictReader(f):
            if "split" in row and row["split"] and split != "all" and row["split"] != split:
                continue
            if row.get("split") == "gallery":
                continue
            label = row["label"].strip()
            if "mll_code" in row:
                label = row["mll_code"].strip() or "PLT"
            elif label not in common.CLASSES:
                label = PBC_PREFIX.get(Path(row["path"]).name.split("_")[0], label)
            out.append((str(root / row["path"]), label))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--data", nargs="+", required=True)
    ap.add_argument("--split", default="val")
    ap.add_argument("--flips", action="store_true")
    ap.add_argument("--json")
    args = ap.parse_args()
    import torch
    torch.set_num_threads(2)
    model, ck = common.load_checkpoint(args.ckpt)
    classes, size = ck["classes"], ck["size"]
    report = {}
    for folder in args.data:
        items = read(folder, args.split)
        x = np.stack([common.contract_uint8(common.load_rgb(p), size) for p, _ in items])
        probs = []
        with torch.no_grad():
            for i in range(0, len(x), 64):
                b = torch.from_numpy(common.normalize_nchw(x[i:i + 64]))
                views = [b] + ([b.flip(3), b.flip(2), b.flip(2).flip(3)] if args.flips else [])
                probs.append(sum(torch.softmax(model(v)[0], 1) for v in views).numpy() / len(views))
        p = np.concatenate(probs).argmax(1)
        known = [i for i, (_, lab) in enumerate(items) if lab in classes]
        y = np.array([classes.index(items[i][1]) for i in known])
        m = common.metrics(y, p[known], classes)
        name = os.path.basename(os.path.normpath(folder))
        print(f"{name} ({args.split}, n={len(items)}{', flips' if args.flips else ''}): accuracy {m['accuracy']:.4f} "
              f"macro-F1 {m['macro_f1']:.4f}; F1 " + " ".join(f"{c}={v['f1']:.2f}" for c, v in m["per_class"].items() if v["support"]))
        entry = {"classes": m}
        grouped = [(GROUP.get(lab), GROUP.get(classes[k], "(other)")) for (_, lab), k in zip(items, p)]
        if all(t is not None for t, _ in grouped):
            gs = sorted({g for pair in grouped for g in pair})
            mg = common.metrics(np.array([gs.index(t) for t, _ in grouped]), np.array([gs.index(q) for _, q in grouped]), gs)
            print(f"  eight groups: accuracy {mg['accuracy']:.4f} macro-F1 {mg['macro_f1']:.4f}; F1 "
                  + " ".join(f"{c}={v['f1']:.2f}" for c, v in mg["per_class"].items() if v["support"]))
            entry["groups"] = mg
        report[name] = entry
    if args.json:
        json.dump(report, open(args.json, "w"), indent=1)


if __name__ == "__main__":
    main()
