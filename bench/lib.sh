# Shared set-up of the bench/*.sh scripts; sourced, not run. Provides: packages and the Release build, a
# throwaway PostgreSQL 15 cluster in a temporary folder, a todo-server started against it, and the cleanup trap
# that stops both (and whatever the script registered) on any exit.
#
# Before sourcing, a script sets BENCH_NAME (its name in messages, e.g. bench/core.sh). After sourcing it calls,
# in this order:
#   bench_prepare              root check, scripts/deps.sh, Release build in $BUILD_DIR → $SERVER_BIN
#   bench_workdir PREFIX       $WORK (mktemp -d /tmp/PREFIX.XXXXXX), $PGDATA, and the EXIT/INT/TERM traps
#   pg_start MAX_CONNECTIONS [SETTING…]   initdb + start (settings appended to postgresql.conf after the common
#                              ones) → $PGPORT, $PG_VERSION, $SHARED_BUFFERS; psql_admin/psql_todo/sql work then
#   server_start LOG [VAR=VALUE…] -- ARG…  todo-server with DATABASE_URL, a random TODO_JWT_SECRET ($JWT_SECRET),
#                              TODO_HTTP_ADDR and TODO_LOG_LEVEL=warn set, plus the given variables; waits for
#                              /readyz → $SERVER_PID, $BASE_URL
# A script adds its own clean-up steps with `bench_on_exit 'command…'` (run first, in reverse order) and the
# text printed when KEEP_WORK=1 keeps the folder with KEEP_NOTE.
# Common environment: BUILD_DIR (default build-bench), JOBS=2, KEEP_WORK=1, SERVER_BIN (a todo-server binary
# to run instead of building one: before/after comparisons).

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_DIR=$ROOT/bench
BUILD_DIR=${BUILD_DIR:-$ROOT/build-bench}
JOBS=${JOBS:-2}
PG_BIN=/usr/lib/postgresql/15/bin
PY=/usr/bin/python3  # Debian's, with the python3-* packages of scripts/deps.sh
PASSWORD='bench-password-123'
BENCH_NAME=${BENCH_NAME:-bench}
START_TIME=$(date +%s)
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
MEM_MB=$(awk '/MemTotal/ {print int($2/1024)}' /proc/meminfo)
SERVER_PID=
PG_STARTED=0
WORK=
KEEP_NOTE=${KEEP_NOTE:-"PostgreSQL data and logs"}
_BENCH_EXIT_HOOKS=()

say() { printf '\n== %s\n' "$*"; }
die() {
  printf '\n%s: FAILED: %s\n' "$BENCH_NAME" "$*" >&2
  exit 1
}
# Compiler and linker processes of other work right now (a non-zero count means competing load).
compilers() { ps -eo comm= | grep -cE '^(cc1plus|cc1|ld|ld\.gold|clang.*|rustc)$' || true; }
machine() {
  echo "$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), ${MEM_MB} MiB RAM"
}

bench_prepare() {
  [[ $EUID -eq 0 ]] || die "run as root (installs packages; runs PostgreSQL as the postgres user)"
  say "packages (scripts/deps.sh)"
  bash "$ROOT/scripts/deps.sh"
  id postgres >/dev/null 2>&1 || die "no postgres user (the postgresql package creates it)"
  [[ -x $PG_BIN/initdb ]] || die "PostgreSQL 15 binaries not found in $PG_BIN"

  if [[ -n ${SERVER_BIN:-} ]]; then
    [[ -x $SERVER_BIN ]] || die "SERVER_BIN=$SERVER_BIN is not an executable"
    say "server binary $SERVER_BIN (SERVER_BIN: not built here)"
    return 0
  fi
  say "build (Release) in $BUILD_DIR"
  if [[ ! -f $BUILD_DIR/build.ninja ]]; then
    cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
  fi
  cmake --build "$BUILD_DIR" --target todo-server -j"$JOBS" | tail -n 2
  SERVER_BIN=$BUILD_DIR/todo-server
  [[ -x $SERVER_BIN ]] || die "no $SERVER_BIN after the build"
}

