#!/usr/bin/env bash
# Trunk post-build hook: writes the built site's gallery/ (images + index.json + ATTRIBUTION.md).
# It starts from the sample set committed in public/samples/ (scripts/data/make-samples.py: a few
# bone-marrow and peripheral-blood test images, with their attribution), so every build has a
# gallery, then adds more images from local dataset folders when they exist (copied into the
# built site only, never into the repository):
#   MARROWSCOPE_DATA       MLL bone-marrow folder: the mll-subset (splits.csv) or the TCIA layout
#                          (<CLASS>/**/*.jpg); default ../shared/data/mll-subset
#   MARROWSCOPE_PBC_DATA   PBC peripheral-blood folder: splits.csv (path,label,mll_code,split) or
#                          the original layout (<type>/<PREFIX>_<n>.jpg); default ../shared/data/pbc
#   MARROWSCOPE_GALLERY_PER_CLASS   images per class and source in all, counting the committed
#                          samples, which are always kept (default 4)
# Files already in the gallery (same name, or the same original file) are skipped. One merged
# index.json: [{file, label, source: "marrow"|"blood", dataset: "MLL"|"PBC", original}].
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
SAMPLES="$ROOT/public/samples"
DATA="${MARROWSCOPE_DATA:-$ROOT/../shared/data/mll-subset}"
PBC="${MARROWSCOPE_PBC_DATA:-$ROOT/../shared/data/pbc}"
PER="${MARROWSCOPE_GALLERY_PER_CLASS:-4}"
OUT="${TRUNK_STAGING_DIR:-$ROOT/dist}/gallery"
rm -rf "$OUT"
python3 - "$SAMPLES" "$DATA" "$PBC" "$OUT" "$PER" <<'PY'
import csv, json, os, shutil, sys
samples, mll, pbc, out, per = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
codes = "ABE ART BAS BLA EBO EOS FGC HAC KSC LYI LYT MMZ MON MYB NGB NGS NIF OTH PEB PLM PMO".split()
# PBC file-name prefixes (the original dataset's layout) -> MLL code; PLT: platelet (no MLL class).
pbc_prefix = {"BA": "BAS", "BNE": "NGB", "EO": "EOS", "ERB": "EBO", "LY": "LYT", "MMY": "MMZ", "MO": "MON",
              "MY": "MYB", "PMY": "PMO", "SNE": "NGS", "PLATELET": "PLT"}
image_ext = (".jpg", ".jpeg", ".png")
sources = {"MLL": "marrow", "PBC": "blood"}
index, names, originals, count = [], set(), set(), {}
os.makedirs(out, exist_ok=True)

def add(entry, src):
    """Copies src into the gallery under entry['file'] unless it is there already."""
    if entry["file"] in names or (entry["dataset"], entry["original"]) in originals:
        return False
    shutil.copyfile(src, os.path.join(out, entry["file"]))
    names.add(entry["file"])
    originals.add((entry["dataset"], entry["original"]))
    key = (entry["source"], entry["label"])
    count[key] = count.get(key, 0) + 1
    index.append(entry)
    return True

# 1. The committed samples (always, whatever PER is).
committed = set()
idx = os.path.join(samples, "index.json")
if os.path.exists(idx):
    for it in json.load(open(idx)):
        src = os.path.join(samples, os.path.basename(it["file"]))
        if not os.path.isfile(src):
            print(f"gallery: {src} is listed in {idx} but missing", file=sys.stderr)
            continue
        dataset = it.get("dataset", "MLL")
        entry = {"file": os.path.basename(it["file"]), "label": it["label"], "source": it.get("source", sources.get(dataset, "marrow")),
                 "dataset": dataset, "original": it.get("original", os.path.basename(it["file"]))}
        if add(entry, src):
            committed.add(entry["file"])
    if os.path.exists(os.path.join(samples, "ATTRIBUTION.md")):
        shutil.copyfile(os.path.join(samples, "ATTRIBUTION.md"), os.path.join(out, "ATTRIBUTION.md"))

