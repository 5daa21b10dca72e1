#!/usr/bin/python3
"""Validates todo-server events against the JSON Schemas in docs/events/.

Reads one CloudEvent JSON document a line from stdin — e.g. `psql -Atc 'SELECT event FROM outbox ORDER BY id'`
or `kcat -b ADDR -t task-events -C -e -f '%s\\n'` — and checks each against docs/events/cloudevent.schema.json
(which refers to task-event.schema.json for the data of task events), with formats (uuid, date-time) enforced.
It also checks what a schema cannot say: subject = data.task.id, data.version = data.task.version, event ids are
unique, and each user's sequence numbers are consecutive in the order read (with --gapless; the outbox table in
id order and one Kafka partition both keep a user's order).

Usage: ... | python3 tests/e2e/check_event_schemas.py [--schemas DIR] [--gapless] [--require-types]
Exit status 0 when every event is valid (and at least one was read), 1 otherwise. Needs Debian's
python3-jsonschema (draft 2020-12 support: jsonschema 4.x).
"""

import argparse
import collections
import datetime
import json
import os
import re
import sys

import jsonschema

ENVELOPE = "cloudevent.schema.json"
TASK_TYPES = [
    "com.todo.task.created",
    "com.todo.task.updated",
    "com.todo.task.completed",
    "com.todo.task.reopened",
    "com.todo.task.deleted",
]

# RFC 3339 date-time (section 5.6). Debian's jsonschema has no date-time checker without rfc3339-validator, which
# bookworm does not package, so the format is checked here.
_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$"
)


def is_rfc3339(value):
    if not isinstance(value, str):
        return True  # formats apply to strings only
    m = _RFC3339.match(value)
    if not m:
        return False
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    try:
        datetime.date(year, month, day)
    except ValueError:
        return False
    if hour > 23 or minute > 59 or second > 60:
        return False
    offset = m.group(8)
    if offset not in ("Z", "z") and (int(offset[1:3]) > 23 or int(offset[4:6]) > 59):
        return False
    return True


def load_schemas(folder):
    """Every *.schema.json of the folder, keyed by file name: the schemas refer to each other by relative file
    name (no $id), so they resolve the same here as in any tool that validates from the files."""
    schemas = {}
    for name in sorted(os.listdir(folder)):
        if name.endswith(".schema.json"):
            with open(os.path.join(folder, name), encoding="utf-8") as f:
                schema = json.load(f)
            jsonschema.Draft202012Validator.check_schema(schema)
            schemas[name] = schema
    if ENVELOPE not in schemas:
        sys.exit(f"check_event_schemas: no {ENVELOPE} in {folder}")
    return schemas


def make_validator(schemas):
    checker = jsonschema.FormatChecker()
    checker.checks("date-time")(is_rfc3339)
    try:  # jsonschema >= 4.18
        from referencing import Registry, Resource
        from referencing.jsonschema import DRAFT202012

        registry = Registry().with_resources(
            (name, DRAFT202012.create_resource(s)) for name, s in schemas.items()
        )
        # The envelope is looked up through the registry so that its base URI is its file name.
        return jsonschema.Draft202012Validator(
            {"$ref": ENVELOPE}, registry=registry, format_checker=checker
        )
    except ImportError:  # Debian bookworm's 4.10
        resolver = jsonschema.RefResolver(ENVELOPE, schemas[ENVELOPE], store=dict(schemas))
        return jsonschema.Draft202012Validator(
            schemas[ENVELOPE], resolver=resolver, format_checker=checker
        )


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--schemas", default=os.path.join(here, "..", "..", "docs", "events"))
    parser.add_argument("--gapless", action="store_true",
                        help="each user's sequence numbers must be consecutive in input order")
    parser.add_argument("--require-types", action="store_true",
                        help="every com.todo.task.* type must occur at least once")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args()

    validator = make_validator(load_schemas(args.schemas))
    problems = 0
    count = 0
    by_type = collections.Counter()
    seen_ids = set()
    last_sequence = {}

    def fail(line_no, message):
        nonlocal problems
        problems += 1
        if problems <= 50:
            print(f"line {line_no}: {message}", file=sys.stderr)

    for line_no, line in enumerate(sys.stdin, 1):
        line = line.strip()
        if not line:
            continue
        count += 1
        try:
            event = json.loads(line)
        except ValueError as e:
            fail(line_no, f"not JSON: {e}")
            continue
        errors = sorted(validator.iter_errors(event), key=lambda e: list(e.absolute_path))
        for e in errors:
            where = "/".join(str(p) for p in e.absolute_path) or "(document)"
            fail(line_no, f"{event.get('type', '?')} {where}: {e.message}")
        if errors or not isinstance(event, dict):
            continue
        by_type[event["type"]] += 1
        data = event["data"]
        if event["type"] in TASK_TYPES:
            if event["subject"] != data["task"]["id"]:
                fail(line_no, "subject is not data.task.id")
            if data["version"] != data["task"]["version"]:
                fail(line_no, "data.version is not data.task.version")
        if event["type"] == "com.todo.reminder.fired" and event["subject"] != data["task_id"]:
            fail(line_no, "subject is not data.task_id")
        if event["id"] in seen_ids:
            fail(line_no, f"event id {event['id']} seen twice")
        seen_ids.add(event["id"])
        user = data.get("user_id")
        if args.gapless and user is not None:
            previous = last_sequence.get(user)
            if previous is not None and event["sequence"] != previous + 1:
                fail(line_no, f"user {user}: sequence {event['sequence']} after {previous}")
            last_sequence[user] = event["sequence"]

    if count == 0:
        print("check_event_schemas: no events on stdin", file=sys.stderr)
        return 1
    if args.require_types:
        for t in TASK_TYPES:
            if by_type[t] == 0:
                fail(0, f"no {t} event in the input")
    if not args.quiet or problems:
        summary = ", ".join(f"{t.rsplit('.', 1)[1]} {n}" for t, n in sorted(by_type.items()))
        print(f"check_event_schemas: {count} events ({summary}), {len(last_sequence) or '-'} users checked "
              f"for gaps, {problems} problems", file=sys.stderr if problems else sys.stdout)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
