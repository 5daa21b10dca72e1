#!/usr/bin/python3
"""Helpers of bench/outbox.sh for the Kafka consumer side (kcat does the consuming).

  stamp            stdin: kcat lines (-f '%s\\n', one CloudEvent a line); stdout: "<unix time>\\t<line>" stamped
                   when the line arrives (line by line, unbuffered), i.e. the time a real consumer received it.
  analyse FILE     FILE: the stamped lines. Writes "<event id>,<unix time>" of each event's first arrival to
                   stdout (for psql \\copy) and, on stderr, one summary line: events, distinct ids, duplicates,
                   per-user order violations (a user's sequence going backwards or skipping), users.
  events FILE      the CloudEvents of FILE, one a line (for tests/e2e/check_event_schemas.py).
"""
import json
import sys
import time


def stamp():
    out = sys.stdout
    for line in sys.stdin:
        out.write(f"{time.time():.6f}\t{line}")
        out.flush()


def read(path):
    with open(path, encoding="utf-8") as f:
        for line in f:
            ts, _, value = line.rstrip("\n").partition("\t")
            if value.startswith("{"):
                yield float(ts), json.loads(value)


def analyse(path):
    first = {}
    last_seq = {}
    total = order = 0
    for ts, ev in read(path):
        total += 1
        if ev["id"] in first:
            continue  # a duplicate: its order was checked on first arrival
        first[ev["id"]] = ts
        user = ev["data"]["user_id"]
        prev = last_seq.get(user)
        if prev is not None and ev["sequence"] != prev + 1:
            order += 1
        last_seq[user] = ev["sequence"]
    for event_id, ts in first.items():
        print(f"{event_id},{ts:.6f}")
    print(f"consumed={total} distinct={len(first)} duplicates={total - len(first)} order_violations={order} "
          f"users={len(last_seq)}", file=sys.stderr)


def events(path):
    for _, ev in read(path):
        print(json.dumps(ev, separators=(",", ":")))


if __name__ == "__main__":
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "stamp":
        stamp()
    elif cmd == "analyse" and len(sys.argv) == 3:
        analyse(sys.argv[2])
    elif cmd == "events" and len(sys.argv) == 3:
        events(sys.argv[2])
    else:
        sys.exit(__doc__)
