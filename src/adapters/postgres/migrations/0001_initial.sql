-- 0001_initial: the first schema object, so a fresh database has something to prove migrations ran.
-- Landed migrations are never edited (their checksum is recorded); add a new numbered file instead.

-- Small key/value store for facts about the database itself (e.g. when it was created, by which version).
CREATE TABLE orgadmin_meta (
  key text PRIMARY KEY,
  value jsonb NOT NULL
);

INSERT INTO orgadmin_meta (key, value) VALUES ('created_at', to_jsonb(now()));
