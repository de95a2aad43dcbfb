-- 0004_portal: what the portal and its HTTP API need — organization search at 100,000 rows, run cancellation,
-- audit filters, operator sessions and sign-in transactions, and a notification per run change for live progress.

-- Trigram search over name, display name and home-realm domains (pg_trgm is a trusted extension: a database owner
-- may create it without superuser rights).
CREATE EXTENSION IF NOT EXISTS pg_trgm;

ALTER TABLE organizations
  ADD COLUMN display_name text GENERATED ALWAYS AS (spec ->> 'displayName') STORED,
  ADD COLUMN isolation text GENERATED ALWAYS AS (coalesce(spec ->> 'isolation', 'shared')) STORED,
  ADD COLUMN search_text text GENERATED ALWAYS AS (
    lower(
      name || ' ' || coalesce(spec ->> 'displayName', '') || ' '
        || coalesce(jsonb_path_query_array(spec, '$.connections[*].domains[*]')::text, '')
    )
  ) STORED;

CREATE INDEX organizations_search ON organizations USING gin (search_text gin_trgm_ops);
CREATE INDEX organizations_isolation_name ON organizations (isolation, name);
CREATE INDEX organizations_status_isolation_name ON organizations (status, isolation, name);
-- Status and isolation are correlated in practice; without joint statistics the planner misjudges a rare pair and
-- walks the whole name index looking for matches.
CREATE STATISTICS organizations_status_isolation (dependencies, mcv) ON status, isolation FROM organizations;

-- Who asked to cancel a run; the executor sees it between steps and compensates what was done.
ALTER TABLE runs ADD COLUMN cancel_requested_by text;
CREATE INDEX runs_state_created ON runs (state, created_at DESC, id DESC);

CREATE INDEX audit_events_actor ON audit_events (actor, id DESC);
CREATE INDEX audit_events_at ON audit_events (at, id);

-- Operator sessions. The cookie holds a random token; only its sha256 is stored, so a database leak yields no
-- usable session.
CREATE TABLE portal_sessions (
  token_hash text PRIMARY KEY,
  subject text NOT NULL,
  email text,
  name text,
  roles text[] NOT NULL,
  csrf_token text NOT NULL,
  auth_time timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_seen_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX portal_sessions_last_seen ON portal_sessions (last_seen_at);

-- Sign-in transactions between /auth/login and /auth/callback (state → PKCE verifier, nonce, where to return).
-- Single use: the callback deletes the row it reads.
CREATE TABLE portal_logins (
  state text PRIMARY KEY,
  code_verifier text NOT NULL,
  nonce text NOT NULL,
  return_to text NOT NULL,
  max_age int,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Live progress across processes: every change of a run or of one of its steps notifies `orgadmin_runs` with the
-- run id (delivered at commit; duplicates within a transaction are folded by PostgreSQL).
CREATE FUNCTION orgadmin_notify_run() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_TABLE_NAME = 'runs' THEN
    PERFORM pg_notify('orgadmin_runs', NEW.id::text);
  ELSE
    PERFORM pg_notify('orgadmin_runs', NEW.run_id::text);
  END IF;
  RETURN NULL;
END;
$$;

CREATE TRIGGER runs_notify AFTER INSERT OR UPDATE ON runs
  FOR EACH ROW EXECUTE FUNCTION orgadmin_notify_run();
CREATE TRIGGER run_steps_notify AFTER INSERT OR UPDATE ON run_steps
  FOR EACH ROW EXECUTE FUNCTION orgadmin_notify_run();
