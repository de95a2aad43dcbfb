/**
 * The `AppHookStore` port on PostgreSQL (schema: `migrations/0005_app_hooks.sql`): secrets sealed with the secret
 * box, every change in the audit trail (without the secret).
 */
import type pg from 'pg';

import type { HookPhase } from '../../domain/app-hooks.js';
import { OrgadminError } from '../../domain/errors.js';
import type { AppHook, AppHookStore } from '../../ports/app-hooks.js';
import type { SecretBox } from './secret-box.js';
import { transaction } from './transaction.js';

type HookRow = {
  name: string;
  url: string;
  phases: HookPhase[];
  events: string[];
  allow_private_network: boolean;
  disabled_at: Date | null;
  disabled_reason: string | null;
  secret_sealed: string;
  created_by: string;
  created_at: Date;
};

const toHook = (row: HookRow): AppHook => ({
  name: row.name,
  url: row.url,
  phases: row.phases,
  events: row.events,
  allowPrivateNetwork: row.allow_private_network,
  disabled: row.disabled_at ? { at: row.disabled_at, reason: row.disabled_reason ?? '' } : undefined,
  createdBy: row.created_by,
  createdAt: row.created_at,
});

const audit = (client: pg.ClientBase, actor: string, action: string, before: unknown, after: unknown) =>
  client.query(
    `INSERT INTO audit_events (actor, action, org_name, run_id, before, after) VALUES ($1, $2, NULL, NULL, $3, $4)`,
    [actor, action, JSON.stringify(before), JSON.stringify(after)],
  );

export function createPostgresAppHooks(pool: pg.Pool, options: { secrets: SecretBox }): AppHookStore {
  return {
    addHook: (hook, actor) =>
      transaction(pool, async (client) => {
        const { rows } = await client.query<HookRow>(
          `INSERT INTO app_hooks (name, url, phases, events, allow_private_network, secret_sealed, created_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (name) DO NOTHING RETURNING *`,
          [
            hook.name,
            hook.url,
            hook.phases,
            hook.events,
            hook.allowPrivateNetwork,
            options.secrets.seal(hook.secret),
            actor,
          ],
        );
        if (!rows[0])
          throw new OrgadminError('hook.exists', `A hook named ${hook.name} exists; remove it first.`);
        const added = toHook(rows[0]);
        await audit(client, actor, 'hook.added', null, { ...added, secret: '(set)' });
        return added;
      }),

    async listHooks() {
      const { rows } = await pool.query<HookRow>('SELECT * FROM app_hooks ORDER BY name');
      return rows.map(toHook);
    },

    async getHook(name) {
      const { rows } = await pool.query<HookRow>('SELECT * FROM app_hooks WHERE name = $1', [name]);
      return rows[0] ? toHook(rows[0]) : undefined;
    },

    async hookSecret(name) {
      const { rows } = await pool.query<HookRow>('SELECT secret_sealed FROM app_hooks WHERE name = $1', [
        name,
      ]);
      return rows[0] ? options.secrets.open(rows[0].secret_sealed) : undefined;
    },

    removeHook: (name, actor) =>
      transaction(pool, async (client) => {
        const { rows } = await client.query<HookRow>('DELETE FROM app_hooks WHERE name = $1 RETURNING *', [
          name,
        ]);
        if (!rows[0]) return false;
        await audit(client, actor, 'hook.removed', { ...toHook(rows[0]), secret: '(set)' }, null);
        return true;
      }),

    enableHook: (name, actor) =>
      transaction(pool, async (client) => {
        const { rows } = await client.query<HookRow>(
          `UPDATE app_hooks SET disabled_at = NULL, disabled_reason = NULL, consecutive_failures = 0,
             failing_since = NULL WHERE name = $1 RETURNING *`,
          [name],
        );
        if (!rows[0]) return false;
        // What waited goes out now, not at the end of its last backoff.
        await client.query(
          `UPDATE event_deliveries SET next_attempt_at = now() WHERE hook_name = $1 AND state = 'pending'`,
          [name],
        );
        await audit(client, actor, 'hook.enabled', null, { name });
        return true;
      }),
  };
}
