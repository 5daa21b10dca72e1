#!/usr/bin/env bash
# Outbox benchmark: how fast committed events reach Kafka, and how late, under the create load of bench/core.sh.
#
# A throwaway PostgreSQL 15 (track_commit_timestamp=on, durability defaults) and a Release todo-server started
# with --kafka=embedded (librdkafka's mock cluster inside the server; its bootstrap address is read from the log).
# A kcat consumer reads task-events from the start and stamps each message when it arrives. Scenarios, each
# DURATION seconds of wrk at CONNECTIONS connections (the core benchmark's):
#   create-1-user   POST /tasks as one user (bench/create_task.lua: exactly the core benchmark's create load);
#                   one user = one outbox lane and one per-user sequence row, so this is the serialised case
#   create-N-users  POST /tasks spread over USERS users (bench/create_task_users.lua)
#   burst           BURST synthetic events committed in one transaction (no HTTP): the relay's drain capacity
# Figures per scenario, from the outbox table of the scenario's events:
#   events/s commit→ack   events / (last Kafka acknowledgement − first commit), next to the commit rate itself;
#                         a relay that keeps up shows both equal. Also the busiest second of acknowledgements.
#   lag commit→ack        published_at − commit time. The commit time is pg_xact_commit_timestamp() of the
#                         change's audit_log row (same transaction, never updated); published_at is set by the
#                         relay right after every topic acknowledged the event.
#   lag tx start→ack      published_at − created_at (= the event's `time`, the transaction's start); includes
#                         time spent waiting for the user's sequence lock
#   lag histogram         p50/p99 of the server's outbox_publish_lag_seconds (what production dashboards see;
#                         same start point as the previous one; interpolated within buckets)
#   lag consumer          arrival at the kcat consumer − commit time (a real consumer's view)
# Figures, not assertions: it fails only when something is broken (more than 1% HTTP errors, a backlog that does
# not drain, events lost or duplicated on the topic, a server that dies, events that do not match the schemas).
#
# Usage (as root on Debian bookworm):  bash bench/outbox.sh
# Environment:
#   CONNECTIONS=32 DURATION=15 THREADS=2   as in bench/core.sh (TODO_DB_POOL_SIZE = CONNECTIONS)
#   USERS=CONNECTIONS   users of create-N-users;  BURST=20000   events of the burst scenario (0: skip)
#   BIG_TASKS=100000    tasks loaded for the one user first (as bench/core.sh does)
#   DRAIN_TIMEOUT=120   seconds the backlog may take to drain after a scenario
#   BUILD_DIR=…  JOBS=2  KEEP_WORK=1   as in bench/core.sh
set -euo pipefail

BENCH_NAME=bench/outbox.sh
KEEP_NOTE="PostgreSQL data, server.log, consumer.tsv, metrics-*.txt, wrk-*.txt"
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CONNECTIONS=${CONNECTIONS:-32}
DURATION=${DURATION:-15}
THREADS=${THREADS:-2}
USERS=${USERS:-$CONNECTIONS}
BURST=${BURST:-20000}
BIG_TASKS=${BIG_TASKS:-100000}
DRAIN_TIMEOUT=${DRAIN_TIMEOUT:-120}
BIG_EMAIL='big@bench.example'

((CONNECTIONS >= THREADS)) || die "CONNECTIONS ($CONNECTIONS) must be at least THREADS ($THREADS)"

# ---------------------------------------------------------------------------------------------------------
bench_prepare
command -v kcat >/dev/null || die "no kcat (Debian package kcat; scripts/deps.sh installs it)"

# ---------------------------------------------------------------------------------------------------------
bench_workdir todo-bench-outbox
CONSUMER_PID=
SAMPLER_PID=
bench_on_exit '[[ -n $SAMPLER_PID ]] && kill "$SAMPLER_PID" 2>/dev/null'
bench_on_exit '[[ -n $CONSUMER_PID ]] && { kill -- -"$CONSUMER_PID" 2>/dev/null || kill "$CONSUMER_PID" 2>/dev/null; }'

