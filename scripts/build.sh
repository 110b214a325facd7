#!/usr/bin/env bash
# Builds Tessera without cargo-leptos (docs/decisions/0001-build-without-cargo-leptos.md):
#   1. the wasm front end (profile wasm-release: size-optimised) → wasm-bindgen → wasm-opt → $TESSERA_SITE_DIR/pkg
#   2. the CSS → $TESSERA_SITE_DIR/pkg/tessera.css (plus .gz copies served precompressed)
#   3. the server binary `tessera` (debug by default, --release for an optimised build)
# Usage: scripts/build.sh [--release] [--frontend-only]
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$TESSERA_ROOT"

release=0
frontend_only=0
for arg in "$@"; do
  case "$arg" in
    --release) release=1 ;;
    --frontend-only) frontend_only=1 ;;
    *) echo "unknown argument: $arg" >&2; exit 2 ;;
  esac
done

pkg="$TESSERA_SITE_DIR/pkg"
mkdir -p "$pkg"

echo "[build] front end (wasm32, profile wasm-release, $TESSERA_WASM_PATH toolchain)" >&2
RUSTC_BOOTSTRAP=1 cargo build --quiet -p tessera-frontend --lib --target wasm32-unknown-unknown \
  --profile wasm-release "${TESSERA_WASM_CARGO_ARGS[@]}"
wasm="$CARGO_TARGET_DIR/wasm32-unknown-unknown/wasm-release/tessera_frontend.wasm"
stamp="$pkg/.source-stamp"
if [ ! -f "$stamp" ] || [ "$wasm" -nt "$stamp" ] || [ ! -f "$pkg/tessera_bg.wasm" ]; then
  wasm-bindgen --target web --no-typescript --out-dir "$pkg" --out-name tessera "$wasm"
  wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
    --enable-mutable-globals --enable-reference-types --enable-multivalue \
    -o "$pkg/tessera_bg.wasm" "$pkg/tessera_bg.wasm"
  touch "$stamp"
fi
cp style/main.css "$pkg/tessera.css"
cp style/favicon.svg "$pkg/favicon.svg"
# The API documentation viewer (/api/docs) from the npm package swagger-ui-dist: local files, no CDN.
mkdir -p "$TESSERA_SITE_DIR/api-docs"
cp end2end/node_modules/swagger-ui-dist/swagger-ui-bundle.js end2end/node_modules/swagger-ui-dist/swagger-ui.css \
  "$TESSERA_SITE_DIR/api-docs/"
for f in "$pkg/tessera.js" "$pkg/tessera_bg.wasm" "$pkg/tessera.css"; do
  gzip -9 -k -f "$f"
done
echo "[build] wasm: $(stat -c %s "$pkg/tessera_bg.wasm") bytes, $(stat -c %s "$pkg/tessera_bg.wasm.gz") gzipped" >&2

[ $frontend_only -eq 1 ] && exit 0
if [ $release -eq 1 ]; then
  echo "[build] server (release)" >&2
  cargo build --quiet -p tessera-server --release
else
  echo "[build] server (debug)" >&2
  cargo build --quiet -p tessera-server
fi
