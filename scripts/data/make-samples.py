#!/usr/bin/env python3
"""Writes the committed sample set in public/samples/ (deterministic).

    python3 scripts/data/make-samples.py [--mll DIR] [--pbc DIR] [--out DIR]

Picks from the *test* splits only (images never used for training):
  - MLL bone-marrow subset (splits.csv: path,label,split): 3 images per class of
    ART BLA EOS LYT MON NGS NIF PMO, plus the single `gallery` image of EBO MMZ MYB NGB PEB PLM;
  - PBC peripheral-blood cells (splits.csv: path,label,mll_code,split): 3 per label, named
    by its MLL code (BAS EBO EOS LYT MMZ MON MYB NGB NGS PMO); platelets get the code PLT.
Within a class the picks are spread evenly over the test files sorted by path (neighbouring
files may come from the same patient). Each image is re-encoded as JPEG (quality 85, same
pixel size, no metadata) and named `mll-<CODE>-<stem>.jpg` or `pbc-<CODE>-<stem>.jpg`.

Writes OUT/index.json ([{file, label, source: marrow|blood, dataset: MLL|PBC, original}]) and
OUT/ATTRIBUTION.md (per image: dataset, original file, citation, licence, change made).
Only files listed in the previous OUT/index.json are removed; other files in OUT are kept.
Needs Pillow (pip install pillow).
"""
import argparse
import csv
import io
import json
import os
import sys

from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MLL_TEST_CLASSES = "ART BLA EOS LYT MON NGS NIF PMO".split()
MLL_GALLERY_CLASSES = "EBO MMZ MYB NGB PEB PLM".split()
PBC_CODES = "BAS EBO EOS LYT MMZ MON MYB NGB NGS PMO PLT".split()
QUALITY = 85

DATASETS = {
    "MLL": {
        "source": "marrow",
        "title": "MLL bone-marrow cytology dataset",
        "citation": "Matek, C., Krappe, S., Münzenmayer, C., Haferlach, T., & Marr, C. (2021). An Expert-Annotated "
        "Dataset of Bone Marrow Cytology in Hematologic Malignancies [Data set]. The Cancer Imaging Archive. "
        "https://doi.org/10.7937/TCIA.AXH3-T579",
        "licence": "CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/)",
        "change": "re-encoded as JPEG quality 85 (same 250×250 px)",
    },
    "PBC": {
        "source": "blood",
        "title": "PBC peripheral-blood cell dataset",
        "citation": "Acevedo, A., Merino, A., Alférez, S., Molina, Á., Boldú, L., & Rodellar, J. (2020). A dataset of "
        "microscopic peripheral blood cell images for development of automatic recognition systems. "
        "Data in Brief 30:105474. Mendeley Data, https://doi.org/10.17632/snkd93bnjr.1",
        "licence": "CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/)",
        "change": "cropped to the central 224×224 px of the 360×363 original, re-encoded as JPEG quality 85",
    },
}