# As bench/core.sh, plus track_commit_timestamp (commit times of the changes, for the lag figures).
pg_start $((3 * CONNECTIONS + 20)) "track_commit_timestamp = on"
echo "PostgreSQL $PG_VERSION on unix socket $WORK (fsync=on, synchronous_commit=on, track_commit_timestamp=on)"
psql_admin -d postgres -c 'CREATE DATABASE todo'
DATABASE_URL="postgresql://postgres@/todo?host=$WORK&port=$PGPORT"

# ---------------------------------------------------------------------------------------------------------
say "todo-server serve --kafka=embedded (pool $CONNECTIONS connections, log level warn)"
server_start "$WORK/server.log" TODO_DB_POOL_SIZE="$CONNECTIONS" -- serve --kafka=embedded
BOOTSTRAP=
for _ in $(seq 1 100); do  # announced before the server listens; read from the log
  BOOTSTRAP=$(grep -o '"kafka_bootstrap":"[^"]*"' "$WORK/server.log" 2>/dev/null | sed -n '1s/.*:"\(.*\)"/\1/p' || true)
  [[ -n $BOOTSTRAP ]] && break
  sleep 0.1
done
[[ -n $BOOTSTRAP ]] || {
  cat "$WORK/server.log"
  die "no embedded Kafka bootstrap address (kafka_bootstrap) in the server log"
}
echo "server at $BASE_URL (pid $SERVER_PID); embedded Kafka at $BOOTSTRAP"

# ---------------------------------------------------------------------------------------------------------
say "users: $BIG_EMAIL with $BIG_TASKS tasks (as bench/core.sh), $USERS users for create-N-users"
api POST /api/v1/auth/register "{\"email\":\"$BIG_EMAIL\",\"password\":\"$PASSWORD\"}"
[[ $API_STATUS == 201 ]] || die "register answered $API_STATUS: $API_BODY"
BIG_ID=$(sql "SELECT id FROM users WHERE email = '$BIG_EMAIL'")
# Tasks and users inserted with SQL write no events: the outbox holds only what the scenarios produce.
psql_todo -v big="$BIG_ID" -v big_tasks="$BIG_TASKS" -v users="$USERS" <<'SQL'
INSERT INTO users (id, email, password_hash, display_name, timezone)
SELECT gen_random_uuid(), format('user%s@bench.example', g), u.password_hash, format('Bench user %s', g),
       (ARRAY['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Tokyo'])[1 + g % 4]
FROM generate_series(1, :users) AS g, users AS u WHERE u.id = :'big';
INSERT INTO tasks (user_id, id, title, priority, tags, due_at, timezone, created_at, updated_at)
SELECT :'big', gen_random_uuid(), 'Loaded task ' || g, (g % 5)::smallint, ARRAY['work'],
       now() + (g % 300) * interval '1 day', 'UTC', now() - interval '1 day', now() - interval '1 day'
FROM generate_series(1, :big_tasks) AS g;
VACUUM (ANALYZE) users;
VACUUM (ANALYZE) tasks;
CHECKPOINT;
SQL
TOKEN=$(login "$BIG_EMAIL")
TOKENS_FILE=$WORK/tokens.txt
for i in $(seq 1 "$USERS"); do login "user$i@bench.example"; done >"$TOKENS_FILE"
chmod 0644 "$TOKENS_FILE"
echo "$(wc -l <"$TOKENS_FILE") tokens; outbox rows: $(sql 'SELECT count(*) FROM outbox')"

# ---------------------------------------------------------------------------------------------------------
say "consumer: kcat -C -t task-events from the beginning, every message stamped on arrival"
CONSUMED=$WORK/consumer.tsv
# Its own process group, so that the cleanup stops kcat and the stamper together.
setsid bash -c "exec kcat -C -b '$BOOTSTRAP' -t task-events -o beginning -u -q -f '%s\n' \
    -X fetch.wait.max.ms=5 -X fetch.error.backoff.ms=10 2>'$WORK/kcat.log' | '$PY' -u '$BENCH_DIR/outbox_consumer.py' stamp >'$CONSUMED'" &
