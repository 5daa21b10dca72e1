-- A reminder that a move of its task (due_at or zone) put at a time already past was treated two ways: a
-- scheduled one took the past time and fired at once, long after the moment it was for, while a cancelled one
-- (its time passed while the task was done) stayed cancelled, as reopening leaves it, and a delivered or failed
-- one was not armed again. One rule now, the one reopening follows: a moved reminder whose new time has already
-- passed is not fired late; it waits cancelled at that time (missed), and a later move (or zone change) that
-- gives it a time still to come, or no time, arms it again. A firing one was already left alone for a past time
-- (reminders_rearm_firing, 0008: nothing waits in rearm_at). Restated whole from 0018; only the state changes.
CREATE OR REPLACE FUNCTION reminders_follow_task() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.due_at IS DISTINCT FROM OLD.due_at OR NEW.timezone IS DISTINCT FROM OLD.timezone THEN
    -- A moved reminder starts a new firing: scheduled at a time still to come or at no time (no due date);
    -- cancelled (missed, never fired late) at a time already past, whatever its state was; cancelled while its
    -- task is done (reopening restores it if its time is still to come). Delivered or failed ones are moved
    -- only to a time still to come (a past one would only repeat what was delivered).
    UPDATE reminders r SET fire_at = f.fire_at, snoozed = false, updated_at = now(),
           state = CASE WHEN NEW.status = 'done' THEN 'cancelled'
                        WHEN f.fire_at <= now() THEN 'cancelled'
                        ELSE 'scheduled' END,
           fired_at = NULL, delivered_at = NULL, attempts = 0, last_error = NULL, email_pending = false,
           claimed_by = NULL, lease_until = NULL, next_attempt_at = NULL
      FROM (SELECT id, reminder_fire_at(NEW.due_at, NEW.timezone, before_due) AS fire_at FROM reminders
             WHERE user_id = NEW.user_id AND task_id = NEW.id AND before_due IS NOT NULL) f
     WHERE r.user_id = NEW.user_id AND r.id = f.id AND r.state <> 'firing'
       AND (r.state IN ('scheduled', 'cancelled') OR f.fire_at > now())
       -- A snooze is kept when only the zone changed: the task did not move.
       AND NOT (r.snoozed AND NEW.due_at IS NOT DISTINCT FROM OLD.due_at);
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
