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
python3 "$ROOT/scripts/data/teaching.py" "$COMMITTED" "$DATA" "$PBC" "$OUT" "$PER"
