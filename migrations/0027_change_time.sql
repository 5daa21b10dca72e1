-- The time of a change to a task: read right after its row lock, not at the transaction's start (now()).
-- A change that waited for another one's lock on the same task got an updated_at, an audit `at` and an event
-- `time` earlier than that other change's, although made after it: under concurrent edits of one task the
-- audit trail (newest first by `at`) listed changes out of order and updated_at went backwards as version
-- went up. tasks_select_for_update stores clock_timestamp() as todo.change_time for the transaction (after a
-- wait on a changed row PostgreSQL evaluates it again: the time after the lock); updated_at, the audit `at`
-- and the event time read it. A transaction that locks no task (a create) has now(), as before.
CREATE FUNCTION change_time() RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT coalesce(nullif(current_setting('todo.change_time', true), '')::timestamptz, now())
$$;

ALTER TABLE audit_log ALTER COLUMN at SET DEFAULT change_time();
