-- Reminders: absolute (at) or relative to the task's due date (before_due, an ISO 8601 duration), fired exactly
-- once by the schedulers of every replica (claims FOR UPDATE SKIP LOCKED with a lease).

-- E-mail delivery of reminders is opt-in per user.
ALTER TABLE users ADD COLUMN email_reminders boolean NOT NULL DEFAULT false;

-- state: scheduled (waiting for fire_at) → firing (the fired event is written; an e-mail is owed, leased by one
-- replica's mailer at a time) → delivered | failed (e-mail retries exhausted; last_error says why).
-- cancelled: the task was completed (restored when it is reopened).
CREATE TABLE reminders (
  user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  id              uuid NOT NULL,
  task_id         uuid NOT NULL,
  at              timestamptz CHECK (isfinite(at)),
  before_due      text,            -- canonical ISO 8601 duration (PT15M, P1D); PostgreSQL reads it as an interval
  -- When it is due: at, the task's due_at - before_due (in the task's time zone), or the snooze time.
  -- NULL: relative, and the task has no due date.
  fire_at         timestamptz,
  snoozed         boolean NOT NULL DEFAULT false,
  state           text NOT NULL DEFAULT 'scheduled'
                    CHECK (state IN ('scheduled', 'firing', 'delivered', 'failed', 'cancelled')),
  fired_at        timestamptz,     -- when the fired event of the current fire_at was written
  email_pending   boolean NOT NULL DEFAULT false,
  claimed_by      text,            -- the replica holding the lease
  lease_until     timestamptz,     -- firing: the e-mail is not tried by anyone else before this
  attempts        integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz,
  last_error      text,
  delivered_at    timestamptz,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, id),
  FOREIGN KEY (user_id, task_id) REFERENCES tasks (user_id, id) ON DELETE CASCADE,
  CHECK ((at IS NULL) <> (before_due IS NULL))
);
CREATE INDEX reminders_task_idx ON reminders (user_id, task_id, created_at, id);
CREATE INDEX reminders_upcoming_idx ON reminders (user_id, fire_at, id) WHERE state = 'scheduled';
-- The schedulers' two queues (cross-user by nature, like the outbox relay's).
-- (fire_at, user_id): a batch of reminders due at the same instant covers few users, so concurrent replicas'
-- batches seldom wait for the same users' event sequence rows.
CREATE INDEX reminders_due_idx ON reminders (fire_at, user_id) WHERE state = 'scheduled';
CREATE INDEX reminders_lease_idx ON reminders (lease_until) WHERE state = 'firing';

-- t moved by the ISO 8601 duration d (sign -1: back, +1: forward): its calendar part (years, months, days) in the
-- zone's wall time, so that P1D before 09:00 is 09:00 the day before across a DST change; its time part exactly
-- (PT24H is 24 hours).
CREATE FUNCTION reminder_shift(t timestamptz, zone text, d text, sign integer) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
  SELECT ((t AT TIME ZONE zone) + sign * cal) AT TIME ZONE zone + sign * (i - cal)
    FROM (SELECT i, make_interval(years => extract(year FROM i)::int, months => extract(month FROM i)::int,
                                  days => extract(day FROM i)::int) AS cal
            FROM (SELECT d::interval AS i) a) b
$$;

-- The fire time of a relative reminder: before_due before the task's due_at; NULL without a due date.
CREATE FUNCTION reminder_fire_at(due timestamptz, zone text, before_due text) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN due IS NULL THEN NULL ELSE reminder_shift(due, zone, before_due, -1) END
$$;

-- Wakes the schedulers (LISTEN todo_reminders) when a reminder gets a new fire time; they re-plan their sleep.
CREATE FUNCTION reminders_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('todo_reminders', '');
  RETURN NULL;
END $$;
CREATE TRIGGER reminders_notify_insert AFTER INSERT ON reminders
  FOR EACH ROW WHEN (NEW.state = 'scheduled' AND NEW.fire_at IS NOT NULL) EXECUTE FUNCTION reminders_notify();
CREATE TRIGGER reminders_notify_update AFTER UPDATE OF fire_at, state ON reminders
  FOR EACH ROW WHEN (NEW.state = 'scheduled' AND NEW.fire_at IS NOT NULL AND
                     (OLD.state <> 'scheduled' OR OLD.fire_at IS DISTINCT FROM NEW.fire_at))
  EXECUTE FUNCTION reminders_notify();

-- Reminders follow their task, in the transaction that changes it, whichever code path changes it (update,
-- complete, reopen, the next occurrence of a series): relative ones move with due_at; completing cancels the
-- pending ones, reopening restores them. Deleting the task deletes its reminders (foreign key).
CREATE FUNCTION reminders_follow_task() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.due_at IS DISTINCT FROM OLD.due_at OR NEW.timezone IS DISTINCT FROM OLD.timezone THEN
    -- Pending ones take the new time (even a past one: never delivered, so delivered late rather than never);
    -- delivered or failed ones are armed again only for a time still to come.
    UPDATE reminders r SET fire_at = f.fire_at, snoozed = false, updated_at = now(),
           state = CASE WHEN r.state IN ('delivered', 'failed') THEN 'scheduled' ELSE r.state END,
           fired_at = CASE WHEN r.state IN ('delivered', 'failed') THEN NULL ELSE r.fired_at END,
           attempts = CASE WHEN r.state IN ('delivered', 'failed') THEN 0 ELSE r.attempts END,
           last_error = CASE WHEN r.state IN ('delivered', 'failed') THEN NULL ELSE r.last_error END
      FROM (SELECT id, reminder_fire_at(NEW.due_at, NEW.timezone, before_due) AS fire_at FROM reminders
             WHERE user_id = NEW.user_id AND task_id = NEW.id AND before_due IS NOT NULL) f
     WHERE r.user_id = NEW.user_id AND r.id = f.id AND r.state <> 'firing'
       AND (r.state IN ('scheduled', 'cancelled') OR f.fire_at > now());
  END IF;
  IF NEW.status = 'done' AND OLD.status <> 'done' THEN
    UPDATE reminders SET state = 'cancelled', updated_at = now()
     WHERE user_id = NEW.user_id AND task_id = NEW.id AND state = 'scheduled';
  ELSIF NEW.status = 'open' AND OLD.status = 'done' THEN
    UPDATE reminders SET state = 'scheduled', updated_at = now()
     WHERE user_id = NEW.user_id AND task_id = NEW.id AND state = 'cancelled'
       AND (fire_at IS NULL OR fire_at > now());
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER reminders_follow_task AFTER UPDATE OF due_at, timezone, status ON tasks
  FOR EACH ROW EXECUTE FUNCTION reminders_follow_task();
