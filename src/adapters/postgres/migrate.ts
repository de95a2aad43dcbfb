/**
 * Numbered SQL migrations (`migrations/NNNN_name.sql`), applied in order, each in its own transaction.
 *
 * Why this shape: several orgadmin processes may open the same database at once, so the whole run happens
 * under a fixed `pg_advisory_lock` (per database) and re-reads what is applied after taking it; each
 * migration is recorded in `orgadmin_migrations` in the same transaction as its effects. A landed migration
 * is never edited: its sha256 is recorded and a changed file stops start-up with an error naming it,
 * because silently diverging schemas are far harder to debug than a refusal.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

export const MIGRATIONS_DIRECTORY = new URL('./migrations/', import.meta.url);

/** Advisory lock key: the ASCII bytes of "orgadmin" as a bigint. Advisory locks are scoped per database. */
export const MIGRATION_LOCK_KEY = '8030600817599826286';

const FILE_PATTERN = /^(\d{4})_([a-z0-9][a-z0-9_]*)\.sql$/;

export interface Migration {
  version: number;
  name: string;
  fileName: string;
  sql: string;
  /** sha256 (hex) of the file with line endings normalised, so a CRLF checkout is not an "edit". */
  checksum: string;
}

export interface MigrateOptions {
  /** Folder holding the migration files; defaults to the bundled `migrations/`. */
  directory?: URL | string;
  log?: (line: string) => void;
}

export interface MigrateResult {
  /** Migrations applied by this call (empty when the database was already up to date). */
  applied: Migration[];
  /** Highest version recorded once this call finished (0 for none). */
  version: number;
}

interface AppliedRow {
  version: number;
  name: string;
  checksum: string;
}

/** Reads and validates the migration files, ordered by version. */
export async function loadMigrations(directory: URL | string = MIGRATIONS_DIRECTORY): Promise<Migration[]> {
  const dir = typeof directory === 'string' ? directory : fileURLToPath(directory);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    throw new Error(`Cannot read migrations folder ${dir}`, { cause: error });
  }
  const migrations: Migration[] = [];
  for (const fileName of names.filter((name) => name.endsWith('.sql')).sort()) {
    const match = FILE_PATTERN.exec(fileName);
    if (!match?.[1] || !match[2] || Number(match[1]) === 0) {
      throw new Error(
        `Migration file ${join(dir, fileName)} must be named NNNN_lower_snake_name.sql (NNNN >= 0001)`,
      );
    }
    const sql = await readFile(join(dir, fileName), 'utf8');
    migrations.push({ version: Number(match[1]), name: match[2], fileName, sql, checksum: checksumOf(sql) });
  }
  for (let i = 1; i < migrations.length; i++) {
    const previous = migrations[i - 1];
    const current = migrations[i];
    if (previous && current && previous.version === current.version) {
      throw new Error(
        `Migrations ${previous.fileName} and ${current.fileName} share version ${current.version}`,
      );
    }
  }
  return migrations;
}

export function checksumOf(sql: string): string {
  return createHash('sha256').update(sql.replace(/\r\n/g, '\n')).digest('hex');
}

/**
 * Brings the database up to date. Takes a pool (one connection is borrowed for the run) or a client the
 * caller owns and which is not inside a transaction.
 */
export async function migrate(
  db: pg.Pool | pg.ClientBase,
  options: MigrateOptions = {},
): Promise<MigrateResult> {
  const log = options.log ?? (() => undefined);
  const migrations = await loadMigrations(options.directory);
  if (!(db instanceof pg.Pool)) return withMigrationLock(db, () => migrateLocked(db, migrations, log));
  const client = await db.connect();
  let healthy = false;
  try {
    const result = await withMigrationLock(client, () => migrateLocked(client, migrations, log));
    healthy = true;
    return result;
  } finally {
    // A session that failed mid-run may still hold the lock or an aborted transaction: discard, not reuse.
    client.release(!healthy);
  }
}

async function withMigrationLock<T>(client: pg.ClientBase, body: () => Promise<T>): Promise<T> {
  await client.query(`SELECT pg_advisory_lock(${MIGRATION_LOCK_KEY})`);
  let result: T;
  try {
    result = await body();
  } catch (error) {
    // Best effort only: the body's error is the one worth reporting, and a dead session frees the lock anyway.
    await client.query(`SELECT pg_advisory_unlock(${MIGRATION_LOCK_KEY})`).catch(() => undefined);
    throw error;
  }
  await client.query(`SELECT pg_advisory_unlock(${MIGRATION_LOCK_KEY})`);
  return result;
}

async function migrateLocked(
  client: pg.ClientBase,
  migrations: Migration[],
  log: (line: string) => void,
): Promise<MigrateResult> {
  await client.query(`
    CREATE TABLE IF NOT EXISTS orgadmin_migrations (
      version int PRIMARY KEY,
      name text NOT NULL,
      checksum text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
  const { rows } = await client.query<AppliedRow>(
    'SELECT version, name, checksum FROM orgadmin_migrations ORDER BY version',
  );
  const pending = pendingMigrations(migrations, rows);
  for (const migration of pending) {
    await applyOne(client, migration);
    log(`applied migration ${migration.fileName}`);
  }
  const latest = Math.max(0, ...rows.map((row) => row.version), ...pending.map((m) => m.version));
  return { applied: pending, version: latest };
}

/** Checks the recorded history against the files and returns what is left to apply. */
function pendingMigrations(migrations: Migration[], applied: AppliedRow[]): Migration[] {
  const byVersion = new Map(migrations.map((migration) => [migration.version, migration]));
  for (const row of applied) {
    const file = byVersion.get(row.version);
    if (!file) {
      throw new Error(
        `Database has migration ${pad(row.version)}_${row.name} applied, but no such file exists; ` +
          'this orgadmin is older than the database (or the file was deleted). Refusing to start.',
      );
    }
    if (file.checksum !== row.checksum || file.name !== row.name) {
      throw new Error(
        `Migration ${file.fileName} was changed after it was applied ` +
          `(recorded ${pad(row.version)}_${row.name} sha256 ${row.checksum.slice(0, 12)}…, ` +
          `file now sha256 ${file.checksum.slice(0, 12)}…). Applied migrations must never be edited: ` +
          'restore the file and add a new migration instead. Refusing to start.',
      );
    }
  }
  const appliedVersions = new Set(applied.map((row) => row.version));
  const latest = Math.max(0, ...appliedVersions);
  const pending = migrations.filter((migration) => !appliedVersions.has(migration.version));
  const outOfOrder = pending.find((migration) => migration.version < latest);
  if (outOfOrder) {
    throw new Error(
      `Migration ${outOfOrder.fileName} is new but older than the applied version ${pad(latest)}; ` +
        'renumber it after the latest migration. Refusing to start.',
    );
  }
  return pending;
}

async function applyOne(client: pg.ClientBase, migration: Migration): Promise<void> {
  await client.query('BEGIN');
  try {
    // No parameters: the simple query protocol, which allows several statements per file.
    await client.query(migration.sql);
    await client.query('INSERT INTO orgadmin_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
      migration.version,
      migration.name,
      migration.checksum,
    ]);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`Migration ${migration.fileName} failed and was rolled back: ${reason}`, {
      cause: error,
    });
  }
}

function pad(version: number): string {
  return String(version).padStart(4, '0');
}
