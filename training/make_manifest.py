#!/usr/bin/env python
"""Copy the int8 model to public/model/ and write public/model/manifest.json.

    python training/make_manifest.py --ckpt training/runs/final160/best.pt \
        --int8 training/runs/final160/model.int8.onnx --out-dir public/model

Reads <int8 dir>/eval_onnx.json (written by quantize.py) for metrics and the val max-softmax
probabilities of the int8 model, from which the low-confidence threshold is chosen:
the smallest t on a 0.01 grid in [0.30, 0.99] such that the top-1 accuracy of the val images
whose max probability >= t is >= --target (0.97); if no t reaches it, the t with the highest
accepted accuracy among those keeping >= 50 % coverage.

Then (unless --no-calibrate) runs training/calibrate.py on the new manifest: the conformal
prediction-set calibration and the out-of-distribution statistics of this model, from the
--data splits (source "marrow"). A model change therefore always gets a fresh calibration.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

CITATION_PBC = ("Acevedo, A., Merino, A., Alférez, S., Molina, Á., Boldú, L., & Rodellar, J. (2020). A dataset of "
                "microscopic peripheral blood cell images for development of automatic recognition systems. "
                "Data in Brief 30:105474. https://doi.org/10.17632/snkd93bnjr.1")
SHARED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "data")
# The original (not scale-normalised) data of each source, for calibration through the app's path.
DEFAULT_ORIGINALS = {"marrow": os.path.join(SHARED, "mll-subset"), "blood": os.path.join(SHARED, "pbc")}
CITATION = ("Matek, C., Krappe, S., Münzenmayer, C., Haferlach, T., & Marr, C. (2021). An Expert-Annotated "
            "Dataset of Bone Marrow Cytology in Hematologic Malignancies [Data set]. The Cancer Imaging "
            "Archive. https://doi.org/10.7937/TCIA.AXH3-T579")


def choose_threshold(maxprob, correct, target):
    maxprob = np.asarray(maxprob)
    correct = np.asarray(correct, dtype=bool)
    grid = np.round(np.arange(0.30, 0.991, 0.01), 2)
    rows = []
    for t in grid:
        acc_mask = maxprob >= t
        cov = float(acc_mask.mean())
        acc = float(correct[acc_mask].mean()) if acc_mask.any() else 1.0
        rows.append((float(t), acc, cov))
    for t, acc, cov in rows:
        if acc >= target:
            return t, acc, cov, f"smallest t (0.01 grid, 0.30-0.99) with val int8 accepted-accuracy >= {target}"
    ok = [r for r in rows if r[2] >= 0.5] or rows
    t, acc, cov = max(ok, key=lambda r: (r[1], -r[0]))
    return t, acc, cov, (f"no t reached val accepted-accuracy {target}; t maximising accepted accuracy "
                         f"with coverage >= 50 %")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--int8", required=True)
    ap.add_argument("--out-dir", default="public/model")
    ap.add_argument("--version", default="1.0.0")
    ap.add_argument("--target", type=float, default=0.97)
    ap.add_argument("--source", action="append", default=None,
                    help="NAME=DIR: the original images of each source the checkpoint was trained on (default: "
                         "marrow=../shared/data/mll-subset, blood=../shared/data/pbc), for training/calibrate.py")
    ap.add_argument("--crop-side", type=int, default=250, help="input.cell_scale: side of the crops trained on")
    ap.add_argument("--nucleus-px", type=float, default=120.0,
                    help="input.cell_scale: nucleus diameter in the crops trained on (examples/make_crops.rs)")
    ap.add_argument("--size-exponent", type=float, default=0.0,
                    help="input.cell_scale: the make_crops.rs --size-exponent the crops were made with")
    ap.add_argument("--nucleus-range", default="48,172",
                    help="input.cell_scale: the make_crops.rs --nucleus-range MIN,MAX ('' for none)")
    ap.add_argument("--fill", default="edge", choices=["edge", "glass"],
                    help="input.cell_scale.fill: the make_crops.rs --fill the crops were made with")
    ap.add_argument("--white-balance", action="store_true",
                    help="input.cell_scale.white_balance: the crops were made with make_crops.rs --white-balance")
    ap.add_argument("--mask-radius", type=float, default=None,
                    help="input.cell_scale.mask_radius: the make_crops.rs --mask-radius the crops were made with")
    ap.add_argument("--whole-image", action="store_true",
                    help="the model was trained on whole images, not on make_crops.rs crops: no input.cell_scale")
    ap.add_argument("--no-calibrate", action="store_true", help="skip training/calibrate.py")
    args = ap.parse_args()

    import torch
    ck = torch.load(args.ckpt, map_location="cpu", weights_only=False)
    classes, size = ck["classes"], ck["size"]
    ev = json.load(open(os.path.join(os.path.dirname(os.path.abspath(args.int8)), "eval_onnx.json")))
    assert ev["classes"] == classes and ev["size"] == size

    os.makedirs(args.out_dir, exist_ok=True)
    dst = os.path.join(args.out_dir, "model.int8.onnx")
    shutil.copyfile(args.int8, dst)
    sha = hashlib.sha256(open(dst, "rb").read()).hexdigest()

    import onnx
    g = onnx.load(dst).graph
    dims = {o.name: [d.dim_value for d in o.type.tensor_type.shape.dim] for o in g.output}
    C = dims["features"][1]
    sd = ck["state_dict"]
    W = sd["net._fc.weight"].float().numpy()
    b = sd["net._fc.bias"].float().numpy()
    assert W.shape == (len(classes), C), (W.shape, C)

    t, acc, cov, rule = choose_threshold(ev["val_int8_maxprob"], ev["val_int8_correct"], args.target)
    tq, tf = ev["test_int8"], ev["test_float"]
    n_cls = len(classes)
    sources = sorted(ck.get("sources") or ["marrow"], key=lambda s: (s != "marrow", s))  # marrow first
    class_sources = ck.get("class_sources") or {c: sources for c in classes}
    names = {"marrow": "MLL bone marrow (Matek et al. 2021)", "blood": "PBC peripheral blood (Acevedo et al. 2020)"}
    if sources == ["marrow"]:
        data_desc = (f"MLL bone marrow subset: {n_cls} classes ({', '.join(classes)}), 250x250 single-cell crops"
                     if n_cls < 21 else "MLL bone marrow cytology dataset: 21 classes, 250x250 single-cell crops")
    else:
        data_desc = (f"{n_cls} classes ({', '.join(classes)}) from " + " and ".join(names.get(s, s) for s in sources)
                     + f"; every image's central cell found, measured and cut out as a {args.crop_side}x{args.crop_side} "
                     f"square (image scaled by ({args.nucleus_px:g} px / nucleus diameter)^{args.size_exponent:g}"
                     + (f", then into a nucleus of {args.nucleus_range.replace(',', '-')} px" if args.nucleus_range else "")
                     + ") by the app's own code")
    backbone = ck.get("backbone", "lite0")  # lite0 | lite1 | lite2 (train.py --backbone)
    prefix = "mll" if sources == ["marrow"] else "mll-pbc" if sources == ["marrow", "blood"] else "-".join(sources)
    citation = CITATION + ("" if "blood" not in sources else " | " + CITATION_PBC)
    man = {
        "schema": "marrowscope-manifest/1",
        "model_id": f"{prefix}{n_cls}-effnet{backbone}-{size}",
        "version": args.version,
        "onnx_file": "model.int8.onnx",
        "sha256": sha,
        "classes": classes,
        "input": {"name": "input", "width": size, "height": size, "layout": "NCHW", "channels": "RGB",
                  "scale": 255.0, "mean": [round(float(m), 8) for m in ck["mean"]],
                  "std": [round(float(s), 8) for s in ck["std"]], "resize": "bilinear",
                  **({} if args.whole_image else
                     {"cell_scale": {"nucleus_diameter_px": args.nucleus_px, "crop_side": args.crop_side,
                                     "size_exponent": args.size_exponent,
                                     **({"fill": args.fill} if args.fill != "edge" else {}),
                                     **({"white_balance": True} if args.white_balance else {}),
                                     **({"mask_radius": args.mask_radius} if args.mask_radius else {}),
                                     **({"nucleus_range_px": [float(v) for v in args.nucleus_range.split(",")]}
                                        if args.nucleus_range else {})}})},
        "outputs": {"logits": "logits", "features": "features"},
        "cam": {"features_output": "features", "channels": int(C),
                "weights": [[round(float(v), 7) for v in row] for row in W],
                "bias": [round(float(v), 7) for v in b]},
        "low_confidence_threshold": t,
        "threshold_rule": (f"max softmax probability; {rule} (val: accepted accuracy {acc:.4f}, "
                           f"coverage {cov:.4f}, n={len(ev['val_int8_maxprob'])})"),
        "training": {"data": data_desc,
                     "images": {k: int(ck["counts"][k]) for k in ("train", "val", "test")},
                     "citation": citation, "license": "CC BY 4.0",
                     "sources": sources,
                     "backbone": f"EfficientNet-Lite{backbone[-1]} (ImageNet init)",
                     "seed": int(ck["seed"]), "epochs": int(ck.get("epochs_total", ck["epochs"]))},
        "metrics": {"split": "test", "engine": "onnxruntime int8",
                    "accuracy": tq["accuracy"], "macro_f1": tq["macro_f1"],
                    "per_class": {c: tq["per_class"][c] for c in classes},
                    "float_accuracy": tf["accuracy"], "float_macro_f1": tf["macro_f1"],
                    **({"per_source": {s: {k: m[k] for k in ("accuracy", "macro_f1", "n")}
                                       for s, m in tq["per_source"].items()}} if "per_source" in tq else {})},
        "class_sources": {c: class_sources.get(c, []) for c in classes},
    }
    with open(os.path.join(args.out_dir, "manifest.json"), "w") as f:
        json.dump(man, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print(f"wrote {dst} ({os.path.getsize(dst)} bytes, sha256 {sha[:16]}...) and manifest.json; "
          f"threshold {t} (val accepted acc {acc:.4f}, coverage {cov:.4f})")
    if not args.no_calibrate:
        import subprocess
        specs = args.source or [f"{s}={DEFAULT_ORIGINALS[s]}" for s in sources]
        cmd = [sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "calibrate.py"), "--model-dir", args.out_dir]
        for spec in specs:
            cmd += ["--source", spec]
        subprocess.run(cmd, check=True)


if __name__ == "__main__":
    main()
