/**
 * The start-or-join protocol with real processes: several orgadmin processes on one home share a single
 * server, it survives the first one leaving, stops after the last, and crashes (a dead lock holder, a killed
 * user, a killed postmaster) are recovered from. Every wait polls a real condition under a deadline.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/adapters/postgres/database.js';
import {
  isProcessAlive,
  startOrJoinEmbeddedPostgres,
  stopEmbeddedPostgresIfUnused,
  type EmbeddedPostgresHandle,
} from '../../src/adapters/postgres/embedded-server.js';
import { TEST_STATE_ROOT } from '../global-setup-postgres.js';
import type { UserMessage } from './fixtures/embedded-user.js';

const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const USER_SCRIPT = fileURLToPath(new URL('./fixtures/embedded-user.ts', import.meta.url));
const DEADLINE_MS = 30_000;

const homes: string[] = [];
const users: UserProcess[] = [];
const handles: EmbeddedPostgresHandle[] = [];

afterAll(async () => {
  for (const user of users) await user.kill();
  for (const handle of handles) await handle.release().catch(() => undefined);
  for (const home of homes) {
    await stopEmbeddedPostgresIfUnused({ home }).catch(() => undefined);
    rmSync(home, { recursive: true, force: true });
  }
});

/** Named `pg-<pid>-<id>` so the global setup reaps it if this process dies before cleaning up. */
function newHome(): string {
  const home = join(TEST_STATE_ROOT, `pg-${process.pid}-${randomBytes(4).toString('hex')}`);
  mkdirSync(home, { recursive: true });
  homes.push(home);
  return home;
}

async function join_(home: string): Promise<EmbeddedPostgresHandle> {
  const handle = await startOrJoinEmbeddedPostgres({ home, durable: false });
  handles.push(handle);
  return handle;
}

function postmasterPidFile(home: string): string {
  return join(home, 'postgres', 'data', 'postmaster.pid');
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
});
