-- reminders_follow_task did not look at the task's status when due_at or the zone moved a reminder:
-- * a reminder cancelled on an open task (its time passed while the task was done, so reopening left it
--   cancelled) took the new time but stayed cancelled, and never fired again;
-- * a delivered or failed reminder of a done task was armed again ('scheduled') and fired for the done task;
-- * a reminder armed again kept the delivered_at of its previous firing.
-- A moved reminder now starts a new firing: scheduled when its task is open, cancelled when it is done (as
-- queue::kRearm does for one moved while being e-mailed), with no trace of the previous firing; a cancelled one
-- on an open task is armed as reopening would arm it (a time still to come, or none). Which ones move is
-- unchanged: every one but a firing one, a delivered or failed one only for a time still to come, and not a
-- snoozed one when only the zone changed.
CREATE OR REPLACE FUNCTION reminders_follow_task() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.due_at IS DISTINCT FROM OLD.due_at OR NEW.timezone IS DISTINCT FROM OLD.timezone THEN
    -- Scheduled ones take the new time, even a past one (never delivered, so delivered late rather than never);
    -- delivered or failed ones are armed again only for a time still to come; cancelled ones (their task is
    -- done, or their time passed while it was) are armed again, on an open task, for a time still to come or
    -- for no time (no due date), as reopening does. A done task's ones wait cancelled at the new time.
    UPDATE reminders r SET fire_at = f.fire_at, snoozed = false, updated_at = now(),
           state = CASE WHEN NEW.status = 'done' THEN 'cancelled'
                        WHEN r.state = 'cancelled' AND f.fire_at <= now() THEN 'cancelled'
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

-- What the old trigger left behind: reminders armed again for a done task wait cancelled, as they now would;
-- ones armed again (or cancelled by queue::kRearm) keep no delivered_at of an earlier firing.
UPDATE reminders r SET state = 'cancelled', updated_at = now()
  FROM tasks t
 WHERE t.user_id = r.user_id AND t.id = r.task_id AND t.status = 'done' AND r.state = 'scheduled';
UPDATE reminders SET delivered_at = NULL WHERE state IN ('scheduled', 'cancelled') AND delivered_at IS NOT NULL;
