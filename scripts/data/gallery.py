"""The built site's gallery/ (scripts/data/gallery.sh, a trunk hook, runs it; arguments: the
committed samples folder, the MLL folder, the PBC folder, the output folder, images per class)."""
import json
import os
import shutil
import sys

from local_datasets import CODES as codes, images_under, mll_by_label, pbc_by_label

samples, mll, pbc, out, per = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
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

# 2. MLL bone marrow: test images (never used for training), then the single gallery examples.
if os.path.isdir(mll):
    n = 0
    in_splits = os.path.exists(os.path.join(mll, "splits.csv"))
    for code, files in mll_by_label(mll, ("test", "gallery")).items():
        # Without splits.csv, the tail of each class: the test part of the default split.
        for src in files if in_splits else reversed(files):
            n += add_from("MLL", code, src)
    print(f"gallery: {n} more bone-marrow images from {mll}")
else:
    print(f"gallery: no bone-marrow dataset at {mll} (MARROWSCOPE_DATA)")

# 3. PBC peripheral blood: test images.
if os.path.isdir(pbc):
    n = 0
    for label, files in pbc_by_label(pbc, "test").items():
        if label in codes or label == "PLT":
            for src in files:
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
