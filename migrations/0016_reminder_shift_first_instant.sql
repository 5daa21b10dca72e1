-- A calendar offset landing on a wall time that a fall-back change repeats (P1D before 2027-11-01 02:30
-- Europe/Berlin is 2027-10-31 02:30, which happens twice) took PostgreSQL's reading, the second instant (standard
-- time), while the recurrence expander takes the first (docs/recurrence.md): "the day before at 09:00" came an
-- hour after that day's occurrence. wall_time_first_instant() is the first instant that shows wall time l in
-- zone: PostgreSQL's reading and the instants 30 minutes, 1 and 2 hours before it (every DST shift there is)
-- that show the same wall time; in a spring-forward gap, where no instant shows it, PostgreSQL's reading (the
-- wall time moved forward by the gap), as before.
CREATE FUNCTION wall_time_first_instant(l timestamp, zone text) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
  SELECT coalesce(min(c), l AT TIME ZONE zone)
    FROM (SELECT (l AT TIME ZONE zone) - s AS c
            FROM unnest(ARRAY[interval '0', interval '30 minutes', interval '1 hour', interval '2 hours']) s) x
   WHERE (c AT TIME ZONE zone) = l
$$;

CREATE OR REPLACE FUNCTION reminder_shift(t timestamptz, zone text, d text, sign integer) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
  -- No calendar part (PT0S, PT1H, PT24H): exact, with no wall-time round trip, which took a task due in the
  -- second of two repeated hours to the first.
  SELECT CASE WHEN cal = interval '0' THEN t + sign * i
              ELSE wall_time_first_instant((t AT TIME ZONE zone) + sign * cal, zone) + sign * (i - cal) END
    FROM (SELECT i, make_interval(years => extract(year FROM i)::int, months => extract(month FROM i)::int,
                                  days => extract(day FROM i)::int) AS cal
            FROM (SELECT d::interval AS i) a) b
$$;
