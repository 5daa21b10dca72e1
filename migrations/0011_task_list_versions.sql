-- A version of each user's task list that every change to the user's tasks raises, in the changing transaction
-- itself: a list read while the version was v is still the user's list for as long as the version is v. The
-- server keeps recent list pages by it and answers If-None-Match on lists with it (README "Architecture").
--
-- The version is the sum of the user's counters, one counter per shard: a change raises the counter of its
-- backend's shard (pg_backend_pid() % 64). Every committed change raises the sum, and a later snapshot holds
-- every change an earlier one held, so two reads of the same sum saw the same changes. One counter per user
-- would serialise the user's writing transactions: each would hold the row from its change to its commit (32
-- concurrent single creates of one user went from 1 284/s to 340/s in pgbench).
--
-- Statement triggers with transition tables: a batch of creates raises the counter once, and no write path can
-- forget to. TRUNCATE has no transition table: it raises every user's version. Users are raised in user_id
-- order, so two transactions that change the same users cannot deadlock on their counters. Rows are never
-- deleted, so the sum never goes back to a value it had.
CREATE TABLE task_list_versions (
  user_id uuid NOT NULL,
  shard smallint NOT NULL,
  version bigint NOT NULL,
  PRIMARY KEY (user_id, shard)
);

CREATE FUNCTION task_list_versions_raise() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO task_list_versions AS v (user_id, shard, version)
    SELECT DISTINCT user_id, (pg_backend_pid() % 64)::smallint, 1 FROM changed_tasks ORDER BY user_id
    ON CONFLICT (user_id, shard) DO UPDATE SET version = v.version + 1;
  RETURN NULL;
END $$;

-- user_id is never changed by an UPDATE, so its new rows name every user concerned.
CREATE TRIGGER task_list_versions_insert AFTER INSERT ON tasks
  REFERENCING NEW TABLE AS changed_tasks FOR EACH STATEMENT EXECUTE FUNCTION task_list_versions_raise();
CREATE TRIGGER task_list_versions_update AFTER UPDATE ON tasks
  REFERENCING NEW TABLE AS changed_tasks FOR EACH STATEMENT EXECUTE FUNCTION task_list_versions_raise();
CREATE TRIGGER task_list_versions_delete AFTER DELETE ON tasks
  REFERENCING OLD TABLE AS changed_tasks FOR EACH STATEMENT EXECUTE FUNCTION task_list_versions_raise();

CREATE FUNCTION task_list_versions_raise_all() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO task_list_versions AS v (user_id, shard, version)
    SELECT id, (pg_backend_pid() % 64)::smallint, 1 FROM users ORDER BY id
    ON CONFLICT (user_id, shard) DO UPDATE SET version = v.version + 1;
  RETURN NULL;
END $$;

CREATE TRIGGER task_list_versions_truncate AFTER TRUNCATE ON tasks
  FOR EACH STATEMENT EXECUTE FUNCTION task_list_versions_raise_all();
