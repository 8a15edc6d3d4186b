#!/usr/bin/env python3
"""Write cell images as another laboratory might take them, for the shift warning's tests.

    python3 scripts/data/make-shifted.py OUTDIR IMAGE...

Each IMAGE is written to OUTDIR under its own name, shifted as `tungsten` in
src/eval/shift.rs does: tungsten light (green x0.93, blue x0.70), gamma 1.6, a Gaussian blur of
radius 2 and JPEG quality 40. Deterministic; needs Pillow.
"""

import os
import sys

from PIL import Image, ImageFilter


def tungsten(img):
    img = img.convert("RGB")
    r, g, b = img.split()
    lut = lambda f: [round(255 * ((min(255, v * f)) / 255) ** 1.6) for v in range(256)]  # noqa: E731
    img = Image.merge("RGB", (r.point(lut(1.0)), g.point(lut(0.93)), b.point(lut(0.70))))
    return img.filter(ImageFilter.GaussianBlur(2))


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    out = argv[1]
    os.makedirs(out, exist_ok=True)
    for path in argv[2:]:
        name = os.path.splitext(os.path.basename(path))[0] + ".jpg"
        tungsten(Image.open(path)).save(os.path.join(out, name), quality=40)
    print(f"make-shifted: {len(argv) - 2} images in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
