#!/usr/bin/env bash
# Prints the admin URL of a PostgreSQL server the tests can use, starting one if needed.
#
# These machines no longer start PostgreSQL before a session, so `make test` (and .ci/run) call this.
# Order: TANDEM_TEST_DATABASE_URL if set; else a server already answering on 127.0.0.1:5432 with
# trust auth for `postgres` (older machines, a developer's own); else the project's own test server:
# Debian's binaries (apt-get installed when missing, as root), a cluster of its own under
# TANDEM_TEST_PG_DIR with trust auth on loopback only, on TANDEM_TEST_PG_PORT. It keeps running after
# the tests so the next `make test` reuses it; `scripts/ensure-postgres.sh stop` stops it.
#
# The test server trades durability for speed (fsync off): it holds throwaway test databases only.
set -euo pipefail

PG_DIR="${TANDEM_TEST_PG_DIR:-/tmp/tandem-test-postgres}"
PG_PORT="${TANDEM_TEST_PG_PORT:-54329}"
OWN_URL="postgresql://postgres@127.0.0.1:${PG_PORT}/postgres"

say() { echo "ensure-postgres: $*" >&2; }

bindir() {
  # Debian keeps initdb and pg_ctl off PATH, one folder per major version; take the newest.
  local found
  found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -n "$found" ] && [ -x "$found/initdb" ]; then echo "$found"; return; fi
  if command -v initdb >/dev/null 2>&1; then dirname "$(command -v initdb)"; fi
}

as_server_user() {
  # initdb and postgres refuse to run as root; Debian's package creates the postgres user.
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

answers() {  # answers URL: the server takes a trust connection as postgres
  local bin="$1" url="$2"
  [ -x "$bin/psql" ] || return 1
  PGCONNECT_TIMEOUT=3 "$bin/psql" "$url" -XAtqc 'select 1' >/dev/null 2>&1
}

install_server() {
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    say "PostgreSQL's server is not installed and this user cannot apt-get it."
    say "Install it (apt-get install postgresql) or set TANDEM_TEST_DATABASE_URL."
    exit 1
  fi
  say "installing PostgreSQL from Debian's packages (apt-get install -y postgresql) ..."
  apt-get update -qq >&2
  # policy-rc.d-less containers may try to start Debian's own cluster; that one is not used here.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >&2
}

stop_own() {
  local bin="$1"
  if [ -f "$PG_DIR/data/postmaster.pid" ]; then
    as_server_user "$bin/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >&2 || true
  fi
}

start_own() {
  local bin="$1"
  mkdir -p "$PG_DIR"
  if [ "$(id -u)" -eq 0 ]; then chown postgres "$PG_DIR"; fi
  if [ ! -f "$PG_DIR/data/PG_VERSION" ]; then
    say "creating the test cluster in $PG_DIR/data"
    as_server_user "$bin/initdb" -D "$PG_DIR/data" -A trust -U postgres --no-sync >/dev/null
  fi
  # A stale pid file after a machine restart would make pg_ctl refuse to start.
  if [ -f "$PG_DIR/data/postmaster.pid" ] && ! as_server_user "$bin/pg_ctl" -D "$PG_DIR/data" status >/dev/null 2>&1; then
    rm -f "$PG_DIR/data/postmaster.pid"
  fi
  if ! as_server_user "$bin/pg_ctl" -D "$PG_DIR/data" status >/dev/null 2>&1; then
    say "starting the test server on 127.0.0.1:$PG_PORT"
    as_server_user "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 start \
      -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c max_connections=300 \
          -c fsync=off -c synchronous_commit=off -c full_page_writes=off" >/dev/null \
      || { say "the server did not start; its log:"; tail -n 20 "$PG_DIR/server.log" >&2; exit 1; }
  fi
}

main() {
  local bin
  if [ "${1:-}" = "stop" ]; then
    bin=$(bindir)
    [ -n "$bin" ] && stop_own "$bin"
    return
  fi
  if [ -n "${TANDEM_TEST_DATABASE_URL:-}" ]; then
    echo "$TANDEM_TEST_DATABASE_URL"
    return
  fi
  bin=$(bindir)
  if [ -z "$bin" ]; then
    install_server
    bin=$(bindir)
    [ -n "$bin" ] || { say "apt-get installed postgresql but initdb was not found"; exit 1; }
  fi
  if answers "$bin" "postgresql://postgres@127.0.0.1:5432/postgres"; then
    echo "postgresql://postgres@127.0.0.1:5432/postgres"
    return
  fi
  start_own "$bin"
  answers "$bin" "$OWN_URL" || { say "the test server at $OWN_URL does not answer"; exit 1; }
  echo "$OWN_URL"
}

main "$@"
