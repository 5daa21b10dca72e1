#!/usr/bin/python3
"""Reference expansion for the recurrence tests: python-dateutil's rrule in an IANA zone.

Reads JSON lines {"rule", "dtstart" (a naive wall time, YYYY-MM-DDTHH:MM:SS), "tz", "count"} on stdin and writes,
for each, a JSON line {"occurrences": [UTC RFC 3339 …]} or {"error": "…"}. The rule is expanded by dateutil on
the zone's wall clock (dtstart carries the ZoneInfo, fold=0); each wall time then becomes an instant with
fold=0: the first of two repeated wall times, and a skipped one moved forward by the gap.
"""
import itertools
import json
import sys
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr


def expand(case):
    tz = ZoneInfo(case["tz"])
    start = datetime.fromisoformat(case["dtstart"]).replace(tzinfo=tz, fold=0)
    rule = rrulestr(case["rule"], dtstart=start)
    out = []
    for occurrence in itertools.islice(rule, case["count"]):
        out.append(occurrence.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))
    return out


def main():
    for line in sys.stdin:
        if not line.strip():
            continue
        case = json.loads(line)
        try:
            result = {"occurrences": expand(case)}
        except Exception as e:  # reported to the C++ test, which fails on it
            result = {"error": f"{type(e).__name__}: {e}"}
        sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
