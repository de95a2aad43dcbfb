/**
 * Per-test-file databases, cloned from the migrated template built by `test/global-setup-postgres.ts`.
 * Cloning takes milliseconds and gives every file an isolated, fully migrated schema, so test files can run
 * in parallel without cleaning up after each other.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { databaseUrlFor } from '../../src/adapters/postgres/database.js';
import type { TestPostgres } from '../global-setup-postgres.js';

export interface TestDatabase {
  pool: pg.Pool;
  url: string;
  name: string;
  /** Ends the pool and drops the database (terminating any other session still on it). Idempotent. */
  drop(): Promise<void>;
}

export interface CreateTestDatabaseOptions {
  /** Start from an empty database (`template0`) instead of the migrated template, e.g. to test migrations. */
  empty?: boolean;
}

let created = 0;

export function testPostgres(): TestPostgres {
  return inject('orgadminPostgres');
}

export async function createTestDatabase(options: CreateTestDatabaseOptions = {}): Promise<TestDatabase> {
  const { adminUrl, templateDatabase, databasePrefix } = testPostgres();
  created += 1;
  const name = `${databasePrefix}${process.pid}_${created}_${randomBytes(3).toString('hex')}`;
  const template = options.empty ? 'template0' : templateDatabase;
  await withAdmin(adminUrl, (admin) =>
    admin.query(`CREATE DATABASE ${pg.escapeIdentifier(name)} TEMPLATE ${pg.escapeIdentifier(template)}`),
  );
  const url = databaseUrlFor(adminUrl, name);
  const pool = new pg.Pool({ connectionString: url });
  // Dropping the database terminates idle pool connections; that must not crash the test process.
  pool.on('error', () => undefined);
  let dropping: Promise<void> | undefined;
  const drop = async (): Promise<void> => {
    await pool.end();
    await withAdmin(adminUrl, (admin) =>
      admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`),
    );
  };
  return { pool, url, name, drop: () => (dropping ??= drop()) };
}

async function withAdmin<T>(adminUrl: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}