def spread(items, k):
    """k items spread evenly over the list (all of them when there are no more than k)."""
    n = len(items)
    if n <= k:
        return list(items)
    return [items[(2 * i + 1) * n // (2 * k)] for i in range(k)]


def read_rows(data):
    path = os.path.join(data, "splits.csv")
    if not os.path.exists(path):
        sys.exit(f"make-samples: {path} not found")
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def pick_mll(data, per):
    rows = read_rows(data)
    picks = []
    for code in MLL_TEST_CLASSES:
        paths = sorted(r["path"] for r in rows if r["split"] == "test" and r["label"] == code)
        if not paths:
            sys.exit(f"make-samples: no test image of {code} in {data}")
        picks += [(code, p) for p in spread(paths, per)]
    for code in MLL_GALLERY_CLASSES:
        paths = sorted(r["path"] for r in rows if r["split"] == "gallery" and r["label"] == code)
        if not paths:
            sys.exit(f"make-samples: no gallery image of {code} in {data}")
        picks.append((code, paths[0]))
    return picks


def pbc_code(row):
    code = (row.get("mll_code") or "").strip()
    return code if code else "PLT"


def pick_pbc(data, per):
    rows = [r for r in read_rows(data) if r["split"] == "test"]
    picks = []
    for code in PBC_CODES:
        paths = sorted(r["path"] for r in rows if pbc_code(r) == code)
        if not paths:
            sys.exit(f"make-samples: no test image of {code} in {data}")
        picks += [(code, p) for p in spread(paths, per)]
    return picks


def reencode(src):
    with Image.open(src) as im:
        rgb = im.convert("RGB")
    buf = io.BytesIO()
    # No EXIF/ICC: Pillow writes only what is passed.
    rgb.save(buf, "JPEG", quality=QUALITY, optimize=True, subsampling="4:2:0")
    return buf.getvalue(), rgb.size


def attribution(index, sizes):
    lines = [
        "# Sample images: attribution",
        "",
        "Every image in this folder is a cell image from one of two public datasets, both licensed",
        "[CC BY 4.0](https://creativecommons.org/licenses/by/4.0/). They were chosen from each dataset's",
        "test split (never used to train the shipped model) and written by `scripts/data/make-samples.py`.",
        "The build (`scripts/data/gallery.sh`) copies them, with this file, into the site's `gallery/`.",
        "",
        "## Datasets",
        "",
    ]
    for key, d in DATASETS.items():
        lines += [
            f"- **{key}** — {d['title']} ({d['source']}): {d['citation']}. Licence: {d['licence']}.",
        ]
    lines += [
        "",
        "## Images",
        "",
        "| file | label | dataset | original file | size (px) | licence | change made |",
        "|---|---|---|---|---|---|---|",
    ]
    for it in index:
        d = DATASETS[it["dataset"]]
        w, h = sizes[it["file"]]
        lines.append(f"| `{it['file']}` | {it['label']} | {it['dataset']} | `{it['original']}` | {w}×{h} | CC BY 4.0 | {d['change']} |")
    lines += [
        "",
        "Citation for each image: the dataset's citation above (MLL: Matek et al. 2021, TCIA,",
        "doi 10.7937/TCIA.AXH3-T579; PBC: Acevedo et al. 2020, Data in Brief 30:105474,",
        "doi 10.17632/snkd93bnjr.1). `PLT` (platelet) is a PBC label with no MLL class.",
        "",
    ]
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mll", default=os.path.join(ROOT, "..", "shared", "data", "mll-subset"))
    ap.add_argument("--pbc", default=os.path.join(ROOT, "..", "shared", "data", "pbc"))
    ap.add_argument("--out", default=os.path.join(ROOT, "public", "samples"))
    ap.add_argument("--mll-per-class", type=int, default=3)
    ap.add_argument("--pbc-per-class", type=int, default=3)
    a = ap.parse_args()

    os.makedirs(a.out, exist_ok=True)
    old_index = os.path.join(a.out, "index.json")
    if os.path.exists(old_index):
        with open(old_index) as f:
            for it in json.load(f):
                p = os.path.join(a.out, os.path.basename(it["file"]))
                if os.path.exists(p):
                    os.remove(p)

    jobs = [("MLL", a.mll, code, p) for code, p in pick_mll(a.mll, a.mll_per_class)]
    jobs += [("PBC", a.pbc, code, p) for code, p in pick_pbc(a.pbc, a.pbc_per_class)]
    index, sizes, total = [], {}, 0
    for dataset, data, code, rel in jobs:
        original = os.path.basename(rel)
        stem = os.path.splitext(original)[0]
        name = f"{dataset.lower()}-{code}-{stem}.jpg"
        data_bytes, size = reencode(os.path.join(data, rel))
        with open(os.path.join(a.out, name), "wb") as f:
            f.write(data_bytes)
        total += len(data_bytes)
        sizes[name] = size
        index.append({"file": name, "label": code, "source": DATASETS[dataset]["source"], "dataset": dataset, "original": original})
    with open(old_index, "w") as f:
        json.dump(index, f, indent=1)
        f.write("\n")
    with open(os.path.join(a.out, "ATTRIBUTION.md"), "w") as f:
        f.write(attribution(index, sizes))
    n_mll = sum(1 for i in index if i["dataset"] == "MLL")
    print(f"make-samples: {len(index)} images ({n_mll} MLL, {len(index) - n_mll} PBC), {total} bytes of JPEG in {a.out}")


if __name__ == "__main__":
    main()
