#!/usr/bin/env bash
# Installs what building the SPA needs, from crates.io only, when it is missing or of the wrong
# version: the wasm32 target, trunk 0.21.14 and wasm-bindgen-cli at Cargo.lock's exact version.
# wasm-opt is optional (npm's binaryen, installed by `make test-deps`); Debian's binaryen is
# never used because its wasm breaks at runtime.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  rustup target add wasm32-unknown-unknown
fi

trunk_version="0.21.14"
if ! trunk --version 2>/dev/null | grep -q "$trunk_version"; then
  echo "ensure-tools: installing trunk $trunk_version (about 6 minutes, once)"
  cargo install trunk --version "$trunk_version" --locked
fi

# The CLI must match the wasm-bindgen crate exactly, or the generated glue does not load.
bindgen_version="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3 }' "$root/Cargo.lock")"
if [ -z "$bindgen_version" ]; then
  echo "ensure-tools: wasm-bindgen not found in Cargo.lock" >&2
  exit 1
fi
if ! wasm-bindgen --version 2>/dev/null | grep -q " $bindgen_version"; then
  echo "ensure-tools: installing wasm-bindgen-cli $bindgen_version (about 2 minutes, once)"
  # Not --locked: one of its locked dependencies is not on the registry mirror.
  cargo install wasm-bindgen-cli --version "$bindgen_version"
fi
