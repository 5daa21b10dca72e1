#!/usr/bin/env bash
# Core benchmark: loads 100 000 tasks for one user and 1 000 other users into a throwaway PostgreSQL 15,
# drives a Release todo-server with wrk (GET one task, list with filter+sort, create, complete) and runs
# `pgbench -S -M prepared` at the same connection count against the same PostgreSQL as the ceiling.
# Prints requests/s, p99 latency and the ratio to pgbench for each scenario. Figures, not assertions: it
# fails only when something is broken (a scenario with more than 1% errors, a server that does not start).
#
# Usage (as root on Debian bookworm):  bash bench/core.sh
# Environment:
#   CONNECTIONS=32   wrk connections = pgbench clients
#   POOL_SIZE=8      the server's TODO_DB_POOL_SIZE (8 is its default; 32 ran concurrent completes on 32
#                    PostgreSQL backends on 2 cores: p99 275–400 ms instead of 95)
#   HTTP_THREADS=…   the server's TODO_HTTP_THREADS (default: its own, one io thread per core)
#   LIST_CACHE_MB=…  the server's TODO_LIST_CACHE_MB (default: its own, 64; 0: every list page is read from
#                    PostgreSQL, as when each list follows a change)
#   TODO_DB_CREATE_WRITERS=…  the server's create writers (default: its own, 2); also the connections of the
#                    grouped create "db alone" run
#   SCENARIOS="get list list_one create complete"   which wrk scenarios to run (list: a mix of 8 filter+sort
#                    queries; list_one: only the headline one, which "db alone" runs too)
#   DURATION=15      seconds per scenario (and per pgbench run)
#   THREADS=2        wrk threads and pgbench -j
#   WARMUP=3         seconds of untimed GET-one load before the measured scenarios
#   BUILD_DIR=…      build directory (default build-bench);  JOBS=2  build parallelism
#   SERVER_BIN=…     run this todo-server binary instead of building one (before/after comparisons)
#   PG_SETTINGS="…"  one more postgresql.conf line, e.g. "shared_preload_libraries = 'pg_stat_statements'"
#   PG_TRANSPORT=unix|tcp   how todo-server and pgbench reach PostgreSQL (default unix; the same for both)
#   BIG_TASKS=100000 USERS=1000 TASKS_PER_USER=100   data set size
#   KEEP_WORK=1      keep the temporary folder (PostgreSQL data, logs, wrk output) for inspection
#   AUTOGROUP=keep   leave kernel.sched_autogroup_enabled as it is (default: 0 for the run, then put back)
set -euo pipefail

BENCH_NAME=bench/core.sh
KEEP_NOTE="PostgreSQL data, server.log, postgres.log, wrk-*.txt"
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CONNECTIONS=${CONNECTIONS:-32}
POOL_SIZE=${POOL_SIZE:-8}
SCENARIOS=" ${SCENARIOS:-get list list_one create complete} "
DURATION=${DURATION:-15}
THREADS=${THREADS:-2}
WARMUP=${WARMUP:-3}
PG_TRANSPORT=${PG_TRANSPORT:-unix}
BIG_TASKS=${BIG_TASKS:-100000}
USERS=${USERS:-1000}
TASKS_PER_USER=${TASKS_PER_USER:-100}
BIG_EMAIL='big@bench.example'
REGISTERED_SMALL=5  # small users registered through the API (the rest are inserted with SQL)

((CONNECTIONS >= THREADS)) || die "CONNECTIONS ($CONNECTIONS) must be at least THREADS ($THREADS)"
sample_compilers() {  # sample_compilers SECONDS FILE: counts other builds' compilers half-way through a run
  ( sleep "$(( $1 / 2 ))"; compilers >"$2" ) &
  SAMPLER_PID=$!
}
COMPILERS_DURING=()
SAMPLER_PID=

bench_prepare
bench_workdir todo-bench
bench_on_exit '[[ -n $SAMPLER_PID ]] && kill "$SAMPLER_PID" 2>/dev/null'

# Per-session CPU groups (kernel.sched_autogroup_enabled): pg_ctl starts PostgreSQL in a session of its own, so
# under full load the kernel shares the cores between PostgreSQL's backends as one group and wrk, pgbench and
# todo-server as another, whatever each needs. With the server's io_context per thread, PostgreSQL's backends
# then waited for CPU in bursts, up to 1.7 s (README "Benchmarks"). Off for the run, put back at exit;
# AUTOGROUP=keep leaves it as it is.
AUTOGROUP_FILE=/proc/sys/kernel/sched_autogroup_enabled
AUTOGROUP_STATE=$(cat "$AUTOGROUP_FILE" 2>/dev/null || echo absent)
if [[ ${AUTOGROUP:-off} != keep && $AUTOGROUP_STATE == 1 ]] && { echo 0 >"$AUTOGROUP_FILE"; } 2>/dev/null; then
  bench_on_exit "echo 1 >$AUTOGROUP_FILE"
  AUTOGROUP_STATE="0 for this run (was 1; AUTOGROUP=keep leaves it)"
