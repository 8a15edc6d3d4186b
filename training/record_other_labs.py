#!/usr/bin/env python
"""Writes the other laboratories' figures of a model (examples/other_labs.rs --json) into its
manifest's metrics (`metrics.other_labs`), which the app's About tab shows beside the home
figures, so that the page says plainly how the model does on cells of laboratories it never saw.

    cargo run --release --example other_labs -- --model public/model --json /tmp/other_labs.json
    python training/record_other_labs.py --report /tmp/other_labs.json --manifest public/model/manifest.json
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from calibrate import write_manifest  # noqa: E402  (the manifest's own layout)

NAMES = {
    "bccd-crops": "BCCD white cells (another camera, pale stain, low resolution)",
    "tecom": "Jiangxi Tecom white cells (rapid stain, yellow background, tightly framed)",
}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--report", required=True)
    ap.add_argument("--manifest", required=True)
    args = ap.parse_args()
    report = json.load(open(args.report))
    man = json.load(open(args.manifest))
    if report["model_id"] != man["model_id"]:
        raise SystemExit(f"the report is of {report['model_id']}, the manifest of {man['model_id']}")
    man["metrics"]["other_labs"] = [
        {"set": r["set"], "name": NAMES.get(r["set"], r["set"]), "n": r["scores"]["n"],
         "macro_f1": round(r["scores"]["macro_f1"], 4), "accuracy": round(r["scores"]["accuracy"], 4),
         "types": "five-way: neutrophil, lymphocyte, monocyte, eosinophil, basophil"}
        for r in report["other_labs"]
    ]
    write_manifest(man, args.manifest)
    print("metrics.other_labs: " + ", ".join(f"{r['set']} {r['macro_f1']:.3f} (n {r['n']})" for r in man["metrics"]["other_labs"]))


if __name__ == "__main__":
    main()
