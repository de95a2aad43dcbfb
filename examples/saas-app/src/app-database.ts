/**
 * Every SQL statement of the SaaS app: its organizations, the idempotency table and the events it received.
 *
 * Idempotency: `processOnce` claims a webhook-id by inserting it into `processed_webhooks` at the start of the
 * transaction that does the work, and stores the answer in the same transaction. A repeat (orgadmin retrying after a
 * timeout or a lost answer) finds the row and gets the stored answer with nothing done again; a repeat arriving while
 * the first delivery is still working waits on that row's unique index until the first commits (then it finds the
 * answer) or rolls back (then it does the work itself). Work that fails rolls back its claim with it.
 */
import pg from 'pg';

import { migrateSchema, tablesIn, type Tables } from './schema.js';

export interface AppOrganization {
  orgName: string;
  appOrgId: string;
  displayName: string;
  auth0OrgId: string | null;
  state: 'provisioning' | 'ready';
  createdAt: Date;
  updatedAt: Date;
}

export interface ReceivedEvent {
  seq: number;
  webhookId: string;
  /** orgadmin's event id (a bigint, kept as its decimal string). */
  eventId: string;
  type: string;
  orgName: string;
  runState: string | null;
  receivedAt: Date;
}

/** What the app answers a message with: an HTTP status and a JSON object. */
export interface Answer {
  status: number;
  body: Record<string, unknown>;
}

/** The row changes a message may make, all inside its `processOnce` transaction. */
export interface Changes {
  /** Creates the row (state provisioning) or renames an existing one; returns its app id. */
  provision(orgName: string, displayName: string, runId: string): Promise<string>;
  /** Records the Auth0 organization and marks the row ready (creating it if an earlier hook did not). */
  markReady(orgName: string, displayName: string, auth0OrgId: string, runId: string): Promise<string>;
  /** Deletes the row only if `runId` created it: undoing a change to an older organization must keep it. */
  deleteCreatedBy(orgName: string, runId: string): Promise<void>;
  delete(orgName: string): Promise<void>;
  /** Applies an organization.created/updated event: the event carries the organization as orgadmin has it. */
  syncFromEvent(orgName: string, displayName: string, auth0OrgId: string | undefined): Promise<void>;
  /** Appends the event; false when this webhook-id was received before. */
  recordEvent(event: {
    webhookId: string;
    eventId: string;
    type: string;
    orgName: string;
    runState: string | null;
  }): Promise<boolean>;
}

export interface AppDatabase {
  processOnce(
    webhookId: string,
    work: (changes: Changes) => Promise<Answer>,
  ): Promise<Answer & { repeated: boolean }>;
  organizations(): Promise<AppOrganization[]>;
  /** An organization by its orgadmin name or its Auth0 organization id (invitation links carry the id). */
  findOrganization(nameOrAuth0Id: string): Promise<AppOrganization | undefined>;
  eventsReceived(): Promise<ReceivedEvent[]>;
  close(): Promise<void>;
}

interface OrganizationRow {
  org_name: string;
  app_org_id: string;
  display_name: string;
  auth0_org_id: string | null;
  state: 'provisioning' | 'ready';
  created_at: Date;
  updated_at: Date;
}

interface EventRow {
  seq: string;
  webhook_id: string;
  event_id: string;
  type: string;
  org_name: string;
  run_state: string | null;
  received_at: Date;
}

const ORGANIZATION_COLUMNS =
  'org_name, app_org_id, display_name, auth0_org_id, state, created_at, updated_at';

