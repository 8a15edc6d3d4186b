#!/usr/bin/env bash
# Trunk post-build hook: copies a few sample images per class from a local dataset
# folder into the built site's gallery/ (never into the repository).
#   MARROWSCOPE_DATA   dataset folder: the mll-subset (splits.csv) or the TCIA layout
#                      (<CLASS>/**/*.jpg); default ../shared/data/mll-subset
#   MARROWSCOPE_GALLERY_PER_CLASS   images per class (default 4)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DATA="${MARROWSCOPE_DATA:-$ROOT/../shared/data/mll-subset}"
PER="${MARROWSCOPE_GALLERY_PER_CLASS:-4}"
OUT="${TRUNK_STAGING_DIR:-$ROOT/dist}/gallery"
rm -rf "$OUT"
if [ ! -d "$DATA" ]; then
  echo "gallery: no dataset at $DATA; the app will explain how to add samples"
  exit 0
fi
python3 - "$DATA" "$OUT" "$PER" <<'PY'
import csv, json, os, shutil, sys
data, out, per = sys.argv[1], sys.argv[2], int(sys.argv[3])
codes = "ABE ART BAS BLA EBO EOS FGC HAC KSC LYI LYT MMZ MON MYB NGB NGS NIF OTH PEB PLM PMO".split()
picked = {}
splits = os.path.join(data, "splits.csv")
if os.path.exists(splits):
    # Prefer test images (never used for training), then the single gallery examples.
    rows = list(csv.DictReader(open(splits)))
    for pref in ("test", "gallery"):
        for r in rows:
            if r["split"] == pref and r["label"] in codes and len(picked.setdefault(r["label"], [])) < per:
                picked[r["label"]].append(os.path.join(data, r["path"]))
else:
    root = os.path.join(data, "bone_marrow_cell_dataset") if os.path.isdir(os.path.join(data, "bone_marrow_cell_dataset")) else data
    for code in codes:
        d = os.path.join(root, code)
        if not os.path.isdir(d):
            continue
        files = sorted(os.path.join(dp, f) for dp, _, fs in os.walk(d) for f in fs if f.lower().endswith((".jpg", ".jpeg", ".png")))
        picked[code] = files[-per:]  # the tail: the test part of the default split
index = []
os.makedirs(out, exist_ok=True)
for code in codes:
    for src in picked.get(code, []):
        name = os.path.basename(src)
        shutil.copyfile(src, os.path.join(out, name))
        index.append({"file": name, "label": code})
json.dump(index, open(os.path.join(out, "index.json"), "w"), indent=1)
print(f"gallery: {len(index)} images of {len({i['label'] for i in index})} classes from {data}")
PY
