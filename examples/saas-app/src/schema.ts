/**
 * The SaaS app's own tables, in a schema of its own (so it can share a database with orgadmin without touching
 * orgadmin's tables). Created at start when missing: one idempotent migration, run under a lock so two app
 * processes starting at once do not race on `CREATE … IF NOT EXISTS`.
 */
import pg from 'pg';

export const DEFAULT_SCHEMA = 'saas_app';

/** Fully qualified, quoted names of the app's tables in `schema`. */
export interface Tables {
  organizations: string;
  processedWebhooks: string;
  eventsReceived: string;
}

export function tablesIn(schema: string): Tables {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new Error(`schema "${schema}" must be a lowercase SQL identifier (a-z, 0-9, "_")`);
  }
  const name = (table: string): string => `${pg.escapeIdentifier(schema)}.${pg.escapeIdentifier(table)}`;
  return {
    organizations: name('organizations'),
    processedWebhooks: name('processed_webhooks'),
    eventsReceived: name('events_received'),
  };
}

export async function migrateSchema(pool: pg.Pool, schema: string): Promise<void> {
  const tables = tablesIn(schema);
  const sequence = `${pg.escapeIdentifier(schema)}.${pg.escapeIdentifier('app_org_seq')}`;
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [
      `saas-app migrate ${schema}`,
    ]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${pg.escapeIdentifier(schema)}`);
    await client.query(`CREATE SEQUENCE IF NOT EXISTS ${sequence}`);
    await client.query(`
      CREATE TABLE IF NOT EXISTS ${tables.organizations} (
        org_name text PRIMARY KEY,
        app_org_id text NOT NULL UNIQUE DEFAULT ('app_' || nextval(${pg.escapeLiteral(sequence)})),
        display_name text NOT NULL,
        auth0_org_id text,
        state text NOT NULL CHECK (state IN ('provisioning', 'ready')),
        -- The run whose hook created the row: undoing that run removes it, undoing a later one must not.
        created_by_run text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await client.query(`
      CREATE TABLE IF NOT EXISTS ${tables.processedWebhooks} (
        webhook_id text PRIMARY KEY,
        status int NOT NULL,
        answer jsonb NOT NULL,
        at timestamptz NOT NULL DEFAULT now()
      )`);
    await client.query(`
      CREATE TABLE IF NOT EXISTS ${tables.eventsReceived} (
        seq bigserial PRIMARY KEY,
        webhook_id text NOT NULL UNIQUE,
        event_id bigint NOT NULL,
        type text NOT NULL,
        org_name text NOT NULL,
        run_state text,
        received_at timestamptz NOT NULL DEFAULT now()
      )`);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw new Error(`cannot create the SaaS app's schema "${schema}"`, { cause: error });
  } finally {
    client.release();
  }
}