stop_pid() {  # stop_pid PID: TERM, up to 10 s, then KILL
  local pid=$1
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
}

bench_on_exit() { _BENCH_EXIT_HOOKS+=("$1"); }

_bench_cleanup() {
  local rc=$? i
  trap - EXIT INT TERM
  for ((i = ${#_BENCH_EXIT_HOOKS[@]} - 1; i >= 0; i--)); do
    eval "${_BENCH_EXIT_HOOKS[i]}" || true
  done
  stop_pid "$SERVER_PID"
  if ((PG_STARTED)); then
    runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null 2>&1 || true
  fi
  if [[ -n $WORK ]]; then
    if [[ ${KEEP_WORK:-0} == 1 ]]; then
      echo "kept $WORK ($KEEP_NOTE)"
    else
      rm -rf "$WORK"
    fi
  fi
  exit "$rc"
}

bench_workdir() {  # bench_workdir PREFIX
  WORK=$(mktemp -d "/tmp/$1.XXXXXX")
  chown postgres:postgres "$WORK"
  chmod 0711 "$WORK"
  PGDATA=$WORK/data
  trap _bench_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

free_port() {
  "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

pg_start() {  # pg_start MAX_CONNECTIONS [SETTING…]
  local max_connections=$1
  shift
  say "PostgreSQL 15 (throwaway cluster in $WORK)"
  PGPORT=$(free_port)
  SHARED_BUFFERS=512MB
  ((MEM_MB < 3000)) && SHARED_BUFFERS=128MB
  runuser -u postgres -- "$PG_BIN/initdb" -D "$PGDATA" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
    >"$WORK/initdb.log" 2>&1 || {
    cat "$WORK/initdb.log"
    die "initdb failed"
  }
  # Durability stays at PostgreSQL's defaults: fsync=on, synchronous_commit=on, full_page_writes=on.
  local settings=(
    "listen_addresses = '127.0.0.1'"
    "port = $PGPORT"
    "unix_socket_directories = '$WORK'"
    "max_connections = $max_connections"
    "shared_buffers = $SHARED_BUFFERS"
    "effective_cache_size = 2GB"
    "work_mem = 16MB"
    "maintenance_work_mem = 256MB"
    "max_wal_size = 4GB"
    "checkpoint_timeout = 15min"
    "random_page_cost = 1.1"
    "fsync = on"
    "synchronous_commit = on"
    "full_page_writes = on"
    "autovacuum = on"
    "track_wal_io_timing = on"
    "$@"
    "logging_collector = off"
    "log_min_messages = warning"
  )
  printf '%s\n' "${settings[@]}" >>"$PGDATA/postgresql.conf"
  runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PGDATA" -l "$WORK/postgres.log" -w -t 60 start >/dev/null ||
    {
      tail -n 20 "$WORK/postgres.log"
      die "PostgreSQL did not start"
    }
  PG_STARTED=1
  PG_VERSION=$("$PG_BIN/psql" -h "$WORK" -p "$PGPORT" -U postgres -d postgres -Atc 'SHOW server_version')
}
psql_admin() { "$PG_BIN/psql" -h "$WORK" -p "$PGPORT" -U postgres -X -v ON_ERROR_STOP=1 -q "$@"; }
psql_todo() { psql_admin -d todo "$@"; }
sql() { psql_todo -At -F ' ' -c "$1"; }  # sql QUERY: one line a row, fields separated by spaces

server_start() {  # server_start LOG [VAR=VALUE…] -- ARG…
  local log=$1 envs=()
  shift
  while (($#)) && [[ $1 != -- ]]; do
    envs+=("$1")
    shift
  done
  [[ ${1:-} == -- ]] && shift
  local port
  port=$(free_port)
  JWT_SECRET=${JWT_SECRET:-$(head -c 48 /dev/urandom | base64 -w0)}
  # TODO_HTTP_ADDR=127.0.0.1:0 would be nicer, but at TODO_LOG_LEVEL=warn the "listening on" line may not be
  # printed; so the port is picked here.
  env DATABASE_URL="$DATABASE_URL" TODO_JWT_SECRET="$JWT_SECRET" TODO_HTTP_ADDR="127.0.0.1:$port" \
    TODO_LOG_LEVEL=warn "${envs[@]}" "$SERVER_BIN" "$@" >"$log" 2>&1 &
  SERVER_PID=$!
  BASE_URL=
  for _ in $(seq 1 300); do
    kill -0 "$SERVER_PID" 2>/dev/null || {
      cat "$log"
      die "todo-server exited at start"
    }
    if curl -fsS -o /dev/null "http://127.0.0.1:$port/readyz" 2>/dev/null; then
      BASE_URL=http://127.0.0.1:$port
      break
    fi
    sleep 0.1
  done
  [[ -n $BASE_URL ]] || {
    cat "$log"
    die "todo-server did not serve the API (/readyz) within 30 s"
  }
}

api() {  # api METHOD PATH [BODY] [TOKEN] → $API_STATUS and $API_BODY
  local method=$1 path=$2 body=${3:-} token=${4:-}
  local args=(-sS -X "$method" -o "$WORK/api.out" -w '%{http_code}' -H 'Accept: application/json')
  if [[ -n $body ]]; then args+=(-H 'Content-Type: application/json' --data-binary "$body"); fi
  if [[ -n $token ]]; then args+=(-H "Authorization: Bearer $token"); fi
  API_STATUS=$(curl "${args[@]}" "$BASE_URL$path" || true)
  API_BODY=$(cat "$WORK/api.out" 2>/dev/null || true)
}
json_field() { "$PY" -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
login() {  # login EMAIL → token on stdout
  api POST /api/v1/auth/login "{\"email\":\"$1\",\"password\":\"$PASSWORD\"}"
  [[ $API_STATUS == 200 ]] || die "login of $1 answered $API_STATUS: $API_BODY"
  json_field access_token <<<"$API_BODY"
}

metric() {  # metric FILE NAME: the value of an unlabelled sample (0 when absent)
  awk -v n="$2" '$1 == n {print $2; found=1} END {if (!found) print 0}' "$1"
}
scrape() { curl -fsS "$BASE_URL/metrics" -o "$1" || die "GET /metrics failed"; }

# hist_quantiles NAME BEFORE AFTER: p50 and p99 (ms) of histogram NAME between two scrapes, linearly
# interpolated within the bucket (as PromQL's histogram_quantile); ">last bound" when in the +Inf bucket.
hist_quantiles() {
  awk -v name="$1" '
    FNR == 1 { file++ }
    index($0, name "_bucket") == 1 {
      match($0, /le="[^"]*"/); le = substr($0, RSTART + 4, RLENGTH - 5)
      if (file == 1) before[le] = $NF; else { after[le] = $NF; if (!(le in seen)) { order[++n] = le; seen[le] = 1 } }
    }
    END {
      total = after["+Inf"] - before["+Inf"]
      if (total <= 0) { print "- -"; exit }
      split("0.5 0.99", qs, " ")
      for (k = 1; k <= 2; k++) {
        rank = qs[k] * total; prev_le = 0; prev_c = 0; out = ""
        for (i = 1; i <= n; i++) {
          c = after[order[i]] - before[order[i]]
          if (c >= rank) {
            if (order[i] == "+Inf") out = sprintf(">%g", prev_le * 1000)
            else out = sprintf("%.1f", (prev_le + (order[i] - prev_le) * (c > prev_c ? (rank - prev_c) / (c - prev_c) : 1)) * 1000)
            break
          }
          prev_le = order[i]; prev_c = c
        }
        printf "%s%s", out, (k == 1 ? " " : "\n")
      }
    }' "$2" "$3"
}

# server_log_problems [EXTRA_ERE]: warning/error lines of $WORK/server.log, minus the start-up announcements
# (printed at warn level when TODO_LOG_LEVEL=warn) and lines matching EXTRA_ERE.
server_log_problems() {
  grep -E '"level":"(warning|error|critical)"' "$WORK/server.log" |
    grep -vE '"msg":"(listening on|serving the API at|embedded Kafka)' | { if [[ -n ${1:-} ]]; then grep -vE "$1"; else cat; fi; } || true
}
