#!/usr/bin/env bash
# The grid benchmark (issue 7): a table of N rows (default 1,000,000) on PostgreSQL, a release server on it,
# and Chromium driven by Playwright measuring time to the first rendered rows, time to render after jumping to
# the middle, the row elements in the DOM while scrolling the whole table, and the page's memory.
# Usage: bench/grid.sh [ROWS]   (prints a Markdown table; see docs/benchmarks.md "## Grid")
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../scripts/setup.sh" --test
cd "$TESSERA_ROOT"
rows="${1:-1000000}"
pg_url="${TESSERA_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432}"
redis_url="${TESSERA_TEST_REDIS_URL:-redis://127.0.0.1:6379}"

echo "[grid-bench] loading $rows rows (tessera-bench --load-only, release)…" >&2
db_url="$(cargo run --release -q -p tessera-bench -- --backend postgres --rows "$rows" --load-only)"
db="${db_url##*/}"
echo "[grid-bench] database $db; building the release server…" >&2
scripts/build.sh --release >&2

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
work="$(mktemp -d -t tessera-grid-bench-XXXXXX)"
password="grid bench password 2026"
env TESSERA_ADDR="127.0.0.1:$port" TESSERA_PUBLIC_URL="http://localhost:$port" TESSERA_DATA_DIR="$work/data" \
  TESSERA_SITE_ROOT="$TESSERA_SITE_DIR" TESSERA_LOG=json DATABASE_URL="$db_url" REDIS_URL="$redis_url" \
  TESSERA_REDIS_PREFIX="tessera-grid-bench:$db:" TESSERA_ADMIN_USER=owner TESSERA_ADMIN_PASSWORD="$password" \
  TESSERA_RATE_LIMIT_IP_PER_MIN=0 TESSERA_RATE_LIMIT_USER_PER_MIN=0 \
  "$CARGO_TARGET_DIR/release/tessera" serve >"$work/server.log" 2>&1 &
pid=$!
cleanup() {
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  psql "$pg_url/postgres" -qc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >&2 || true
  rm -rf "$work"
}
trap cleanup EXIT
for _ in $(seq 1 120); do
  curl -fsS "http://127.0.0.1:$port/health/ready" >/dev/null 2>&1 && break
  sleep 0.5
done
(cd end2end && BASE_URL="http://localhost:$port" GRID_USER=owner GRID_PASSWORD="$password" GRID_TABLE=bench_items \
  node bench/grid.mjs)
