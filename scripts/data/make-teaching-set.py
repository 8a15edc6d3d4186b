#!/usr/bin/env python3
"""Writes the committed default teaching set in public/samples/teaching/ (deterministic): the
Learn tab's images for a clone without data folders (scripts/data/teaching.sh uses the data folders
when they exist, 40 images per class).

    python3 scripts/data/make-teaching-set.py [--mll DIR] [--pbc DIR] [--per 6] [--out DIR]

Test splits only (images never used for training): PER images per class of the MLL bone-marrow
subset and per type of the PBC peripheral-blood set (labels as MLL codes, platelets PLT), spread
evenly over the class's files sorted by path; each re-encoded as JPEG (quality 80, same pixel
size, no metadata), named `mll-<CODE>-<stem>.jpg` / `pbc-<CODE>-<stem>.jpg`. Writes index.json
and ATTRIBUTION.md beside them. Needs Pillow.
"""
import argparse
import csv
import json
import os

from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
QUALITY = 80


def spread(files, n):
    files = sorted(files)
    return files if len(files) <= n else [files[(k * len(files)) // n] for k in range(n)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mll", default=os.path.join(ROOT, "..", "shared", "data", "mll-subset"))
    ap.add_argument("--pbc", default=os.path.join(ROOT, "..", "shared", "data", "pbc"))
    ap.add_argument("--per", type=int, default=6)
    ap.add_argument("--out", default=os.path.join(ROOT, "public", "samples", "teaching"))
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    old = os.path.join(a.out, "index.json")
    if os.path.exists(old):
        for it in json.load(open(old)):
            p = os.path.join(a.out, it["file"])
            if os.path.exists(p):
                os.remove(p)
    index = []
    for dataset, source, folder in (("MLL", "marrow", a.mll), ("PBC", "blood", a.pbc)):
        by = {}
        with open(os.path.join(folder, "splits.csv"), newline="") as f:
            for r in csv.DictReader(f):
                if r["split"] != "test":
                    continue
                label = r["label"] if dataset == "MLL" else ((r.get("mll_code") or "").strip() or "PLT")
                by.setdefault(label, []).append(r["path"])
        for label in sorted(by):
            for rel in spread(by[label], a.per):
                stem = os.path.splitext(os.path.basename(rel))[0]
                name = f"{dataset.lower()}-{label}-{stem}.jpg"
                Image.open(os.path.join(folder, rel)).convert("RGB").save(os.path.join(a.out, name), "JPEG", quality=QUALITY)
                index.append({"file": name, "label": label, "source": source, "dataset": dataset, "original": os.path.basename(rel)})
    json.dump(index, open(old, "w"), indent=1)
    with open(os.path.join(a.out, "ATTRIBUTION.md"), "w") as f:
        f.write("# Default teaching set: attribution\n\n"
                "Images of the Learn tab in a build without data folders (scripts/data/make-teaching-set.py): "
                f"{a.per} test-split images per class, re-encoded as JPEG (quality {QUALITY}, same pixel size, no metadata); "
                "no other change.\n\n"
                "- MLL bone marrow: Matek, C., Krappe, S., Münzenmayer, C., Haferlach, T., & Marr, C. (2021). An Expert-Annotated "
                "Dataset of Bone Marrow Cytology in Hematologic Malignancies [Data set]. The Cancer Imaging Archive. "
                "https://doi.org/10.7937/TCIA.AXH3-T579 (CC BY 4.0).\n"
                "- PBC peripheral blood: Acevedo, A., Merino, A., Alférez, S., Molina, Á., Boldú, L., & Rodellar, J. (2020). "
                "A dataset of microscopic peripheral blood cell images for development of automatic recognition systems. "
                "Data in Brief, 30, 105474. https://doi.org/10.17632/snkd93bnjr.1 (CC BY 4.0).\n\n"
                "| file | label | dataset | original file |\n|---|---|---|---|\n")
        for e in index:
            f.write(f"| `{e['file']}` | {e['label']} | {e['dataset']} | `{e['original']}` |\n")
    size = sum(os.path.getsize(os.path.join(a.out, e["file"])) for e in index)
    print(f"teaching set: {len(index)} images, {size / 2**20:.2f} MiB in {a.out}")


if __name__ == "__main__":
    main()
