-- Event sequence numbers are given by the relay when it claims committed events, not by the writing transaction:
-- a user's writers no longer queue on one row lock until their commits are flushed. An event is unnumbered
-- (sequence NULL) until claimed; readers (replay, resume) see only numbered events.
ALTER TABLE outbox ALTER COLUMN sequence DROP NOT NULL;
COMMENT ON TABLE user_event_sequences IS 'The last event sequence number the relay gave each user.';
