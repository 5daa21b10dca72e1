-- GET /reminders lists a user's reminders by fire time, those without one last: (coalesce(fire_at, 'infinity'),
-- id), the order and the cursor of reminders_list (src/reminders/repository.cpp). No index had that order, so each
-- page read and sorted every reminder of the user, the delivered ones included (100 000 rows and 140 ms for a
-- page of 50). ?upcoming=true has its own statement, on reminders_upcoming_idx.
CREATE INDEX reminders_list_idx ON reminders (user_id, coalesce(fire_at, 'infinity'::timestamptz), id);