fi

# The server holds up to 2 × POOL_SIZE connections (transactions, io-thread reads) while pgbench runs.
MAX_CONNECTIONS=$((2 * POOL_SIZE + CONNECTIONS + 20))
pg_start "$MAX_CONNECTIONS" ${PG_SETTINGS:+"$PG_SETTINGS"}
echo "PostgreSQL $PG_VERSION on unix socket $WORK and 127.0.0.1:$PGPORT"
echo "settings: shared_buffers=$SHARED_BUFFERS max_connections=$MAX_CONNECTIONS work_mem=16MB max_wal_size=4GB" \
  "checkpoint_timeout=15min random_page_cost=1.1; durability defaults kept (fsync=on, synchronous_commit=on," \
  "full_page_writes=on)"

if [[ $PG_TRANSPORT == tcp ]]; then
  PG_HOST=127.0.0.1
else
  PG_TRANSPORT=unix
  PG_HOST=$WORK
fi
psql_admin -d postgres -c 'CREATE DATABASE todo' -c 'CREATE DATABASE pgbench'
if [[ $PG_TRANSPORT == tcp ]]; then
  DATABASE_URL="postgresql://postgres@127.0.0.1:$PGPORT/todo"
else
  DATABASE_URL="postgresql://postgres@/todo?host=$WORK&port=$PGPORT"
fi

# ---------------------------------------------------------------------------------------------------------
say "todo-server serve (pool $POOL_SIZE connections, log level warn)"
server_start "$WORK/server.log" TODO_DB_POOL_SIZE="$POOL_SIZE" ${HTTP_THREADS:+TODO_HTTP_THREADS=$HTTP_THREADS} \
  ${LIST_CACHE_MB:+TODO_LIST_CACHE_MB=$LIST_CACHE_MB} -- serve
echo "server at $BASE_URL (pid $SERVER_PID, ${HTTP_THREADS:-$(nproc)} io threads)"

# ---------------------------------------------------------------------------------------------------------
say "load: $BIG_TASKS tasks for the big user, $USERS users with $TASKS_PER_USER tasks each"
t0=$(date +%s)
for email in "$BIG_EMAIL" $(seq -f 'user%g@bench.example' 1 "$REGISTERED_SMALL"); do
  api POST /api/v1/auth/register "{\"email\":\"$email\",\"password\":\"$PASSWORD\"}"
  [[ $API_STATUS == 201 ]] || die "register $email answered $API_STATUS: $API_BODY"
done
PASSWORD_HASH=$(psql_todo -Atc "SELECT password_hash FROM users WHERE email = '$BIG_EMAIL'")
BIG_ID=$(psql_todo -Atc "SELECT id FROM users WHERE email = '$BIG_EMAIL'")
[[ $PASSWORD_HASH == '$argon2id$'* ]] || die "unexpected password hash format for $BIG_EMAIL"

psql_todo -v hash="$PASSWORD_HASH" -v big="$BIG_ID" -v big_tasks="$BIG_TASKS" -v users="$USERS" \
  -v per_user="$TASKS_PER_USER" -v first_sql_user="$((REGISTERED_SMALL + 1))" <<'SQL'
SELECT setseed(0.42) \gset
INSERT INTO users (id, email, password_hash, display_name, timezone, created_at, updated_at)
SELECT gen_random_uuid(), format('user%s@bench.example', g), :'hash', format('Bench user %s', g),
       (ARRAY['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Tokyo'])[1 + g % 4],
       now() - interval '400 days', now() - interval '400 days'
FROM generate_series(:first_sql_user, :users) AS g;

WITH src AS (
  SELECT :'big'::uuid AS u, g AS n FROM generate_series(1, :big_tasks) AS g
  UNION ALL
  SELECT u.id, g FROM users AS u CROSS JOIN generate_series(1, :per_user) AS g WHERE u.id <> :'big'::uuid
), r AS (
  SELECT u, n, random() AS r_status, random() AS r_prio, random() AS r_due, random() AS r_desc,
         random() AS r_tags, random() AS r_created,
         floor(random() * 40)::int AS w1, floor(random() * 40)::int AS w2, floor(random() * 40)::int AS w3
  FROM src
), v AS (
  SELECT r.*,
    ARRAY['buy', 'milk', 'call', 'mum', 'write', 'report', 'fix', 'bike', 'book', 'dentist', 'pay', 'rent',
          'plan', 'trip', 'email', 'bob', 'review', 'code', 'water', 'plants', 'clean', 'kitchen', 'read',
          'chapter', 'renew', 'passport', 'prepare', 'slides', 'order', 'groceries', 'walk', 'dog', 'backup',
          'laptop', 'update', 'budget', 'cancel', 'gym', 'draft', 'invoice'] AS words,
    ARRAY['work', 'home', 'errands', 'health', 'finance', 'reading', 'travel', 'garden', 'kids', 'car',
          'admin', 'shopping', 'calls', 'email', 'project-x', 'project-y', 'someday', 'weekly', 'family',
          'fitness'] AS tag_pool,
    now() - r_created * interval '365 days' AS created
  FROM r
)
INSERT INTO tasks (user_id, id, title, description, status, priority, tags, due_at, all_day, timezone,
                   created_at, updated_at, completed_at, version)
