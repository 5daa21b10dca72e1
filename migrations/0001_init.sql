-- Accounts and tasks. Every row carries user_id and unique keys include it, so the tables can be
-- distributed by user (Citus) without changing a query.
CREATE EXTENSION IF NOT EXISTS btree_gin;

CREATE TABLE users (
  id            uuid PRIMARY KEY,
  email         text NOT NULL,
  password_hash text NOT NULL,
  display_name  text NOT NULL DEFAULT '',
  timezone      text NOT NULL DEFAULT 'UTC',
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

-- priority: 0 none, 1 low, 2 medium, 3 high, 4 urgent (so that it sorts by importance).
CREATE TABLE tasks (
  user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  id           uuid NOT NULL,
  title        text NOT NULL,
  description  text NOT NULL DEFAULT '',
  status       text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done')),
  priority     smallint NOT NULL DEFAULT 0 CHECK (priority BETWEEN 0 AND 4),
  tags         text[] NOT NULL DEFAULT '{}',
  -- Finite: list queries sort undated tasks as +/-infinity (see the due indexes below).
  due_at       timestamptz CHECK (isfinite(due_at)),
  all_day      boolean NOT NULL DEFAULT false,
  timezone     text NOT NULL,
  recurrence   text,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  completed_at timestamptz,
  version      integer NOT NULL DEFAULT 1,
  search       tsvector GENERATED ALWAYS AS (
                 setweight(to_tsvector('simple', title), 'A') ||
                 setweight(to_tsvector('simple', description), 'B')) STORED,
  PRIMARY KEY (user_id, id)
);

-- One index per documented sort key, each ending in id (the tie-breaker of every sort and cursor).
-- due_at sorts undated tasks last either way, as coalesce(due_at, 'infinity') ascending and
-- coalesce(due_at, '-infinity') descending: list queries sort, filter and page on exactly these expressions
-- (a cursor is a row comparison on (expression, id), an index condition here).
CREATE INDEX tasks_due_asc_idx     ON tasks (user_id, coalesce(due_at, 'infinity'::timestamptz), id);
CREATE INDEX tasks_due_desc_idx    ON tasks (user_id, coalesce(due_at, '-infinity'::timestamptz) DESC, id DESC);
-- The most common list: open tasks by due date.
CREATE INDEX tasks_open_due_idx    ON tasks (user_id, coalesce(due_at, 'infinity'::timestamptz), id)
  WHERE status = 'open';
CREATE INDEX tasks_priority_idx    ON tasks (user_id, priority, id);
CREATE INDEX tasks_created_idx     ON tasks (user_id, created_at, id);
CREATE INDEX tasks_updated_idx     ON tasks (user_id, updated_at, id);
CREATE INDEX tasks_title_idx       ON tasks (user_id, title, id);
CREATE INDEX tasks_tags_idx        ON tasks USING gin (user_id, tags);
CREATE INDEX tasks_search_idx      ON tasks USING gin (user_id, search);
