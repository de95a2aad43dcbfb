-- 0002_organizations_runs: the engine's durable state (see src/ports/store.ts): organizations, runs and their step
-- journal, the append-only audit trail, and the desired URL lists of shared clients.
-- Secrets never appear in clear in any jsonb column: the store replaces them by {"$sealed": "v1:..."} (AES-256-GCM).

CREATE TABLE organizations (
  name text PRIMARY KEY,
  tenant text NOT NULL,
  status text NOT NULL CHECK (status IN ('provisioning', 'active', 'failed', 'removing', 'removed')),
  -- The latest desired spec (secrets sealed).
  spec jsonb NOT NULL,
  -- The spec last applied successfully (secrets sealed); NULL until the first run succeeds and after a removal.
  applied_spec jsonb,
  -- Ids of the Auth0 objects orgadmin owns for this organization (`organization`, `connection:<name>`, ...).
  auth0_ids jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(auth0_ids) = 'object'),
  last_run_id uuid,
  error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX organizations_status_name ON organizations (status, name);

CREATE TABLE runs (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  org_name text NOT NULL REFERENCES organizations (name),
  tenant text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('apply', 'remove')),
  state text NOT NULL DEFAULT 'pending'
    CHECK (state IN ('pending', 'running', 'succeeded', 'compensating', 'failed')),
  requested_by text NOT NULL,
  -- The desired spec of an apply (secrets sealed); NULL for a removal.
  desired jsonb,
  error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  started_at timestamptz,
  finished_at timestamptz,
  CONSTRAINT runs_desired_iff_apply CHECK ((kind = 'apply') = (desired IS NOT NULL)),
  CONSTRAINT runs_finished_at_iff_finished
    CHECK ((finished_at IS NOT NULL) = (state IN ('succeeded', 'failed')))
);

ALTER TABLE organizations
  ADD CONSTRAINT organizations_last_run_id_fkey FOREIGN KEY (last_run_id) REFERENCES runs (id);

-- At most one unfinished run per organization: the store maps a violation to a run conflict.
CREATE UNIQUE INDEX runs_one_unfinished_per_org ON runs (org_name)
  WHERE state IN ('pending', 'running', 'compensating');
CREATE INDEX runs_unfinished_created ON runs (created_at, id)
  WHERE state IN ('pending', 'running', 'compensating');
CREATE INDEX runs_org_created ON runs (org_name, created_at DESC, id DESC);
CREATE INDEX runs_created ON runs (created_at DESC, id DESC);

CREATE TABLE run_steps (
  run_id uuid NOT NULL REFERENCES runs (id),
  index int NOT NULL CHECK (index >= 0),
  phase text NOT NULL CHECK (phase IN ('forward', 'compensation')),
  -- The planned step (secrets in connection options sealed).
  step jsonb NOT NULL,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'started', 'done', 'failed', 'skipped')),
  attempts int NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  outcome jsonb CHECK (outcome IS NULL OR jsonb_typeof(outcome) = 'object'),
  last_error text,
  started_at timestamptz,
  finished_at timestamptz,
  PRIMARY KEY (run_id, index)
);

CREATE TABLE audit_events (
  id bigserial PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT now(),
  actor text NOT NULL,
  action text NOT NULL,
  org_name text NOT NULL REFERENCES organizations (name),
  run_id uuid REFERENCES runs (id),
  -- Redacted: never a secret, not even sealed.
  before jsonb,
  after jsonb
);

CREATE INDEX audit_events_org ON audit_events (org_name, id DESC);

-- The audit trail is append-only: rows are never changed or deleted, whoever asks.
CREATE FUNCTION audit_events_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_events is append-only: % is not allowed', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER audit_events_no_update_or_delete
  BEFORE UPDATE OR DELETE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();

CREATE TRIGGER audit_events_no_truncate
  BEFORE TRUNCATE ON audit_events
  FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();

-- What each organization wants on a shared client's URL lists; `pending` until a reconciliation applied it.
CREATE TABLE client_url_intents (
  tenant text NOT NULL,
  client_name text NOT NULL,
  org_name text NOT NULL REFERENCES organizations (name),
  add jsonb NOT NULL,
  remove jsonb NOT NULL,
  state text NOT NULL CHECK (state IN ('pending', 'settled')),
  -- Bumped on every change, so a reconciliation settles only the intents it read.
  revision bigint NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant, client_name, org_name)
);

CREATE INDEX client_url_intents_pending ON client_url_intents (tenant, client_name)
  WHERE state = 'pending';
