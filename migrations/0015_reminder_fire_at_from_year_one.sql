-- A relative reminder on a task due early in year 1 (before_due up to P1Y) fell before 0001-01-01, which RFC
-- 3339 cannot write: the API answered "+0000-12-31T23:10:00Z". Such a reminder is long past and fires at once
-- whatever its exact instant, so its fire time is the earliest the API can write instead.
CREATE OR REPLACE FUNCTION reminder_fire_at(due timestamptz, zone text, before_due text) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN due IS NULL THEN NULL
              ELSE greatest(reminder_shift(due, zone, before_due, -1), '0001-01-01 00:00:00+00'::timestamptz) END
$$;

UPDATE reminders SET fire_at = '0001-01-01 00:00:00+00' WHERE fire_at < '0001-01-01 00:00:00+00';
