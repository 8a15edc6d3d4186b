#!/usr/bin/env python3
"""Generate a deterministic corpus of awkward input files for Marrowscope's decoder tests.

    python3 scripts/data/make-bad-inputs.py OUTDIR [REAL_IMAGE_OR_DIR]

REAL_IMAGE_OR_DIR (optional): a real cell JPEG, or a folder whose first *.jpg (sorted) is used,
e.g. ../shared/data/mll-subset/images/LYT. It becomes truncated.jpg (cut in half) and the picture
that the "ok" files are converted from. Without it, a cell-like picture is synthesised.

Writes the files plus OUTDIR/expected.json: {file name: "ok" | "error"}.
"ok" = should decode and classify; "error" = the app must show a per-file error message.
The app's decoder (Rust `image` 0.25: jpeg/png/gif/bmp/tiff/webp) refuses images whose side is
< 16 px or > 8192 px.

Needs Python 3.8+ and Pillow (tested with Pillow 13.0.0, which ships WebP/TIFF/JPEG support in its
wheels). Files Pillow cannot write (16-bit RGB PNG, the PNG "bomb", HEIC, PDF, SVG, ...) are built
byte by byte. Takes about 2 s.
"""

import io
import json
import os
import random
import struct
import sys
import zlib

try:
    from PIL import Image, ImageDraw
except ImportError:  # pragma: no cover
    sys.stderr.write(
        "make-bad-inputs.py needs Pillow: pip install pillow (e.g. pillow==13.0.0)\n"
    )
    sys.exit(3)

MIN_SIDE, MAX_SIDE = 16, 8192


# ---------------------------------------------------------------- helpers


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data))
        + kind
        + data
        + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def png_bytes(width, height, bit_depth, color_type, idat_raw=None, idat_compressed=None):
    """A PNG with one IDAT. idat_raw = filtered scanlines (each prefixed with a filter byte)."""
    sig = b"\x89PNG\r\n\x1a\n"
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    if idat_compressed is None:
        idat_compressed = zlib.compress(idat_raw, 9)
    return sig + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat_compressed) + png_chunk(b"IEND", b"")


def synth_cell(size=250, seed=7):
    """A cell-like picture: pink background, pale cytoplasm, purple lobed nucleus, grain."""
    rng = random.Random(seed)
    img = Image.new("RGB", (size, size), (232, 200, 214))
    d = ImageDraw.Draw(img)
    c = size // 2
    for _ in range(40):  # background red cells
        x, y, r = rng.randrange(size), rng.randrange(size), rng.randrange(12, 22)
        d.ellipse([x - r, y - r, x + r, y + r], fill=(222, 160, 180))
    d.ellipse([c - 70, c - 66, c + 70, c + 72], fill=(214, 190, 222))  # cytoplasm
    for dx, dy, r in [(-22, -10, 30), (18, 8, 32), (-4, 26, 24)]:  # nucleus lobes
        d.ellipse([c + dx - r, c + dy - r, c + dx + r, c + dy + r], fill=(96, 52, 140))
    grain = Image.frombytes("L", (size, size), bytes(rng.randrange(0, 40) for _ in range(size * size)))
    return Image.composite(img, Image.new("RGB", (size, size), (60, 30, 90)), grain.point(lambda v: 255 - v))


def jpeg_bytes(img, **kw):
    buf = io.BytesIO()
    img.save(buf, "JPEG", **kw)
    return buf.getvalue()


def pil_bytes(img, fmt, **kw):
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def find_real(arg):
    if not arg:
        return None
    if os.path.isdir(arg):
        names = sorted(n for n in os.listdir(arg) if n.lower().endswith((".jpg", ".jpeg")))
        return os.path.join(arg, names[0]) if names else None
    return arg if os.path.isfile(arg) else None


# ---------------------------------------------------------------- corpus


