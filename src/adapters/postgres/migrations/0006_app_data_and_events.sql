-- 0006_app_data_and_events (issue 7): what the application's hooks return, kept per organization; and the
-- transactional outbox of lifecycle events with one delivery per subscribed hook, its attempts, and the state that
-- disables a hook whose endpoint keeps failing.

-- By hook name: the JSON object each hook returned (e.g. the application's own id for the organization).
ALTER TABLE organizations
  ADD COLUMN app_data jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(app_data) = 'object');

ALTER TABLE app_hooks
  -- Event types (or `organization.*`, `run.*`, `*`) the hook receives.
  ADD COLUMN events text[] NOT NULL DEFAULT '{}',
  ADD COLUMN consecutive_failures int NOT NULL DEFAULT 0 CHECK (consecutive_failures >= 0),
  ADD COLUMN failing_since timestamptz,
  -- Set when failures went on too long: deliveries wait (nothing is dropped) until the hook is enabled again.
  ADD COLUMN disabled_at timestamptz,
  ADD COLUMN disabled_reason text;
ALTER TABLE app_hooks DROP CONSTRAINT app_hooks_phases_check;
ALTER TABLE app_hooks ADD CONSTRAINT app_hooks_subscribes_to_something
  CHECK (cardinality(phases) + cardinality(events) > 0);

-- Written in the transaction that finishes a run, so an event exists exactly when its change does.
CREATE TABLE outbox_events (
  id bigserial PRIMARY KEY,
  type text NOT NULL,
  org_name text NOT NULL REFERENCES organizations (name),
  run_id uuid REFERENCES runs (id),
  -- Redacted: never a secret, not even sealed.
  payload jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX outbox_events_org ON outbox_events (org_name, id DESC);

-- One per (event, subscribed hook). Per hook and organization, only the oldest pending one is sent: that is the
-- per-organization order.
CREATE TABLE event_deliveries (
  event_id bigint NOT NULL REFERENCES outbox_events (id),
  hook_name text NOT NULL REFERENCES app_hooks (name) ON DELETE CASCADE,
  org_name text NOT NULL,
  state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered')),
  attempts int NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  -- A dispatcher holds the delivery until then; an expired lease (a crashed dispatcher) frees it again.
  leased_until timestamptz,
  last_status int,
  last_error text,
  delivered_at timestamptz,
  PRIMARY KEY (event_id, hook_name)
);
CREATE INDEX event_deliveries_queue ON event_deliveries (hook_name, org_name, event_id) WHERE state = 'pending';

-- The delivery log.
CREATE TABLE event_delivery_attempts (
  id bigserial PRIMARY KEY,
  event_id bigint NOT NULL,
  hook_name text NOT NULL,
  at timestamptz NOT NULL DEFAULT now(),
  status int,
  error text,
  duration_ms int NOT NULL CHECK (duration_ms >= 0),
  FOREIGN KEY (event_id, hook_name) REFERENCES event_deliveries (event_id, hook_name) ON DELETE CASCADE
);
CREATE INDEX event_delivery_attempts_delivery ON event_delivery_attempts (event_id, hook_name, id);
