#!/usr/bin/env bash
# Trunk post-build hook: writes the built site's teaching/ (the Learn tab's expert-labelled images
# + index.json + ATTRIBUTION.md). The page fetches it only when Learn opens (it is not precached by
# the service worker; each image is cached as it is fetched, so Learn works offline afterwards).
#   MARROWSCOPE_DATA       bone-marrow folder: splits.csv (path,label,split; its test split) or the
#                          TCIA layout (<CLASS>/**/*.jpg); default ../shared/data/mll-subset
#   MARROWSCOPE_PBC_DATA   peripheral-blood folder: splits.csv (path,label,mll_code,split; test
#                          split) or the original layout (<type>/<PREFIX>_<n>.jpg); default ../shared/data/pbc
#   MARROWSCOPE_TEACHING_PER_CLASS   images per class and source (default 40), spread evenly over
#                          the class's files sorted by path
# Without any data folder, the committed default set in public/samples/teaching/
# (scripts/data/make-teaching-set.py) is used, so every clone has a working Learn tab.
# index.json: [{file, label, source: "marrow"|"blood", dataset: "MLL"|"PBC", original}].
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
COMMITTED="$ROOT/public/samples/teaching"
DATA="${MARROWSCOPE_DATA:-$ROOT/../shared/data/mll-subset}"
PBC="${MARROWSCOPE_PBC_DATA:-$ROOT/../shared/data/pbc}"
PER="${MARROWSCOPE_TEACHING_PER_CLASS:-40}"
OUT="${TRUNK_STAGING_DIR:-$ROOT/dist}/teaching"
rm -rf "$OUT"
python3 - "$COMMITTED" "$DATA" "$PBC" "$OUT" "$PER" <<'PY'
import csv, json, os, shutil, sys
committed, mll, pbc, out, per = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
codes = "ABE ART BAS BLA EBO EOS FGC HAC KSC LYI LYT MMZ MON MYB NGB NGS NIF OTH PEB PLM PMO".split()
pbc_prefix = {"BA": "BAS", "BNE": "NGB", "EO": "EOS", "ERB": "EBO", "LY": "LYT", "MMY": "MMZ", "MO": "MON",
              "MY": "MYB", "PMY": "PMO", "SNE": "NGS", "PLATELET": "PLT"}
image_ext = (".jpg", ".jpeg", ".png")
os.makedirs(out, exist_ok=True)
index = []

def spread(files, n):
    files = sorted(files)
    if len(files) <= n:
        return files
    return [files[(k * len(files)) // n] for k in range(n)]

def take(dataset, source, by_label):
    for label, files in sorted(by_label.items()):
        for src in spread(files, per):
            original = os.path.basename(src)
            stem, ext = os.path.splitext(original)
            name = f"{dataset.lower()}-{label}-{stem}{ext.lower()}"
            shutil.copyfile(src, os.path.join(out, name))
            index.append({"file": name, "label": label, "source": source, "dataset": dataset, "original": original})

def rows_of(folder):
    with open(os.path.join(folder, "splits.csv"), newline="") as f:
        return list(csv.DictReader(f))

def images_under(d):
    return sorted(os.path.join(dp, f) for dp, _, fs in os.walk(d) for f in fs if f.lower().endswith(image_ext))

found = False
if os.path.isdir(mll):
    by = {}
    if os.path.exists(os.path.join(mll, "splits.csv")):
        for r in rows_of(mll):
            if r["split"] == "test" and r["label"] in codes:
                by.setdefault(r["label"], []).append(os.path.join(mll, r["path"]))
    else:
        root = os.path.join(mll, "bone_marrow_cell_dataset") if os.path.isdir(os.path.join(mll, "bone_marrow_cell_dataset")) else mll
        for code in codes:
            if os.path.isdir(os.path.join(root, code)):
                by[code] = images_under(os.path.join(root, code))
    take("MLL", "marrow", by)
    found = found or bool(by)
if os.path.isdir(pbc):
    by = {}
    if os.path.exists(os.path.join(pbc, "splits.csv")):
        for r in rows_of(pbc):
            label = (r.get("mll_code") or "").strip() or "PLT"
            if r["split"] == "test":
                by.setdefault(label, []).append(os.path.join(pbc, r["path"]))
    else:
        for src in images_under(pbc):
            label = pbc_prefix.get(os.path.basename(src).split("_")[0].upper())
            if label:
                by.setdefault(label, []).append(src)
    take("PBC", "blood", by)
    found = found or bool(by)
if found:
    with open(os.path.join(out, "ATTRIBUTION.md"), "w") as f:
        f.write("# Teaching images: attribution\n\nUnchanged copies of test-split images of the datasets below, "
                "taken at build time (scripts/data/teaching.sh). MLL bone marrow: Matek, C., Krappe, S., Münzenmayer, C., "
                "Haferlach, T., & Marr, C. (2021), The Cancer Imaging Archive, https://doi.org/10.7937/TCIA.AXH3-T579. "
                "PBC peripheral blood: Acevedo, A. et al. (2020), Data in Brief 30:105474, "
                "https://doi.org/10.17632/snkd93bnjr.1. Both CC BY 4.0.\n")
    where = f"{mll} and {pbc}"
elif os.path.exists(os.path.join(committed, "index.json")):
    for it in json.load(open(os.path.join(committed, "index.json"))):
        shutil.copyfile(os.path.join(committed, it["file"]), os.path.join(out, it["file"]))
        index.append(it)
    shutil.copyfile(os.path.join(committed, "ATTRIBUTION.md"), os.path.join(out, "ATTRIBUTION.md"))
    where = f"the committed default set ({committed})"
else:
    shutil.rmtree(out)
    print("teaching: no data folder and no committed set: the Learn tab will say so")
    sys.exit(0)
json.dump(index, open(os.path.join(out, "index.json"), "w"), indent=1)
size = sum(os.path.getsize(os.path.join(out, e["file"])) for e in index)
print(f"teaching: {len(index)} images, {size / 2**20:.1f} MiB, {len({(e['source'], e['label']) for e in index})} classes and sources, from {where}")
PY
