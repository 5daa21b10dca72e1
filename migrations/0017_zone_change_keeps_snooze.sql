-- A snoozed reminder lost its snooze when only its task's time zone changed (the task did not move): the
-- trigger re-timed every relative reminder on a zone change, snoozed ones included. They keep their snooze now;
-- a change of due_at still re-times them, as before.
CREATE OR REPLACE FUNCTION reminders_follow_task() RETURNS trigger LANGUAGE plpgsql AS $$
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
