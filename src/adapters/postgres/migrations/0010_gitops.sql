-- 0010_gitops: GitOps mode (issue 5). Secrets a repository names by deploy-cli keyword (never committed), sealed by
-- the secret box; and the deployments of the repository to this installation's tenant, per environment name.
CREATE TABLE gitops_secrets (
  keyword text PRIMARY KEY CHECK (keyword ~ '^[A-Za-z0-9_]{1,200}$'),
  org_name text NOT NULL,
  value_sealed text NOT NULL,
  -- Set when the value changed: secrets are not in the repository, so the next deployment must visit the
  -- organization even though none of its files changed. Cleared when a deployment of it succeeds.
  deploy_pending boolean NOT NULL DEFAULT true,
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE gitops_deployments (
  id bigserial PRIMARY KEY,
  env text NOT NULL CHECK (env ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
  from_revision text,
  to_revision text NOT NULL,
  state text NOT NULL CHECK (state IN ('running', 'succeeded', 'failed')),
  requested_by text NOT NULL,
  -- Organization name → run id, as the deployment created them: what a resumed deployment waits for.
  runs jsonb NOT NULL DEFAULT '{}'::jsonb,
  summary text,
  started_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz
);
CREATE INDEX gitops_deployments_env ON gitops_deployments (env, id DESC);
