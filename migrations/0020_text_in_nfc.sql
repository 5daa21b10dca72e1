-- The server stores titles, descriptions and tags in Unicode Normalization Form C ("e" + U+0301 is "é"), and
-- normalises searches and tag filters the same way: rows written before in another form are normalised once,
-- so that they are found. A task's tags that become equal are kept once, in their order. The version and
-- updated_at stay (what the API shows looks the same); the list versions move with the rows (their trigger),
-- so no kept list page shows the old form. normalize() needs a UTF8 database; one in another encoding holds
-- no such text.
DO $$
BEGIN
  IF current_setting('server_encoding') <> 'UTF8' THEN
    RETURN;
  END IF;
  UPDATE tasks SET title = normalize(title, NFC) WHERE title IS NOT NFC NORMALIZED;
  UPDATE tasks SET description = normalize(description, NFC) WHERE description IS NOT NFC NORMALIZED;
  UPDATE tasks
     SET tags = ARRAY(SELECT n FROM (SELECT normalize(t, NFC) AS n, min(o) AS first
                                       FROM unnest(tags) WITH ORDINALITY AS u(t, o) GROUP BY 1) x
                       ORDER BY first)
   WHERE EXISTS (SELECT 1 FROM unnest(tags) AS t WHERE t IS NOT NFC NORMALIZED);
END $$;