SELECT u, gen_random_uuid(),
  initcap(words[1 + w1]) || ' ' || words[1 + w2] || ' ' || words[1 + w3] || ' ' || n,
  CASE WHEN r_desc < 0.3 THEN 'Remember to ' || words[1 + w2] || ' the ' || words[1 + w3] ||
                              ' before the ' || words[1 + w1] || ' meeting.' ELSE '' END,
  CASE WHEN r_status < 0.3 THEN 'done' ELSE 'open' END,
  CASE WHEN r_prio < 0.30 THEN 0 WHEN r_prio < 0.55 THEN 1 WHEN r_prio < 0.80 THEN 2
       WHEN r_prio < 0.95 THEN 3 ELSE 4 END,
  CASE WHEN r_tags < 0.25 THEN '{}'::text[]
       WHEN r_tags < 0.65 THEN ARRAY[tag_pool[1 + w1 % 20]]
       WHEN r_tags < 0.90 THEN ARRAY(SELECT DISTINCT t FROM unnest(ARRAY[tag_pool[1 + w1 % 20],
                                                                         tag_pool[1 + w2 % 20]]) AS t)
       ELSE ARRAY(SELECT DISTINCT t FROM unnest(ARRAY[tag_pool[1 + w1 % 20], tag_pool[1 + w2 % 20],
                                                     tag_pool[1 + w3 % 20]]) AS t) END,
  CASE WHEN r_due < 0.2 THEN NULL
       ELSE date_trunc('minute', now() + (r_due - 0.45) * interval '300 days') END,
  r_due >= 0.2 AND w3 % 4 = 0,
  (ARRAY['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Tokyo'])[1 + w3 % 4],
  created,
  created + (now() - created) * r_desc,
  CASE WHEN r_status < 0.3 THEN created + (now() - created) * r_desc END,
  CASE WHEN r_status < 0.3 THEN 2 ELSE 1 END
FROM v;

VACUUM (ANALYZE) users;
VACUUM (ANALYZE) tasks;
CHECKPOINT;
SQL
psql_todo -At -F ' ' <<SQL
SELECT 'users:', count(*) FROM users;
SELECT 'tasks:', count(*), 'of which big user:', count(*) FILTER (WHERE user_id = '$BIG_ID'),
       'open high (big user):', count(*) FILTER (WHERE user_id = '$BIG_ID' AND status = 'open' AND priority = 3)
FROM tasks;
SELECT 'database size:', pg_size_pretty(pg_database_size('todo'));
SQL
echo "loaded in $(($(date +%s) - t0)) s"

api POST /api/v1/auth/login "{\"email\":\"$BIG_EMAIL\",\"password\":\"$PASSWORD\"}"
[[ $API_STATUS == 200 ]] || die "login answered $API_STATUS: $API_BODY"
TOKEN=$(json_field access_token <<<"$API_BODY")
api POST /api/v1/auth/login "{\"email\":\"user$USERS@bench.example\",\"password\":\"$PASSWORD\"}"
[[ $API_STATUS == 200 ]] || die "login of an SQL-inserted user answered $API_STATUS: $API_BODY"

GET_IDS=$WORK/get-ids.txt
COMPLETE_IDS=$WORK/complete-ids.txt
psql_todo -Atc "SELECT id FROM tasks WHERE user_id = '$BIG_ID' ORDER BY random() LIMIT 20000" >"$GET_IDS"
chmod 0644 "$GET_IDS"

# ---------------------------------------------------------------------------------------------------------
say "query plans at this scale (EXPLAIN (ANALYZE, BUFFERS), first lines)"
# The columns the server selects (tasks::repository).
TASK_COLS="id, user_id, title, description, status, priority, tags, due_at, all_day, timezone, recurrence, created_at, updated_at, completed_at, version, recurrence_mode, series_id, occurrence, generate_ahead, series_start"
GET_SAMPLE=$(head -n 1 "$GET_IDS")
echo "-- GET one: SELECT … FROM tasks WHERE user_id = \$1 AND id = \$2"
psql_todo -At -c "EXPLAIN (ANALYZE, BUFFERS) SELECT $TASK_COLS FROM tasks WHERE user_id = '$BIG_ID' AND id = '$GET_SAMPLE'" |
  sed -n '1,6s/^/   /p'
