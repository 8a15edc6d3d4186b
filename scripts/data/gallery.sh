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
python3 "$ROOT/scripts/data/gallery.py" "$SAMPLES" "$DATA" "$PBC" "$OUT" "$PER"
