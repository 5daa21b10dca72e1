-- "My high-priority tasks, soonest first" (status=open&priority=…&sort=due_at) read every open task in due order and
-- filtered the priority (about 7 rows read per row returned); this index returns exactly a page.
CREATE INDEX tasks_open_priority_due_idx ON tasks (user_id, priority, coalesce(due_at, 'infinity'::timestamptz), id)
  WHERE status = 'open';