echo "-- list: status=open&priority=high&sort=due_at&limit=50 (the SQL the server builds for it)"
psql_todo -At -c "EXPLAIN (ANALYZE, BUFFERS) SELECT $TASK_COLS,
  (coalesce(due_at, 'infinity'::timestamptz))::text AS sort_key_0 FROM tasks
  WHERE user_id = '$BIG_ID'::uuid AND status = 'open' AND priority = '3'::smallint
  ORDER BY coalesce(due_at, 'infinity'::timestamptz) ASC, id ASC LIMIT 51" | sed -n '1,10s/^/   /p'
echo "-- list: priority=high&sort=priority (key lines: does priority reach the Index Cond?)"
psql_todo -At -c "EXPLAIN (ANALYZE, BUFFERS) SELECT $TASK_COLS, (priority)::text AS sort_key_0 FROM tasks
  WHERE user_id = '$BIG_ID'::uuid AND priority = '3'::smallint
  ORDER BY priority ASC, id ASC LIMIT 51" | grep -E 'Scan|Index Cond|Filter|Removed|Execution' | sed 's/^/   /'

# ---------------------------------------------------------------------------------------------------------
say "pgbench -i -s 10 (database pgbench, same cluster)"
PGB=("$PG_BIN/pgbench" -h "$PG_HOST" -p "$PGPORT" -U postgres)
"${PGB[@]}" -i -s 10 -q pgbench 2>&1 | tail -n 1

declare -A RPS P50 P99 NOTE DB_ALONE
STATUS=0
PGBENCH_TPS=()

run_pgbench() {  # run_pgbench LABEL
  local f=$WORK/pgbench-$1.txt
  echo "-- pgbench -S -M prepared -c $CONNECTIONS -j $THREADS -T $DURATION ($1, via $PG_TRANSPORT socket)"
  sample_compilers "$DURATION" "$f.cc"
  "${PGB[@]}" -n -S -M prepared -c "$CONNECTIONS" -j "$THREADS" -T "$DURATION" pgbench >"$f" 2>&1 || {
    cat "$f"
    die "pgbench failed"
  }
  grep -E '^(latency average|tps = .*without)' "$f" | sed 's/^/   /'
  PGBENCH_TPS+=("$(awk '/^tps = .*without/ {printf "%.1f", $3}' "$f")")
  wait "$SAMPLER_PID" || true
  COMPILERS_DURING+=("pgbench-$1:$(cat "$f.cc")")
}

