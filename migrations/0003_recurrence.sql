-- Recurring tasks: each occurrence is a task of its series. Completing one creates the next in the same
-- transaction; (user_id, series_id, occurrence) is unique, so an occurrence exists at most once whatever the
-- concurrency. series_start is the wall-clock anchor of the rule (the due_at the series started from, or the
-- one a series-wide edit set), kept on every occurrence so that any of them can continue the series.
ALTER TABLE tasks
  ADD COLUMN recurrence_mode text NOT NULL DEFAULT 'fixed'
    CHECK (recurrence_mode IN ('fixed', 'after_completion')),
  ADD COLUMN series_id uuid,
  ADD COLUMN occurrence integer CHECK (occurrence >= 0),
  ADD COLUMN generate_ahead smallint NOT NULL DEFAULT 0 CHECK (generate_ahead BETWEEN 0 AND 52),
  ADD COLUMN series_start timestamptz CHECK (isfinite(series_start)),
  ADD CONSTRAINT tasks_series_complete CHECK ((series_id IS NULL) = (occurrence IS NULL));

CREATE UNIQUE INDEX tasks_series_occurrence_key ON tasks (user_id, series_id, occurrence)
  WHERE series_id IS NOT NULL;
