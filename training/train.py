#!/usr/bin/env python
"""Train the Marrowscope EfficientNet-Lite0 classifier (CPU), or a larger Lite1/Lite2 teacher.

    nice -n 5 python training/train.py --data CROPS/marrow CROPS/blood \
        --out training/runs/final160 --size 160 --epochs 4 --seed 0

--data takes one folder per source (the scale-normalised crops that examples/make_crops.rs writes,
one per source; or any folder in the subset layout (splits.csv) or the full TCIA layout
(bone_marrow_cell_dataset/<CLASS>/**/*.jpg, split made deterministically, see common.discover)).
With several sources: stain transfer between them (--stain-transfer), validation macro-F1 per
source, the checkpoint chosen on their mean, test metrics per source.

Distillation: train a teacher with --backbone lite1|lite2, then the student (Lite0) with
--teacher TEACHER/best.pt: its loss is (1 - a) * cross-entropy + a * T^2 * KL(teacher || student)
at temperature T (--kd-weight a, --kd-temp T), the teacher run on the same augmented batch; with
--kd-offline the teacher's logits are computed once per training image (un-augmented, by the
contract) before training, which saves the teacher's forward pass at every step.

Writes into --out: train.log, history.json, best.pt (best val macro-F1), metrics_test.json.
Preprocessing for val/test follows the contract in common.py exactly; training augments.
"""
from __future__ import annotations

import argparse
import io
import json
import math
import os
import random
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageFilter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402


def log(msg, fh):
    line = time.strftime("%H:%M:%S ") + msg
    print(line, flush=True)
    fh.write(line + "\n")
    fh.flush()


def preload(items, size, cache_size, fh):
    """Decode every image once. train images kept at cache_size (native if None) for
    augmentation; val/test stored as contract-resized uint8 SxS (exactly the app's input)."""
    t = time.time()
    out = {"train": ([], [], []), "val": ([], [], []), "test": ([], [], [])}
    for i, (p, lab, split, src) in enumerate(items):
        img = common.load_rgb(p)
        if split == "train":
            if cache_size and img.size != (cache_size, cache_size):
                img = img.resize((cache_size, cache_size), Image.BILINEAR)
            arr = np.asarray(img, dtype=np.uint8)
        else:
            arr = common.contract_uint8(img, size)
        out[split][0].append(arr)
        out[split][1].append(lab)
        out[split][2].append(src)
        if (i + 1) % 2000 == 0:
            log(f"  decoded {i + 1}/{len(items)}", fh)
    log(f"preloaded {len(items)} images in {time.time() - t:.1f}s", fh)
    return out


