/**
 * The `GitopsState` port on PostgreSQL (schema: `migrations/0010_gitops.sql`): keyword secrets sealed with the
 * secret box, deployments per environment, and advisory locks for deployments and commits.
 */
import type pg from 'pg';

import type { Deployment, GitopsState } from '../../ports/gitops-state.js';
import { withAdvisoryLock } from './advisory-lock.js';
import type { SecretBox } from './secret-box.js';

/** First keys of the GitOps advisory locks ('orgd' deploy, 'orgg' commit in ASCII). */
const DEPLOY_LOCK_NAMESPACE = 0x6f726764;
const COMMIT_LOCK_NAMESPACE = 0x6f726767;

type DeploymentRow = {
  id: string;
  env: string;
  from_revision: string | null;
  to_revision: string;
  state: Deployment['state'];
  requested_by: string;
  runs: Record<string, string>;
  summary: string | null;
  started_at: Date;
  finished_at: Date | null;
};

const toDeployment = (row: DeploymentRow): Deployment => ({
  id: String(row.id),
  env: row.env,
  fromRevision: row.from_revision ?? undefined,
  toRevision: row.to_revision,
  state: row.state,
  requestedBy: row.requested_by,
  runs: row.runs,
  summary: row.summary ?? undefined,
  startedAt: row.started_at,
  finishedAt: row.finished_at ?? undefined,
});

export function createPostgresGitopsState(pool: pg.Pool, options: { secrets: SecretBox }): GitopsState {
  return {
    async saveSecrets(orgName, secrets) {
      const keywords = Object.keys(secrets);
      if (keywords.length === 0) return [];
      const { rows } = await pool.query<{ keyword: string; value_sealed: string }>(
        'SELECT keyword, value_sealed FROM gitops_secrets WHERE keyword = ANY($1::text[])',
        [keywords],
      );
      const stored = new Map(rows.map((row) => [row.keyword, options.secrets.open(row.value_sealed)]));
      const changed = keywords.filter((keyword) => stored.get(keyword) !== secrets[keyword]);
      if (changed.length === 0) return [];
      await pool.query(
        `INSERT INTO gitops_secrets (keyword, org_name, value_sealed, deploy_pending)
         SELECT keyword, $1, sealed, true FROM unnest($2::text[], $3::text[]) AS t(keyword, sealed)
         ON CONFLICT (keyword) DO UPDATE
           SET org_name = EXCLUDED.org_name, value_sealed = EXCLUDED.value_sealed, deploy_pending = true,
               updated_at = now()`,
        [orgName, changed, changed.map((keyword) => options.secrets.seal(secrets[keyword]!))],
      );
      return changed;
    },

    async organizationsWithPendingSecrets() {
      const { rows } = await pool.query<{ org_name: string }>(
        'SELECT DISTINCT org_name FROM gitops_secrets WHERE deploy_pending ORDER BY org_name',
      );
      return rows.map((row) => row.org_name);
    },

    async settleSecrets(orgNames) {
      if (orgNames.length === 0) return;
      await pool.query('UPDATE gitops_secrets SET deploy_pending = false WHERE org_name = ANY($1::text[])', [
        orgNames,
      ]);
    },

    async secrets(keywords) {
      if (keywords.length === 0) return {};
      const { rows } = await pool.query<{ keyword: string; value_sealed: string }>(
        'SELECT keyword, value_sealed FROM gitops_secrets WHERE keyword = ANY($1::text[])',
        [keywords],
      );
      return Object.fromEntries(rows.map((row) => [row.keyword, options.secrets.open(row.value_sealed)]));
    },

    async deployedRevision(env) {
      const { rows } = await pool.query<{ to_revision: string }>(
        `SELECT to_revision FROM gitops_deployments WHERE env = $1 AND state = 'succeeded' ORDER BY id DESC LIMIT 1`,
        [env],
      );
      return rows[0]?.to_revision;
    },

    async listDeployments(filter) {
      const limit = Math.max(1, Math.min(filter.limit ?? 50, 1000));
      const { rows } = await pool.query<DeploymentRow>(
        `SELECT * FROM gitops_deployments WHERE ($1::text IS NULL OR env = $1) ORDER BY id DESC LIMIT $2`,
        [filter.env ?? null, limit],
      );
      return rows.map(toDeployment);
    },

    async startDeployment(input) {
      const { rows } = await pool.query<DeploymentRow>(
        `INSERT INTO gitops_deployments (env, from_revision, to_revision, state, requested_by)
         VALUES ($1, $2, $3, 'running', $4) RETURNING *`,
        [input.env, input.fromRevision ?? null, input.toRevision, input.requestedBy],
      );
      return toDeployment(rows[0]!);
    },

    async recordDeploymentRuns(id, runs) {
      await pool.query('UPDATE gitops_deployments SET runs = runs || $2::jsonb WHERE id = $1', [
        id,
        JSON.stringify(runs),
      ]);
    },

    async finishDeployment(id, state, summary) {
      await pool.query(
        `UPDATE gitops_deployments SET state = $2, summary = $3, finished_at = now() WHERE id = $1`,
        [id, state, summary],
      );
    },

    tryWithDeployLock: (env, fn) => withAdvisoryLock(pool, DEPLOY_LOCK_NAMESPACE, env, fn, { wait: false }),

    async withCommitLock(repository, fn) {
      const locked = await withAdvisoryLock(pool, COMMIT_LOCK_NAMESPACE, repository, fn);
      return locked!.value;
    },
  };
}