CONSUMER_PID=$!
api POST /api/v1/tasks '{"title":"probe","priority":"high","tags":["work"]}' "$TOKEN"
[[ $API_STATUS == 201 ]] || die "create answered $API_STATUS: $API_BODY"
PROBE_ID=$(json_field id <<<"$API_BODY")
for _ in $(seq 1 300); do
  grep -q "$PROBE_ID" "$CONSUMED" 2>/dev/null && break
  sleep 0.1
done
grep -q "$PROBE_ID" "$CONSUMED" || {
  cat "$WORK/kcat.log"
  die "the probe's event did not reach the kcat consumer within 30 s"
}
echo "probe event consumed: $(cut -c1-160 "$CONSUMED" | tail -n 1)…"

# ---------------------------------------------------------------------------------------------------------
start_sampler() {  # start_sampler FILE: "unix-time published_total backlog" every second
  (
    while true; do
      if curl -fsS "$BASE_URL/metrics" -o "$1.m" 2>/dev/null; then
        echo "$(date +%s.%N) $(metric "$1.m" outbox_published_total) $(metric "$1.m" outbox_backlog)"
      fi
      sleep 1
    done
  ) >"$1" &
  SAMPLER_PID=$!
}
stop_sampler() {
  kill "$SAMPLER_PID" 2>/dev/null || true
  wait "$SAMPLER_PID" 2>/dev/null || true
  SAMPLER_PID=
}

wait_drained() {  # wait_drained → $DRAIN_S: seconds until nothing is left unpublished
  local t0 now pending
  t0=$(date +%s.%N)
  while true; do
    pending=$(sql 'SELECT count(*) FROM outbox WHERE published_at IS NULL')
    now=$(date +%s.%N)
    ((pending == 0)) && break
    if awk -v a="$now" -v b="$t0" -v m="$DRAIN_TIMEOUT" 'BEGIN { exit !(a - b > m) }'; then
      STATUS=1
      echo "!! FAIL: $pending events still unpublished ${DRAIN_TIMEOUT} s after the load" >&2
      break
    fi
    sleep 0.1
  done
  DRAIN_S=$(awk -v a="$now" -v b="$t0" 'BEGIN { printf "%.1f", a - b }')
}

declare -A EVENTS RPS HTTP_P99 COMMIT_RATE PUB_RATE PEAK_RATE LAG50 LAG99 LAGMAX TX50 TX99 H50 H99 DRAIN MAXBACKLOG RANGE NOTE
STATUS=0
COMPILERS_DURING=()
SCENARIOS=()