class Augment:
    """Per-sample geometric + JPEG augmentation in PIL/numpy (uint8), colour jitter per batch
    in torch (3x3 colour matrix per image: hue rotation in YIQ, saturation, brightness, contrast)."""

    def __init__(self, size, seed, jpeg_p=0.3, scale=(0.8, 1.0), ratio=(0.9, 1.0 / 0.9), robust=None):
        self.size, self.jpeg_p, self.scale, self.ratio = size, jpeg_p, scale, ratio
        self.rng = np.random.RandomState(seed)
        # Robustness augmentations (issue 32), all off by default (the shipped recipe):
        # shift (fraction of the side), scale_jitter, blur_p, hed (sigma), gamma (factor), noise (std).
        self.robust = robust or {}

    def geometry(self, img):
        """Off-centre and rescaled frames (robustness): the image moved by up to `shift` of its side
        and scaled by 1 +- `scale_jitter`, cut back to its own size, glass (its 99th-percentile
        colour) where the frame leaves it."""
        r, rb = self.rng, self.robust
        shift, jitter = rb.get("shift", 0.0), rb.get("scale_jitter", 0.0)
        if shift <= 0 and jitter <= 0:
            return img
        w, h = img.size
        a = np.asarray(img)
        glass = tuple(int(v) for v in np.percentile(a.reshape(-1, 3)[::7], 99, axis=0))
        f = r.uniform(1 - jitter, 1 + jitter) if jitter > 0 else 1.0
        if f != 1.0:
            img = img.resize((max(1, round(w * f)), max(1, round(h * f))), Image.BILINEAR)
        dx = dy = 0
        if shift > 0 and r.rand() < 0.5:
            ang, d = r.uniform(0, 2 * math.pi), r.uniform(0, shift)
            dx, dy = int(round(d * w * math.cos(ang))), int(round(d * h * math.sin(ang)))
        canvas = Image.new("RGB", (w, h), glass)
        canvas.paste(img, ((w - img.size[0]) // 2 - dx, (h - img.size[1]) // 2 - dy))
        return canvas

    def neighbour(self, img, pool):
        """A neighbour in the frame (robustness): with probability `neighbour`, the central disc of
        another training image (its cell, radius 0.3 of the side, soft edge) pasted with its centre
        0.42-0.65 of the side away from this image's centre, so that it is cut by the frame's edge
        as crowded marrow cells are. The label stays this image's own."""
        r, p = self.rng, self.robust.get("neighbour", 0.0)
        if p <= 0 or pool is None or r.rand() >= p:
            return img
        other = pool[r.randint(len(pool))]
        w, h = img.size
        side = min(w, h)
        rad = 0.3 * side
        o = Image.fromarray(other).resize((w, h), Image.BILINEAR)
        ang, d = r.uniform(0, 2 * math.pi), r.uniform(0.42, 0.65) * side
        cx, cy = w / 2 + d * math.cos(ang), h / 2 + d * math.sin(ang)
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        # the other image's disc around its own centre, moved to (cx, cy)
        src_x = np.clip(np.round(xx - cx + w / 2), 0, w - 1).astype(np.intp)
        src_y = np.clip(np.round(yy - cy + h / 2), 0, h - 1).astype(np.intp)
        dist = np.hypot(xx - cx, yy - cy)
        alpha = np.clip((rad - dist) / (0.08 * side), 0, 1)[..., None]
        a = np.asarray(img).astype(np.float32)
        b = np.asarray(o)[src_y, src_x].astype(np.float32)
        return Image.fromarray(np.round(a * (1 - alpha) + b * alpha).astype(np.uint8))

    def one(self, arr, pool=None):
        r = self.rng
        img = self.neighbour(self.geometry(Image.fromarray(arr)), pool)
        if self.robust.get("blur_p", 0) > 0 and r.rand() < self.robust["blur_p"]:
            img = img.filter(ImageFilter.GaussianBlur(radius=float(r.uniform(0.5, 2.0))))
        if r.rand() < self.jpeg_p:
            buf = io.BytesIO()
            img.save(buf, format="JPEG", quality=int(r.randint(60, 96)))
            buf.seek(0)
            img = Image.open(buf).convert("RGB")
        w, h = img.size
        area = w * h * r.uniform(*self.scale)
        ar = math.exp(r.uniform(math.log(self.ratio[0]), math.log(self.ratio[1])))
        cw = min(w, int(round(math.sqrt(area * ar))))
        ch = min(h, int(round(math.sqrt(area / ar))))
        x0 = r.randint(0, w - cw + 1)
        y0 = r.randint(0, h - ch + 1)
        img = img.resize((self.size, self.size), Image.BILINEAR, box=(x0, y0, x0 + cw, y0 + ch))
        a = np.asarray(img)
        if r.rand() < 0.5:
            a = a[:, ::-1]
        if r.rand() < 0.5:
            a = a[::-1, :]
        a = np.rot90(a, k=r.randint(0, 4))
        return np.ascontiguousarray(a)

    def colour(self, x):
        """x: N x 3 x H x W float in [0,1]."""
        n = x.shape[0]
        r = self.rng
        hue = torch.tensor(r.uniform(-0.03, 0.03, n) * 2 * math.pi, dtype=torch.float32)
        sat = torch.tensor(r.uniform(0.9, 1.1, n), dtype=torch.float32)
        bri = torch.tensor(r.uniform(0.85, 1.15, n), dtype=torch.float32)
        con = torch.tensor(r.uniform(0.85, 1.15, n), dtype=torch.float32)
        T = torch.tensor([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]])
        Ti = torch.linalg.inv(T)
        c, s = torch.cos(hue) * sat, torch.sin(hue) * sat
        M = torch.zeros(n, 3, 3)
        M[:, 0, 0] = 1
        M[:, 1, 1], M[:, 1, 2], M[:, 2, 1], M[:, 2, 2] = c, -s, s, c
        M = Ti @ M @ T  # N x 3 x 3 in RGB
        y = torch.einsum("nij,njhw->nihw", M, x) * bri.view(n, 1, 1, 1)
        mean = y.mean(dim=(1, 2, 3), keepdim=True)
        y = (y - mean) * con.view(n, 1, 1, 1) + mean
        y = y.clamp_(0, 1)
        rb = self.robust
        if rb.get("hed", 0) > 0:
            y = hed_jitter(y, rb["hed"], r)
        if rb.get("gamma", 1.0) > 1.0:
            g = torch.tensor(np.exp(r.uniform(-math.log(rb["gamma"]), math.log(rb["gamma"]), n)), dtype=torch.float32)
            y = y.clamp(1e-6, 1).pow(g.view(n, 1, 1, 1))
        if rb.get("noise", 0) > 0:
            sd = torch.tensor(r.uniform(0, rb["noise"], n), dtype=torch.float32).view(n, 1, 1, 1)
            y = y + torch.randn(y.shape, generator=torch.Generator().manual_seed(int(r.randint(2**31)))) * sd
        return y.clamp_(0, 1)


# Ruifrok & Johnston's stain vectors (rows: haematoxylin, eosin, DAB) in optical density, as
# src/eval/shift.rs uses them for the shift suite.
RGB_FROM_HED = torch.tensor([[0.65, 0.70, 0.29], [0.07, 0.99, 0.11], [0.27, 0.57, 0.78]])
HED_FROM_RGB = torch.linalg.inv(RGB_FROM_HED)


def hed_jitter(x, sigma, rng):
    """Stain augmentation in haematoxylin-eosin-DAB optical density (Tellez et al. 2018): per image,
    each stain's density scaled by U(1 - sigma, 1 + sigma) and shifted by U(-sigma, sigma) / 4.
    x: N x 3 x H x W in [0, 1]."""
    n = x.shape[0]
    od = -torch.log((x * 255 + 1) / 256)
    hed = torch.einsum("nchw,cd->ndhw", od, HED_FROM_RGB)
    a = torch.tensor(rng.uniform(1 - sigma, 1 + sigma, (n, 3)), dtype=torch.float32).view(n, 3, 1, 1)
    b = torch.tensor(rng.uniform(-sigma, sigma, (n, 3)) / 4, dtype=torch.float32).view(n, 3, 1, 1)
    hed = hed * a + b
    od = torch.einsum("ndhw,dc->nchw", hed, RGB_FROM_HED)
    return (256 * torch.exp(-od) - 1).div_(255).clamp_(0, 1)


def channel_stats(arr):
    """Per-channel mean and std of a uint8 HxWx3 image, on [0,1]."""
    a = arr.reshape(-1, 3).astype(np.float32) / 255.0
    return a.mean(0), a.std(0) + 1e-3


def stain_transfer(x, src_stats, dst_stats):
    """Reinhard-style colour transfer per channel (RGB): x (3xHxW, [0,1]) takes the channel means
    and spreads of another image, so that a cell of one source is shown in the other's stain and
    background; the class cannot then be read off the colour of the background."""
    (ms, ss), (md, sd) = src_stats, dst_stats
    ms, ss, md, sd = (torch.from_numpy(np.asarray(v, np.float32)).view(3, 1, 1) for v in (ms, ss, md, sd))
    return ((x - ms) / ss * sd + md).clamp_(0, 1)


def per_source_f1(y, p, srcs, classes):
    out = {}
    for s in sorted(set(srcs)):
        m = np.array([v == s for v in srcs])
        out[s] = common.metrics(y[m], p[m], classes)
    return out


def to_input(batch_u8):
    return torch.from_numpy(common.normalize_nchw(np.stack(batch_u8)))


@torch.no_grad()
def predict(model, arrs, bs=64):
    model.eval()
    outs = []
    for i in range(0, len(arrs), bs):
        logits, _ = model(to_input(arrs[i:i + bs]).contiguous(memory_format=torch.channels_last))
        outs.append(logits.float())
    return torch.cat(outs).numpy()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, nargs="+", help="one data folder per source")
    ap.add_argument("--stain-transfer", type=float, default=0.5,
                    help="probability of giving a training image the colours of a random image of another source")
    ap.add_argument("--out", required=True)
    ap.add_argument("--size", type=int, default=160)
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--wd", type=float, default=0.01)
    ap.add_argument("--warmup", type=float, default=0.5, help="warm-up length in epochs")
    ap.add_argument("--label-smoothing", type=float, default=0.1)
    ap.add_argument("--freeze-blocks", type=int, default=2,
                    help="keep stem + first N MBConv blocks frozen (saves CPU; 0 = train all)")
    ap.add_argument("--train-frac", type=float, default=1.0,
                    help="use a stratified fraction of train (for quick resolution sweeps)")
    ap.add_argument("--cache-size", type=int, default=0,
                    help="store train images resized to this (0 = native; auto = size+32 when >20k images)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--init", help="continue from this checkpoint's weights (same classes; the size may "
                                   "differ: a convolutional net fine-tunes to a new resolution); "
                                   "the new run's schedule starts afresh")
    ap.add_argument("--skip-test", action="store_true")
    ap.add_argument("--backbone", default="lite0", choices=common.BACKBONES,
                    help="EfficientNet-Lite variant (the app ships lite0; lite1/lite2 are teachers)")
    ap.add_argument("--teacher", help="distil from this checkpoint (same classes and size)")
    ap.add_argument("--kd-weight", type=float, default=0.5, help="weight of the distillation term")
    ap.add_argument("--kd-temp", type=float, default=2.0, help="softmax temperature of the distillation term")
    ap.add_argument("--kd-offline", action="store_true",
                    help="the teacher's logits once per un-augmented training image instead of per batch")
    rob = ap.add_argument_group("robustness (issue 32; all off in the shipped recipe)")
    rob.add_argument("--hed-jitter", type=float, default=0.0,
                     help="stain augmentation in HED optical density: scale 1 +- S, shift +- S/4 per stain")
    rob.add_argument("--gamma-jitter", type=float, default=1.0, help="gamma drawn log-uniformly in [1/G, G]")
    rob.add_argument("--noise", type=float, default=0.0, help="Gaussian noise, std drawn in [0, S] (on 0-1)")
    rob.add_argument("--blur-p", type=float, default=0.0, help="probability of a Gaussian blur (sigma 0.5-2 px)")
    rob.add_argument("--shift", type=float, default=0.0,
                     help="half of the images moved off centre by up to this fraction of the side (glass beyond)")
    rob.add_argument("--scale-jitter", type=float, default=0.0, help="images rescaled by 1 +- J, cut back to their size")
    rob.add_argument("--neighbour", type=float, default=0.0,
                     help="probability of another training image's cell pasted at the frame's edge")
    rob.add_argument("--bn-frozen", action="store_true",
                     help="every batch-norm layer in eval mode while fine-tuning: the statistics stay "
                          "ImageNet's (or --init's), the affine weights still learn (Tsutsui et al. 2023)")
    rob.add_argument("--bn-frozen-after", type=int, default=0, metavar="E",
                     help="batch-norm statistics learn for the first E epochs, then stay frozen (the "
                          "first epochs' statistics; 0: off)")
    rob.add_argument("--balance-sources", action="store_true",
                     help="every batch drawn in equal parts from each source")
    args = ap.parse_args()

    os.makedirs(args.out, exist_ok=True)
    fh = open(os.path.join(args.out, "train.log"), "a")
    torch.set_num_threads(args.threads)
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    log("args " + json.dumps(vars(args)), fh)

    items, classes = common.discover_sources(args.data)
    cidx = {c: i for i, c in enumerate(classes)}
    if args.train_frac < 1.0:
        rs = np.random.RandomState(args.seed)
        keep = []
        for c in classes:
            tr = [it for it in items if it[2] == "train" and it[1] == c]
            sel = rs.choice(len(tr), max(1, int(round(len(tr) * args.train_frac))), replace=False)
            keep += [tr[j] for j in sorted(sel)]
        items = keep + [it for it in items if it[2] != "train"]
    n_train = sum(1 for it in items if it[2] == "train")
    cache = args.cache_size or (args.size + 32 if n_train > 20000 else 0)
    log(f"classes {classes}; counts " + json.dumps({f"{s}/{src}": sum(1 for it in items if it[2] == s and it[3] == src)
                                                   for s in ("train", "val", "test")
                                                   for src in sorted({it[3] for it in items})}), fh)
    data = preload(items, args.size, cache, fh)
    Xtr, ytr = data["train"][0], np.array([cidx[c] for c in data["train"][1]])
    Xva, yva = data["val"][0], np.array([cidx[c] for c in data["val"][1]])
    Xte, yte = data["test"][0], np.array([cidx[c] for c in data["test"][1]])
    str_, sva, ste = data["train"][2], data["val"][2], data["test"][2]
    sources = sorted(set(str_))
    stats = [channel_stats(a) for a in Xtr] if len(sources) > 1 and args.stain_transfer > 0 else None
    by_source = {s: np.array([i for i, v in enumerate(str_) if v == s]) for s in sources}

    model = common.build_model(len(classes), args.size, pretrained=True, backbone=args.backbone)
    teacher = None
    if args.teacher:
        teacher, ckt = common.load_checkpoint(args.teacher)
        assert ckt["classes"] == classes, "the teacher has other classes"
        assert ckt["size"] == args.size, "the teacher was trained at another size"
        for p in teacher.parameters():
            p.requires_grad_(False)
        teacher = teacher.to(memory_format=torch.channels_last)
        tv = predict(teacher, Xva).argmax(1)
        log(f"teacher {args.teacher} ({ckt.get('backbone', 'lite0')}): val macro-F1 per source "
            + json.dumps({k: round(m["macro_f1"], 4) for k, m in per_source_f1(yva, tv, sva, classes).items()}), fh)
    t_train_logits = None
    if teacher is not None and args.kd_offline:
        t0 = time.time()
        t_train_logits = torch.from_numpy(predict(teacher, [common.contract_uint8(Image.fromarray(a), args.size) for a in Xtr]))
        teacher = None
        log(f"teacher logits for {len(Xtr)} training images in {time.time() - t0:.0f}s", fh)
    prev_epochs = 0
    if args.init:
        ck0 = torch.load(args.init, map_location="cpu", weights_only=False)
        assert ck0["classes"] == classes, "init checkpoint has other classes"
        model.load_state_dict(ck0["state_dict"])
        prev_epochs = int(ck0.get("epochs_total", ck0["epochs"]))
        log(f"initialised from {args.init} ({prev_epochs} earlier epochs at {ck0['size']} px)", fh)
    model.freeze(args.freeze_blocks)
    model.bn_frozen = args.bn_frozen
    for m in model.modules():  # faster adaptation of BN statistics than the TF-ported 0.01
        if isinstance(m, torch.nn.BatchNorm2d):
            m.momentum = 0.1
    model = model.to(memory_format=torch.channels_last)

    counts = np.bincount(ytr, minlength=len(classes)).astype(np.float64)
    # inverse-frequency class weights (mean 1 over samples), clipped at 10 so that tiny classes of
    # the full 21-class dataset (e.g. ABE with 8 images) cannot dominate the loss
    cw = torch.tensor(np.minimum(counts.sum() / (len(classes) * np.maximum(counts, 1)), 10.0),
                      dtype=torch.float32)
    log("class weights " + json.dumps(dict(zip(classes, [round(float(w), 3) for w in cw]))), fh)

    params = [p for p in model.parameters() if p.requires_grad]
    decay = [p for p in params if p.ndim > 1]
    no_decay = [p for p in params if p.ndim <= 1]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.wd},
                             {"params": no_decay, "weight_decay": 0.0}], lr=args.lr)
    steps_per_epoch = math.ceil(len(Xtr) / args.batch)
    total = steps_per_epoch * args.epochs
    warm = max(1, int(args.warmup * steps_per_epoch))

    def lr_at(step):
        if step < warm:
            return args.lr * (step + 1) / warm
        p = (step - warm) / max(1, total - warm)
        return args.lr * 0.5 * (1 + math.cos(math.pi * p))

    aug = Augment(args.size, args.seed, robust={"hed": args.hed_jitter, "gamma": args.gamma_jitter,
                                                 "noise": args.noise, "blur_p": args.blur_p,
                                                 "shift": args.shift, "scale_jitter": args.scale_jitter,
                                                 "neighbour": args.neighbour})
    gen = np.random.RandomState(args.seed + 1)
    best_f1, best_epoch, history, step = -1.0, -1, [], 0
    for epoch in range(1, args.epochs + 1):
        if args.bn_frozen_after:
            model.bn_frozen = epoch > args.bn_frozen_after
        model.train()
        t0 = time.time()
        order = gen.permutation(len(Xtr))
        if args.balance_sources and len(sources) > 1:
            # Each batch in equal parts from each source (the smaller ones cycled).
            per = [gen.permutation(by_source[s_]) for s_ in sources]
            k = args.batch // len(sources)
            order = np.concatenate([np.concatenate([p[(b * k + np.arange(k)) % len(p)] for p in per])
                                    for b in range(steps_per_epoch)])
        tot_loss, seen = 0.0, 0
        for b in range(steps_per_epoch):
            idx = order[b * args.batch:(b + 1) * args.batch]
            x = torch.from_numpy(np.stack([aug.one(Xtr[i], Xtr) for i in idx])).permute(0, 3, 1, 2).float() / 255.0
            if stats is not None:
                for k, i in enumerate(idx):
                    if aug.rng.rand() < args.stain_transfer:
                        other = [s for s in sources if s != str_[i]]
                        pool = by_source[other[aug.rng.randint(len(other))]]
                        x[k] = stain_transfer(x[k], stats[i], stats[pool[aug.rng.randint(len(pool))]])
            x = aug.colour(x)
            x = ((x - torch.tensor(common.MEAN).view(1, 3, 1, 1)) / torch.tensor(common.STD).view(1, 3, 1, 1))
            x = x.contiguous(memory_format=torch.channels_last)
            y = torch.from_numpy(ytr[idx])
            for g in opt.param_groups:
                g["lr"] = lr_at(step)
            logits, _ = model(x)
            loss = F.cross_entropy(logits, y, weight=cw, label_smoothing=args.label_smoothing)
            if args.teacher:
                if args.kd_offline:
                    t_logits = t_train_logits[idx]
                else:
                    with torch.no_grad():
                        t_logits, _ = teacher(x)
                T = args.kd_temp
                kd = F.kl_div(F.log_softmax(logits / T, dim=1), F.softmax(t_logits / T, dim=1),
                              reduction="batchmean") * (T * T)
                loss = (1 - args.kd_weight) * loss + args.kd_weight * kd
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
            tot_loss += loss.item() * len(idx)
            seen += len(idx)
            if (b + 1) % 25 == 0:
                el = time.time() - t0
                log(f"  ep {epoch} step {b + 1}/{steps_per_epoch} loss {tot_loss / seen:.4f} "
                    f"({el / (b + 1):.2f}s/step, eta epoch {el / (b + 1) * (steps_per_epoch - b - 1):.0f}s)", fh)
        t_train = time.time() - t0
        pv = predict(model, Xva).argmax(1)
        mv = common.metrics(yva, pv, classes)
        per = per_source_f1(yva, pv, sva, classes)
        # the checkpoint is chosen on the mean of the sources' macro-F1 (each source counts alike)
        sel = float(np.mean([m["macro_f1"] for m in per.values()]))
        t_ep = time.time() - t0
        rec = {"epoch": epoch, "train_loss": round(tot_loss / seen, 4), "val_acc": mv["accuracy"],
               "val_macro_f1": mv["macro_f1"], "val_macro_f1_per_source": {k: m["macro_f1"] for k, m in per.items()},
               "val_select": round(sel, 4), "sec_train": round(t_train, 1), "sec_epoch": round(t_ep, 1),
               "lr_end": lr_at(step - 1)}
        history.append(rec)
        log("EPOCH " + json.dumps(rec), fh)
        if sel > best_f1:
            best_f1, best_epoch = sel, epoch
            torch.save({"state_dict": model.state_dict(), "classes": classes, "size": args.size,
                        "backbone": args.backbone, "teacher": args.teacher,
                        "mean": common.MEAN, "std": common.STD, "epoch": epoch, "epochs": args.epochs,
                        "epochs_total": prev_epochs + args.epochs, "init": args.init,
                        "seed": args.seed, "val": mv, "args": vars(args),
                        "counts": {s: int(len(data[s][0])) for s in ("train", "val", "test")},
                        "data": [os.path.abspath(d) for d in args.data], "sources": sources,
                        "class_sources": {c: sorted({s for lab, s in zip(data["train"][1], str_) if lab == c})
                                          for c in classes}},
                       os.path.join(args.out, "best.pt"))
            log(f"  new best val macro-F1 (mean over sources) {best_f1:.4f} (epoch {epoch}) -> best.pt", fh)
        with open(os.path.join(args.out, "history.json"), "w") as f:
            json.dump(history, f, indent=1)

    if args.skip_test:
        log("done (test skipped)", fh)
        return
    model, ck = common.load_checkpoint(os.path.join(args.out, "best.pt"))
    model = model.to(memory_format=torch.channels_last)
    pt = predict(model, Xte).argmax(1)
    mt = common.metrics(yte, pt, classes)
    mt.update({"split": "test", "engine": "torch float32", "best_epoch": ck["epoch"], "classes": classes,
               "per_source": per_source_f1(yte, pt, ste, classes)})
    with open(os.path.join(args.out, "metrics_test.json"), "w") as f:
        json.dump(mt, f, indent=1)
    log(f"TEST (best epoch {ck['epoch']}): acc {mt['accuracy']:.4f} macro-F1 {mt['macro_f1']:.4f}", fh)
    for src, m in mt["per_source"].items():
        log(f"  {src}: acc {m['accuracy']:.4f} macro-F1 {m['macro_f1']:.4f} (n={m['n']})", fh)
    for c in classes:
        log(f"  {c}: " + json.dumps(mt["per_class"][c]), fh)
    log("confusion (rows=true): " + json.dumps(mt["confusion_matrix"]), fh)


if __name__ == "__main__":
    main()
