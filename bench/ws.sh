#!/usr/bin/env bash
# Real-time benchmark: WebSocket memory per idle connection, and commit → receive latency under REST changes.
#
# A throwaway PostgreSQL 15 (durability defaults, track_commit_timestamp=on) and a Release todo-server (no
# Kafka: the relay hands events to the in-process bus, which feeds the WebSocket hub). The clients and the load
# generator are bench/ws_client.py (Debian's python3, standard library only: a minimal asyncio WebSocket
# client, so that one process holds 10 000 sockets at a few KiB each and leaves the CPU to the server).
#
#   idle       IDLE_CONNECTIONS sockets spread over IDLE_USERS users (TODO_WS_MAX_PER_USER, 20, per user),
#              half authenticated with ?access_token=, half with Sec-WebSocket-Protocol: bearer, <token>.
#              Memory per idle connection = (server VmRSS with all open − VmRSS before) / connections; also
#              after each socket has done one {"type":"ping"} → pong round trip, and after they all closed.
#              ws_connections from /metrics beside it. Then (IDLE_ROUNDS=2) a second round IDLE_SETTLE s after
#              the first closed: its growth over the first peak shows whether closed sessions' memory is reused.
#   latency    LATENCY_USERS users with one socket each; a load generator makes REST changes at a steady RATE a
#              second for DURATION seconds, user after user, each user cycling create → update → complete →
#              reopen → delete. Every event is stamped on arrival at the client:
#                commit → receive     arrival − the change's commit time (pg_xact_commit_timestamp of its audit
#                                     row, written in the same transaction)
#                tx start → receive   arrival − the event's `time` (the transaction's start)
#                server histogram     ws_delivery_latency_seconds between two scrapes (event `time` → socket
#                                     write; interpolated within buckets)
#              Every change must arrive exactly once, in sequence order (checked).
# Figures, not assertions: it fails only when something is broken (refused upgrades, lost or duplicated events,
# more than 1% REST errors, a server that dies).
#
# Usage (as root on Debian bookworm):  bash bench/ws.sh
# Environment:
#   IDLE_CONNECTIONS=10000  IDLE_USERS=(connections / 20, rounded up)  IDLE_ROUNDS=2 (1: no second round)
#   IDLE_SETTLE=21 (s between the rounds)
#   LATENCY_USERS=1000  RATE=200 (changes/s)  DURATION=15 (s)  LOAD_CONNECTIONS=16 (HTTP keep-alive connections
#   of the load generator)  POOL=32 (TODO_DB_POOL_SIZE)
#   BUILD_DIR=…  JOBS=2  KEEP_WORK=1   as in bench/core.sh
set -euo pipefail

BENCH_NAME=bench/ws.sh
KEEP_NOTE="PostgreSQL data, server.log, received.csv, metrics-*.txt"
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

IDLE_CONNECTIONS=${IDLE_CONNECTIONS:-10000}
IDLE_USERS=${IDLE_USERS:-$(((IDLE_CONNECTIONS + 19) / 20))}
IDLE_ROUNDS=${IDLE_ROUNDS:-2}
IDLE_SETTLE=${IDLE_SETTLE:-21}
LATENCY_USERS=${LATENCY_USERS:-1000}
RATE=${RATE:-200}
DURATION=${DURATION:-15}
LOAD_CONNECTIONS=${LOAD_CONNECTIONS:-16}
POOL=${POOL:-32}
GOAL_KIB=10
GOAL_P99_MS=25
USERS=$((IDLE_USERS > LATENCY_USERS ? IDLE_USERS : LATENCY_USERS))
CLIENT=$BENCH_DIR/ws_client.py

bench_prepare
bench_workdir todo-bench-ws
LISTENER_PID=
bench_on_exit '[[ -n $LISTENER_PID ]] && kill -KILL "$LISTENER_PID" 2>/dev/null'

# Both sides hold one descriptor per socket: the soft limit goes up to the hard one (children inherit it).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
NOFILE=$(ulimit -n)
((NOFILE >= IDLE_CONNECTIONS + 500)) ||
  die "open files limit $NOFILE (hard $(ulimit -Hn)) is too low for $IDLE_CONNECTIONS connections (+500)"

pg_start $((3 * POOL + 20)) "track_commit_timestamp = on"
echo "PostgreSQL $PG_VERSION on unix socket $WORK (fsync=on, synchronous_commit=on, track_commit_timestamp=on)"
psql_admin -d postgres -c 'CREATE DATABASE todo'
DATABASE_URL="postgresql://postgres@/todo?host=$WORK&port=$PGPORT"

