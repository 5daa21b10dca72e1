-- Transactional outbox, per-user event sequences and the audit trail.

-- The last event sequence number of each user. Bumping it takes the row lock, so one user's event-producing
-- transactions commit one after another: sequence order is commit order, per user.
CREATE TABLE user_event_sequences (
  user_id       uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  last_sequence bigint NOT NULL
);

-- Every change as a CloudEvents 1.0 document, written in the transaction of the change. The relay publishes
-- unpublished rows (to Kafka and the in-process bus) and marks them; published rows are pruned after retention.
-- lane = a hash of user_id: a relay publishes only the lanes it holds (advisory locks), which keeps per-user order
-- with several replicas.
CREATE TABLE outbox (
  id           bigserial PRIMARY KEY,
  event_id     uuid NOT NULL UNIQUE,
  user_id      uuid NOT NULL,
  sequence     bigint NOT NULL,
  lane         smallint NOT NULL,
  type         text NOT NULL,
  subject      text NOT NULL,
  event        jsonb NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  published_at timestamptz,
  UNIQUE (user_id, sequence)
);
CREATE INDEX outbox_pending_idx ON outbox (lane, id) WHERE published_at IS NULL;
CREATE INDEX outbox_published_idx ON outbox (published_at) WHERE published_at IS NOT NULL;

-- Append-only record of who did what to which task, with old and new values.
CREATE TABLE audit_log (
  user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  id         bigserial NOT NULL,
  task_id    uuid,
  action     text NOT NULL,
  request_id text,
  at         timestamptz NOT NULL DEFAULT now(),
  changes    jsonb NOT NULL DEFAULT '{}',
  PRIMARY KEY (user_id, id)
);
CREATE INDEX audit_log_at_idx ON audit_log (user_id, at DESC, id DESC);
CREATE INDEX audit_log_task_idx ON audit_log (user_id, task_id, at DESC, id DESC);

-- No one changes history: updates and deletes are refused (removing a whole account cascades, by design).
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND NOT EXISTS (SELECT 1 FROM users WHERE id = OLD.user_id) THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
