#!/usr/bin/env bash
# Gives the files of each vendored crate (vendor/*/) a fixed old modification time, where the
# crate's content hash (scripts/vendor/vendor-hash.sh) is the one its version names.
# Why: cargo decides whether a path dependency must be recompiled by file times, and a fresh
# clone's files are all new. Without this, every clone recompiles tract-data and all of tract
# above it in each profile (about 10 minutes of the test command), although the shared build
# cache (.tools/env) already holds them compiled from the same content. The version check keeps
# that safe: content that differs from what the version names keeps its new times, so cargo
# recompiles it, and setup prints the version it should carry.
# Usage: bash scripts/vendor/vendor-times.sh [ROOT]   (called by scripts/setup.sh)
set -euo pipefail
ROOT="${1:-$(cd "$(dirname "$0")/../.." && pwd)}"
HERE="$(cd "$(dirname "$0")" && pwd)"
for crate in "$ROOT"/vendor/*/; do
  crate="${crate%/}"
  [ -f "$crate/Cargo.toml" ] || continue
  want="$(bash "$HERE/vendor-hash.sh" "$crate")"
  version="$(awk '/^\[/{s=$0} s=="[package]" && /^version = /{gsub(/^version = "|"$/, ""); print; exit}' "$crate/Cargo.toml")"
  have="${version##*+marrowscope.}"
  if [ "$have" = "$want" ] && [ "$have" != "$version" ]; then
    find "$crate" -exec touch -h -d '2000-01-01 00:00:00 UTC' {} +
  else
    echo "vendor-times: ${crate#"$ROOT"/} differs from what its version $version names: it will be compiled from scratch." >&2
    echo "vendor-times: after changing it on purpose, set its version to ${version%%+*}+marrowscope.$want (vendor/README.md)." >&2
  fi
done
