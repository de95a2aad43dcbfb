-- 0009_bulk_batches (issue 6, bulk apply): one uploaded file of organization specs = one batch. Its items are
-- recorded (specs sealed) before any run starts, so the batch's progress and summary can be read from any process
-- later, and a start interrupted by a stopped process is taken over by another one (items are claimed under a lease).
CREATE TABLE bulk_batches (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  requested_by text NOT NULL,
  -- The uploaded file's name (or the CLI's path), for people to recognise the batch.
  source_name text NOT NULL,
  format text NOT NULL CHECK (format IN ('yaml', 'json', 'csv')),
  total int NOT NULL CHECK (total > 0),
  created_at timestamptz NOT NULL DEFAULT now(),
  -- Last sign of life of a process starting the batch's runs; a stale one lets another process take over.
  starter_seen_at timestamptz
);

CREATE INDEX bulk_batches_created ON bulk_batches (created_at DESC, id DESC);

CREATE TABLE bulk_batch_items (
  batch_id uuid NOT NULL REFERENCES bulk_batches (id),
  -- The document (YAML) or data row (CSV) order, from 0.
  position int NOT NULL CHECK (position >= 0),
  org_name text NOT NULL,
  -- waiting → starting (claimed until lease_until) → started (run_id) or refused (error: why no run was started).
  state text NOT NULL DEFAULT 'waiting' CHECK (state IN ('waiting', 'starting', 'started', 'refused')),
  -- The validated spec (secrets sealed) until its run is started or refused; the run keeps it from then on.
  spec jsonb,
  claimed_at timestamptz,
  lease_until timestamptz,
  run_id uuid REFERENCES runs (id),
  error text,
  decided_at timestamptz,
  PRIMARY KEY (batch_id, position),
  CONSTRAINT bulk_batch_items_run_iff_started CHECK ((state = 'started') = (run_id IS NOT NULL)),
  CONSTRAINT bulk_batch_items_spec_until_decided
    CHECK ((state IN ('waiting', 'starting')) = (spec IS NOT NULL))
);

-- One organization appears at most once per batch (validation refuses duplicates first).
CREATE UNIQUE INDEX bulk_batch_items_org ON bulk_batch_items (batch_id, org_name);
CREATE INDEX bulk_batch_items_open ON bulk_batch_items (batch_id, position) WHERE state IN ('waiting', 'starting');
