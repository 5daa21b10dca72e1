-- One index insertion fewer for each audit row and each outbox event, that is two a create (README "Benchmarks").
--
-- The audit trail is listed newest first by (at, id) within a user: a primary key on (user_id, at, id), scanned
-- backwards, serves the listing and its cursor, so the separate (user_id, at DESC, id DESC) index goes. id alone
-- is unique (bigserial), so the key is too.
ALTER TABLE audit_log DROP CONSTRAINT audit_log_pkey;
ALTER TABLE audit_log ADD PRIMARY KEY (user_id, at, id);
DROP INDEX audit_log_at_idx;

-- An event has no sequence until the relay numbers it (0006): the unique (user_id, sequence) index held an entry
-- for each unnumbered event, written at the INSERT and written again, numbered, by the relay's UPDATE. Only
-- numbered events need one; replay (sequence > n) and the oldest sequence (min) imply sequence IS NOT NULL.
ALTER TABLE outbox DROP CONSTRAINT outbox_user_id_sequence_key;
CREATE UNIQUE INDEX outbox_user_sequence_key ON outbox (user_id, sequence) WHERE sequence IS NOT NULL;
