#!/usr/bin/env bash
# Takes the screenshots in docs/screenshots/ (a real server on SQLite, Chromium, the hydrated pages).
# Expects scripts/build.sh to have run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
mkdir -p docs/screenshots
TESSERA_E2E_SCREENSHOTS="$PWD/docs/screenshots" TESSERA_E2E_ARGS="tests/screenshots.spec.ts --project hydrated" \
  exec scripts/e2e.sh sqlite
