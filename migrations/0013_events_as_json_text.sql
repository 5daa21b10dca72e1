-- Event and audit documents are stored as the text the server wrote (json), not decomposed (jsonb): nothing
-- queries into them, and each was parsed into jsonb when inserted, rewritten whole when the relay set its
-- sequence, and written back out as text whenever it was read. The sequence is in the `sequence` column only;
-- the server puts it into the document it publishes (events::numbered_cloudevent).
ALTER TABLE outbox ALTER COLUMN event TYPE json USING (event - 'sequence')::json;
ALTER TABLE audit_log ALTER COLUMN changes DROP DEFAULT;
ALTER TABLE audit_log ALTER COLUMN changes TYPE json USING changes::json;
ALTER TABLE audit_log ALTER COLUMN changes SET DEFAULT '{}';

-- The events as published (Kafka, the bus, replay): the stored document with its number first, as the server
-- builds it. For operators and tools: SELECT event FROM outbox_events WHERE user_id = … ORDER BY sequence.
CREATE VIEW outbox_events AS
SELECT id, event_id, user_id, sequence, lane, type, subject,
       CASE WHEN sequence IS NULL THEN event
            ELSE ('{"sequence":' || sequence || ',' || substr(event::text, 2))::json END AS event,
       created_at, published_at
FROM outbox;