def add_from(dataset, label, src):
    source = sources[dataset]
    if count.get((source, label), 0) >= per:
        return False
    original = os.path.basename(src)
    stem, ext = os.path.splitext(original)
    entry = {"file": f"{dataset.lower()}-{label}-{stem}{ext.lower()}", "label": label, "source": source, "dataset": dataset, "original": original}
    return add(entry, src)

def rows_of(folder):
    with open(os.path.join(folder, "splits.csv"), newline="") as f:
        return list(csv.DictReader(f))

def images_under(d):
    return sorted(os.path.join(dp, f) for dp, _, fs in os.walk(d) for f in fs if f.lower().endswith(image_ext))

# 2. MLL bone marrow: test images (never used for training), then the single gallery examples.
if os.path.isdir(mll):
    n = 0
    if os.path.exists(os.path.join(mll, "splits.csv")):
        rows = rows_of(mll)
        for pref in ("test", "gallery"):
            for r in rows:
                if r["split"] == pref and r["label"] in codes:
                    n += add_from("MLL", r["label"], os.path.join(mll, r["path"]))
    else:
        root = os.path.join(mll, "bone_marrow_cell_dataset") if os.path.isdir(os.path.join(mll, "bone_marrow_cell_dataset")) else mll
        for code in codes:
            d = os.path.join(root, code)
            if os.path.isdir(d):
                for src in reversed(images_under(d)):  # the tail: the test part of the default split
                    n += add_from("MLL", code, src)
    print(f"gallery: {n} more bone-marrow images from {mll}")
else:
    print(f"gallery: no bone-marrow dataset at {mll} (MARROWSCOPE_DATA)")

# 3. PBC peripheral blood: test images.
if os.path.isdir(pbc):
    n = 0
    if os.path.exists(os.path.join(pbc, "splits.csv")):
        for r in rows_of(pbc):
            label = (r.get("mll_code") or "").strip() or "PLT"
            if r["split"] == "test" and (label in codes or label == "PLT"):
                n += add_from("PBC", label, os.path.join(pbc, r["path"]))
    else:
        for src in images_under(pbc):
            label = pbc_prefix.get(os.path.basename(src).split("_")[0].upper())
            if label:
                n += add_from("PBC", label, src)
    print(f"gallery: {n} more peripheral-blood images from {pbc}")
else:
    print(f"gallery: no peripheral-blood dataset at {pbc} (MARROWSCOPE_PBC_DATA)")

if not index:
    shutil.rmtree(out)
    print("gallery: no images at all (public/samples/ is missing); the app will explain how to add samples")
    sys.exit(0)

rank = {c: i for i, c in enumerate(codes + ["PLT"])}
index.sort(key=lambda e: (e["source"] != "marrow", rank.get(e["label"], len(rank)), e["label"], e["file"]))
json.dump(index, open(os.path.join(out, "index.json"), "w"), indent=1)
extra = [e for e in index if e["file"] not in committed]
attribution = os.path.join(out, "ATTRIBUTION.md")
if extra:
    header = not os.path.exists(attribution)
    with open(attribution, "a") as f:
        if header:
            f.write("# Gallery images: attribution\n\nMLL: Matek et al. (2021), The Cancer Imaging Archive, "
                    "https://doi.org/10.7937/TCIA.AXH3-T579. PBC: Acevedo et al. (2020), Data in Brief 30:105474, "
                    "https://doi.org/10.17632/snkd93bnjr.1. Both CC BY 4.0.\n")
        f.write("\n## Added at build time from local dataset folders\n\n"
                "Unchanged copies of the dataset files; citation and licence (CC BY 4.0) as above.\n\n"
                "| file | label | dataset | original file |\n|---|---|---|---|\n")
        for e in extra:
            f.write(f"| `{e['file']}` | {e['label']} | {e['dataset']} | `{e['original']}` |\n")
print(f"gallery: {len(index)} images ({len(committed)} committed samples) of {len({(e['source'], e['label']) for e in index})} classes and sources")
PY
