/**
 * Migrations against real PostgreSQL: applied once and recorded, race-free when processes start together,
 * and refused when history and files disagree (edited, deleted, or out-of-order migrations).
 */
import { appendFileSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../test/helpers/database.js';
import { checksumOf, loadMigrations, migrate } from './migrate.js';

const databases: TestDatabase[] = [];
const folders: string[] = [];

afterEach(async () => {
  await Promise.all(databases.splice(0).map((db) => db.drop()));
});

afterAll(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

async function emptyDatabase(): Promise<TestDatabase> {
  const db = await createTestDatabase({ empty: true });
  databases.push(db);
  return db;
}

function migrationsFolder(files: Record<string, string>): string {
  const folder = mkdtempSync(join(tmpdir(), 'orgadmin-migrations-'));
  folders.push(folder);
  for (const [name, sql] of Object.entries(files)) writeFileSync(join(folder, name), sql);
  return folder;
}

async function recorded(pool: pg.Pool): Promise<{ version: number; name: string; checksum: string }[]> {
  const { rows } = await pool.query<{ version: number; name: string; checksum: string }>(
    'SELECT version, name, checksum FROM orgadmin_migrations ORDER BY version',
  );
  return rows;
}

async function tableExists(pool: pg.Pool, table: string): Promise<boolean> {
  const { rows } = await pool.query<{ found: boolean }>('SELECT to_regclass($1) IS NOT NULL AS found', [
    table,
  ]);
  return rows[0]?.found === true;
}

describe('migrate', () => {
  it('applies the bundled migrations once and records them with their checksums', async () => {
    const { pool } = await emptyDatabase();
    const files = await loadMigrations();
    expect(files.map((m) => m.fileName)).toContain('0001_initial.sql');

    const first = await migrate(pool);
    expect(first.applied.map((m) => m.fileName)).toEqual(files.map((m) => m.fileName));
    expect(await recorded(pool)).toEqual(
      files.map(({ version, name, checksum }) => ({ version, name, checksum })),
    );
    const meta = await pool.query<{ key: string }>('SELECT key FROM orgadmin_meta');
    expect(meta.rows.map((row) => row.key)).toContain('created_at');

    const { rows: before } = await pool.query<{ applied_at: Date }>(
      'SELECT applied_at FROM orgadmin_migrations',
    );
    const second = await migrate(pool);
    expect(second.applied).toEqual([]);
    expect(second.version).toBe(first.version);
    const { rows: after } = await pool.query<{ applied_at: Date }>(
      'SELECT applied_at FROM orgadmin_migrations',
    );
    expect(after).toEqual(before);
  });

  it('hands test files a template clone that is already fully migrated', async () => {
    const db = await createTestDatabase();
    databases.push(db);
    expect((await migrate(db.pool)).applied).toEqual([]);
    expect(await tableExists(db.pool, 'orgadmin_meta')).toBe(true);
  });

  it('lets concurrent migrate() calls all succeed while applying each migration exactly once', async () => {
    // Plain CREATE TABLE fails if run twice, so a double application cannot go unnoticed.
    const directory = migrationsFolder({
      '0001_slow.sql': 'SELECT pg_sleep(0.3); CREATE TABLE t1 (id int);',
      '0002_second.sql': 'CREATE TABLE t2 (id int);',
      '0003_third.sql': 'CREATE TABLE t3 (id int); INSERT INTO t3 VALUES (3);',
    });
    const { url } = await emptyDatabase();
    // Separate pools, so the calls really run on separate server sessions at the same time.
    const pools = [1, 2, 3].map(() => new pg.Pool({ connectionString: url, max: 1 }));
    try {
      const results = await Promise.all(pools.map((pool) => migrate(pool, { directory })));
      const appliedCounts = results.map((result) => result.applied.length).sort();
      expect(appliedCounts).toEqual([0, 0, 3]);
      expect(results.map((result) => result.version)).toEqual([3, 3, 3]);
      const [pool] = pools;
      if (!pool) throw new Error('no pool');
      expect((await recorded(pool)).map((row) => row.version)).toEqual([1, 2, 3]);
      expect((await pool.query('SELECT * FROM t3')).rowCount).toBe(1);
    } finally {
      await Promise.all(pools.map((pool) => pool.end()));
    }
  });

  it('refuses to start when an applied migration file was edited, naming the file', async () => {
    const directory = migrationsFolder({ '0001_first.sql': 'CREATE TABLE first_table (id int);' });
    const { pool } = await emptyDatabase();
    await migrate(pool, { directory });

    appendFileSync(join(directory, '0001_first.sql'), '\nALTER TABLE first_table ADD COLUMN extra text;');
    writeFileSync(join(directory, '0002_second.sql'), 'CREATE TABLE second_table (id int);');

    await expect(migrate(pool, { directory })).rejects.toThrow(
      /Migration 0001_first\.sql was changed after it was applied/,
    );
    expect((await recorded(pool)).map((row) => row.version)).toEqual([1]);
    expect(await tableExists(pool, 'second_table')).toBe(false);
  });

  it('does not treat a CRLF checkout of an applied migration as an edit', async () => {
    const directory = migrationsFolder({
      '0001_first.sql': 'CREATE TABLE crlf_table (id int);\nSELECT 1;\n',
    });
    const { pool } = await emptyDatabase();
    await migrate(pool, { directory });
    writeFileSync(join(directory, '0001_first.sql'), 'CREATE TABLE crlf_table (id int);\r\nSELECT 1;\r\n');
    expect((await migrate(pool, { directory })).applied).toEqual([]);
    expect(checksumOf('a\r\nb')).toBe(checksumOf('a\nb'));
  });

  it('refuses a database that has a migration this code does not know', async () => {
    const directory = migrationsFolder({
      '0001_first.sql': 'CREATE TABLE a (id int);',
      '0002_second.sql': 'CREATE TABLE b (id int);',
    });
    const { pool } = await emptyDatabase();
    await migrate(pool, { directory });
    unlinkSync(join(directory, '0002_second.sql'));
    await expect(migrate(pool, { directory })).rejects.toThrow(
      /0002_second applied, but no such file exists/,
    );
  });

  it('refuses a new migration numbered below the latest applied one', async () => {
    const directory = migrationsFolder({ '0002_second.sql': 'CREATE TABLE b (id int);' });
    const { pool } = await emptyDatabase();
    await migrate(pool, { directory });
    writeFileSync(join(directory, '0001_first.sql'), 'CREATE TABLE a (id int);');
    await expect(migrate(pool, { directory })).rejects.toThrow(/0001_first\.sql is new but older than/);
    expect(await tableExists(pool, 'a')).toBe(false);
  });

  it('rolls back a failing migration without recording it, so a fixed file can be applied later', async () => {
    const directory = migrationsFolder({
      '0001_first.sql': 'CREATE TABLE a (id int);',
      '0002_broken.sql': 'CREATE TABLE half_done (id int); SELECT 1 / 0;',
    });
    const { pool } = await emptyDatabase();
    await expect(migrate(pool, { directory })).rejects.toThrow(
      /Migration 0002_broken\.sql failed and was rolled back/,
    );
    expect((await recorded(pool)).map((row) => row.version)).toEqual([1]);
    expect(await tableExists(pool, 'half_done')).toBe(false);

    writeFileSync(join(directory, '0002_broken.sql'), 'CREATE TABLE half_done (id int);');
    expect((await migrate(pool, { directory })).applied.map((m) => m.version)).toEqual([2]);
  });

  it('rejects badly named or duplicate migration files before touching the database', async () => {
    await expect(loadMigrations(migrationsFolder({ '1_first.sql': '' }))).rejects.toThrow(
      /must be named NNNN_/,
    );
    await expect(loadMigrations(migrationsFolder({ '0001_a.sql': '', '0001_b.sql': '' }))).rejects.toThrow(
      /share version 1/,
    );
    await expect(
      loadMigrations(migrationsFolder({ '0001_ok.sql': '', 'README.md': '' })),
    ).resolves.toHaveLength(1);
  });
});
