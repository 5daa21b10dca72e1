-- Chat conversations: the last turns, the open question (a choice among candidates, a confirmation) and the
-- actions that undo can revert. A conversation expires `expires_at` (its last turn + TODO_CHAT_TTL_S, 24 h by
-- default): expired rows are treated as absent by every query and pruned when conversations are written.
CREATE TABLE chat_conversations (
  user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  id         uuid NOT NULL,
  turns      jsonb NOT NULL DEFAULT '[]',  -- [{role: user|assistant, text, at}], the last 20
  pending    jsonb,                        -- the open question, or null
  actions    jsonb NOT NULL DEFAULT '[]',  -- undo stack of executed changes, the last 20, newest last
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (user_id, id)
);
-- Housekeeping: the bounded DELETE of expired conversations walks this index.
CREATE INDEX chat_conversations_expires_idx ON chat_conversations (expires_at);
