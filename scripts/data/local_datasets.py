"""The local dataset folders a build takes images from (scripts/data/gallery.py and teaching.py):
the MLL bone-marrow folder (the mll-subset's splits.csv, or the TCIA layout <CLASS>/**/*.jpg) and
the PBC peripheral-blood folder (splits.csv with path,label,mll_code,split, or the original layout
<type>/<PREFIX>_<n>.jpg, whose file-name prefixes data/pbc-prefixes.json maps to MLL codes)."""
import csv
import json
import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# The 21 MLL classes (src/taxonomy.rs).
CODES = "ABE ART BAS BLA EBO EOS FGC HAC KSC LYI LYT MMZ MON MYB NGB NGS NIF OTH PEB PLM PMO".split()
IMAGE_EXT = (".jpg", ".jpeg", ".png")

# PBC file-name prefix -> MLL code; PLT: platelet (no MLL class). The one copy of the map.
with open(os.path.join(ROOT, "data", "pbc-prefixes.json")) as _f:
    PBC_PREFIX = json.load(_f)


def rows_of(folder):
    """The rows of folder/splits.csv as dicts."""
    with open(os.path.join(folder, "splits.csv"), newline="") as f:
        return list(csv.DictReader(f))


def images_under(d):
    """Every image file under d, sorted by path."""
    return sorted(os.path.join(dp, f) for dp, _, fs in os.walk(d) for f in fs if f.lower().endswith(IMAGE_EXT))


def spread(files, n):
    """n of the files spread evenly over them sorted by path (all when there are no more than n)."""
    files = sorted(files)
    if len(files) <= n:
        return files
    return [files[(k * len(files)) // n] for k in range(n)]


def mll_by_label(mll, splits):
    """MLL code -> image paths: with splits.csv, the rows of the given splits (one split after the
    other, each in file order) whose label is an MLL code; in the TCIA layout, every image under
    <CODE>/ (a code whose folder exists and is empty has an empty list)."""
    by = {}
    if os.path.exists(os.path.join(mll, "splits.csv")):
        rows = rows_of(mll)
        for split in splits:
            for r in rows:
                if r["split"] == split and r["label"] in CODES:
                    by.setdefault(r["label"], []).append(os.path.join(mll, r["path"]))
    else:
        nested = os.path.join(mll, "bone_marrow_cell_dataset")
        root = nested if os.path.isdir(nested) else mll
        for code in CODES:
            if os.path.isdir(os.path.join(root, code)):
                by[code] = images_under(os.path.join(root, code))
    return by


def pbc_by_label(pbc, split):
    """MLL code (PLT for platelets) -> image paths: with splits.csv, the rows of the split in file
    order, labelled by their mll_code; in the original layout, every image whose file-name prefix
    names a type, sorted by path."""
    by = {}
    if os.path.exists(os.path.join(pbc, "splits.csv")):
        for r in rows_of(pbc):
            label = (r.get("mll_code") or "").strip() or "PLT"
            if r["split"] == split:
                by.setdefault(label, []).append(os.path.join(pbc, r["path"]))
    else:
        for src in images_under(pbc):
            label = PBC_PREFIX.get(os.path.basename(src).split("_")[0].upper())
            if label:
                by.setdefault(label, []).append(src)
    return by
