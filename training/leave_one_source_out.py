#!/usr/bin/env python
"""Leave-one-source-out (issue 32): how well a recipe generalises to a source it never saw.

    python training/leave_one_source_out.py \
        --marrow-ckpt training/runs/loso-marrow/best.pt --blood-ckpt training/runs/loso-blood/best.pt \
        --marrow CROPS/marrow --blood CROPS/blood [--split test] [--flips] [--json out.json]

A model trained on marrow only (MLL) is tested on blood's cells (PBC), and one trained on blood
only on marrow's, on the five codes both sources have: EOS LYT MON NGS PMO. Two figures per
direction, both macro-F1 over those five codes:

* `five-way`: the model's answer restricted to the five shared codes (which of them it is): how
  well the features carry over, whatever the other classes;
* `as trained`: its plain answer over all the classes it was trained on, a cell given a class of
  its own source only (e.g. BLA, NIF or NGB) counting as wrong.

`--flips` averages each image's four flips (test-time augmentation), to measure whether it pays
for generalisation. The in-source test macro-F1 of each model (all its classes) is printed beside them. Training
(`bash training/leave_one_source_out.sh`) uses the shipped recipe unless told otherwise, so that a
new recipe is compared with today's on the same figure.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
from eval_checkpoint import read  # noqa: E402
from train import predict  # noqa: E402

SHARED = ["EOS", "LYT", "MON", "NGS", "PMO"]


def scores(model, items, size, flips=False):
    """The model's class probabilities for `items` ((path, label) pairs), preprocessed by the
    contract; with `flips`, averaged over the four flips of each image (test-time augmentation)."""
    arrs = [common.contract_uint8(common.load_rgb(p), size) for p, _ in items]
    views = [arrs] + ([[a[:, ::-1] for a in arrs], [a[::-1] for a in arrs], [a[::-1, ::-1] for a in arrs]] if flips else [])
    probs = [common.softmax(predict(model, v)) for v in views]
    return sum(probs) / len(probs)


def macro_f1(truth, predicted, codes):
    """Macro-F1 over `codes` (each code with cells in `truth`) and F1 per code, by common.metrics;
    a prediction outside `codes` counts as wrong."""
    labels = list(codes) + sorted(set(predicted) - set(codes))
    m = common.metrics([labels.index(t) for t in truth], [labels.index(p) for p in predicted], labels)
    return m["macro_f1"], {c: m["per_class"][c]["f1"] for c in codes}


def direction(ckpt, own, other, split, flips=False):
    model, ck = common.load_checkpoint(ckpt)
    classes, size = ck["classes"], ck["size"]
    missing = [c for c in SHARED if c not in classes]
    if missing:
        raise SystemExit(f"{ckpt}: not trained on {' '.join(missing)}")
    # In-source: every class it knows, its own test split.
    mine = [(p, lab) for p, lab in read(own, split) if lab in classes]
    pm = scores(model, mine, size, flips)
    own_f1, _ = macro_f1([lab for _, lab in mine], [classes[k] for k in pm.argmax(1)], classes)
    # The other source: the shared codes only.
    theirs = [(p, lab) for p, lab in read(other, split) if lab in SHARED]
    po = scores(model, theirs, size, flips)
    truth = [lab for _, lab in theirs]
    plain = [classes[k] for k in po.argmax(1)]
    idx = [classes.index(c) for c in SHARED]
    five = [SHARED[k] for k in po[:, idx].argmax(1)]
    five_f1, per_code = macro_f1(truth, five, SHARED)
    plain_f1, _ = macro_f1(truth, plain, SHARED)
    counts = {c: truth.count(c) for c in SHARED}
    return {"classes": classes, "own_test_macro_f1": own_f1, "own_n": len(mine), "other_n": len(theirs),
            "other_counts": counts, "five_way_macro_f1": five_f1, "five_way_per_code": per_code,
            "as_trained_macro_f1": plain_f1}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--marrow-ckpt", help="a checkpoint trained on marrow only (marrow → blood)")
    ap.add_argument("--blood-ckpt", help="a checkpoint trained on blood only (blood → marrow)")
    ap.add_argument("--marrow", required=True, help="marrow crops (examples/make_crops.rs)")
    ap.add_argument("--blood", required=True, help="blood crops")
    ap.add_argument("--split", default="test")
    ap.add_argument("--flips", action="store_true", help="average each image's four flips (test-time augmentation)")
    ap.add_argument("--json")
    args = ap.parse_args()
    if not (args.marrow_ckpt or args.blood_ckpt):
        ap.error("give --marrow-ckpt, --blood-ckpt or both")
    import torch
    torch.set_num_threads(2)
    report = {}
    for name, ckpt, own, other in [("marrow → blood", args.marrow_ckpt, args.marrow, args.blood),
                                   ("blood → marrow", args.blood_ckpt, args.blood, args.marrow)]:
        if not ckpt:
            continue
        r = direction(ckpt, own, other, args.split, args.flips)
        report[name] = r
        print(f"{name}: trained on {len(r['classes'])} classes, own {args.split} macro-F1 {r['own_test_macro_f1']:.3f} "
              f"(n={r['own_n']}); on the other source's {args.split} cells of {' '.join(SHARED)} (n={r['other_n']}): "
              f"five-way macro-F1 {r['five_way_macro_f1']:.3f}, as trained {r['as_trained_macro_f1']:.3f}; five-way F1 "
              + " ".join(f"{c}={v:.2f}" for c, v in r["five_way_per_code"].items()))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
