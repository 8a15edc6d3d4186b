"""Why a source's prediction sets over- or under-cover on its test split: per class, the val and
test accuracy of the app's own engine, and split-conformal coverage on test with one q-hat per
source (LAC, what the app ships) against one q-hat per class (Mondrian / class-conditional).

    cargo run --release --example evaluate -- --data ../shared/data/pbc --split val --json /tmp/blood-val.json
    cargo run --release --example evaluate -- --data ../shared/data/pbc --split test --json /tmp/blood-test.json
    python training/val_vs_test.py --val /tmp/blood-val.json --test /tmp/blood-test.json

(the same for ../shared/data/mll-subset). Needs numpy only.
"""
import argparse
import json
import math
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
LEVELS = (0.80, 0.90, 0.95)


def load(path, classes):
    preds = json.load(open(path))["predictions"]
    p = np.array([r["probabilities"] for r in preds], np.float64)
    y = np.array([classes.index(r["label"]) for r in preds])
    return p, y


def qhat(scores, level):
    n = len(scores)
    k = math.ceil((n + 1) * level - 1e-9)
    return math.inf if n == 0 or k > n else float(np.sort(scores)[k - 1])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model-dir", default=os.path.join(os.path.dirname(HERE), "public", "model"))
    ap.add_argument("--val", required=True, help="evaluate --json of the val split")
    ap.add_argument("--test", required=True, help="evaluate --json of the test split")
    args = ap.parse_args()
    classes = json.load(open(os.path.join(args.model_dir, "manifest.json")))["classes"]
    pv, yv = load(args.val, classes)
    pt, yt = load(args.test, classes)
    acc = lambda p, y: float(np.mean(p.argmax(1) == y)) if len(y) else float("nan")
    se = math.sqrt(acc(pv, yv) * (1 - acc(pv, yv)) / len(yv) + acc(pt, yt) * (1 - acc(pt, yt)) / len(yt))
    print(f"top-1: val {acc(pv, yv):.4f} (n={len(yv)}), test {acc(pt, yt):.4f} (n={len(yt)}); "
          f"difference {acc(pt, yt) - acc(pv, yv):+.4f} = {(acc(pt, yt) - acc(pv, yv)) / se:+.1f} standard errors")
    print(f"{'class':5} {'val n':>5} {'val acc':>7} {'test n':>6} {'test acc':>8}")
    for c in sorted(set(yv) | set(yt)):
        mv, mt = yv == c, yt == c
        print(f"{classes[c]:5} {mv.sum():5d} {acc(pv[mv], yv[mv]):7.3f} {mt.sum():6d} {acc(pt[mt], yt[mt]):8.3f}")
    sv = 1.0 - pv[np.arange(len(yv)), yv]
    print(f"{'level':>5} | {'one q-hat: coverage':>19} {'size':>5} {'worst class':>11} | {'per class: coverage':>19} {'size':>5} {'worst class':>11}")
    for level in LEVELS:
        rows = []
        q_all = qhat(sv, level)
        per_class = {c: qhat(sv[yv == c], level) for c in set(yv)}
        for thr in (np.full(len(classes), q_all), np.array([per_class.get(c, q_all) for c in range(len(classes))])):
            s = (1.0 - pt) <= thr[None, :] + 1e-7
            covered = s[np.arange(len(yt)), yt]
            worst = min(float(covered[yt == c].mean()) for c in set(yt))
            rows.append(f"{covered.mean():19.4f} {s.sum(1).mean():5.2f} {worst:11.3f}")
        print(f"{level:5.2f} | {rows[0]} | {rows[1]}")


if __name__ == "__main__":
    main()
