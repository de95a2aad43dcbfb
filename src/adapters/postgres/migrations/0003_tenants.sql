-- The registry of Auth0 tenants organizations can live in (isolation: dedicated-tenant). The client secret is
-- stored sealed by the application's secret box (AES-256-GCM), never in clear.
CREATE TABLE tenants (
  name text PRIMARY KEY CHECK (name ~ '^[a-z0-9][a-z0-9_-]{0,99}$'),
  domain text NOT NULL UNIQUE,
  client_id text NOT NULL,
  client_secret_sealed text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Registering a tenant is audited too, and concerns no organization.
ALTER TABLE audit_events ALTER COLUMN org_name DROP NOT NULL;
