#!/usr/bin/env bash
# The private PostgreSQL cluster of the embedded default: Debian's initdb/pg_ctl run as the postgres user, data in
# .data/pg under the repository (kept across restarts), unix socket only in .data/pg-run, database "todo".
#   scripts/pg-embedded.sh start    initdb once, start if not running, create the database (idempotent)
#   scripts/pg-embedded.sh stop     stop it
#   scripts/pg-embedded.sh status   say whether it runs
#   scripts/pg-embedded.sh url      print the DATABASE_URL for it
# Settings: TODO_PG_PORT (default 5433), TODO_PG_BINDIR (default /usr/lib/postgresql/15/bin), TODO_PG_DIR (the
# folder holding pg/ and pg-run/; default .data under the repository).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bindir="${TODO_PG_BINDIR:-/usr/lib/postgresql/15/bin}"
port="${TODO_PG_PORT:-5433}"
dbname=todo

log() { echo "pg-embedded: $*" >&2; }
die() { log "$*"; exit 1; }

# PostgreSQL refuses to run as root; as root its binaries run as the postgres user.
as_pg() {
  if [[ $(id -u) == 0 ]]; then
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

# The folder for pg/ and pg-run/. The postgres user must be able to reach it, and the socket path must fit in
# a sockaddr_un; when .data under the repository fails either (a clone under /root, a very deep path), the
# cluster lives under the postgres user's home instead, one per repository.
choose_dir() {
  if [[ -n ${TODO_PG_DIR:-} ]]; then
    dir="$TODO_PG_DIR"
    return 0
  fi
  dir="$root/.data"
  mkdir -p "$dir"
  local sock="$dir/pg-run/.s.PGSQL.$port"
  if [[ $(id -u) == 0 ]] && ! runuser -u postgres -- test -x "$dir"; then
    :
  elif ((${#sock} > 100)); then
    :
  else
    return 0
  fi
  local home
  home="$(getent passwd postgres | cut -d: -f6)"
  dir="${home:-/var/lib/postgresql}/todo-server-$(printf '%s' "$root" | sha256sum | cut -c1-12)"
  mkdir -p "$dir"
  [[ $(id -u) == 0 ]] && chown postgres:postgres "$dir"
  fallback_note="postgres cannot use $root/.data (unreachable folder or socket path too long); using $dir"
}

fallback_note=
choose_dir
data="$dir/pg"
run="$dir/pg-run"

[[ -x $bindir/pg_ctl ]] || die "$bindir/pg_ctl not found: install PostgreSQL 15 (bash scripts/deps.sh)"

running() { [[ -f $data/postmaster.pid ]] && as_pg "$bindir/pg_ctl" status -D "$data" >/dev/null 2>&1; }

# The port the running cluster listens on (line 4 of postmaster.pid), else the configured one.
live_port() {
  if running; then
    sed -n 4p "$data/postmaster.pid"
  else
    echo "$port"
  fi
}

url() { echo "postgresql:///$dbname?host=$run&port=$(live_port)&user=postgres"; }

start() {
  [[ -n $fallback_note ]] && log "$fallback_note"
  mkdir -p "$data" "$run"
  if [[ $(id -u) == 0 ]]; then
    chown postgres:postgres "$data" "$run"
  fi
  chmod 700 "$data" "$run"
  if [[ ! -s $data/PG_VERSION ]]; then
    log "initdb $data"
    as_pg "$bindir/initdb" -D "$data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >/dev/null
  fi
  if running; then
    log "already running (port $(live_port))"
  else
    log "starting on $run port $port"
    as_pg "$bindir/pg_ctl" start -D "$data" -w -t 60 -l "$data/server.log" \
      -o "-p $port -k $run -c listen_addresses=''" >/dev/null ||
      die "pg_ctl start failed; see $data/server.log"
  fi
  local p
  p="$(live_port)"
  if [[ -z $(as_pg "$bindir/psql" -h "$run" -p "$p" -U postgres -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = '$dbname'") ]]; then
    log "creating database $dbname"
    as_pg "$bindir/createdb" -h "$run" -p "$p" -U postgres "$dbname"
  fi
}

stop() {
  if running; then
    as_pg "$bindir/pg_ctl" stop -D "$data" -m fast -w >/dev/null
    log "stopped"
  else
    log "not running"
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) if running; then echo "running: $(url)"; else echo "stopped"; exit 3; fi ;;
  url) url ;;
  *) die "usage: $0 start|stop|status|url" ;;
esac
