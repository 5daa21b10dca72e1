-- A removed account's open WebSockets are closed at once on every replica, not at their next resume or
-- their token's expiry: whatever removes users (an operator's DELETE or TRUNCATE: the API removes none), the
-- statement NOTIFYs todo_accounts, sent as it commits, which each replica's realtime gateway LISTENs to. The
-- payload is the removed ids separated by spaces, at most 200 a notification (8000 bytes is PostgreSQL's
-- limit), or `*` for a TRUNCATE. Statement-level: one call a statement, however many rows it removes;
-- nothing fires on the paths that write tasks or events.
CREATE FUNCTION users_removed_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    PERFORM pg_notify('todo_accounts', '*');
  ELSE
    PERFORM pg_notify('todo_accounts', string_agg(id::text, ' '))
    FROM (SELECT id, (row_number() OVER () - 1) / 200 AS chunk FROM removed) AS r
    GROUP BY chunk;
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER users_removed AFTER DELETE ON users REFERENCING OLD TABLE AS removed
  FOR EACH STATEMENT EXECUTE FUNCTION users_removed_notify();
CREATE TRIGGER users_truncated AFTER TRUNCATE ON users
  FOR EACH STATEMENT EXECUTE FUNCTION users_removed_notify();
