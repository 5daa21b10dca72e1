-- The highest occurrence each series has created, and its due time, kept after that occurrence is gone: a
-- skipped occurrence (DELETE ?scope=this) or a deleted one left no trace, so the next top-up reused its
-- number and time, and a skip beyond COUNT (or of the series' last occurrence) came back on the next
-- completion. New occurrences follow max(the highest existing one, this record); a series-wide reschedule,
-- which replaces the following occurrences, sets it back to the highest one left (service::update).
CREATE TABLE task_series (
  user_id          uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  series_id        uuid NOT NULL,
  last_occurrence  integer NOT NULL CHECK (last_occurrence >= 0),
  last_due_at      timestamptz,
  PRIMARY KEY (user_id, series_id)
);

INSERT INTO task_series (user_id, series_id, last_occurrence, last_due_at)
SELECT DISTINCT ON (user_id, series_id) user_id, series_id, occurrence, due_at
  FROM tasks WHERE series_id IS NOT NULL
 ORDER BY user_id, series_id, occurrence DESC;
