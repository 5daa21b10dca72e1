-- Lists of an account with years of history: the open tasks (the list a client shows first) came after every
-- done one in (user_id, created_at, id), so a page of them read the user's done tasks first (98 000 rows and
-- 300-450 ms for `status=open` at 100 000 tasks, most of them done and older); by priority, or by due date
-- descending, they were read among the done ones. These orders are now indexed per status; a list of both
-- statuses is the union of one page of each (src/tasks/query.cpp, per_status). As many indexes as before, so
-- a write costs what it did.
CREATE INDEX tasks_status_created_idx  ON tasks (user_id, status, created_at, id);
CREATE INDEX tasks_status_updated_idx  ON tasks (user_id, status, updated_at, id);
CREATE INDEX tasks_status_title_idx    ON tasks (user_id, status, title, id);
CREATE INDEX tasks_status_priority_idx ON tasks (user_id, status, priority, id);
CREATE INDEX tasks_status_due_desc_idx
  ON tasks (user_id, status, coalesce(due_at, '-infinity'::timestamptz) DESC, id DESC);
DROP INDEX tasks_created_idx;
DROP INDEX tasks_updated_idx;
DROP INDEX tasks_title_idx;
DROP INDEX tasks_priority_idx;
DROP INDEX tasks_due_desc_idx;