say "todo-server serve (pool $POOL, no Kafka: relay → in-process bus → WebSocket hub; open files $NOFILE)"
WS_MAX=20000
((IDLE_CONNECTIONS + 100 > WS_MAX)) && WS_MAX=$((IDLE_CONNECTIONS + 100))
server_start "$WORK/server.log" TODO_DB_POOL_SIZE="$POOL" TODO_WS_MAX_CONNECTIONS="$WS_MAX" -- serve
echo "server at $BASE_URL (pid $SERVER_PID, $(nproc) io threads by default); TODO_WS_MAX_CONNECTIONS=$WS_MAX," \
  "TODO_WS_MAX_PER_USER default (20)"

# ---------------------------------------------------------------------------------------------------------
say "users: $USERS (one registered through the API, the rest inserted with SQL); tokens signed here"
FIRST_EMAIL=user1@bench.example
api POST /api/v1/auth/register "{\"email\":\"$FIRST_EMAIL\",\"password\":\"$PASSWORD\"}"
[[ $API_STATUS == 201 ]] || die "register answered $API_STATUS: $API_BODY"
login "$FIRST_EMAIL" >/dev/null
psql_todo -v users="$USERS" -v first="$FIRST_EMAIL" <<'SQL'
INSERT INTO users (id, email, password_hash, display_name, timezone)
SELECT gen_random_uuid(), format('user%s@bench.example', g), u.password_hash, format('Bench user %s', g), 'UTC'
FROM generate_series(2, :users) AS g, users AS u WHERE u.email = :'first';
VACUUM (ANALYZE) users;
SQL
# Logging 1 000 users in would cost 1 000 argon2id verifications: the tokens are signed here with the server's
# secret instead, exactly as its JwtSigner does (HS256; sub, iat, exp). One is checked against the API first.
TOKENS=$WORK/tokens.txt
sql "SELECT id FROM users ORDER BY email COLLATE \"C\"" | JWT_SECRET=$JWT_SECRET "$PY" "$CLIENT" tokens >"$TOKENS"
head -n "$IDLE_USERS" "$TOKENS" >"$WORK/idle-tokens.txt"
head -n "$LATENCY_USERS" "$TOKENS" >"$WORK/latency-tokens.txt"
api GET /api/v1/me "" "$(head -n 1 "$TOKENS")"
[[ $API_STATUS == 200 ]] || die "a token signed here is refused by GET /api/v1/me ($API_STATUS: $API_BODY)"
echo "$(wc -l <"$TOKENS") users and tokens; idle phase uses $IDLE_USERS, latency phase $LATENCY_USERS"

kv() { grep -o "\b$1=[^ ]*" <<<"$2" | head -n 1 | cut -d= -f2-; }  # kv KEY LINE
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$SERVER_PID/status"; }
STATUS=0
fail() {
  STATUS=1
  echo "!! FAIL: $*" >&2
}
COMPILERS=()

# ---------------------------------------------------------------------------------------------------------
say "idle: $IDLE_CONNECTIONS connections over $IDLE_USERS users"
( sleep 5; compilers >"$WORK/cc-idle" ) &
IDLE_LINE=$("$PY" "$CLIENT" idle "$BASE_URL" "$WORK/idle-tokens.txt" "$IDLE_CONNECTIONS" "$SERVER_PID") ||
  die "the idle client failed"
wait $! 2>/dev/null || true
COMPILERS+=("idle:$(cat "$WORK/cc-idle" 2>/dev/null || echo ?)")
echo "$IDLE_LINE" | tr ' ' '\n' | sed '1d; s/^/   /'
OPENED=$(kv opened "$IDLE_LINE")
RSS0=$(kv rss_before_kib "$IDLE_LINE")
RSS1=$(kv rss_open_kib "$IDLE_LINE")
RSS2=$(kv rss_after_ping_kib "$IDLE_LINE")
PONGS=$(kv pongs "$IDLE_LINE")
((OPENED == IDLE_CONNECTIONS)) ||
  fail "only $OPENED of $IDLE_CONNECTIONS connections opened (failures: $(kv failures "$IDLE_LINE"))"
((PONGS == OPENED)) || fail "$PONGS pongs for $OPENED open connections"
(($(kv lost_during_hold "$IDLE_LINE") == 0)) ||
  fail "$(kv lost_during_hold "$IDLE_LINE") connections closed by the server while idle (codes $(kv close_codes "$IDLE_LINE"))"
