#!/usr/bin/env bash
# Builds the SPA into frontend/dist (release: `wasm-release` profile + wasm-opt -Oz).
#   frontend/build.sh                 release; uses wasm-opt from PATH or tests/e2e/node_modules/.bin,
#                                     and builds without it (with a note) when neither has version 132
#   frontend/build.sh --no-wasm-opt   release without wasm-opt (no Node needed; ~40% larger wasm)
#   frontend/build.sh --dev           fast unoptimised build for development
# Needs: trunk 0.21 and wasm-bindgen-cli 0.2.130 on PATH (both offline: Trunk.toml).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

mode=release
case "${1:-}" in
  --no-wasm-opt) mode=noopt ;;
  --dev) mode=dev ;;
  "") ;;
  *) echo "usage: $0 [--no-wasm-opt|--dev]" >&2; exit 2 ;;
esac

if [ "$mode" = release ]; then
  export PATH="$root/tests/e2e/node_modules/.bin:$PATH"
  if ! wasm-opt --version 2>/dev/null | grep -q 'version 132'; then
    echo "frontend/build.sh: wasm-opt 132 not found (run: cd tests/e2e && npm ci); building without it" >&2
    mode=noopt
  fi
fi

case "$mode" in
  release) trunk build --release ;;
  dev) trunk build ;;
  noopt)
    # Trunk has no switch for wasm-opt besides the link's attribute, so build from a copy of
    # index.html that says data-wasm-opt="0". It must sit next to the original (relative hrefs).
    tmp="frontend/.index.noopt.html"
    trap 'rm -f "$root/$tmp"' EXIT
    sed 's/data-wasm-opt="z"/data-wasm-opt="0"/' frontend/index.html > "$tmp"
    grep -q 'data-wasm-opt="0"' "$tmp" || { echo "build.sh: data-wasm-opt attribute not found" >&2; exit 1; }
    trunk build --release --html-output index.html "$tmp"
    ;;
esac