# outbox_figures NAME LO HI COMMIT_SQL: fills the per-scenario figures from the outbox rows LO < id <= HI;
# COMMIT_SQL is the commit time of row `o` (an SQL expression).
outbox_figures() {
  local name=$1 lo=$2 hi=$3 commit_sql=$4 row
  row=$(sql "
    WITH l AS (
      SELECT o.published_at, $commit_sql AS committed, o.created_at FROM outbox AS o WHERE o.id > $lo AND o.id <= $hi
    ), d AS (
      SELECT *, extract(epoch FROM published_at - committed) * 1000 AS lag_ms,
             extract(epoch FROM published_at - created_at) * 1000 AS tx_ms FROM l
    )
    SELECT count(*),
           coalesce(round(count(*) / nullif(extract(epoch FROM max(committed) - min(committed)), 0)), 0),
           coalesce(round(count(*) / nullif(extract(epoch FROM max(published_at) - min(committed)), 0)), 0),
           (SELECT coalesce(max(n), 0) FROM (SELECT count(*) AS n FROM l GROUP BY date_trunc('second', published_at)) AS s),
           round(percentile_cont(0.5) WITHIN GROUP (ORDER BY lag_ms)::numeric, 1),
           round(percentile_cont(0.99) WITHIN GROUP (ORDER BY lag_ms)::numeric, 1),
           round(max(lag_ms)::numeric, 1),
           round(percentile_cont(0.5) WITHIN GROUP (ORDER BY tx_ms)::numeric, 1),
           round(percentile_cont(0.99) WITHIN GROUP (ORDER BY tx_ms)::numeric, 1),
           count(*) FILTER (WHERE committed IS NULL OR published_at IS NULL)
    FROM d")
  read -r EVENTS[$name] COMMIT_RATE[$name] PUB_RATE[$name] PEAK_RATE[$name] LAG50[$name] LAG99[$name] \
    LAGMAX[$name] TX50[$name] TX99[$name] missing <<<"$row"
  RANGE[$name]="$lo $hi"
  if ((missing > 0)); then
    NOTE[$name]="${NOTE[$name]:+${NOTE[$name]}; }$missing events without commit or publication time"
  fi
}

# Commit time of a task event: its audit row is written in the same transaction and never updated, so its xmin
# still names that transaction (the outbox row's own xmin is the relay's marking transaction by now).
TASK_COMMIT_SQL="(SELECT pg_xact_commit_timestamp(a.xmin) FROM audit_log AS a WHERE a.user_id = o.user_id
                  AND a.task_id = o.subject::uuid AND a.action = substr(o.type, 10) ORDER BY a.id LIMIT 1)"

run_scenario() {  # run_scenario NAME LUA_SCRIPT
  local name=$1 script=$2 f=$WORK/wrk-$1.txt lo hi line
  SCENARIOS+=("$name")
  NOTE[$name]=""
  lo=$(sql 'SELECT coalesce(max(id), 0) FROM outbox')
  scrape "$WORK/metrics-$name-before.txt"
  start_sampler "$WORK/samples-$name.txt"
  echo "-- wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s: $name ($script)"
  ( sleep "$((DURATION / 2))"; compilers >"$f.cc" ) &
  local cc_pid=$!
  BENCH_TOKEN=$TOKEN BENCH_TOKENS_FILE=$TOKENS_FILE BENCH_THREADS=$THREADS \
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --timeout 5s -s "$BENCH_DIR/$script" "$BASE_URL" >"$f" 2>&1 ||
    {
      cat "$f"
      die "wrk failed for $name"
    }
  wait "$cc_pid" || true
  COMPILERS_DURING+=("$name:$(cat "$f.cc")")
  wait_drained
  stop_sampler
  DRAIN[$name]=$DRAIN_S
  scrape "$WORK/metrics-$name-after.txt"
  hi=$(sql 'SELECT coalesce(max(id), 0) FROM outbox')
  line=$(grep '^BENCH_RESULT' "$f") || {
    cat "$f"
    die "no result line from wrk for $name"
  }
  grep -E 'Latency|Req/Sec|requests in|Non-2xx|Socket errors' "$f" | sed 's/^/   /'
  kv() { grep -o " $1=[0-9.]*" <<<"$line" | cut -d= -f2 || true; }
  local requests errors
  requests=$(kv requests)
  errors=$(($(kv non2xx) + $(kv connect) + $(kv read) + $(kv write) + $(kv timeout)))
  RPS[$name]=$(kv rps)
  HTTP_P99[$name]=$(kv p99_ms)
  if ((requests == 0 || errors * 100 > requests)); then
    echo "!! FAIL: $name: $errors HTTP errors in $requests requests (> 1%)" >&2
    NOTE[$name]="FAIL: $errors HTTP errors"
    STATUS=1
  elif ((errors > 0)); then
    NOTE[$name]="$errors HTTP errors (< 1%)"
  fi
  outbox_figures "$name" "$lo" "$hi" "$TASK_COMMIT_SQL"
  read -r H50[$name] H99[$name] <<<"$(hist_quantiles outbox_publish_lag_seconds "$WORK/metrics-$name-before.txt" "$WORK/metrics-$name-after.txt")"
  MAXBACKLOG[$name]=$(awk 'BEGIN {m = 0} $3 > m {m = $3} END {print m}' "$WORK/samples-$name.txt")
  echo "   $name: ${EVENTS[$name]} events (outbox ids $lo..$hi), drained ${DRAIN[$name]} s after the load;" \
    "largest outbox_backlog sample ${MAXBACKLOG[$name]}"
}

