#!/usr/bin/env bash
# Quick start: installs what is missing, builds an optimised Tessera and runs it in the foreground.
# Embedded default (SQLite in ./data, in-process cache) unless DATABASE_URL / REDIS_URL are set; every
# TESSERA_* setting from the README is honoured. Extra arguments go to `tessera` (default: serve).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
"$TESSERA_ROOT/scripts/build.sh" --release
export TESSERA_SITE_ROOT="${TESSERA_SITE_ROOT:-$TESSERA_SITE_DIR}"
exec "$CARGO_TARGET_DIR/release/tessera" "${@:-serve}"
