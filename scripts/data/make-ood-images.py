#!/usr/bin/env python3
"""Generate a deterministic set of images that are NOT single stained blood or marrow cells.

    python3 scripts/data/make-ood-images.py OUTDIR

Marrowscope's "outside what this model knows" flag (src/uncertainty/ood.rs, issue 13) must fire on these.
They are made at test time, never committed:

  noise-*       uniform, Gaussian, salt-and-pepper and smooth (blurred) colour noise
  gradient-*    linear and radial colour gradients, flat colours
  text-*        rendered text on plain or coloured paper
  shapes-*      random rectangles, ellipses, polygons and lines
  screen-*      mock screenshots (title bar, buttons, text lines)
  skimage-*     every sample image that scikit-image's data module ships in its wheel
                (photos, textures, astronomy, retina, immunohistochemistry, a fluorescence cell,
                text, ...), whole and as a 250x250 crop

Writes OUTDIR/*.png|jpg and OUTDIR/index.json ({file name: category}). Sizes vary from
96x96 to 640x480 and JPEG/PNG are mixed, as dropped files would be. Seeded: the same files
every run (same Pillow/scikit-image versions). Takes about 3 s.

Needs numpy, Pillow and scikit-image (training/requirements-parity.txt; scripts/setup.sh
installs them into .tools/py). Without scikit-image the skimage-* images are left out and a
warning is printed (the exit status is still 0 unless --require-skimage is given).
"""

from __future__ import annotations

import json
import os
import sys

try:
    import numpy as np
    from PIL import Image, ImageDraw, ImageFilter, ImageFont
except ImportError:  # pragma: no cover
    sys.stderr.write("make-ood-images.py needs numpy and Pillow (training/requirements-parity.txt)\n")
    sys.exit(3)

SEED = 13
SIZES = [(250, 250), (224, 224), (320, 240), (160, 160), (640, 480), (363, 360), (96, 96), (400, 300)]
WORDS = ("the quick brown fox jumps over lazy dog marrow blood cell sample report patient "
         "invoice holiday photo screenshot error settings cancel open save lorem ipsum dolor sit amet").split()


def rng_size(rng):
    return SIZES[int(rng.integers(len(SIZES)))]


def rand_colour(rng, lo=0, hi=256):
    return tuple(int(v) for v in rng.integers(lo, hi, 3))


def font(size):
    for path in ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
                 "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf"):
        if os.path.exists(path):
            return ImageFont.truetype(path, size)
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # old Pillow
        return ImageFont.load_default()


