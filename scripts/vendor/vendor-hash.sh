#!/usr/bin/env bash
# Prints the content hash of a vendored crate: SHA-256 over every file's SHA-256 and path, its
# Cargo.toml read without the [package] version line; the first 12 hex digits.
# The crate's version carries it as build metadata ("0.23.9+marrowscope.<hash>"): a crate whose
# content changes gets a new version, so cargo's build cache never mixes two contents under one
# version (scripts/vendor/vendor-times.sh relies on this).
# Usage: bash scripts/vendor/vendor-hash.sh vendor/CRATE
set -euo pipefail
dir="${1:?usage: bash scripts/vendor/vendor-hash.sh vendor/CRATE}"
cd "$dir"
find . -type f -print0 | LC_ALL=C sort -z | while IFS= read -r -d '' f; do
  if [ "$f" = ./Cargo.toml ]; then
    h=$(awk '/^\[/{s=$0} !(s=="[package]" && /^version = /)' "$f" | sha256sum)
  else
    h=$(sha256sum <"$f")
  fi
  printf '%s %s\n' "${h%% *}" "$f"
done | sha256sum | cut -c1-12
