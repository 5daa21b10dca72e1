-- A reminder whose time passed without firing while its task was open (a move of the task put it in the past,
-- the task was reopened after its time, or a relative copy to an occurrence whose offset had already passed)
-- waited `cancelled`, the state of a done task's reminders, so a client could not tell "missed" from
-- "cancelled because the task is done". It is now `missed`: it never fires, and a later move of its task that
-- gives it a time still to come (or no time) schedules it again, as before. `cancelled` is left to reminders
-- of done tasks: completing a task cancels its scheduled and missed reminders, reopening schedules those still
-- to come and leaves the others missed.
ALTER TABLE reminders DROP CONSTRAINT reminders_state_check,
  ADD CONSTRAINT reminders_state_check
    CHECK (state IN ('scheduled', 'firing', 'delivered', 'failed', 'cancelled', 'missed'));

-- reminders_follow_task restated whole from 0021; only the states change.
CREATE OR REPLACE FUNCTION reminders_follow_task() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.due_at IS DISTINCT FROM OLD.due_at OR NEW.timezone IS DISTINCT FROM OLD.timezone THEN
    -- A moved reminder starts a new firing: scheduled at a time still to come or at no time (no due date);
    -- missed (never fired late) at a time already past, whatever its state was; cancelled while its task is
    -- done (reopening restores it if its time is still to come). Delivered or failed ones are moved only to a
    -- time still to come (a past one would only repeat what was delivered).
    UPDATE reminders r SET fire_at = f.fire_at, snoozed = false, updated_at = now(),
           state = CASE WHEN NEW.status = 'done' THEN 'cancelled'
                        WHEN f.fire_at <= now() THEN 'missed'
                        ELSE 'scheduled' END,
           fired_at = NULL, delivered_at = NULL, attempts = 0, last_error = NULL, email_pending = false,
           claimed_by = NULL, lease_until = NULL, next_attempt_at = NULL
      FROM (SELECT id, reminder_fire_at(NEW.due_at, NEW.timezone, before_due) AS fire_at FROM reminders
             WHERE user_id = NEW.user_id AND task_id = NEW.id AND before_due IS NOT NULL) f
     WHERE r.user_id = NEW.user_id AND r.id = f.id AND r.state <> 'firing'
       AND (r.state IN ('scheduled', 'cancelled', 'missed') OR f.fire_at > now())
       -- A snooze is kept when only the zone changed: the task did not move.
       AND NOT (r.snoozed AND NEW.due_at IS NOT DISTINCT FROM OLD.due_at);
  END IF;
  IF NEW.status = 'done' AND OLD.status <> 'done' THEN
    UPDATE reminders SET state = 'cancelled', updated_at = now()
     WHERE user_id = NEW.user_id AND task_id = NEW.id AND state IN ('scheduled', 'missed');
  ELSIF NEW.status = 'open' AND OLD.status = 'done' THEN
    -- One whose time passed while the task was done is missed: it is not fired late.
    UPDATE reminders SET updated_at = now(),
           state = CASE WHEN fire_at IS NULL OR fire_at > now() THEN 'scheduled' ELSE 'missed' END
     WHERE user_id = NEW.user_id AND task_id = NEW.id AND state = 'cancelled';
  END IF;
  RETURN NULL;
END $$;

-- What the old rules left behind: an open task's cancelled reminders were missed ones (a reminder of an open
-- task is cancelled by nothing else); they take the state reopening now gives.
UPDATE reminders r SET updated_at = now(),
       state = CASE WHEN r.fire_at IS NULL OR r.fire_at > now() THEN 'scheduled' ELSE 'missed' END
  FROM tasks t
 WHERE t.user_id = r.user_id AND t.id = r.task_id AND t.status = 'open' AND r.state = 'cancelled';
