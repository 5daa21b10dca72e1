-- `AT TIME ZONE zone` looks the name up in pg_timezone_abbrevs before the tz database: CET, EET, MET and WET
-- (zones with DST in the tz database, as the C++ side reads them: recurrence::Zone) are fixed-offset
-- abbreviations there, so a task in CET had its reminders, snoozes and all-day days at UTC+1 all year while its
-- occurrences kept summer time. (EST, HST, MST, GMT, UTC, UCT and Zulu are abbreviations too, with the offset
-- their zone files have.) A name prefixed with ':' is never an abbreviation: PostgreSQL's tz code reads ":name"
-- as the file of zone `name` (the POSIX TZ convention), which is the file the C++ side reads.
-- tz_file(zone) is that spelling; every SQL use of a task's or user's zone goes through it.
CREATE FUNCTION tz_file(zone text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT ':' || zone
$$;

CREATE OR REPLACE FUNCTION wall_time_first_instant(l timestamp, zone text) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
  SELECT coalesce(min(c), l AT TIME ZONE tz_file(zone))
    FROM (SELECT (l AT TIME ZONE tz_file(zone)) - s AS c
            FROM unnest(ARRAY[interval '0', interval '30 minutes', interval '1 hour', interval '2 hours']) s) x
   WHERE (c AT TIME ZONE tz_file(zone)) = l
$$;

CREATE OR REPLACE FUNCTION reminder_shift(t timestamptz, zone text, d text, sign integer) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN cal = interval '0' THEN t + sign * i
              ELSE wall_time_first_instant((t AT TIME ZONE tz_file(zone)) + sign * cal, zone) + sign * (i - cal) END
    FROM (SELECT i, make_interval(years => extract(year FROM i)::int, months => extract(month FROM i)::int,
                                  days => extract(day FROM i)::int) AS cal
            FROM (SELECT d::interval AS i) a) b
$$;

-- The end of an all-day task's day: midnight after the date of due_at in the task's zone (tasks::query's
-- overdue filter).
CREATE FUNCTION all_day_end(due timestamptz, zone text) RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT (date_trunc('day', due AT TIME ZONE tz_file(zone)) + interval '1 day') AT TIME ZONE tz_file(zone)
$$;

-- Relative reminders of tasks in those zones move to the instants the zone's rules give.
UPDATE reminders r SET fire_at = reminder_fire_at(t.due_at, t.timezone, r.before_due), updated_at = now()
  FROM tasks t
 WHERE t.user_id = r.user_id AND t.id = r.task_id AND r.before_due IS NOT NULL AND NOT r.snoozed
   AND r.state IN ('scheduled', 'cancelled') AND t.due_at IS NOT NULL
   AND upper(t.timezone) IN ('CET', 'EET', 'MET', 'WET')
   AND r.fire_at IS DISTINCT FROM reminder_fire_at(t.due_at, t.timezone, r.before_due);
