-- A relative reminder whose e-mail is being sent (state firing) when its task's due_at moves: its fire_at stays
-- (the e-mail in flight, its lease and its Message-ID belong to that firing), and the new fire time, when still to
-- come, waits in rearm_at (NULL: nothing waits; a past time clears what waited, as it would only repeat the
-- reminder being delivered). When the e-mail ends, delivered or failed, the reminder is scheduled again at
-- rearm_at, or cancelled if the task is done by then (reminders/queue.cpp). reminders_follow_task (0004) moves
-- the other states and leaves firing ones to this trigger.
ALTER TABLE reminders ADD COLUMN rearm_at timestamptz CHECK (isfinite(rearm_at));

CREATE FUNCTION reminders_rearm_firing() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE reminders r SET updated_at = now(),
         rearm_at = (SELECT f.t FROM (SELECT reminder_fire_at(NEW.due_at, NEW.timezone, r.before_due) AS t) f
                      WHERE f.t > now())
   WHERE r.user_id = NEW.user_id AND r.task_id = NEW.id AND r.before_due IS NOT NULL AND r.state = 'firing';
  RETURN NULL;
END $$;
CREATE TRIGGER reminders_rearm_firing AFTER UPDATE OF due_at, timezone ON tasks
  FOR EACH ROW WHEN (NEW.due_at IS DISTINCT FROM OLD.due_at OR NEW.timezone IS DISTINCT FROM OLD.timezone)
  EXECUTE FUNCTION reminders_rearm_firing();