per_conn() { awk -v a="$1" -v b="$2" -v n="$3" 'BEGIN { if (n > 0) printf "%.2f", (b - a) / n; else print "-" }'; }
KIB_IDLE=$(per_conn "$RSS0" "$RSS1" "$OPENED")
KIB_PING=$(per_conn "$RSS0" "$RSS2" "$OPENED")
# The client exited: the server sees every socket close.
WS_AFTER=
for _ in $(seq 1 150); do
  scrape "$WORK/metrics-idle-closed.txt"
  WS_AFTER=$(metric "$WORK/metrics-idle-closed.txt" ws_connections)
  [[ $WS_AFTER == 0 ]] && break
  sleep 0.1
done
sleep 1
RSS3=$(rss_kib)
[[ $WS_AFTER == 0 ]] || fail "ws_connections still $WS_AFTER 15 s after the idle client exited"
echo "after the client closed them: ws_connections $WS_AFTER, server VmRSS $RSS3 KiB" \
  "($(per_conn "$RSS0" "$RSS3" "$OPENED") KiB per connection of the peak still resident)"
# A second round once the first round's sessions are surely gone (sessions have no keepalive timer of their own
# — one sweeper thread pings them all — so a closed session is freed as soon as its last pending operation
# completes; the pause leaves room for stragglers): little growth over the first peak means the memory is
# reused, not leaked (glibc keeps freed memory, so RSS alone does not fall back).
if ((IDLE_ROUNDS > 1)); then
  echo "second round in $IDLE_SETTLE s"
  sleep "$IDLE_SETTLE"
  RSS4=$(rss_kib)
  IDLE_LINE2=$("$PY" "$CLIENT" idle "$BASE_URL" "$WORK/idle-tokens.txt" "$IDLE_CONNECTIONS" "$SERVER_PID") ||
    die "the idle client failed (second round)"
  OPENED2=$(kv opened "$IDLE_LINE2")
  RSS5=$(kv rss_open_kib "$IDLE_LINE2")
  echo "   second round: VmRSS before $RSS4 KiB, $OPENED2 open: $RSS5 KiB; failures $(kv failures "$IDLE_LINE2")," \
    "pongs $(kv pongs "$IDLE_LINE2"), lost $(kv lost_during_hold "$IDLE_LINE2")"
  ((OPENED2 == IDLE_CONNECTIONS)) || fail "second round: only $OPENED2 of $IDLE_CONNECTIONS connections opened"
  for _ in $(seq 1 150); do
    scrape "$WORK/metrics-idle-closed2.txt"
    [[ $(metric "$WORK/metrics-idle-closed2.txt" ws_connections) == 0 ]] && break
    sleep 0.1
  done
fi

# ---------------------------------------------------------------------------------------------------------
say "latency: $LATENCY_USERS users with one socket each; REST changes at $RATE/s for $DURATION s"
LISTEN_OUT=$WORK/listen.out
"$PY" "$CLIENT" listen "$BASE_URL" "$WORK/latency-tokens.txt" "$WORK/received.csv" >"$LISTEN_OUT" \
  2>"$WORK/listen.err" &
LISTENER_PID=$!
for _ in $(seq 1 600); do
  grep -q '^READY' "$LISTEN_OUT" 2>/dev/null && break
  kill -0 "$LISTENER_PID" 2>/dev/null || {
    cat "$WORK/listen.err"
    die "the listening client exited"
  }
  sleep 0.1
done
READY_LINE=$(grep '^READY' "$LISTEN_OUT") || die "the listening client did not open its sockets within 60 s"
echo "   $READY_LINE"
LO=$(sql 'SELECT coalesce(max(id), 0) FROM outbox')
scrape "$WORK/metrics-latency-before.txt"
( sleep "$((DURATION / 2))"; compilers >"$WORK/cc-latency" ) &
LOAD_LINE=$("$PY" "$CLIENT" load "$BASE_URL" "$WORK/latency-tokens.txt" "$RATE" "$DURATION" "$LOAD_CONNECTIONS") ||
  die "the load generator failed"
wait $! 2>/dev/null || true
COMPILERS+=("latency:$(cat "$WORK/cc-latency" 2>/dev/null || echo ?)")
echo "$LOAD_LINE" | tr ' ' '\n' | sed '1d; s/^/   /'
CHANGES=$(kv changes "$LOAD_LINE")
# Wait until the outbox is published and the client has had a moment for the last frames.
for _ in $(seq 1 100); do
  (($(sql 'SELECT count(*) FROM outbox WHERE published_at IS NULL') == 0)) && break
  sleep 0.1
