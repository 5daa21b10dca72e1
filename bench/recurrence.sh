#!/usr/bin/env bash
# Recurrence benchmark: occurrences generated per second.
#  1. The expander alone (bench_recurrence): occurrences/s of recurrence::expand for typical rules in zones
#     with DST, and next_after/s for series started years ago.
#  2. End to end: wrk completes recurring tasks (POST /api/v1/tasks/{id}/complete) against a Release
#     todo-server on a throwaway PostgreSQL 15; each completion creates the next occurrence in its own
#     transaction (series lock, event, audit row). Prints the occurrences created per second, counted in the
#     database afterwards.
# Figures, not assertions: it fails only when something is broken.
#
# Usage (as root on Debian bookworm):  bash bench/recurrence.sh
# Environment: CONNECTIONS=16 DURATION=10 THREADS=2 SERIES=40000 (recurring tasks to complete),
#              BUILD_DIR=… (default build-bench), JOBS=2, KEEP_WORK=1
set -euo pipefail

BENCH_NAME=bench/recurrence.sh
KEEP_NOTE="PostgreSQL data, server.log, postgres.log, wrk output"
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CONNECTIONS=${CONNECTIONS:-16}
DURATION=${DURATION:-10}
THREADS=${THREADS:-2}
SERIES=${SERIES:-40000}
EMAIL='recurrence@bench.example'

bench_prepare
cmake --build "$BUILD_DIR" --target bench_recurrence -j"$JOBS" | tail -n 1

say "expander (recurrence::expand, one thread)"
"$BUILD_DIR/bench/bench_recurrence" 1.0

bench_workdir todo-bench-recurrence
pg_start $((CONNECTIONS + 10))
psql_admin -d postgres -c 'CREATE DATABASE todo'
DATABASE_URL="postgresql://postgres@/todo?host=$WORK&port=$PGPORT"
say "todo-server serve (pool $CONNECTIONS connections)"
server_start "$WORK/server.log" TODO_DB_POOL_SIZE="$CONNECTIONS" -- serve

api POST /api/v1/auth/register "{\"email\":\"$EMAIL\",\"password\":\"$PASSWORD\"}"
[[ $API_STATUS == 201 ]] || die "register answered $API_STATUS: $API_BODY"
api POST /api/v1/auth/login "{\"email\":\"$EMAIL\",\"password\":\"$PASSWORD\"}"
[[ $API_STATUS == 200 ]] || die "login answered $API_STATUS: $API_BODY"
TOKEN=$(json_field access_token <<<"$API_BODY")
USER_ID=$(sql "SELECT id FROM users WHERE email = '$EMAIL'")

say "load: $SERIES recurring tasks (each its own series, rules of several shapes, zones with DST)"
psql_todo -v uid="$USER_ID" -v n="$SERIES" <<'SQL'
INSERT INTO tasks (user_id, id, title, timezone, due_at, recurrence, series_id, occurrence, series_start)
SELECT :'uid', id, 'series ' || i, zone, due, rule, id, 0, due
FROM (SELECT gen_random_uuid() AS id, i,
             (ARRAY['America/New_York', 'Europe/Berlin', 'Australia/Sydney', 'Asia/Kolkata', 'UTC'])[1 + i % 5] AS zone,
             (ARRAY['FREQ=DAILY', 'FREQ=WEEKLY;BYDAY=MO,WE,FR', 'FREQ=MONTHLY;BYDAY=-1FR',
                    'FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1', 'FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU'])[1 + (i / 5) % 5] AS rule,
             timestamptz '2030-01-06 09:00:00+00' + (i % 365) * interval '1 day' AS due
      FROM generate_series(1, :n) AS i) AS s;
ANALYZE tasks;
SQL
# The same number of plain tasks, for the baseline: completing a task that does not recur.
psql_todo -v uid="$USER_ID" -v n="$SERIES" <<'SQL'
INSERT INTO tasks (user_id, id, title, timezone, due_at)
SELECT :'uid', gen_random_uuid(), 'plain ' || i, 'UTC', timestamptz '2030-01-06 09:00:00+00'
FROM generate_series(1, :n) AS i;
ANALYZE tasks;
SQL
IDS=$WORK/ids.txt
PLAIN_IDS=$WORK/plain-ids.txt
sql "SELECT id FROM tasks WHERE user_id = '$USER_ID' AND series_id IS NOT NULL ORDER BY random()" >"$IDS"
sql "SELECT id FROM tasks WHERE user_id = '$USER_ID' AND series_id IS NULL ORDER BY random()" >"$PLAIN_IDS"
chmod 0644 "$IDS" "$PLAIN_IDS"

run_complete() {  # run_complete NAME IDS_FILE → $RPS
  local out=$WORK/wrk-$1.txt
  BENCH_TOKEN=$TOKEN BENCH_IDS_FILE=$2 BENCH_THREADS=$THREADS \
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --timeout 5s -s "$BENCH_DIR/complete_task.lua" \
    "$BASE_URL" >"$out" 2>&1 || {
    cat "$out"
    die "wrk failed ($1)"
  }
  grep -E 'Latency|Req/Sec|requests in|Non-2xx|Socket errors|BENCH_RESULT' "$out" | sed 's/^/   /'
  RPS=$(grep -o ' rps=[0-9.]*' "$out" | cut -d= -f2)
}

say "baseline: complete plain tasks (wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s)"
run_complete plain "$PLAIN_IDS"
PLAIN_RPS=$RPS

BEFORE=$(sql "SELECT count(*) FROM tasks WHERE occurrence > 0")
say "complete recurring tasks (wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s): each creates the next occurrence"
t0=$(date +%s.%N)
run_complete recurring "$IDS"
t1=$(date +%s.%N)
AFTER=$(sql "SELECT count(*) FROM tasks WHERE occurrence > 0")
DUPLICATES=$(sql "SELECT count(*) FROM (SELECT series_id, occurrence FROM tasks WHERE series_id IS NOT NULL GROUP BY 1, 2 HAVING count(*) > 1) d")
((DUPLICATES == 0)) || die "$DUPLICATES duplicated occurrences"
CREATED=$((AFTER - BEFORE))
((CREATED > 0)) || die "no occurrence was created"
RATE=$("$PY" -c "print(f'{$CREATED / ($t1 - $t0):.0f}')")
say "result"
echo "occurrences generated per second, end to end (completion + next occurrence + events + audit): $RATE" \
  "($CREATED in ${DURATION} s, $CONNECTIONS connections, $(machine))"
echo "baseline, completing plain tasks: $PLAIN_RPS requests/s (one user's writes run one commit after another)"
echo "duplicated occurrences: $DUPLICATES; other compilers running now: $(compilers)"
