#!/usr/bin/env bash
# The whole test suite: formatting, clippy, unit + integration tests on PostgreSQL, SQLite and Redis, then the
# end-to-end specs in Chromium on both backends (hydrated and with JavaScript disabled).
#
# Needs PostgreSQL and Redis: TESSERA_TEST_PG_URL (default postgres://postgres@127.0.0.1:5432, a role that
# may create databases) and TESSERA_TEST_REDIS_URL (default redis://127.0.0.1:6379). Missing services fail
# the run; nothing is skipped.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/setup.sh" --test
cd "$TESSERA_ROOT"

export TESSERA_TEST_PG_URL="${TESSERA_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432}"
export TESSERA_TEST_REDIS_URL="${TESSERA_TEST_REDIS_URL:-redis://127.0.0.1:6379}"
start=$(date +%s)
step() { printf '\n\033[1;32m==> %s\033[0m (%ss)\n' "$*" "$(( $(date +%s) - start ))"; }

step "services"
psql "$TESSERA_TEST_PG_URL/postgres" -Atqc 'SELECT version()' \
  || { echo "PostgreSQL is not reachable at $TESSERA_TEST_PG_URL" >&2; exit 1; }
redis_hostport="${TESSERA_TEST_REDIS_URL#redis://}"; redis_hostport="${redis_hostport%%/*}"
if ! exec 3<>"/dev/tcp/${redis_hostport%:*}/${redis_hostport#*:}"; then
  echo "Redis is not reachable at $TESSERA_TEST_REDIS_URL" >&2; exit 1
fi
printf 'PING\r\n' >&3; read -r -t 5 pong <&3 || true; exec 3>&-
[ "${pong%$'\r'}" = "+PONG" ] || { echo "Redis at $TESSERA_TEST_REDIS_URL did not answer PING" >&2; exit 1; }
echo "PostgreSQL and Redis are up"

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy --all-targets -D warnings"
cargo clippy --quiet --workspace --exclude tessera-frontend --all-targets -- -D warnings

step "unit and integration tests (PostgreSQL, SQLite, Redis)"
cargo test --workspace --exclude tessera-frontend --no-fail-fast

step "front end build"
scripts/build.sh

step "end-to-end (Chromium; SQLite, then PostgreSQL + Redis)"
scripts/e2e.sh

step "all tests passed"
