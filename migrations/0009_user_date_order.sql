-- How the chat reads a numeric date like "3/5": mdy = March 5 (the default), dmy = 3 May.
ALTER TABLE users ADD COLUMN date_order text NOT NULL DEFAULT 'mdy' CHECK (date_order IN ('mdy', 'dmy'));