say "scenarios (wrk threads $THREADS, connections $CONNECTIONS, ${DURATION} s each)"
run_scenario create-1-user create_task.lua
run_scenario create-$USERS-users create_task_users.lua

if ((BURST > 0)); then
  name=burst
  SCENARIOS+=("$name")
  NOTE[$name]="no HTTP; $BURST events of 1000 synthetic users committed at once"
  echo "-- burst: $BURST events in one transaction (copies of the last created event, 1000 synthetic users)"
  lo=$(sql 'SELECT coalesce(max(id), 0) FROM outbox')
  scrape "$WORK/metrics-$name-before.txt"
  start_sampler "$WORK/samples-$name.txt"
  # The users are not in the users table (the outbox has no foreign key); the events go to Kafka and the bus like
  # any others. Lanes: any of the 32 (this one relay holds all of them). The transaction id is kept to look up
  # its commit time afterwards.
  BURST_XID=$(psql_todo -At -v n="$BURST" <<'SQL' | tail -n 1
BEGIN;
WITH t AS (SELECT event FROM outbox WHERE type = 'com.todo.task.created' ORDER BY id DESC LIMIT 1),
s AS (
  SELECT g, gen_random_uuid() AS eid,
         ('00000000-0000-4000-8000-' || lpad(to_hex(g % 1000), 12, '0'))::uuid AS uid, g / 1000 + 1 AS seq
  FROM generate_series(0, :n - 1) AS g
)
INSERT INTO outbox (event_id, user_id, sequence, lane, type, subject, event)
SELECT eid, uid, seq, g % 1000 % 32, 'com.todo.task.created', t.event ->> 'subject',
       -- Stored as the server stores an event: `time` first, no `sequence` (added as the relay reads it).
       ('{"time":"' || to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') || '",'
        || substr((jsonb_set(jsonb_set(t.event::jsonb, '{id}', to_jsonb(eid::text)), '{data,user_id}',
                             to_jsonb(uid::text)) - 'time' - 'sequence')::text, 2))::json
FROM s, t ORDER BY g;
SELECT pg_notify('todo_outbox', '0');
SELECT txid_current() % 4294967296;
COMMIT;
SQL
)
  wait_drained
  stop_sampler
  DRAIN[$name]=$DRAIN_S
  scrape "$WORK/metrics-$name-after.txt"
  hi=$(sql 'SELECT coalesce(max(id), 0) FROM outbox')
  outbox_figures "$name" "$lo" "$hi" "pg_xact_commit_timestamp('$BURST_XID'::xid)"
  COMMIT_RATE[$name]="(1 tx)"
  read -r H50[$name] H99[$name] <<<"$(hist_quantiles outbox_publish_lag_seconds "$WORK/metrics-$name-before.txt" "$WORK/metrics-$name-after.txt")"
  MAXBACKLOG[$name]=$(awk 'BEGIN {m = 0} $3 > m {m = $3} END {print m}' "$WORK/samples-$name.txt")
  RPS[$name]=-
  HTTP_P99[$name]=-
  echo "   burst: ${EVENTS[$name]} events drained in ${DRAIN[$name]} s"
fi

# ---------------------------------------------------------------------------------------------------------
say "consumer: every event once, in order per user; lag as it saw it"
TOTAL=$(sql 'SELECT count(*) FROM outbox')
for _ in $(seq 1 100); do  # the last acknowledgements reach the consumer a moment later
  (($(wc -l <"$CONSUMED") >= TOTAL)) && break
  sleep 0.1
