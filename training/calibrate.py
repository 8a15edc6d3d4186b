#!/usr/bin/env python
"""Conformal prediction sets and the out-of-distribution flag for a shipped model (issue 13).

    python training/calibrate.py --model-dir public/model --source marrow=../shared/data/mll-subset

Reads MODEL_DIR/manifest.json and its ONNX model, runs the model (onnxruntime, the preprocessing
contract of common.py) on the train, val and test splits of each source, and writes into the
manifest (the prediction sets are calibrated on the probabilities of the app's own engine, tract,
through `cargo run --example evaluate`, unless --engine onnxruntime: the two engines differ on a
few images near a set's boundary, enough to move coverage by half a point):

* "conformal": split-conformal calibration per source on its **val** split: the score
  (--method, default lac), q-hat for the levels 0.80/0.90/0.95 (the ceil((n+1)*level)-th smallest
  val score), and what those sets did on the source's **test** split (reported, never used).
* "ood": the out-of-distribution statistics: mean and the --ood-k main directions of the
  L2-normalised pooled features of the **train** split (all sources), and the threshold: the
  ceil((n+1)*--ood-level)-th smallest val score (the largest over sources), so that at most
  1 - level of a source's cells are flagged. Its flag rates on test and on the generated
  non-cell set (scripts/data/make-ood-images.py, made into a temporary folder unless --ood-dir
  names one) are recorded.

Prints the coverage, mean set size and share of single-class sets per level beside the old
max-softmax threshold rule, the candidate scores (--compare: LAC/APS/RAPS cross-fitted on val
halves; logit energy, max softmax, Mahalanobis variants on val/test/non-cells) and the flag
rates. The model file is not touched, so its sha256 stays valid. make_manifest.py runs this
after writing a new manifest (pipeline step 5); run it by hand for an existing one.
Takes about 2-3 minutes on 2 cores (mostly the 5,000 train images).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import common  # noqa: E402

LEVELS = (0.80, 0.90, 0.95)


# ----------------------------------------------------------------------------- model outputs
def run_model(onnx_path, paths, size, threads=2):
    """logits [N, K] and pooled features [N, C] (mean over the feature map's positions)."""
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    sess = ort.InferenceSession(onnx_path, so, providers=["CPUExecutionProvider"])
    logits, feats = [], []
    for p in paths:
        x = common.preprocess_path(p, size)
        lo, fe = sess.run(["logits", "features"], {"input": x})
        logits.append(lo[0])
        feats.append(fe[0].reshape(fe.shape[1], -1).mean(axis=1))
    return np.asarray(logits, np.float64), np.asarray(feats, np.float64)


# ----------------------------------------------------------------------------- conformal
def sorted_scores(p, method, lam=0.0, k_reg=0):
    """order [N, K] (classes by probability, descending, ties by index) and the score of the
    class at each rank [N, K] -- the same definitions as src/uncertainty/conformal.rs."""
    order = np.argsort(-p, axis=1, kind="stable")
    ps = np.take_along_axis(p, order, 1)
    ranks = np.arange(1, p.shape[1] + 1)
    if method == "lac":
        s = 1.0 - ps
    elif method == "aps":
        s = np.cumsum(ps, 1)
    elif method == "raps":
        s = np.cumsum(ps, 1) + lam * np.maximum(0, ranks - k_reg)
    else:
        raise ValueError(method)
    return order, s


def label_scores(p, y, *cfg):
    order, s = sorted_scores(p, *cfg)
    rank = np.argmax(order == y[:, None], axis=1)
    return s[np.arange(len(y)), rank]


def quantile(scores, level):
    n = len(scores)
    k = int(np.ceil((n + 1) * level - 1e-9))
    return float("inf") if n == 0 or k > n else float(np.sort(scores)[k - 1])


def prediction_sets(p, q, *cfg):
    """Each row's classes, most probable first, and how many of them its set at threshold q holds
    (may be 0: no class reaches the level; see src/uncertainty/conformal.rs)."""
    order, s = sorted_scores(p, *cfg)
    return order, (s <= q + 1e-7).sum(1)


def set_stats(p, y, q, *cfg):
    order, size = prediction_sets(p, q, *cfg)
    hit = np.argmax(order == y[:, None], axis=1) < size
    single = size == 1
    return {"coverage": round(float(hit.mean()), 4), "mean_size": round(float(size.mean()), 4),
            "singleton_share": round(float(single.mean()), 4), "empty_share": round(float((size == 0).mean()), 4),
            "singleton_accuracy": round(float(hit[single].mean()) if single.any() else 0.0, 4),
            "n": int(len(y))}


def compare_methods(pv, yv, seed=0, repeats=200):
    """LAC / APS / RAPS cross-fitted on val halves (calibrate on one, measure on the other)."""
    rng = np.random.default_rng(seed)
    cfgs = [("lac", 0.0, 0), ("aps", 0.0, 0)] + [("raps", lam, k) for lam in (0.01, 0.05, 0.1, 0.2) for k in (1, 2)]
    print("method comparison on val halves (200 random 50/50 splits): coverage / mean size / singletons / worst class")
    for cfg in cfgs:
        cells = []
        for level in LEVELS:
            acc = []
            for _ in range(repeats):
                perm = rng.permutation(len(yv))
                a, b = perm[: len(yv) // 2], perm[len(yv) // 2:]
                q = quantile(label_scores(pv[a], yv[a], *cfg), level)
                order, size = prediction_sets(pv[b], q, *cfg)
                hit = np.argmax(order == yv[b][:, None], axis=1) < size
                worst = min(hit[yv[b] == k].mean() for k in np.unique(yv[b]))
                acc.append((hit.mean(), size.mean(), (size == 1).mean(), worst))
            m = np.mean(acc, axis=0)
            cells.append(f"{level:.2f}: {m[0]:.3f} {m[1]:.2f} {m[2]:.2f} {m[3]:.2f}")
        name = cfg[0] if cfg[0] != "raps" else f"raps(lambda={cfg[1]}, k_reg={cfg[2]})"
        print(f"  {name:26s} " + " | ".join(cells))


# ----------------------------------------------------------------------------- OOD
def l2n(f):
    n = np.linalg.norm(f, axis=1, keepdims=True)
    return np.where(n > 0, f / np.where(n > 0, n, 1), 0)


def fit_source_model(feats_by_source, iters=600, lr=0.5, wd=1e-3):
    """Multinomial logistic regression on the L2-normalised pooled features: which source an
    image comes from (src/uncertainty/conformal.rs SourceModel). Features are scaled by sqrt(C) for the fit
    and the scale folded back into the weights. Sources weigh alike."""
    names = list(feats_by_source)
    X = np.concatenate([l2n(f) for f in feats_by_source.values()])
    y = np.concatenate([np.full(len(f), k) for k, f in enumerate(feats_by_source.values())])
    sw = np.concatenate([np.full(len(f), len(X) / (len(names) * len(f))) for f in feats_by_source.values()])
    c = X.shape[1]
    Xs = X * np.sqrt(c)
    W = np.zeros((len(names), c))
    b = np.zeros(len(names))
    Y = np.eye(len(names))[y]
    for _ in range(iters):
        z = Xs @ W.T + b
        z -= z.max(1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(1, keepdims=True)
        g = (p - Y) * sw[:, None] / len(X)
        W -= lr * (g.T @ Xs + wd * W)
        b -= lr * g.sum(0)
    return names, W * np.sqrt(c), b


def source_guess(model, feats):
    names, W, b = model
    z = l2n(feats) @ W.T + b
    z -= z.max(1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(1, keepdims=True)
    return p.argmax(1), p.max(1)


def fit_residual(train_feats, k):
    z = l2n(train_feats)
    mu = z.mean(0)
    _, _, vt = np.linalg.svd(z - mu, full_matrices=False)
    return mu, vt[:k]


def residual_score(feats, mu, comps):
    """The same score as src/uncertainty/ood.rs: length of the normalised, centred features outside the span
    of the main directions (2.0 for an all-zero feature vector)."""
    z = l2n(feats)
    x = z - mu
    r = x - (x @ comps.T) @ comps
    s = np.linalg.norm(r, axis=1)
    return np.where(np.linalg.norm(feats, axis=1) > 0, s, 2.0)


def compare_ood(tr_f, tr_l, tr_y, va, te, od, level):
    """Flag rates of candidate scores at the val quantile `level` (higher = more unusual)."""
    def lse(z):
        m = z.max(1)
        return m + np.log(np.exp(z - m[:, None]).sum(1))
    k = int(tr_y.max()) + 1
    means = np.array([tr_f[tr_y == c].mean(0) for c in range(k)])
    xc = tr_f - means[tr_y]
    prec = np.linalg.pinv(xc.T @ xc / len(xc) + 1e-6 * np.eye(tr_f.shape[1]))

    def maha(f):
        return np.min([(((f - m) @ prec) * (f - m)).sum(1) for m in means], axis=0)
    cands = {
        "max softmax (1 - p)": lambda f, lo: -common.softmax(lo).max(1),
        "energy (-logsumexp)": lambda f, lo: -lse(lo),
        "Mahalanobis, class means, tied full covariance (1280x1280)": lambda f, lo: maha(f),
    }
    for kk in (8, 16, 64):
        mu, comps = fit_residual(tr_f, kk)
        cands[f"L2-normalised PCA residual, k={kk}"] = lambda f, lo, mu=mu, comps=comps: residual_score(f, mu, comps)
    print(f"OOD candidates, threshold = val quantile {level}: share flagged of val / test cells / generated non-cells")
    for name, fn in cands.items():
        v, t, o = fn(*va), fn(*te), fn(*od)
        th = quantile(v, level)
        print(f"  {name:58s} {np.mean(v > th):.3f} / {np.mean(t > th):.3f} / {np.mean(o > th):.3f}")


# ----------------------------------------------------------------------------- main
def write_manifest(man, path):
    """As make_manifest.py writes it (indent 1), but the OOD statistics (21,000 numbers) one array
    per line, so they do not triple the file's size."""
    ood = man.get("ood")
    rows = {}
    if ood:
        ood = dict(ood)
        for key in ("mean", "components"):
            val = ood[key]
            lines = [val] if key == "mean" else val
            marks = []
            for i, row in enumerate(lines):
                mark = f"@@{key}{i}@@"
                rows[mark] = json.dumps(row, separators=(",", ":"))
                marks.append(mark)
            ood[key] = marks[0] if key == "mean" else marks
        man = dict(man, ood=ood)
    text = json.dumps(man, indent=1, ensure_ascii=False)
    for mark, row in rows.items():
        text = text.replace(f'"{mark}"', row)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text + "\n")


def load_source(spec):
    name, _, path = spec.partition("=")
    if not path:
        raise SystemExit(f"--source wants NAME=DATA_DIR, got {spec!r}")
    items, classes = common.discover(path)
    return name, path, items, classes


def tract_probabilities(model_dir, data, split, rows):
    """Probabilities of the app's own engine (tract, through `cargo run --example evaluate`) for
    `rows` = [(path, class index)] of one split, in the same order; the labels must agree."""
    root = os.path.dirname(HERE)
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "eval.json")
        cmd = ["cargo", "run", "--quiet", "--example", "evaluate", "--", "--model", os.path.abspath(model_dir),
               "--data", os.path.abspath(data), "--split", split, "--json", out]
        subprocess.run(cmd, check=True, cwd=root, stdout=subprocess.DEVNULL)
        preds = json.load(open(out))["predictions"]
    by_path = {os.path.realpath(p["path"]): p for p in preds}
    probs = []
    for path, _ in rows:
        p = by_path.get(os.path.realpath(path))
        if p is None:
            raise SystemExit(f"tract gave no result for {path}")
        probs.append(p["probabilities"])
    return np.asarray(probs, np.float64)


def scale_crops(man, name, data):
    """Where the model has a training scale (manifest input.cell_scale), the app finds and cuts out
    each image's central cell first: do the same with the app's own code (examples/make_crops.rs)
    into a temporary folder, and return a function from an original's path to its crop's path
    (identity for a model without a scale)."""
    scale = man["input"].get("cell_scale")
    if not scale:
        return lambda p: p
    root = os.path.dirname(HERE)
    out = tempfile.mkdtemp(prefix=f"marrowscope-crops-{name}-")
    opts = ["--size-exponent", str(scale.get("size_exponent", 1.0))]
    if scale.get("nucleus_range_px"):
        opts += ["--nucleus-range", ",".join(str(v) for v in scale["nucleus_range_px"])]
    opts += ["--fill", scale.get("fill", "edge")]
    if scale.get("white_balance"):
        opts += ["--white-balance"]
    if scale.get("mask_radius"):
        opts += ["--mask-radius", str(scale["mask_radius"])]
    if scale.get("nucleus_diameter_px", 120.0) != 120.0 or scale.get("crop_side", 250) != 250:
        raise SystemExit("examples/make_crops.rs makes 250 px crops around a 120 px reference nucleus only")
    subprocess.run(["cargo", "run", "--quiet", "--release", "--no-default-features", "--example", "make_crops", "--",
                    "--data", os.path.abspath(data), "--source", name, "--out", out, *opts], check=True, cwd=root)
    base = os.path.realpath(data)
    return lambda p: os.path.join(out, os.path.splitext(os.path.relpath(os.path.realpath(p), base))[0] + ".jpg")


def make_ood_dir():
    out = tempfile.mkdtemp(prefix="marrowscope-ood-")
    script = os.path.join(os.path.dirname(HERE), "scripts", "data", "make-ood-images.py")
    subprocess.run([sys.executable, script, out], check=True)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model-dir", default="public/model")
    ap.add_argument("--source", action="append", default=None,
                    help="NAME=DATA_DIR (MLL layout with splits.csv); repeat for a model of several sources")
    ap.add_argument("--method", default="lac", choices=["lac", "aps", "raps"])
    ap.add_argument("--lam", type=float, default=0.0, help="RAPS lambda")
    ap.add_argument("--k-reg", type=int, default=0, help="RAPS k_reg")
    ap.add_argument("--ood-k", type=int, default=16)
    ap.add_argument("--ood-level", type=float, default=0.96)
    ap.add_argument("--ood-dir", default=None, help="generated non-cell images (default: made now)")
    ap.add_argument("--compare", action="store_true", help="also print the candidate methods and scores")
    ap.add_argument("--dry-run", action="store_true", help="print only, do not write the manifest")
    ap.add_argument("--engine", default="tract", choices=["tract", "onnxruntime"],
                    help="whose probabilities calibrate the sets: tract (the app's engine, default; needs cargo) or onnxruntime")
    args = ap.parse_args()
    sources = args.source or ["marrow=" + os.path.join(os.path.dirname(HERE), "..", "shared", "data", "mll-subset")]

    man_path = os.path.join(args.model_dir, "manifest.json")
    man = json.load(open(man_path, encoding="utf-8"))
    onnx_path = os.path.join(args.model_dir, man["onnx_file"])
    size = int(man["input"]["width"])
    classes = man["classes"]
    cfg = (args.method, args.lam, args.k_reg)

    conformal = {"method": args.method, "lambda": args.lam, "k_reg": args.k_reg,
                 "rule": (f"split conformal, score {args.method}; q-hat = ceil((n+1)*level)-th smallest score of the "
                          f"source's val split (int8 model, {args.engine}); the set is every class with score <= q-hat, "
                          f"most probable first, empty when no class reaches the level; several sources: the app uses the largest q-hat"),
                 "sources": dict((man.get("conformal") or {}).get("sources", {}))}
    train_f, val_scores_ood, per_source, test_probs = [], [], {}, {}
    for spec in sources:
        name, path, items, src_classes = load_source(spec)
        if any(c not in classes for c in src_classes):
            raise SystemExit(f"source {name}: classes {src_classes} are not all in the manifest's {classes}")
        split = {s: [(p, classes.index(lab)) for p, lab, sp in items if sp == s] for s in ("train", "val", "test")}
        crop_of = scale_crops(man, name, path)
        out = {}
        for s, rows in split.items():
            lo, fe = run_model(onnx_path, [crop_of(p) for p, _ in rows], size)
            out[s] = (lo, fe, np.array([y for _, y in rows]))
            print(f"[{name}] {s}: {len(rows)} images", flush=True)
        per_source[name] = out
        pv, yv = common.softmax(out["val"][0]), out["val"][2]
        pt, yt = common.softmax(out["test"][0]), out["test"][2]
        if args.engine == "tract":
            pv = tract_probabilities(args.model_dir, path, "val", split["val"])
            pt = tract_probabilities(args.model_dir, path, "test", split["test"])
        if args.compare:
            compare_methods(pv, yv)
        vs = label_scores(pv, yv, *cfg)
        qhat = {f"{lv:.2f}": round(quantile(vs, lv), 6) for lv in LEVELS}
        test = {f"{lv:.2f}": set_stats(pt, yt, qhat[f"{lv:.2f}"], *cfg) for lv in LEVELS}
        old_t = float(man.get("low_confidence_threshold", 0.0))
        mp, correct = pt.max(1), pt.argmax(1) == yt
        old = {"threshold": old_t, "accepted_share": round(float((mp >= old_t).mean()), 4),
               "accepted_accuracy": round(float(correct[mp >= old_t].mean()) if (mp >= old_t).any() else 0.0, 4),
               "top1_accuracy": round(float(correct.mean()), 4)}
        conformal["sources"][name] = {"split": "val", "n": int(len(yv)), "engine": args.engine, "data": os.path.basename(os.path.normpath(path)),
                                      "qhat": qhat, "test": test, "test_old_rule": old}
        print(f"[{name}] conformal ({args.method}) calibrated on val n={len(yv)}; on test n={len(yt)}:")
        print(f"  {'level':>5} {'q-hat':>8} {'coverage':>8} {'mean size':>9} {'singletons':>10} {'empty':>6} {'acc. of singletons':>18}")
        for lv in LEVELS:
            k = f"{lv:.2f}"
            t = test[k]
            print(f"  {k:>5} {qhat[k]:8.4f} {t['coverage']:8.4f} {t['mean_size']:9.3f} {t['singleton_share']:10.4f} "
                  f"{t['empty_share']:6.4f} {t['singleton_accuracy']:18.4f}")
        print(f"  old rule (max softmax >= {old_t}): accepted {old['accepted_share']:.4f} of test, "
              f"accuracy among accepted {old['accepted_accuracy']:.4f} (top-1 overall {old['top1_accuracy']:.4f})")
        train_f.append(out["train"][1])
        test_probs[name] = pt

    if len(per_source) > 1:
        # Which source an image comes from, so that its set uses that source's q-hat (else the
        # largest): fitted on train features, checked on each source's val and test.
        model = fit_source_model({name: out["train"][1] for name, out in per_source.items()})
        names = model[0]
        min_p = 0.9
        acc = {}
        for k, (name, out) in enumerate(per_source.items()):
            for split in ("val", "test"):
                guess, prob = source_guess(model, out[split][1])
                acc[f"{name}/{split}"] = round(float(np.mean(guess == names.index(name))), 4)
                if split == "test":
                    sure = prob >= min_p
                    acc[f"{name}/test_unsure"] = round(float(np.mean(~sure)), 4)
        print("source model (logistic regression on L2-normalised pooled features): right source "
              + ", ".join(f"{k} {v:.4f}" for k, v in acc.items()))
        conformal["source_model"] = {"sources": names, "weights": [[round(float(v), 6) for v in row] for row in model[1]],
                                     "bias": [round(float(v), 6) for v in model[2]], "min_probability": min_p,
                                     "fit": "train split of each source; multinomial logistic regression, L2 1e-3",
                                     "accuracy": acc}
        # What the app does on each source's test split: q-hat of the estimated source when sure,
        # else the largest.
        for name, out in per_source.items():
            guess, prob = source_guess(model, out["test"][1])
            pt = test_probs[name]
            yt = out["test"][2]
            app = {}
            for lv in LEVELS:
                key = f"{lv:.2f}"
                qs = {n: conformal["sources"][n]["qhat"][key] for n in names}
                qmax = max(qs.values())
                q = np.array([qs[names[g]] if pr >= min_p else qmax for g, pr in zip(guess, prob)])[:, None]
                app[key] = set_stats(pt, yt, q, *cfg)
            conformal["sources"][name]["test_app"] = app
            print(f"[{name}] test, as the app chooses q-hat (estimated source): "
                  + "; ".join(f"{k}: coverage {v['coverage']:.4f}, mean size {v['mean_size']:.3f}, singletons {v['singleton_share']:.4f}"
                              for k, v in app.items()))

    mu, comps = fit_residual(np.concatenate(train_f), args.ood_k)
    thresholds, rates = [], {}
    for name, out in per_source.items():
        vs = residual_score(out["val"][1], mu, comps)
        thresholds.append(quantile(vs, args.ood_level))
        val_scores_ood.append(vs)
    th = max(thresholds)
    ood_dir = args.ood_dir or make_ood_dir()
    index = json.load(open(os.path.join(ood_dir, "index.json")))
    names = sorted(index)
    with open(os.path.join(ood_dir, "labels.csv"), "w") as f:
        f.write("path,label\n" + "".join(f"{n},{index[n]}\n" for n in names))
    ood_crop = scale_crops(man, "non-cells", ood_dir)
    ood_lo, ood_fe = run_model(onnx_path, [ood_crop(os.path.join(ood_dir, n)) for n in names], size)
    ood_s = residual_score(ood_fe, mu, comps)
    cats = sorted(set(index.values()))
    for name, out in per_source.items():
        rates[name] = {"val": round(float(np.mean(residual_score(out["val"][1], mu, comps) > th)), 4),
                       "test": round(float(np.mean(residual_score(out["test"][1], mu, comps) > th)), 4)}
    non_cells = {"n": len(names), "flagged": round(float(np.mean(ood_s > th)), 4),
                 "by_kind": {c: round(float(np.mean([s > th for n, s in zip(names, ood_s) if index[n] == c])), 4) for c in cats}}
    print(f"OOD flag (L2-normalised pooled features, residual outside k={args.ood_k} principal directions; "
          f"threshold {th:.4f} = val quantile {args.ood_level}):")
    for name, r in rates.items():
        print(f"  [{name}] flagged: val {r['val']:.4f}, test {r['test']:.4f}")
    print(f"  generated non-cells ({ood_dir}): {non_cells['flagged']:.4f} of {len(names)} flagged; by kind "
          + ", ".join(f"{c} {v:.2f}" for c, v in non_cells["by_kind"].items()))
    missed = [n for n, s in zip(names, ood_s) if s <= th]
    if missed:
        print("  not flagged: " + " ".join(missed))
    if args.compare:
        first = next(iter(per_source.values()))
        tr = first["train"]
        compare_ood(tr[1], tr[0], tr[2], (first["val"][1], first["val"][0]), (first["test"][1], first["test"][0]),
                    (ood_fe, ood_lo), args.ood_level)

    ood = {"method": "pca-residual",
           "mean": [round(float(v), 6) for v in mu],
           "components": [[round(float(v), 6) for v in row] for row in comps],
           "threshold": round(th, 6), "level": args.ood_level,
           "rule": (f"pooled features / their L2 norm, minus the train mean, minus their projection on the "
                    f"{args.ood_k} principal directions of the train features; score = length of the rest; flagged "
                    f"above the ceil((n+1)*{args.ood_level})-th smallest val score (largest over sources)"),
           "fit": {"split": "train", "n": int(sum(len(f) for f in train_f)), "sources": list(per_source)},
           "flag_rates": {"sources": rates, "generated_non_cells": non_cells}}
    man["conformal"] = conformal
    man["ood"] = ood
    if args.dry_run:
        print("dry run: manifest not written")
        return
    write_manifest(man, man_path)
    print(f"wrote conformal and ood sections into {man_path} ({os.path.getsize(man_path)} bytes)")


if __name__ == "__main__":
    main()