def noise(rng, k):
    w, h = rng_size(rng)
    kind = k % 5
    if kind == 0:
        a = rng.integers(0, 256, (h, w, 3))
    elif kind == 1:
        a = np.clip(rng.normal(rng.uniform(60, 200), rng.uniform(10, 70), (h, w, 3)), 0, 255)
    elif kind == 2:
        a = np.full((h, w, 3), rng.uniform(0, 255, 3))
        m = rng.random((h, w))
        a[m < 0.05] = 0
        a[m > 0.95] = 255
    elif kind == 3:  # grey noise
        a = np.repeat(rng.integers(0, 256, (h, w, 1)), 3, axis=2)
    else:  # smooth colour noise (blobs)
        small = rng.integers(0, 256, (max(2, h // 16), max(2, w // 16), 3)).astype(np.uint8)
        return Image.fromarray(small).resize((w, h), Image.BICUBIC).filter(ImageFilter.GaussianBlur(2))
    return Image.fromarray(a.astype(np.uint8))


def gradient(rng, k):
    w, h = rng_size(rng)
    c0, c1 = np.array(rand_colour(rng), float), np.array(rand_colour(rng), float)
    yy, xx = np.mgrid[0:h, 0:w]
    kind = k % 3
    if kind == 0:
        ang = rng.uniform(0, np.pi)
        t = (np.cos(ang) * xx / w + np.sin(ang) * yy / h)
        t = (t - t.min()) / max(np.ptp(t), 1e-6)
    elif kind == 1:
        cx, cy = rng.uniform(0.2, 0.8) * w, rng.uniform(0.2, 0.8) * h
        t = np.sqrt((xx - cx) ** 2 + (yy - cy) ** 2)
        t = t / t.max()
    else:  # flat colour
        t = np.zeros((h, w))
    a = c0[None, None, :] * (1 - t[..., None]) + c1[None, None, :] * t[..., None]
    return Image.fromarray(a.astype(np.uint8))


def text(rng, k):
    w, h = rng_size(rng)
    bg = (255, 255, 255) if k % 3 == 0 else rand_colour(rng, 150, 256)
    im = Image.new("RGB", (w, h), bg)
    d = ImageDraw.Draw(im)
    size = int(rng.integers(10, 40))
    f = font(size)
    y = int(rng.integers(0, 10))
    fg = rand_colour(rng, 0, 100)
    while y < h:
        line = " ".join(WORDS[int(i)] for i in rng.integers(0, len(WORDS), 8))
        d.text((int(rng.integers(0, 12)), y), line, fill=fg, font=f)
        y += int(size * 1.4)
    return im


def shapes(rng, k):
    w, h = rng_size(rng)
    im = Image.new("RGB", (w, h), rand_colour(rng))
    d = ImageDraw.Draw(im)
    for _ in range(int(rng.integers(1, 12))):
        x0, y0 = int(rng.integers(0, w)), int(rng.integers(0, h))
        x1, y1 = x0 + int(rng.integers(10, w)), y0 + int(rng.integers(10, h))
        kind = int(rng.integers(4))
        if kind == 0:
            d.rectangle((x0, y0, x1, y1), fill=rand_colour(rng))
        elif kind == 1:
            d.ellipse((x0, y0, x1, y1), fill=rand_colour(rng), outline=rand_colour(rng))
        elif kind == 2:
            pts = [(int(rng.integers(0, w)), int(rng.integers(0, h))) for _ in range(int(rng.integers(3, 7)))]
            d.polygon(pts, fill=rand_colour(rng))
        else:
            d.line((x0, y0, x1, y1), fill=rand_colour(rng), width=int(rng.integers(1, 12)))
    return im


def screen(rng, k):
    w, h = (640, 480) if k % 2 == 0 else (400, 300)
    im = Image.new("RGB", (w, h), (245, 245, 245) if k % 3 else (30, 30, 36))
    d = ImageDraw.Draw(im)
    d.rectangle((0, 0, w, 28), fill=rand_colour(rng, 40, 200))
    f = font(14)
    d.text((8, 6), "Untitled - " + WORDS[int(rng.integers(len(WORDS)))], fill=(255, 255, 255), font=f)
    y = 44
    while y < h - 40:
        d.text((16, y), " ".join(WORDS[int(i)] for i in rng.integers(0, len(WORDS), 6)), fill=(90, 90, 90), font=f)
        y += 22
    for i in range(3):
        x = w - 100 * (i + 1)
        d.rounded_rectangle((x, h - 36, x + 90, h - 10), radius=5, fill=rand_colour(rng, 60, 220))
    return im


def skimage_images():
    """(name, HxWx3 uint8) for each sample image scikit-image ships (none needs a download)."""
    try:
        import skimage.data as data
    except ImportError:
        return None
    names = ["astronaut", "binary_blobs", "brick", "camera", "cat", "cell", "checkerboard", "chelsea", "clock",
             "coffee", "coins", "colorwheel", "grass", "gravel", "horse", "hubble_deep_field",
             "immunohistochemistry", "logo", "microaneurysms", "moon", "page", "retina", "rocket",
             "shepp_logan_phantom", "text"]
    out = []
    for name in names:
        try:
            a = np.asarray(getattr(data, name)())
        except Exception as e:  # a data file this scikit-image fetches on demand: skip it
            sys.stderr.write(f"make-ood-images.py: skimage.data.{name} unavailable ({type(e).__name__})\n")
            continue
        if a.dtype == bool:
            a = a.astype(np.uint8) * 255
        elif a.dtype.kind == "f":
            a = (np.clip(a, 0, 1) * 255).astype(np.uint8)
        if a.ndim == 2:
            a = np.repeat(a[..., None], 3, axis=2)
        if a.shape[2] == 4:  # RGBA on white
            alpha = a[..., 3:4].astype(float) / 255
            a = (a[..., :3] * alpha + 255 * (1 - alpha)).astype(np.uint8)
        out.append((name, np.ascontiguousarray(a[..., :3].astype(np.uint8))))
    left, right = data.stereo_motorcycle()[:2]
    out.append(("motorcycle", np.asarray(left, np.uint8)))
    faces = data.lfw_subset()  # 200 small grey faces, 25x25: take 10, upscaled
    for i in range(0, 200, 20):
        f = (np.clip(faces[i], 0, 1) * 255).astype(np.uint8)
        out.append((f"face{i:03d}", np.asarray(Image.fromarray(f).convert("RGB").resize((100, 100), Image.BILINEAR))))
    return out


def main(argv):
    args = [a for a in argv[1:] if not a.startswith("--")]
    if len(args) != 1:
        sys.stderr.write(__doc__)
        return 2
    out = args[0]
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(SEED)
    index = {}

    def save(name, im, category, jpeg=False):
        file = f"{name}.{'jpg' if jpeg else 'png'}"
        im = im.convert("RGB")
        if jpeg:
            im.save(os.path.join(out, file), quality=90)
        else:
            im.save(os.path.join(out, file))
        index[file] = category

    for cat, make, n in (("noise", noise, 40), ("gradient", gradient, 30), ("text", text, 30),
                         ("shapes", shapes, 40), ("screen", screen, 10)):
        for k in range(n):
            save(f"{cat}-{k:02d}", make(rng, k), cat, jpeg=(k % 4 == 3))
    sk = skimage_images()
    if sk is None:
        sys.stderr.write("make-ood-images.py: scikit-image is not installed; skimage-* images left out\n")
        if "--require-skimage" in argv:
            return 3
    else:
        for name, a in sk:
            im = Image.fromarray(a)
            save(f"skimage-{name}", im, "skimage", jpeg=name in ("retina", "hubble_deep_field", "rocket"))
            h, w = a.shape[:2]
            if h >= 250 and w >= 250:  # plus one 250x250 crop, the size of an MLL cell image
                y, x = int(rng.integers(0, h - 249)), int(rng.integers(0, w - 249))
                save(f"skimage-{name}-crop", Image.fromarray(a[y:y + 250, x:x + 250]), "skimage")
    with open(os.path.join(out, "index.json"), "w") as f:
        json.dump(index, f, indent=1, sort_keys=True)
        f.write("\n")
    print(f"wrote {len(index)} images to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
