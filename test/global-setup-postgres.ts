/**
 * Vitest globalSetup for PostgreSQL: ONE server per test run, a migrated template database on it, and the
 * admin URL handed to test files (`inject('orgadminPostgres')`), which clone the template per file.
 *
 * Why a fresh embedded server per run (under `.orgadmin-test/run-<pid>-<id>/`) rather than one shared across
 * runs: the template must match the migration files of THIS checkout, and concurrent runs (several engineers
 * or agents in one working copy) must not rebuild each other's template. initdb without fsync costs < 1 s.
 * Folders left by crashed runs (their pid is dead) are reaped first: orphaned servers stopped, files deleted.
 * As root, a cluster may live outside its home (see embedded-server.ts); it is deleted along with the home,
 * and clusters whose test home vanished some other way (`rm -rf .orgadmin-test`) are swept too.
 * With `DATABASE_URL` set, that server is used instead, with run-unique database names so runs can overlap.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { databaseUrlFor } from '../src/adapters/postgres/database.js';
import {
  deleteAbandonedRelocatedClusters,
  deleteEmbeddedPostgresIfUnused,
  isProcessAlive,
  startOrJoinEmbeddedPostgres,
  type Log,
} from '../src/adapters/postgres/embedded-server.js';
import { migrate } from '../src/adapters/postgres/migrate.js';

export interface TestPostgres {
  /** Superuser URL of the server's `postgres` database. */
  adminUrl: string;
  /** Migrated template; never connect to it (cloning fails while anyone is connected). */
  templateDatabase: string;
  /** Every database a test creates is named with this prefix, so teardown can find leftovers. */
  databasePrefix: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    orgadminPostgres: TestPostgres;
  }
}

/** Scratch folder for test state; postgres test homes in it are named `run|pg-<owner pid>-<id>`. */
export const TEST_STATE_ROOT = fileURLToPath(new URL('../.orgadmin-test/', import.meta.url));

/** Postgres homes of a test process (`run-` for this setup, `pg-` for test files); reaped once it is gone. */
const OWNED_FOLDER = /^(?:run|pg)-(\d+)-[0-9a-z]+$/;

let cleanup: (() => Promise<void>) | undefined;

export async function setup(project: TestProject): Promise<void> {
  const log = testLog(process.env.ORGADMIN_TEST_PG_LOG);
  const runId = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const external = process.env.DATABASE_URL;
  const postgres = external
    ? await useExternalServer(external, runId, log)
    : await useEmbeddedServer(runId, log);
  project.provide('orgadminPostgres', postgres);
}

export async function teardown(): Promise<void> {
  const pending = cleanup;
  cleanup = undefined;
  await pending?.();
}

async function useEmbeddedServer(runId: string, log: Log): Promise<TestPostgres> {
  mkdirSync(TEST_STATE_ROOT, { recursive: true });
  await reapAbandonedFolders(log);
  const home = join(TEST_STATE_ROOT, `run-${process.pid}-${runId}`);
  const server = await startOrJoinEmbeddedPostgres({ home, durable: false, log });
  cleanup = async () => {
    await server.release();
    await deleteEmbeddedPostgresIfUnused({ home, log });
    rmSync(home, { recursive: true, force: true });
  };
  const postgres = {
    adminUrl: server.url,
    templateDatabase: 'orgadmin_template',
    databasePrefix: 'orgadmin_test_',
  };
  try {
    await buildTemplate(postgres.adminUrl, postgres.templateDatabase, log);
  } catch (error) {
    await teardown();
    throw error;
  }
  return postgres;
}

async function useExternalServer(adminUrl: string, runId: string, log: Log): Promise<TestPostgres> {
  const postgres = {
    adminUrl,
    templateDatabase: `orgadmin_template_${runId}`,
    databasePrefix: `orgadmin_test_${runId}_`,
  };
  cleanup = () => dropRunDatabases(postgres);
  try {
    await buildTemplate(adminUrl, postgres.templateDatabase, log);
  } catch (error) {
    await teardown();
    throw error;
  }
  return postgres;
}

async function buildTemplate(adminUrl: string, name: string, log: Log): Promise<void> {
  await withClient(adminUrl, (admin) =>
    admin.query(`CREATE DATABASE ${pg.escapeIdentifier(name)} TEMPLATE template0`),
  );
  // A single client (not a pool) so that, once ended, nothing lingers connected to the template.
  await withClient(databaseUrlFor(adminUrl, name), (client) => migrate(client, { log }));
  await withClient(adminUrl, (admin) =>
    admin.query(`ALTER DATABASE ${pg.escapeIdentifier(name)} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false`),
  );
}

async function dropRunDatabases(postgres: TestPostgres): Promise<void> {
  await withClient(postgres.adminUrl, async (admin) => {
    const { rows } = await admin.query<{ datname: string }>(
      'SELECT datname FROM pg_database WHERE starts_with(datname, $1)',
      [postgres.databasePrefix],
    );
    const template = pg.escapeIdentifier(postgres.templateDatabase);
    await admin.query(`ALTER DATABASE ${template} WITH IS_TEMPLATE false`).catch(() => undefined);
    for (const name of [...rows.map((row) => row.datname), postgres.templateDatabase]) {
      await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
    }
  });
}

/** Stops servers and deletes folders (and their clusters) left by test processes that died uncleanly. */
async function reapAbandonedFolders(log: Log): Promise<void> {
  for (const name of readdirSync(TEST_STATE_ROOT)) {
    const owner = OWNED_FOLDER.exec(name)?.[1];
    if (owner === undefined || isProcessAlive(Number(owner))) continue;
    const home = join(TEST_STATE_ROOT, name);
    try {
      if ((await deleteEmbeddedPostgresIfUnused({ home, log, lockTimeoutMs: 5_000 })) === 'in-use') continue;
      rmSync(home, { recursive: true, force: true });
      log(`reaped ${home} (owner pid ${owner} is gone)`);
    } catch (error) {
      log(`could not reap ${home}: ${errorMessage(error)}`);
    }
  }
  try {
    // After the folders above: a relocated cluster whose home was just deleted is found here.
    await deleteAbandonedRelocatedClusters({ homesUnder: TEST_STATE_ROOT, log });
  } catch (error) {
    log(`could not sweep relocated clusters: ${errorMessage(error)}`);
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function withClient<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

function testLog(enabled: string | undefined): Log {
  if (!enabled) return () => undefined;
  return (line) => process.stderr.write(`[postgres] ${line}\n`);
}
