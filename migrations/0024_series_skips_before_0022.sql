-- Occurrences skipped or deleted before 0022 stay skipped. 0022 filled task_series from the tasks that existed
-- then, so a series' highest occurrence deleted before it (a skip of the last one COUNT or UNTIL allowed, a done
-- one deleted) was not counted and came back on the next completion. The audit log kept each delete with the
-- task as it was (changes = {field: [value, null]}, series_id, occurrence and due_at included): the record is
-- raised to the highest occurrence deleted before 0022 that still stands as skipped, with its due time. From
-- 0022 on the server keeps the record itself (lowering it on purpose: a series-wide reschedule, a chat undo of
-- a completion), so later deletes are not read. A delete before 0022 counts unless
--  - its transaction wrote anything but creates and deletes (a series-wide reschedule's task.updated, an undo's
--    task.reopened, a series delete's task.updated): those occurrences were replaced or taken back, not
--    skipped. The rows of one transaction share `at` (now()); (user_id, at) leads the primary key (0012);
--  - the series numbered an occurrence at or below it again later or in the same transaction (before or after
--    0022): it was renumbered after it (a reschedule), or it came back already.
-- Linear: one scan of the audit log for its deletes before 0022 (each parsed once), then only those above
-- their series' record (few: a skip below it needs nothing) are checked, with the primary key: their
-- transactions' rows, and their users' creates from the earliest of them on, sorted once by series for the
-- window. No index is added. Nothing is lowered; a database with no such delete is left as it was.
WITH candidates AS MATERIALIZED (
  SELECT d.user_id, d.series_id, d.at, d.occurrence, d.due_at
    FROM (SELECT a.user_id, a.at, (f.series_id ->> 0)::uuid AS series_id,
                 (f.occurrence ->> 0)::integer AS occurrence, (f.due_at ->> 0)::timestamptz AS due_at
            FROM audit_log a, json_to_record(a.changes) AS f(series_id json, occurrence json, due_at json)
           WHERE a.action = 'task.deleted'
             AND a.at < (SELECT applied_at FROM schema_migrations WHERE version = 22)) d
    JOIN task_series s ON s.user_id = d.user_id AND s.series_id = d.series_id
   WHERE d.occurrence > s.last_occurrence
     AND NOT EXISTS (SELECT 1 FROM audit_log o WHERE o.user_id = d.user_id AND o.at = d.at
                                                 AND o.action NOT IN ('task.created', 'task.deleted'))
),
creates AS (
  SELECT a.user_id, (f.series_id ->> 1)::uuid AS series_id, a.at, (f.occurrence ->> 1)::integer AS occurrence
    FROM (SELECT user_id, min(at) AS since FROM candidates GROUP BY user_id) u
    JOIN audit_log a ON a.user_id = u.user_id AND a.at >= u.since AND a.action = 'task.created',
         json_to_record(a.changes) AS f(series_id json, occurrence json)
),
standing AS (
  SELECT user_id, series_id, occurrence, due_at, deleted,
         min(occurrence) FILTER (WHERE NOT deleted)
           OVER (PARTITION BY user_id, series_id ORDER BY at DESC) AS lowest_created_since
    FROM (SELECT user_id, series_id, at, occurrence, due_at, true AS deleted FROM candidates
          UNION ALL
          SELECT user_id, series_id, at, occurrence, NULL, false FROM creates) r
),
skipped AS (
  SELECT DISTINCT ON (user_id, series_id) user_id, series_id, occurrence, due_at
    FROM standing
   WHERE deleted AND (lowest_created_since IS NULL OR lowest_created_since > occurrence)
   ORDER BY user_id, series_id, occurrence DESC
)
UPDATE task_series s
   SET last_occurrence = k.occurrence, last_due_at = greatest(s.last_due_at, k.due_at)
  FROM skipped k
 WHERE s.user_id = k.user_id AND s.series_id = k.series_id AND s.last_occurrence < k.occurrence;