# The database alone: pgbench runs the SQL a scenario makes the server run, on the same database and with the
# same connection count, so each scenario's figure can be set against what PostgreSQL itself allows for it.
run_pgbench_script() {  # run_pgbench_script NAME MODE [CLIENTS [PGBENCH_ARG…]]  (script $WORK/NAME.sql)
  local f=$WORK/pgbench-$1.txt name=$1 mode=$2 clients=${3:-$CONNECTIONS}
  shift $(($# < 3 ? $# : 3))
  local jobs=$((clients < THREADS ? clients : THREADS))
  echo "-- pgbench -f $name.sql -M $mode -c $clients -j $jobs -T $DURATION $* (database todo, the database alone)"
  sample_compilers "$DURATION" "$f.cc"
  "${PGB[@]}" -n -f "$WORK/$name.sql" -M "$mode" -c "$clients" -j "$jobs" -T "$DURATION" "$@" todo >"$f" 2>&1 || {
    cat "$f"
    die "pgbench failed for $name"
  }
  grep -E '^(latency average|tps = .*without)' "$f" | sed 's/^/   /'
  DB_ALONE[$name]=$(awk '/^tps = .*without/ {printf "%.1f", $3}' "$f")
  wait "$SAMPLER_PID" || true
  COMPILERS_DURING+=("db-alone-$name:$(cat "$f.cc")")
}

list_reads() {  # list_reads: "HITS MISSES" of the server's tasks_list_cache_requests_total so far
  curl -sS "$BASE_URL/metrics" | awk '/^tasks_list_cache_requests_total\{result="hit"\}/ { h = $2 }
    /^tasks_list_cache_requests_total\{result="miss"\}/ { m = $2 } END { printf "%d %d\n", h, m }'
}
create_groups() {  # create_groups: "GROUPS CREATES" the server's create writers have written so far
  curl -sS "$BASE_URL/metrics" | awk '/^tasks_create_batch_size_count / { n = $2 }
    /^tasks_create_batch_size_sum / { s = $2 } END { printf "%d %d\n", n, s }'
}

# CPU time so far, in clock ticks: "SERVER POSTGRES MACHINE". POSTGRES is the postmaster, its live children
# (backends, autovacuum, WAL writer, …) and the children it has reaped (cutime/cstime), so a backend or an
# autovacuum worker that exits during a scenario still counts. MACHINE is every CPU's time neither idle nor waiting
# on I/O (user, nice, system, irq, softirq, and steal: time the hypervisor gave to others). Set against
# the requests served, these say what a request costs each part, a figure that drifts less than requests/s on
# a machine whose speed drifts.
cpu_ticks() {
  local postmaster
  postmaster=$(head -n 1 "$PGDATA/postmaster.pid")
  # Fields after the command name: $12 utime, $13 stime, $14 cutime, $15 cstime (proc(5) fields 14–17).
  proc_ticks() { sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | awk -v c="$2" '{ print $12 + $13 + (c ? $14 + $15 : 0) }'; }
  local server pg=0 pid t
  server=$(proc_ticks "$SERVER_PID" 0)
  pg=$(proc_ticks "$postmaster" 1)
  for pid in $(pgrep -P "$postmaster"); do
    t=$(proc_ticks "$pid" 0)
    pg=$((pg + ${t:-0}))
  done
  echo "${server:-0} $pg $(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat)"
}
# What PostgreSQL wrote: WAL bytes since a fixed point (exact), commits in the todo database (statistics a backend
# sends within a second or when it goes idle, so the last second of a run may be missing), full-page images, and
# the WAL flushes to disk with the time they took (track_wal_io_timing; the WAL writer's and the backends').
db_writes() {
  sql "SELECT pg_current_wal_lsn() - '0/0', (SELECT xact_commit FROM pg_stat_database WHERE datname = 'todo'),
              (SELECT wal_fpi FROM pg_stat_wal), (SELECT wal_sync FROM pg_stat_wal),
              (SELECT round(wal_sync_time * 1000)::bigint FROM pg_stat_wal)"
}

run_wrk() {  # run_wrk NAME SCRIPT IDS_FILE [DURATION]
  local name=$1 script=$2 ids=$3 dur=${4:-$DURATION}
  local f=$WORK/wrk-$name.txt hits0 misses0 hits1 misses1 cpu0 cpu1 db0 db1
  echo "-- wrk -t$THREADS -c$CONNECTIONS -d${dur}s: $name"
  read -r hits0 misses0 < <(list_reads)
  read -r -a db0 < <(db_writes)
  read -r -a cpu0 < <(cpu_ticks)
  sample_compilers "$dur" "$f.cc"
  BENCH_TOKEN=$TOKEN BENCH_IDS_FILE=$ids BENCH_THREADS=$THREADS \
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"${dur}s" --timeout 5s -s "$BENCH_DIR/$script" "$BASE_URL" >"$f" 2>&1 ||
    {
      cat "$f"
      die "wrk failed for $name"
    }
  local line
  read -r -a cpu1 < <(cpu_ticks)
  read -r -a db1 < <(db_writes)
  line=$(grep '^BENCH_RESULT' "$f") || {
    cat "$f"
    die "no result line from wrk for $name"
  }
  grep -E 'Latency|Req/Sec|requests in|Non-2xx|Socket errors' "$f" | sed 's/^/   /'
  wait "$SAMPLER_PID" || true
  [[ $name == warmup ]] || COMPILERS_DURING+=("$name:$(cat "$f.cc")")
  echo "   $line"
  [[ $name == warmup ]] && return 0
  local requests rps p99 non2xx connect read write timeout wrapped errors
  kv() { grep -o " $1=[0-9.]*" <<<"$line" | cut -d= -f2 || true; }
  requests=$(kv requests) rps=$(kv rps) p99=$(kv p99_ms) non2xx=$(kv non2xx)
  connect=$(kv connect) read=$(kv read) write=$(kv write) timeout=$(kv timeout) wrapped=$(kv wrapped)
  errors=$((non2xx + connect + read + write + timeout))
  RPS[$name]=$rps
  P99[$name]=$p99
  if ((requests > 0)); then
    local tick_us=$((1000000 / $(getconf CLK_TCK)))
    echo "   CPU a request: server $(((cpu1[0] - cpu0[0]) * tick_us / requests)) µs," \
      "PostgreSQL $(((cpu1[1] - cpu0[1]) * tick_us / requests)) µs," \
      "machine $(((cpu1[2] - cpu0[2]) * tick_us / requests)) µs (all processes, wrk included)"
    awk -v r="$requests" -v wal=$((db1[0] - db0[0])) -v c=$((db1[1] - db0[1])) -v fpi=$((db1[2] - db0[2])) \
      'BEGIN { printf "   PostgreSQL a request: %.0f WAL bytes, %.2f full-page images, %.2f commits\n", wal / r, fpi / r, c / r }'
    # A durable write is answered after the flush that holds its commit: each flush stops the clients whose
    # writes it holds for its whole length, so with C connections and flushes back to back two consecutive
    # flushes hold at most C writes between them: C / 2 writes a flush length is the most a second can hold.
    # Shown for writes (a flush at least every 100 requests), not for reads.
    local syncs=$((db1[3] - db0[3])) sync_us=$((db1[4] - db0[4]))
    ((syncs > 0 && syncs * 100 >= requests)) && awk -v r="$requests" -v n="$syncs" -v us="$sync_us" -v d="$dur" -v c="$CONNECTIONS" \
      'BEGIN { printf "   WAL flushes: %.0f a second, %.2f ms each, %.1f requests a flush; at most %.0f writes a second fit %d connections (%d / 2 a flush length)\n", n / d, us / n / 1000, r / n, c / 2 / (us / n / 1e6), c, c }'
  fi
  P50[$name]=$(kv p50_ms)
  NOTE[$name]=""
  if ((requests == 0 || errors * 100 > requests)); then
    echo "!! FAIL: $name: $errors errors (non-2xx $non2xx, socket $connect/$read/$write, timeouts $timeout)" \
      "in $requests requests (> 1%)" >&2
    NOTE[$name]="FAIL: $errors errors"
    STATUS=1
  elif ((errors > 0)); then
    NOTE[$name]="$errors errors (< 1%)"
  fi
  if [[ -n $wrapped ]]; then
    NOTE[$name]="${NOTE[$name]:+${NOTE[$name]}; }$wrapped repeats of already-completed ids"
  fi
  read -r hits1 misses1 < <(list_reads)
  if ((hits1 + misses1 > hits0 + misses0)); then
    local kept="kept pages $(((hits1 - hits0) * 100 / (hits1 - hits0 + misses1 - misses0)))%"
    echo "   $kept of the lists ($((hits1 - hits0)) answered from memory, $((misses1 - misses0)) read from PostgreSQL)"
    NOTE[$name]="${NOTE[$name]:+${NOTE[$name]}; }$kept"
  fi
}

probe() {  # probe WHAT METHOD PATH [BODY]: one request by hand so that a broken route fails clearly
  api "$2" "$3" "${4:-}" "$TOKEN"
  [[ $API_STATUS == 2* ]] || die "$1: $2 $3 answered $API_STATUS: $API_BODY"
}

say "scenarios (as $BIG_EMAIL, wrk threads $THREADS, connections $CONNECTIONS, ${DURATION} s each)"
probe "GET one" GET "/api/v1/tasks/$GET_SAMPLE"
probe "list" GET "/api/v1/tasks?status=open&priority=high&sort=due_at&limit=50"
probe "create" POST /api/v1/tasks '{"title":"probe","priority":"high","tags":["work"],"due_at":"2026-03-05T09:00:00Z"}'

run_pgbench before
((WARMUP > 0)) && run_wrk warmup get_task.lua "$GET_IDS" "$WARMUP"
wanted() { [[ $SCENARIOS == *" $1 "* ]]; }
wanted get && run_wrk get get_task.lua "$GET_IDS"
wanted list && run_wrk list list_tasks.lua "$GET_IDS"
wanted list_one && run_wrk list_one list_one.lua "$GET_IDS"
if wanted create; then
  read -r groups0 grouped0 < <(create_groups)
  run_wrk create create_task.lua "$GET_IDS"
  read -r groups1 grouped1 < <(create_groups)
  # The creates a transaction of the server's create writers in this scenario (tasks::CreateBatcher).
  CREATE_GROUP=$(awk -v g=$((groups1 - groups0)) -v c=$((grouped1 - grouped0)) \
    'BEGIN { printf "%d", (g > 0 ? c / g + 0.5 : 1) }')
  echo "   written in $((groups1 - groups0)) transactions, about $CREATE_GROUP creates each"
fi

if wanted complete; then
  # Complete: every open task of the big user, in random order, each used once; topped up if a fast machine
  # could get through them all (5 000 completes/s assumed at most).
  need=$((DURATION * 5000))
  open=$(psql_todo -Atc "SELECT count(*) FROM tasks WHERE user_id = '$BIG_ID' AND status = 'open'")
  if ((open < need)); then
    psql_todo -c "INSERT INTO tasks (user_id, id, title, timezone)
      SELECT '$BIG_ID', gen_random_uuid(), 'Extra open task ' || g, 'UTC' FROM generate_series(1, $((need - open))) g"
    psql_todo -c 'ANALYZE tasks'
  fi
  psql_todo -Atc "SELECT id FROM tasks WHERE user_id = '$BIG_ID' AND status = 'open' ORDER BY random()" >"$COMPLETE_IDS"
  chmod 0644 "$COMPLETE_IDS"
  probe "complete" POST "/api/v1/tasks/$(tail -n 1 "$COMPLETE_IDS")/complete"
  run_wrk complete complete_task.lua "$COMPLETE_IDS"
fi
run_pgbench after

if wanted list_one; then
  # The list query exactly as the server sends it for list_one.lua's request. The server prepares this shape
  # (tasks::cacheable) and runs PostgreSQL's generic plan, the same index scan as for these values.
  cat >"$WORK/list_one.sql" <<SQL
SELECT $TASK_COLS, (coalesce(due_at, 'infinity'::timestamptz))::text AS sort_key_0 FROM tasks
  WHERE user_id = '$BIG_ID'::uuid AND status = 'open' AND priority = '3'::smallint
  ORDER BY coalesce(due_at, 'infinity'::timestamptz) ASC, id ASC LIMIT 51;
SQL
  run_pgbench_script list_one prepared
fi
if wanted create; then
  # What a create writes, in one durable transaction: the task, its outbox event and its audit row, with the
  # event and audit texts of a real create (the probe's). Slightly less than the server does: the outbox row is
  # inserted as already published (no relay update afterwards) and no NOTIFY follows the commit. The server now
  # writes concurrent creates together, several in one transaction (tasks::CreateBatcher); this stays one create
  # a transaction, the baseline that grouping is measured against.
  psql_todo -q -c "CREATE TABLE bench_create_sample AS SELECT
      (SELECT event FROM outbox WHERE type = 'com.todo.task.created' ORDER BY id DESC LIMIT 1) AS event,
      (SELECT changes FROM audit_log WHERE action = 'task.created' ORDER BY at DESC LIMIT 1) AS changes"
  # The probe's task as the server inserts it, after its id and title.
  task_insert="INSERT INTO tasks (id, user_id, title, description, status, priority, tags, due_at, all_day,
  timezone, recurrence, completed_at, recurrence_mode, series_id, occurrence, generate_ahead, series_start)"
  probe_rest="'', 'open', 3, ARRAY['work'], make_timestamptz(2026, 3, 5, 9, 0, 0, 'UTC'), false,
  coalesce(NULL, (SELECT timezone FROM users WHERE id = '$BIG_ID')), NULL, NULL, 'fixed', NULL, NULL, 0, NULL"
  cat >"$WORK/create.sql" <<SQL
BEGIN;
$task_insert
  VALUES (gen_random_uuid(), '$BIG_ID', 'probe', $probe_rest)
  RETURNING $TASK_COLS;
INSERT INTO outbox (event_id, user_id, lane, type, subject, event, published_at)
  SELECT gen_random_uuid(), '$BIG_ID', 7, 'com.todo.task.created', 'tasks/bench', event, now() FROM bench_create_sample
  RETURNING id, event->>'time';
INSERT INTO audit_log (user_id, task_id, action, request_id, changes)
  SELECT '$BIG_ID', gen_random_uuid(), 'task.created', 'bench', changes FROM bench_create_sample;
COMMIT;
SQL
  run_pgbench_script create prepared
  # The same three inserts as the server's create writers send them: CREATE_GROUP creates a transaction (the
  # scenario's average), one multi-row statement a table, on as many connections as there are writers. Still
  # less than the server has PostgreSQL do (events are inserted as published: no relay claims and updates
  # them, no NOTIFY), so this is the most creates/s the server could reach on this schema and machine.
  cat >"$WORK/create_grouped.sql" <<SQL
BEGIN;
$task_insert
  SELECT (lpad(to_hex((extract(epoch FROM clock_timestamp()) * 1000000)::bigint), 14, '0') || '7'
          || substr(md5(random()::text), 1, 17))::uuid,
    '$BIG_ID', 'probe ' || g, $probe_rest
  FROM generate_series(1, :group) AS g
  RETURNING $TASK_COLS;
INSERT INTO outbox (event_id, user_id, lane, type, subject, event, published_at)
  SELECT gen_random_uuid(), '$BIG_ID', 7, 'com.todo.task.created', 'tasks/bench', event, now()
  FROM bench_create_sample, generate_series(1, :group)
  RETURNING id, event_id;
INSERT INTO audit_log (user_id, task_id, action, request_id, changes)
  SELECT '$BIG_ID', gen_random_uuid(), 'task.created', 'bench', changes FROM bench_create_sample, generate_series(1, :group);
COMMIT;
SQL
  CREATE_WRITERS=${TODO_DB_CREATE_WRITERS:-2}
  run_pgbench_script create_grouped prepared "$CREATE_WRITERS" -D group="$CREATE_GROUP"
fi

# ---------------------------------------------------------------------------------------------------------
say "server health after the run"
SERVER_RSS=$(ps -o rss= -p "$SERVER_PID" 2>/dev/null | awk '{printf "%.0f MiB", $1/1024}')
kill -0 "$SERVER_PID" 2>/dev/null || {
  STATUS=1
  echo "!! todo-server is no longer running" >&2
}
echo "todo-server RSS: ${SERVER_RSS:-?}"
if curl -fsS "$BASE_URL/metrics" -o "$WORK/metrics.txt" 2>/dev/null; then
  echo "http_requests_total by route and status (from /metrics):"
  grep '^http_requests_total' "$WORK/metrics.txt" | sed 's/^/   /'
  # /readyz answers 503 while the server starts (start_server polls it until 200): not a failure of the run.
  if grep -E '^http_requests_total\{[^}]*status="5' "$WORK/metrics.txt" | grep -qv 'route="/readyz"'; then
    echo "!! the server answered 5xx during the run (see above)" >&2
  fi
else
  echo "(GET /metrics failed)"
fi
# The two start-up announcements (the URL) are logged at the configured level, warning here: not problems.
announced='"msg":"(listening on|serving the API at) '
problems=$(grep -E '"level":"(warning|error|critical)"' "$WORK/server.log" | grep -cvE "$announced" || true)
echo "server log: $problems warning/error lines"
if ((problems > 0)); then
  grep -E '"level":"(warning|error|critical)"' "$WORK/server.log" | grep -vE "$announced" | sed -E 's/"time":"[^"]*",//' |
    sort | uniq -c | sort -rn | sed -n '1,10s/^/   /p'
fi
pg_problems=$(grep -cE '(ERROR|FATAL|PANIC):' "$WORK/postgres.log" || true)
echo "postgres log: $pg_problems ERROR/FATAL lines"
((pg_problems > 0)) && grep -E '(ERROR|FATAL|PANIC):' "$WORK/postgres.log" | sort | uniq -c | sort -rn | sed -n '1,5p'

# ---------------------------------------------------------------------------------------------------------
CEILING=$(printf '%s\n' "${PGBENCH_TPS[@]}" | sort -g | tail -n 1)
say "results"
echo "machine: $(machine)"
echo "load average before: $LOAD_BEFORE, now: $(cut -d' ' -f1-3 /proc/loadavg)" \
  "(wrk, todo-server, PostgreSQL and anything else running share these cores; other builds skew figures)"
echo "compiler/linker processes of other work half-way through each run: ${COMPILERS_DURING[*]}" \
  "(non-zero: the figures were measured under competing load)"
echo "kernel.sched_autogroup_enabled: $AUTOGROUP_STATE"
echo "PostgreSQL $PG_VERSION via $PG_TRANSPORT socket for both todo-server and pgbench; fsync=on," \
  "synchronous_commit=on; shared_buffers=$SHARED_BUFFERS"
echo "connections $CONNECTIONS (wrk = pgbench clients), TODO_DB_POOL_SIZE $POOL_SIZE, wrk threads $THREADS," \
  "${DURATION} s a scenario"
echo "pgbench -S -M prepared ceiling: ${PGBENCH_TPS[*]} TPS (before, after) → using the best, $CEILING"
echo
printf '%-22s %12s %9s %9s %11s %8s %14s %9s  %s\n' scenario 'requests/s' 'p50 ms' 'p99 ms' 'vs pgbench' goal \
  'db alone TPS' 'vs alone' note
printf '%-22s %12s %9s %9s %11s %8s %14s %9s  %s\n' ---------------------- ------------ --------- --------- ----------- \
  -------- -------------- --------- ----
row() {  # row KEY LABEL GOAL
  local rps=${RPS[$1]:-0} ratio met="" alone=${DB_ALONE[$1]:-} alone_ratio=-
  ratio=$(awk -v a="$rps" -v b="$CEILING" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')
  [[ $1 == get ]] && alone=$CEILING
  [[ -n $alone ]] && alone_ratio=$(awk -v a="$rps" -v b="$alone" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')
  if [[ $3 != - ]]; then
    met=$(awk -v r="$ratio" -v g="$3" 'BEGIN { print (r + 0 >= g + 0) ? "met" : "missed" }')
  fi
  printf '%-22s %12s %9s %9s %11s %8s %14s %9s  %s\n' "$2" "$rps" "${P50[$1]:--}" "${P99[$1]:--}" "$ratio" \
    "$([[ $3 == - ]] && echo - || echo ">= $3")" "${alone:--}" "$alone_ratio" "${met}${NOTE[$1]:+ ${NOTE[$1]}}"
}
row get "GET one task" 0.50
row list "list filter+sort" 0.30
row list_one "list, headline only" 0.30
row create "create" 0.30
row complete "complete" -
printf '%-22s %12s %9s %9s %11s %8s\n' "pgbench -S (ceiling)" "$CEILING" - - 1.00 -
if [[ -n ${DB_ALONE[create_grouped]:-} ]]; then
  awk -v tps="${DB_ALONE[create_grouped]}" -v g="$CREATE_GROUP" -v w="$CREATE_WRITERS" -v c="$CEILING" \
    -v rps="${RPS[create]:-0}" 'BEGIN { a = tps * g
    printf "create, db alone as the server groups them (%d a transaction on %d connections, no relay): %.0f creates/s,", g, w, a
    printf " %.2f of pgbench -S; the server reached %.2f of that\n", a / c, (a > 0 ? rps / a : 0) }'
fi
echo "db alone: pgbench running the scenario's own SQL (list, headline only: the same query; create: the same three inserts in"
echo "one durable transaction a create, as the server wrote them before it grouped concurrent creates (the line below the"
echo "table: grouped as the server writes them now); GET one: pgbench -S,"
echo "a primary-key read like the server's); vs alone = requests/s"
echo "divided by it, i.e. how much of what PostgreSQL allows for that work the server delivers. The list mix has"
echo "no db-alone figure: its queries read 51 to about 560 rows for a page of 50, the headline query 51."
echo
echo "total time $(($(date +%s) - START_TIME)) s"
((STATUS == 0)) || die "a scenario had more than 1% errors or the server died (see above)"