done
sleep 2
scrape "$WORK/metrics-latency-after.txt"
kill -TERM "$LISTENER_PID"
wait "$LISTENER_PID" || die "the listening client failed: $(tail -n 5 "$WORK/listen.err")"
LISTENER_PID=
LISTEN_LINE=$(grep '^LISTEN' "$LISTEN_OUT") || die "no summary from the listening client"
echo "$LISTEN_LINE" | tr ' ' '\n' | sed '1d; s/^/   /'
HI=$(sql 'SELECT coalesce(max(id), 0) FROM outbox')

REQUESTS=$(kv requests "$LOAD_LINE")
ERRORS=$((REQUESTS - CHANGES))
((REQUESTS > 0 && ERRORS * 100 <= REQUESTS)) || fail "$ERRORS REST errors in $REQUESTS requests ($(kv errors "$LOAD_LINE"))"
(($(kv opened "$LISTEN_LINE") == LATENCY_USERS)) || fail "only $(kv opened "$LISTEN_LINE") of $LATENCY_USERS sockets opened"
(($(kv gaps "$LISTEN_LINE") == 0 && $(kv duplicates "$LISTEN_LINE") == 0)) ||
  fail "$(kv gaps "$LISTEN_LINE") sequence gaps and $(kv duplicates "$LISTEN_LINE") duplicates at the client"
(($(kv lost "$LISTEN_LINE") == 0)) || fail "$(kv lost "$LISTEN_LINE") sockets closed by the server (codes $(kv close_codes "$LISTEN_LINE"))"

psql_todo -c 'CREATE TABLE bench_received (event_id uuid, user_index int, sequence bigint, type text,
                time_epoch double precision, recv_epoch double precision)' \
  -c "\\copy bench_received FROM '$WORK/received.csv' WITH (FORMAT csv)"
# Commit time of a task event: its audit row is written in the same transaction and never updated, so its xmin
# still names that transaction (the outbox row's own xmin is the relay's marking transaction by now).
read -r EVENTS RECEIVED NOT_RECEIVED EXTRA NO_COMMIT C50 C99 CMAX T50 T99 TMAX <<<"$(sql "
  WITH o AS (SELECT * FROM outbox WHERE id > $LO AND id <= $HI),
  r AS (SELECT DISTINCT ON (event_id) * FROM bench_received ORDER BY event_id, recv_epoch),
  d AS (
    SELECT (r.recv_epoch - extract(epoch FROM
             (SELECT pg_xact_commit_timestamp(a.xmin) FROM audit_log AS a
              WHERE a.user_id = o.user_id AND a.task_id = o.subject::uuid AND a.action = substr(o.type, 10)
              ORDER BY a.id LIMIT 1))) * 1000 AS commit_ms,
           (r.recv_epoch - r.time_epoch) * 1000 AS tx_ms
    FROM o JOIN r USING (event_id))
  SELECT (SELECT count(*) FROM o), (SELECT count(*) FROM bench_received),
         (SELECT count(*) FROM o WHERE NOT EXISTS (SELECT 1 FROM r WHERE r.event_id = o.event_id)),
         (SELECT count(*) FROM r WHERE NOT EXISTS (SELECT 1 FROM o WHERE o.event_id = r.event_id)),
         count(*) FILTER (WHERE commit_ms IS NULL),
         round(percentile_cont(0.5) WITHIN GROUP (ORDER BY commit_ms)::numeric, 1),
         round(percentile_cont(0.99) WITHIN GROUP (ORDER BY commit_ms)::numeric, 1),
         round(max(commit_ms)::numeric, 1),
         round(percentile_cont(0.5) WITHIN GROUP (ORDER BY tx_ms)::numeric, 1),
         round(percentile_cont(0.99) WITHIN GROUP (ORDER BY tx_ms)::numeric, 1),
         round(max(tx_ms)::numeric, 1)
  FROM d")"
((EVENTS == CHANGES)) || fail "$CHANGES successful changes but $EVENTS outbox events"
((NOT_RECEIVED == 0 && RECEIVED == EVENTS && EXTRA == 0)) ||
  fail "$EVENTS events: $NOT_RECEIVED never received, $RECEIVED frames received, $EXTRA not from this run"
read -r H50 H99 <<<"$(hist_quantiles ws_delivery_latency_seconds "$WORK/metrics-latency-before.txt" \
  "$WORK/metrics-latency-after.txt")"

