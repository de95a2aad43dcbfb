/**
 * Opens orgadmin's database: the one at `databaseUrl` when given (nothing is embedded), otherwise the
 * `orgadmin` database on the embedded server shared by every orgadmin process using the same home.
 * Migrations run on every open, so callers always see the schema this code expects.
 */
import pg from 'pg';
import { startOrJoinEmbeddedPostgres, type EmbeddedPostgresHandle, type Log } from './embedded-server.js';
import { migrate } from './migrate.js';

export const EMBEDDED_DATABASE_NAME = 'orgadmin';

export interface OpenDatabaseOptions {
  /** orgadmin home folder (embedded server state lives in `<home>/postgres/`). */
  home: string;
  /** Use this server/database instead of the embedded one. */
  databaseUrl?: string;
  log?: Log;
}

export interface Database {
  pool: pg.Pool;
  url: string;
  /** Ends the pool, then leaves the embedded server (stopping it if this was its last user). Idempotent. */
  close(): Promise<void>;
}

export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  const log = options.log ?? (() => undefined);
  if (options.databaseUrl !== undefined)
    return openMigrated(options.databaseUrl, log, () => Promise.resolve());
  const server = await startOrJoinEmbeddedPostgres({ home: options.home, log });
  try {
    await ensureDatabaseExists(server.url, EMBEDDED_DATABASE_NAME);
    return await openMigrated(databaseUrlFor(server.url, EMBEDDED_DATABASE_NAME), log, () =>
      server.release(),
    );
  } catch (error) {
    await releaseQuietly(server, log);
    throw error;
  }
}

/** The same server URL pointing at another database (credentials and query parameters kept). */
export function databaseUrlFor(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${encodeURIComponent(database)}`;
  return url.toString();
}

/** Creates `name` unless it exists; safe when several processes race to create it. */
export async function ensureDatabaseExists(adminUrl: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  client.on('error', () => undefined);
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount) return;
    await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
  } catch (error) {
    // Lost the race: 42P04 duplicate_database, or 23505 when both inserted into pg_database at once.
    const code = error instanceof Error && 'code' in error ? error.code : undefined;
    if (code !== '42P04' && code !== '23505') {
      throw new Error(`Cannot create database ${name}`, { cause: error });
    }
  } finally {
    await client.end();
  }
}

async function openMigrated(url: string, log: Log, onClose: () => Promise<void>): Promise<Database> {
  const pool = new pg.Pool({ connectionString: url });
  // Without a listener, an idle connection dropped by the server would crash the process.
  pool.on('error', (error) => log(`postgres pool: idle connection error: ${error.message}`));
  try {
    await migrate(pool, { log });
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw error;
  }
  let closing: Promise<void> | undefined;
  const close = async (): Promise<void> => {
    try {
      await pool.end();
    } finally {
      await onClose();
    }
  };
  return { pool, url, close: () => (closing ??= close()) };
}

async function releaseQuietly(server: EmbeddedPostgresHandle, log: Log): Promise<void> {
  try {
    await server.release();
  } catch (error) {
    log(`could not leave the embedded server: ${error instanceof Error ? error.message : String(error)}`);
  }
}