done
sleep 1  # and anything duplicated would come right after
kill -- -"$CONSUMER_PID" 2>/dev/null || true
wait "$CONSUMER_PID" 2>/dev/null || true
CONSUMER_PID=
"$PY" "$BENCH_DIR/outbox_consumer.py" analyse "$CONSUMED" >"$WORK/consumed.csv" 2>"$WORK/consumed.summary"
CONSUMER_SUMMARY=$(cat "$WORK/consumed.summary")
echo "outbox rows $TOTAL; kcat on task-events: $CONSUMER_SUMMARY"
kv_summary() { grep -o "$1=[0-9]*" <<<"$CONSUMER_SUMMARY" | cut -d= -f2; }
psql_todo -c 'CREATE TABLE bench_consumed (event_id uuid PRIMARY KEY, arrived double precision)' \
  -c "\\copy bench_consumed FROM '$WORK/consumed.csv' WITH (FORMAT csv)"
NOT_CONSUMED=$(sql 'SELECT count(*) FROM outbox AS o WHERE NOT EXISTS (SELECT 1 FROM bench_consumed AS c WHERE c.event_id = o.event_id)')
if ((NOT_CONSUMED > 0 || $(kv_summary duplicates) > 0 || $(kv_summary order_violations) > 0)); then
  STATUS=1
  echo "!! FAIL: $NOT_CONSUMED events never reached the consumer, $(kv_summary duplicates) duplicates," \
    "$(kv_summary order_violations) per-user order violations" >&2
fi
declare -A C50 C99
for name in "${SCENARIOS[@]}"; do
  read -r lo hi <<<"${RANGE[$name]}"
  commit_sql=$TASK_COMMIT_SQL
  [[ $name == burst ]] && commit_sql="pg_xact_commit_timestamp('$BURST_XID'::xid)"
  read -r C50[$name] C99[$name] <<<"$(sql "
    WITH d AS (SELECT (c.arrived - extract(epoch FROM $commit_sql)) * 1000 AS ms
               FROM outbox AS o JOIN bench_consumed AS c USING (event_id) WHERE o.id > $lo AND o.id <= $hi)
    SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 1),
           round(percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)::numeric, 1) FROM d")"
done

# ---------------------------------------------------------------------------------------------------------
say "events against docs/events/*.schema.json (tests/e2e/check_event_schemas.py)"
# The server's own events (not the burst's copies): from the outbox in sequence order per user, and as consumed from Kafka.
# The outbox stores a document without its number; the relay puts `"sequence": n` first as it reads it.
sql "SELECT '{\"sequence\":' || sequence || ',' || substr(event::text, 2) FROM outbox AS o
  WHERE EXISTS (SELECT 1 FROM users AS u WHERE u.id = o.user_id) ORDER BY user_id, sequence" |
  "$PY" "$ROOT/tests/e2e/check_event_schemas.py" --gapless | sed 's/^/   outbox: /' || {
  STATUS=1
  echo "!! FAIL: outbox events do not match the schemas" >&2
}
"$PY" "$BENCH_DIR/outbox_consumer.py" events "$CONSUMED" | grep -v '"user_id":"00000000-0000-4000-8000-' |
  "$PY" "$ROOT/tests/e2e/check_event_schemas.py" | sed 's/^/   kafka:  /' || {
  STATUS=1
  echo "!! FAIL: events consumed from Kafka do not match the schemas" >&2
}

