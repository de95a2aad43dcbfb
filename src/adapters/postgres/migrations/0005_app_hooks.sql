-- 0005_app_hooks: the SaaS application's hook endpoints (issue 7). The signing secret is stored sealed by the
-- application's secret box (AES-256-GCM) and never read back except to sign a delivery.
CREATE TABLE app_hooks (
  name text PRIMARY KEY CHECK (name ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
  url text NOT NULL,
  phases text[] NOT NULL CHECK (cardinality(phases) > 0),
  allow_private_network boolean NOT NULL DEFAULT false,
  secret_sealed text NOT NULL,
  created_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
