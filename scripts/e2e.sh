#!/usr/bin/env bash
# End-to-end: for each backend, start a real server (debug build) on a free port with a fresh database and run
# the Playwright specs in Debian's Chromium, hydrated and with JavaScript disabled. Expects scripts/build.sh to
# have run. Usage: scripts/e2e.sh [sqlite|postgres]... (TESSERA_E2E_ARGS: extra Playwright arguments, e.g. a spec file)
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/setup.sh" --test
cd "$TESSERA_ROOT"

pg_url="${TESSERA_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432}"
redis_url="${TESSERA_TEST_REDIS_URL:-redis://127.0.0.1:6379}"
bin="$CARGO_TARGET_DIR/debug/tessera"
[ -x "$bin" ] || { echo "missing $bin: run scripts/build.sh first" >&2; exit 1; }
backends=("$@"); [ ${#backends[@]} -gt 0 ] || backends=(sqlite postgres)

e2e_user=owner
e2e_password="correct horse battery staple 42"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# run_backend BACKEND [PROJECT]: without PROJECT, every spec against a server whose Owner is created at start;
# with PROJECT (hydrated / no-js), only the first-run setup spec, against a server with no user.
run_backend() {
  local backend="$1" project="${2:-}" port work db="" pid status=0
  port="$(free_port)"
  work="$(mktemp -d -t tessera-e2e-XXXXXX)"
  # The browser uses the public URL (a host name: WebAuthn and the Origin check need it); the Owner is created
  # at start from TESSERA_ADMIN_*; the specs sign in many times a minute, so the sign-in limit is raised
  # (except for the first-run setup spec, which checks the limit).
  local -a env=(TESSERA_ADDR="127.0.0.1:$port" TESSERA_PUBLIC_URL="http://localhost:$port"
                TESSERA_DATA_DIR="$work/data" TESSERA_SITE_ROOT="$TESSERA_SITE_DIR"
                TESSERA_LOG=json TESSERA_SHUTDOWN_TIMEOUT_SECS=10)
  local -a specs=(${TESSERA_E2E_ARGS:-}) extra=()
  if [ -z "$project" ]; then
    env+=(TESSERA_ADMIN_USER="$e2e_user" TESSERA_ADMIN_PASSWORD="$e2e_password" TESSERA_RATE_LIMIT_LOGIN_PER_MIN=1000)
  else
    # The setup spec also meets the sign-in rate limit, so it is low here.
    env+=(TESSERA_RATE_LIMIT_LOGIN_PER_MIN=8)
    specs=(tests/setup.spec.ts --project "$project")
    extra=(TESSERA_E2E_SETUP_LOG="$work/server.log")
  fi
  if [ "$backend" = postgres ]; then
    db="tessera_e2e_$(date +%s)_$$"
    psql "$pg_url/postgres" -qc "CREATE DATABASE \"$db\""
    env+=(DATABASE_URL="$pg_url/$db" REDIS_URL="$redis_url" TESSERA_REDIS_PREFIX="tessera-e2e:$db:")
  fi
  echo "[e2e] $backend${project:+ (first-run setup, $project)}: starting server on 127.0.0.1:$port (log: $work/server.log)"
  env "${env[@]}" "$bin" serve >"$work/server.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 120); do
    curl -fsS "http://127.0.0.1:$port/health/ready" >/dev/null 2>&1 && break
    kill -0 "$pid" 2>/dev/null || { cat "$work/server.log"; echo "[e2e] server exited early" >&2; return 1; }
    sleep 0.5
  done
  (cd end2end && env "${extra[@]}" BASE_URL="http://localhost:$port" TESSERA_E2E_BACKEND="$backend" \
    TESSERA_E2E_USER="$e2e_user" TESSERA_E2E_PASSWORD="$e2e_password" TESSERA_E2E_MAIL_DIR="$work/data/mail" \
    npx playwright test "${specs[@]}") || status=$?
  # Graceful shutdown on SIGTERM must exit 0.
  kill -TERM "$pid"
  if ! wait "$pid"; then echo "[e2e] server did not shut down cleanly" >&2; status=1; fi
  if [ $status -ne 0 ]; then echo "--- server log ---"; tail -n 50 "$work/server.log"; fi
  [ -n "$db" ] && psql "$pg_url/postgres" -qc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)"
  rm -rf "$work"
  return $status
}

overall=0
for backend in "${backends[@]}"; do
  run_backend "$backend" || overall=1
  # First-run setup needs an empty database per project (set TESSERA_E2E_ARGS to run only some specs).
  if [ -z "${TESSERA_E2E_ARGS:-}" ]; then
    for project in hydrated no-js; do run_backend "$backend" "$project" || overall=1; done
  fi
done
exit $overall
