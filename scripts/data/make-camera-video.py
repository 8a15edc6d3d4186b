#!/usr/bin/env python3
"""A video for Chromium's fake camera, made from BCCD smear fields (issue 52).

Chromium plays it as a webcam with
  --use-fake-ui-for-media-stream --use-fake-device-for-media-stream --use-file-for-fake-video-capture=OUT.y4m
(tests/e2e/camera.test.mjs, scripts/bench/bench-camera.mjs). Each field is held still for --hold seconds,
as a slide under a microscope is, and the video loops.

Writes OUT (YUV4MPEG2, 4:2:0, BT.601 video range) and OUT.json: the video's size and frame rate,
and per field its id, its first and last frame, and BCCD's white-cell boxes (Annotations/ID.xml,
name WBC) in the video's pixels.

usage: make-camera-video.py OUT.y4m [--data DIR] [--ids ID,ID,...] [--size WxH] [--hold S] [--fps N]
  --data  BCCD folder in VOC layout (default ../shared/data/bccd beside the repository); exit 3
          with a message when it is absent
  --ids   fields (default: the first three of ImageSets/test.txt, BCCD's test split)
  --size  frame size (default: the fields' own, 640x480); a field is scaled to cover it and cut
          at the centre (1280x720: scaled 2x, 120 rows cut top and bottom)
  --hold  seconds each field is shown (default 3); --fps frames a second (default 5)
"""
import argparse
import json
import os
import sys
import xml.etree.ElementTree as ET

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def wbc_boxes(data, fid):
    root = ET.parse(os.path.join(data, "Annotations", f"{fid}.xml")).getroot()
    out = []
    for obj in root.iter("object"):
        if (obj.findtext("name") or "").strip().upper() != "WBC":
            continue
        b = obj.find("bndbox")
        x0, y0, x1, y1 = (float(b.findtext(k)) for k in ("xmin", "ymin", "xmax", "ymax"))
        out.append([x0, y0, x1 - x0, y1 - y0])
    return out


def to_i420(rgb):
    """RGB (Pillow image) to I420 bytes in BT.601 video range (Y 16-235, Cb/Cr 16-240), by
    Pillow alone: its YCbCr is BT.601 full range (JFIF), narrowed by lookup tables; chroma
    averaged over 2x2 pixels."""
    from PIL import Image

    y, cb, cr = rgb.convert("YCbCr").split()
    y = y.point([round(16 + v * 219 / 255) for v in range(256)])
    narrow = [round(128 + (v - 128) * 224 / 255) for v in range(256)]
    half = (rgb.width // 2, rgb.height // 2)
    cb = cb.point(narrow).resize(half, Image.Resampling.BOX)
    cr = cr.point(narrow).resize(half, Image.Resampling.BOX)
    return y.tobytes() + cb.tobytes() + cr.tobytes()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out")
    p.add_argument("--data", default=os.path.join(ROOT, "..", "shared", "data", "bccd"))
    p.add_argument("--ids", default="")
    p.add_argument("--size", default="")
    p.add_argument("--hold", type=float, default=3.0)
    p.add_argument("--fps", type=int, default=5)
    args = p.parse_args()
    if not os.path.isdir(os.path.join(args.data, "JPEGImages")):
        print(f"make-camera-video: no BCCD data in {args.data} (JPEGImages/, Annotations/): nothing made", file=sys.stderr)
        return 3
    from PIL import Image

    if args.ids:
        ids = [s for s in args.ids.split(",") if s]
    else:
        split = os.path.join(args.data, "ImageSets", "test.txt")
        if not os.path.exists(split):
            split = os.path.join(args.data, "ImageSets", "Main", "test.txt")
        with open(split) as f:
            ids = [line.strip() for line in f if line.strip()][:3]
    fields = [Image.open(os.path.join(args.data, "JPEGImages", f"{i}.jpg")).convert("RGB") for i in ids]
    if args.size:
        w, h = (int(v) for v in args.size.lower().split("x"))
    else:
        w, h = fields[0].size
    if w % 2 or h % 2:
        print("make-camera-video: the size must be even (4:2:0)", file=sys.stderr)
        return 2
    frames_each = max(1, round(args.hold * args.fps))
    meta = {"width": w, "height": h, "fps": args.fps, "fields": []}
    with open(args.out, "wb") as out:
        out.write(f"YUV4MPEG2 W{w} H{h} F{args.fps}:1 Ip A1:1 C420jpeg\n".encode())
        for k, (fid, im) in enumerate(zip(ids, fields)):
            s = max(w / im.width, h / im.height)
            sw, sh = round(im.width * s), round(im.height * s)
            ox, oy = (sw - w) // 2, (sh - h) // 2
            frame = im.resize((sw, sh), Image.Resampling.BICUBIC) if (sw, sh) != im.size else im
            frame = frame.crop((ox, oy, ox + w, oy + h))
            data = to_i420(frame)
            for _ in range(frames_each):
                out.write(b"FRAME\n")
                out.write(data)
            boxes = [[x * s - ox, y * s - oy, bw * s, bh * s] for x, y, bw, bh in wbc_boxes(args.data, fid)]
            meta["fields"].append(
                {"id": fid, "first_frame": k * frames_each, "last_frame": (k + 1) * frames_each - 1, "boxes": [[round(v, 1) for v in b] for b in boxes]}
            )
    with open(args.out + ".json", "w") as f:
        json.dump(meta, f, indent=1)
    print(f"wrote {args.out}: {len(ids)} fields, {w}x{h}, {frames_each} frames each at {args.fps} fps")
    return 0


if __name__ == "__main__":
    sys.exit(main())
