"""The built site's teaching/, the Learn tab's images (scripts/data/teaching.sh, a trunk hook, runs
it; arguments: the committed default set, the MLL folder, the PBC folder, the output folder,
images per class and source)."""
import json
import os
import shutil
import sys

from local_datasets import mll_by_label, pbc_by_label, spread

committed, mll, pbc, out, per = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
os.makedirs(out, exist_ok=True)
index = []

def take(dataset, source, by_label):
    for label, files in sorted(by_label.items()):
        for src in spread(files, per):
            original = os.path.basename(src)
            stem, ext = os.path.splitext(original)
            name = f"{dataset.lower()}-{label}-{stem}{ext.lower()}"
            shutil.copyfile(src, os.path.join(out, name))
            index.append({"file": name, "label": label, "source": source, "dataset": dataset, "original": original})

found = False
if os.path.isdir(mll):
    by = mll_by_label(mll, ("test",))
    take("MLL", "marrow", by)
    found = found or bool(by)
if os.path.isdir(pbc):
    by = pbc_by_label(pbc, "test")
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