export async function openAppDatabase(options: {
  databaseUrl: string;
  schema: string;
  log: (line: string) => void;
}): Promise<AppDatabase> {
  const tables = tablesIn(options.schema);
  const pool = new pg.Pool({ connectionString: options.databaseUrl, max: 5 });
  // Without a listener, an idle connection the server drops would crash the process.
  pool.on('error', (error) => options.log(`database: idle connection error: ${error.message}`));
  try {
    await migrateSchema(pool, options.schema);
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw error;
  }

  let closing: Promise<void> | undefined;
  return {
    async processOnce(webhookId, work) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const claim = await client.query(
          `INSERT INTO ${tables.processedWebhooks} (webhook_id, status, answer) VALUES ($1, 0, '{}')
           ON CONFLICT (webhook_id) DO NOTHING`,
          [webhookId],
        );
        if (claim.rowCount === 0) {
          const stored = await client.query<{ status: number; answer: Record<string, unknown> }>(
            `SELECT status, answer FROM ${tables.processedWebhooks} WHERE webhook_id = $1`,
            [webhookId],
          );
          await client.query('COMMIT');
          const row = stored.rows[0];
          if (!row) throw new Error(`webhook ${webhookId} was claimed but has no stored answer`);
          return { status: row.status, body: row.answer, repeated: true };
        }
        const answer = await work(changesIn(client, tables));
        await client.query(
          `UPDATE ${tables.processedWebhooks} SET status = $2, answer = $3 WHERE webhook_id = $1`,
          [webhookId, answer.status, JSON.stringify(answer.body)],
        );
        await client.query('COMMIT');
        return { ...answer, repeated: false };
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },

    async organizations() {
      const { rows } = await pool.query<OrganizationRow>(
        `SELECT ${ORGANIZATION_COLUMNS} FROM ${tables.organizations} ORDER BY created_at, org_name`,
      );
      return rows.map(organizationOf);
    },

    async findOrganization(nameOrAuth0Id) {
      const { rows } = await pool.query<OrganizationRow>(
        `SELECT ${ORGANIZATION_COLUMNS} FROM ${tables.organizations}
         WHERE org_name = $1 OR auth0_org_id = $1 ORDER BY org_name = $1 DESC LIMIT 1`,
        [nameOrAuth0Id],
      );
      return rows[0] ? organizationOf(rows[0]) : undefined;
    },

    async eventsReceived() {
      const { rows } = await pool.query<EventRow>(
        `SELECT seq, webhook_id, event_id, type, org_name, run_state, received_at
         FROM ${tables.eventsReceived} ORDER BY seq`,
      );
      return rows.map((row) => ({
        seq: Number(row.seq),
        webhookId: row.webhook_id,
        eventId: row.event_id,
        type: row.type,
        orgName: row.org_name,
        runState: row.run_state,
        receivedAt: row.received_at,
      }));
    },

    close: () => (closing ??= pool.end()),
  };
}

function changesIn(client: pg.PoolClient, tables: Tables): Changes {
  const appOrgIdOf = (result: pg.QueryResult<{ app_org_id: string }>): string => {
    const row = result.rows[0];
    if (!row) throw new Error('the organization row was not written');
    return row.app_org_id;
  };
  return {
    async provision(orgName, displayName, runId) {
      return appOrgIdOf(
        await client.query(
          `INSERT INTO ${tables.organizations} (org_name, display_name, state, created_by_run)
           VALUES ($1, $2, 'provisioning', $3)
           ON CONFLICT (org_name) DO UPDATE SET display_name = EXCLUDED.display_name, updated_at = now()
           RETURNING app_org_id`,
          [orgName, displayName, runId],
        ),
      );
    },

    async markReady(orgName, displayName, auth0OrgId, runId) {
      return appOrgIdOf(
        await client.query(
          `INSERT INTO ${tables.organizations} (org_name, display_name, auth0_org_id, state, created_by_run)
           VALUES ($1, $2, $3, 'ready', $4)
           ON CONFLICT (org_name) DO UPDATE SET display_name = EXCLUDED.display_name,
             auth0_org_id = EXCLUDED.auth0_org_id, state = 'ready', updated_at = now()
           RETURNING app_org_id`,
          [orgName, displayName, auth0OrgId, runId],
        ),
      );
    },

    async deleteCreatedBy(orgName, runId) {
      await client.query(`DELETE FROM ${tables.organizations} WHERE org_name = $1 AND created_by_run = $2`, [
        orgName,
        runId,
      ]);
    },

    async delete(orgName) {
      await client.query(`DELETE FROM ${tables.organizations} WHERE org_name = $1`, [orgName]);
    },

    async syncFromEvent(orgName, displayName, auth0OrgId) {
      // Ready once the Auth0 organization is known; an event without that id keeps what the row had.
      await client.query(
        `INSERT INTO ${tables.organizations} AS existing (org_name, display_name, auth0_org_id, state)
         VALUES ($1, $2, $3::text, CASE WHEN $3::text IS NULL THEN 'provisioning' ELSE 'ready' END)
         ON CONFLICT (org_name) DO UPDATE SET display_name = EXCLUDED.display_name,
           auth0_org_id = COALESCE(EXCLUDED.auth0_org_id, existing.auth0_org_id),
           state = CASE WHEN EXCLUDED.auth0_org_id IS NULL THEN existing.state ELSE 'ready' END,
           updated_at = now()`,
        [orgName, displayName, auth0OrgId ?? null],
      );
    },

    async recordEvent(event) {
      const result = await client.query(
        `INSERT INTO ${tables.eventsReceived} (webhook_id, event_id, type, org_name, run_state)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (webhook_id) DO NOTHING`,
        [event.webhookId, event.eventId, event.type, event.orgName, event.runState],
      );
      return result.rowCount === 1;
    },
  };
}

function organizationOf(row: OrganizationRow): AppOrganization {
  return {
    orgName: row.org_name,
    appOrgId: row.app_org_id,
    displayName: row.display_name,
    auth0OrgId: row.auth0_org_id,
    state: row.state,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
