#!/usr/bin/env bash
# Prints the raw and `gzip -9` size of the built wasm (frontend/dist/*.wasm).
set -euo pipefail
dist="$(cd "$(dirname "$0")" && pwd)/dist"
shopt -s nullglob
files=("$dist"/*.wasm)
if [ ${#files[@]} -eq 0 ]; then
  echo "size.sh: no wasm in $dist; build the SPA first (frontend/build.sh)" >&2
  exit 1
fi
for f in "${files[@]}"; do
  raw=$(stat -c %s "$f")
  gz=$(gzip -9 -c "$f" | wc -c)
  printf '%s: %d bytes raw (%d KiB), %d bytes gzip -9 (%d KiB)\n' \
    "$(basename "$f")" "$raw" $((raw / 1024)) "$gz" $((gz / 1024))
done