# ---------------------------------------------------------------------------------------------------------
say "server health after the run"
kill -0 "$SERVER_PID" 2>/dev/null || {
  STATUS=1
  echo "!! todo-server is no longer running" >&2
}
scrape "$WORK/metrics.txt"
echo "todo-server RSS: $(ps -o rss= -p "$SERVER_PID" 2>/dev/null | awk '{printf "%.0f MiB", $1/1024}')"
grep -E '^outbox_' "$WORK/metrics.txt" | grep -v '_bucket' | sed 's/^/   /'
FAILURES=$(metric "$WORK/metrics.txt" outbox_delivery_failures_total)
# At log level warn the start-up announcements (listening on, serving the API at, embedded Kafka at) are printed as
# warnings.
log_problems() {
  grep -E '"level":"(warning|error|critical)"' "$WORK/server.log" | grep -vE '"msg":"(listening on|serving the API at|embedded Kafka)' || true
}
problems=$(log_problems | grep -c . || true)
echo "server log: $problems warning/error lines besides the start-up announcements"
log_problems | sed -E 's/"time":"[^"]*",//' | sort | uniq -c | sort -rn | sed -n '1,8s/^/   /p'
pg_problems=$(grep -cE '(ERROR|FATAL|PANIC):' "$WORK/postgres.log" || true)
echo "postgres log: $pg_problems ERROR/FATAL lines"

# ---------------------------------------------------------------------------------------------------------
say "results"
echo "machine: $(machine)"
echo "load average before: $LOAD_BEFORE, now: $(cut -d' ' -f1-3 /proc/loadavg) (wrk, todo-server with its" \
  "embedded Kafka, kcat, PostgreSQL and anything else share these cores)"
echo "compiler/linker processes of other work half-way through each load: ${COMPILERS_DURING[*]}"
echo "PostgreSQL $PG_VERSION, fsync=on, synchronous_commit=on; connections $CONNECTIONS (wrk = TODO_DB_POOL_SIZE);" \
  "${DURATION} s a load; Kafka = librdkafka mock cluster (in the server), topics of 4 partitions"
echo "Kafka: $(kv_summary consumed) messages consumed from task-events, $NOT_CONSUMED events missing," \
  "$(kv_summary duplicates) duplicates, $(kv_summary order_violations) per-user order violations;" \
  "outbox_delivery_failures_total $FAILURES"
echo
echo "throughput (events/s commit→ack = events / (last ack − first commit); commit rate = the load's own rate)"
printf '%-18s %10s %10s %8s %11s %12s %11s %11s %9s\n' scenario 'creates/s' 'http p99' events 'commit/s' \
  'commit→ack/s' 'peak ack/s' 'max backlog' 'drain s'
printf '%-18s %10s %10s %8s %11s %12s %11s %11s %9s\n' ------------------ ---------- ---------- -------- \
  ----------- ------------ ----------- ----------- ---------
for n in "${SCENARIOS[@]}"; do
  printf '%-18s %10s %10s %8s %11s %12s %11s %11s %9s\n' "$n" "${RPS[$n]}" "${HTTP_P99[$n]}" "${EVENTS[$n]}" \
    "${COMMIT_RATE[$n]}" "${PUB_RATE[$n]}" "${PEAK_RATE[$n]}" "${MAXBACKLOG[$n]}" "${DRAIN[$n]}"
done
echo
echo "lag in ms, p50 / p99 (commit→ack: SQL, commit timestamp → published_at; tx start→ack: SQL, created_at →"
echo "published_at; histogram: the server's outbox_publish_lag_seconds; consumer: commit → arrival at kcat)"
printf '%-18s %17s %10s %17s %17s %17s  %s\n' scenario 'commit→ack' 'max' 'tx start→ack' 'histogram' 'consumer' note
printf '%-18s %17s %10s %17s %17s %17s  %s\n' ------------------ ----------------- ---------- ----------------- \
  ----------------- ----------------- ----
for n in "${SCENARIOS[@]}"; do
  printf '%-18s %17s %10s %17s %17s %17s  %s\n' "$n" "${LAG50[$n]} / ${LAG99[$n]}" "${LAGMAX[$n]}" \
    "${TX50[$n]} / ${TX99[$n]}" "${H50[$n]} / ${H99[$n]}" "${C50[$n]:--} / ${C99[$n]:--}" "${NOTE[$n]}"
done
echo
echo "total time $(($(date +%s) - START_TIME)) s"
((STATUS == 0)) || die "something was broken (see the lines marked !! above)"