def build(real_path):
    files = {}  # name -> (bytes, expectation)

    def add(name, data, expect):
        assert expect in ("ok", "error")
        files[name] = (data, expect)

    if real_path:
        with open(real_path, "rb") as f:
            real_jpeg = f.read()
        base = Image.open(io.BytesIO(real_jpeg)).convert("RGB")
    else:
        base = synth_cell()
        real_jpeg = jpeg_bytes(base, quality=90)
    w, h = base.size
    rng = random.Random(20240601)

    # --- must fail -----------------------------------------------------------------------
    add("empty.jpg", b"", "error")
    # Cut in half, through the entropy-coded data (no EOI marker). NB: image 0.25 decodes JPEG
    # with zune-jpeg in non-strict mode, which fills the missing part with grey instead of
    # failing: the app has to detect the missing end-of-image itself to report this one.
    add("truncated.jpg", real_jpeg[: len(real_jpeg) // 2], "error")
    # Cut inside the headers (before any scan data): every decoder must fail.
    sos = real_jpeg.find(b"\xff\xda")
    add("truncated-header.jpg", real_jpeg[: sos // 2 if sos > 40 else 100], "error")
    good_png = pil_bytes(base, "PNG")
    add("truncated.png", good_png[: len(good_png) // 2], "error")
    add(
        "text.jpg",
        b"This is a plain text file that was renamed to .jpg.\nIt has no image data at all.\n" * 4,
        "error",
    )
    add(
        "html.jpg",
        b"<!DOCTYPE html>\n<html><head><title>Not an image</title></head>\n"
        b"<body><h1>404 Not Found</h1><p>Saved from a browser as an image.</p></body></html>\n",
        "error",
    )
    add("onepx.png", pil_bytes(Image.new("RGB", (1, 1), (128, 64, 160)), "PNG"), "error")
    add("thin.png", pil_bytes(base.resize((8, 400)), "PNG"), "error")  # one side < 16
    # Valid, small file, but wider than 8192 px.
    wide = Image.new("RGB", (9000, 16), (220, 190, 210))
    add("wide.png", pil_bytes(wide, "PNG", optimize=True), "error")
    # Decompression bomb: valid PNG header claiming 100000 x 100000 RGB, tiny IDAT (10 zero rows).
    rows = (b"\x00" + bytes(100000 * 3)) * 10
    add("bomb.png", png_bytes(100000, 100000, 8, 2, idat_raw=rows), "error")
    add(
        "drawing.svg",
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<svg xmlns="http://www.w3.org/2000/svg" width="256" height="256" viewBox="0 0 256 256">\n'
        b'  <rect width="256" height="256" fill="#e8c8d6"/>\n'
        b'  <circle cx="128" cy="128" r="60" fill="#603490"/>\n'
        b"</svg>\n",
        "error",
    )
    # HEIC: an ISO-BMFF ftyp box (major brand heic) followed by junk.
    ftyp = b"heic" + struct.pack(">I", 0) + b"mif1heicmiaf"
    heic = struct.pack(">I", 8 + len(ftyp)) + b"ftyp" + ftyp
    meta_payload = bytes(rng.randrange(256) for _ in range(1024))
    heic += struct.pack(">I", 8 + len(meta_payload)) + b"meta" + meta_payload
    heic += struct.pack(">I", 8 + 2048) + b"mdat" + bytes(rng.randrange(256) for _ in range(2048))
    add("photo.heic", heic, "error")
    add("document.pdf", minimal_pdf(), "error")
    add("random.png", bytes(rng.randrange(256) for _ in range(4096)), "error")

    # --- must classify -------------------------------------------------------------------
    # 16-bit RGB PNG (Pillow cannot write it): each 8-bit value v becomes v*257 (+ low-bit noise).
    rgb = base.tobytes()
    raw = bytearray()
    for y in range(h):
        raw.append(0)
        row = rgb[y * w * 3 : (y + 1) * w * 3]
        for i, v in enumerate(row):
            raw += struct.pack(">H", v * 257 ^ ((i * 31 + y) & 0x3F))
    add("png16.png", png_bytes(w, h, 16, 2, idat_raw=bytes(raw)), "ok")
    gray = base.convert("L")
    add("gray.png", pil_bytes(gray, "PNG"), "ok")
    g16 = bytearray()
    gb = gray.tobytes()
    for y in range(h):
        g16.append(0)
        for v in gb[y * w : (y + 1) * w]:
            g16 += struct.pack(">H", v * 257)
    add("gray16.png", png_bytes(w, h, 16, 0, idat_raw=bytes(g16)), "ok")
    rgba = base.convert("RGBA")
    alpha = Image.new("L", (w, h), 255)
    ImageDraw.Draw(alpha).ellipse([0, 0, w // 3, h // 3], fill=0)  # transparent corner
    ImageDraw.Draw(alpha).rectangle([w - w // 4, h - h // 4, w, h], fill=128)  # half transparent
    rgba.putalpha(alpha)
    add("rgba.png", pil_bytes(rgba, "PNG"), "ok")
    add("palette.png", pil_bytes(base.quantize(colors=64, method=Image.Quantize.MEDIANCUT), "PNG"), "ok")
    add("cmyk.jpg", jpeg_bytes(base.convert("CMYK"), quality=90), "ok")
    add("progressive.jpg", jpeg_bytes(base, quality=88, progressive=True, optimize=True), "ok")
    # EXIF orientation 6 (rotate 90 CW) on a non-square picture.
    portrait = base.crop((0, 0, w, max(MIN_SIDE, h * 4 // 5)))
    exif = Image.Exif()
    exif[0x0112] = 6
    add("exif-rotated.jpg", jpeg_bytes(portrait, quality=90, exif=exif.tobytes()), "ok")
    # 6000 x 6000: large but under the 8192 limit. Smooth upscale keeps the file small.
    add("large.jpg", jpeg_bytes(base.resize((6000, 6000), Image.Resampling.BILINEAR), quality=75), "ok")
    frames = [base, base.rotate(90), base.rotate(180)]
    frames = [f.quantize(colors=128, method=Image.Quantize.MEDIANCUT) for f in frames]
    add(
        "animated.gif",
        pil_bytes(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=200, loop=0),
        "ok",
    )
    add("tiny.gif", pil_bytes(base.resize((MIN_SIDE, MIN_SIDE), Image.Resampling.BOX).quantize(colors=32), "GIF"), "ok")
    add("image.tiff", pil_bytes(base, "TIFF", compression="tiff_lzw"), "ok")
    add("image.webp", pil_bytes(base, "WEBP", quality=85, method=4), "ok")
    add("image.bmp", pil_bytes(base, "BMP"), "ok")
    # A real JPEG whose name says PNG: decoders should sniff the content, not trust the name.
    add("jpeg-named.png", jpeg_bytes(base, quality=90), "ok")
    # Spaces and non-ASCII characters in the file name.
    add("cell photo #2 (ü).jpg", jpeg_bytes(base, quality=92), "ok")
    return files


def minimal_pdf():
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R >>",
    ]
    stream = b"0.4 0.2 0.55 rg 50 50 100 100 re f"
    objs.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        sys.stderr.write(__doc__)
        return 2
    out = argv[1]
    real = find_real(argv[2] if len(argv) > 2 else None)
    if len(argv) > 2 and real is None:
        sys.stderr.write(f"make-bad-inputs.py: no JPEG found at {argv[2]}; synthesising\n")
    os.makedirs(out, exist_ok=True)
    files = build(real)
    for name, (data, _) in files.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    expected = {name: exp for name, (_, exp) in sorted(files.items())}
    with open(os.path.join(out, "expected.json"), "w", encoding="utf-8") as f:
        json.dump(expected, f, indent=2, ensure_ascii=False)
        f.write("\n")
    n_ok = sum(1 for v in expected.values() if v == "ok")
    print(f"make-bad-inputs: wrote {len(files)} files to {out} ({n_ok} ok, {len(files) - n_ok} error)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