# ---------------------------------------------------------------------------------------------------------
say "server health after the run"
kill -0 "$SERVER_PID" 2>/dev/null || fail "todo-server is no longer running"
scrape "$WORK/metrics.txt"
echo "todo-server VmRSS: $(rss_kib) KiB"
grep -E '^ws_(connections|messages_sent_total|dropped_slow_total) ' "$WORK/metrics.txt" | sed 's/^/   /'
grep -E '^http_requests_total' "$WORK/metrics.txt" | grep -E 'status="[45]' | sed 's/^/   /' || true
problems=$(server_log_problems | grep -c . || true)
echo "server log: $problems warning/error lines besides the start-up announcements"
server_log_problems | sed -E 's/"time":"[^"]*",//' | sort | uniq -c | sort -rn | sed -n '1,8s/^/   /p'
pg_problems=$(grep -cE '(ERROR|FATAL|PANIC):' "$WORK/postgres.log" || true)
echo "postgres log: $pg_problems ERROR/FATAL lines"
((pg_problems > 0)) && grep -E '(ERROR|FATAL|PANIC):' "$WORK/postgres.log" | sort | uniq -c | sort -rn | sed -n '1,5p'

# ---------------------------------------------------------------------------------------------------------
met() { awk -v v="$1" -v g="$2" 'BEGIN { if (v == "-" || v == "") print "-"; else print (v + 0 <= g + 0) ? "met" : "missed" }'; }
say "results"
echo "machine: $(machine)"
echo "load average before: $LOAD_BEFORE, now: $(cut -d' ' -f1-3 /proc/loadavg) (todo-server, PostgreSQL, the" \
  "Python clients and anything else share these cores)"
echo "compiler/linker processes of other work during each phase: ${COMPILERS[*]}"
echo "PostgreSQL $PG_VERSION, fsync=on, synchronous_commit=on; TODO_DB_POOL_SIZE=$POOL; no Kafka (in-process bus)"
echo
echo "idle connections ($OPENED open of $IDLE_CONNECTIONS over $IDLE_USERS users; opened in $(kv open_seconds "$IDLE_LINE") s;" \
  "ws_connections $(kv ws_connections_open "$IDLE_LINE"))"
printf '%-40s %14s %12s %10s\n' measure 'server VmRSS' 'KiB/conn' goal
printf '%-40s %14s %12s %10s\n' ---------------------------------------- -------------- ------------ ----------
printf '%-40s %11s KiB %12s %10s\n' "before" "$RSS0" - -
printf '%-40s %11s KiB %12s %10s  %s\n' "all open, idle" "$RSS1" "$KIB_IDLE" "<= $GOAL_KIB" "$(met "$KIB_IDLE" "$GOAL_KIB")"
printf '%-40s %11s KiB %12s %10s  %s\n' "after one ping/pong on each" "$RSS2" "$KIB_PING" "<= $GOAL_KIB" "$(met "$KIB_PING" "$GOAL_KIB")"
printf '%-40s %11s KiB %12s %10s\n' "all closed again" "$RSS3" "$(per_conn "$RSS0" "$RSS3" "$OPENED")" -
if ((IDLE_ROUNDS > 1)); then
  printf '%-40s %11s KiB %12s %10s\n' "all closed, $IDLE_SETTLE s later" "$RSS4" "$(per_conn "$RSS0" "$RSS4" "$OPENED")" -
  printf '%-40s %11s KiB %12s %10s  %s\n' "second round: all open again" "$RSS5" "$(per_conn "$RSS0" "$RSS5" "$OPENED2")" - \
    "(growth over the first round's peak: $(per_conn "$RSS2" "$RSS5" "$OPENED2") KiB/conn)"
fi
echo
echo "latency ($LATENCY_USERS sockets; $CHANGES changes at $(kv rate "$LOAD_LINE")/s of $RATE/s target over" \
  "$(kv seconds "$LOAD_LINE") s; REST p50/p99 $(kv http_p50_ms "$LOAD_LINE")/$(kv http_p99_ms "$LOAD_LINE") ms;" \
  "$RECEIVED events received, $NOT_RECEIVED missing)"
printf '%-40s %9s %9s %9s %10s\n' measure 'p50 ms' 'p99 ms' 'max ms' goal
printf '%-40s %9s %9s %9s %10s\n' ---------------------------------------- --------- --------- --------- ----------
printf '%-40s %9s %9s %9s %10s  %s\n' "commit -> receive (client)" "$C50" "$C99" "$CMAX" "p99 <= $GOAL_P99_MS" "$(met "$C99" "$GOAL_P99_MS")"
printf '%-40s %9s %9s %9s %10s\n' "tx start (event time) -> receive" "$T50" "$T99" "$TMAX" -
printf '%-40s %9s %9s %9s %10s\n' "ws_delivery_latency_seconds (server)" "$H50" "$H99" - -
((NO_COMMIT == 0)) || echo "($NO_COMMIT events without a commit timestamp are left out of commit → receive)"
echo
echo "total time $(($(date +%s) - START_TIME)) s"
((STATUS == 0)) || die "something was broken (see the lines marked !! above)"
