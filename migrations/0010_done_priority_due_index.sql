-- Done tasks of one priority by due date (status=done&priority=…&sort=due_at) read every task in due order and
-- filtered status and priority: 534 rows for a page of 50 of the benchmark's user with 100 000 tasks. This index
-- returns exactly a page. Creating an open task adds nothing to it; completing one adds its entry.
CREATE INDEX tasks_done_priority_due_idx ON tasks (user_id, priority, coalesce(due_at, 'infinity'::timestamptz), id)
  WHERE status = 'done';
