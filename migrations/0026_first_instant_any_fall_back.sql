-- wall_time_first_instant (0019) tried the repeated wall time's earlier readings 30 minutes, 1 hour and 2 hours
-- before PostgreSQL's: Antarctica/Casey's 3-hour fall-backs (2009-2023), Juneau's repeated day of 1867 and
-- other local-mean-time changes gave the later instant, not the first as recurrence::Zone does (relative
-- reminders and snoozes in those zones). The candidates are now the wall time read with the zone's offsets
-- at PostgreSQL's reading and 3, 12 and 26 hours before it: any fall-back of up to a day within those 26
-- hours gives its earlier reading. Still four readings a call.
CREATE OR REPLACE FUNCTION wall_time_first_instant(l timestamp, zone text) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
  SELECT coalesce(min(c), l AT TIME ZONE tz_file(zone))
    FROM (SELECT (l - ((x AT TIME ZONE tz_file(zone)) - (x AT TIME ZONE 'UTC'))) AT TIME ZONE 'UTC' AS c
            FROM (SELECT (l AT TIME ZONE tz_file(zone)) - s AS x
                    FROM unnest(ARRAY[interval '0', interval '3 hours', interval '12 hours',
                                      interval '26 hours']) s) y) z
   WHERE (c AT TIME ZONE tz_file(zone)) = l
$$;
