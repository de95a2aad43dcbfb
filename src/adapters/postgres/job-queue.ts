/**
 * The run queue on pg-boss 10, in orgadmin's own PostgreSQL (schema `pgboss`): one queue, `orgadmin-run`, whose
 * jobs carry `{ runId }`. It implements the engine's `RunQueue` (src/engine/worker.ts).
 *
 * - **At most one open job per run.** Every job is sent with `singletonKey: runId` on a `short`-policy queue
 *   (pg-boss itself refuses a second *created* job per key), and `enqueue` first looks, under a transaction-level
 *   advisory lock on the run, for a job of the run that is created, waiting for a retry or active: only when there
 *   is none is a job sent, in the same transaction. So re-enqueueing (every worker start does it for every unfinished
 *   run) never piles up jobs.
 * - **Lease with heartbeat.** A fetched job is `active`; pg-boss 10 fails an active job by timeout once
 *   `started_on + expireInSeconds` has passed (default 60), at its next maintenance (every
 *   `maintenanceIntervalSeconds`, in any process that supervises), which puts it in `retry` for another worker.
 *   pg-boss 10 has no way to extend a lease, so while a handler runs this loop moves the job's `started_on` forward
 *   every third of its lease (one UPDATE on pg-boss's job table): a live worker keeps its job however long the run
 *   takes, and only a silent one (SIGKILL, power loss, a hung process) loses it, one lease after its last beat.
 * - **Retry.** A handler that throws fails its job: pg-boss keeps it in `retry` with exponential backoff
 *   (`retryDelay` seconds × 2^n, jittered; pg-boss 10 has no cap on that delay) up to `retryLimit` (default 100)
 *   attempts. A run is safe to execute again at any time, so this is forward recovery.
 * - **One executor per run.** A lease can still run out under a live worker (a stalled event loop, a lost
 *   connection), and then another worker may take the job again. `withRunLock` takes a session-level advisory lock on the run (on one dedicated connection per
 *   process, so it is released the instant the process dies) and reports "busy" instead of waiting; the worker then
 *   fails the job so it is tried again later.
 * - **Polling.** Our own fetch loop (not `boss.work`): up to `concurrency` jobs at once, fetched in one query,
 *   polling every `pollIntervalMs` (woken early by `notify()` and whenever a slot frees up).
 */
import PgBoss from 'pg-boss';
import pg from 'pg';

import type { RunJob, RunJobState, RunQueue, RunQueueWork } from '../../engine/worker.js';
import { transaction } from './transaction.js';

export const RUN_QUEUE_NAME = 'orgadmin-run';
export const JOB_QUEUE_SCHEMA = 'pgboss';
/** First key of the run locks ('orru' in ASCII): apart from the client locks and other two-key advisory locks. */
const RUN_LOCK_NAMESPACE = 0x6f727275;
/** First key of the transaction-level lock that serializes enqueueing one run ('orre'). */
const ENQUEUE_LOCK_NAMESPACE = 0x6f727265;
/** pg-boss priority of a suspended run's job (others have 0). */
const RESUMED_PRIORITY = 10;

export interface JobQueueOptions {
  connectionString: string;
  /** The lease of a taken job: a job whose worker is silent this long is retried elsewhere. Default 60. */
  expireInSeconds?: number;
  /** Attempts after the first before pg-boss gives a job up (the run then waits for a worker restart). */
  retryLimit?: number;
  /** Base delay of the exponential retry backoff, in seconds. Default 5. */
  retryDelaySeconds?: number;
  retryBackoff?: boolean;
  /** How often an idle worker looks for jobs. Default 2000 (pg-boss allows ≥ 500). */
  pollIntervalMs?: number;
  /** How often pg-boss maintenance (expiring jobs past their lease, archiving) runs. Default 30. */
  maintenanceIntervalSeconds?: number;
  /** Whether this process takes part in maintenance. Default true. */
  supervise?: boolean;
  /** Connections of the queue's own pool (the run-lock connection is extra). Default 4. */
  maxConnections?: number;
  log?: (line: string) => void;
}

export const DEFAULT_JOB_QUEUE_OPTIONS = {
  expireInSeconds: 60,
  retryLimit: 100,
  retryDelaySeconds: 5,
  retryBackoff: true,
  pollIntervalMs: 2000,
  maintenanceIntervalSeconds: 30,
};

interface RunJobData {
  runId: string;
}

interface JobRow {
  state: RunJobState['state'];
  retry_count: number;
  start_after: Date;
  output: { message?: unknown } | null;
}

const errorMessage = (error: unknown): string => (error instanceof Error ? error.message : String(error));

export async function createJobQueue(options: JobQueueOptions): Promise<RunQueue> {
  const settings = { ...DEFAULT_JOB_QUEUE_OPTIONS, ...definedOnly(options) };
  const log = options.log ?? (() => undefined);
  const schema = JOB_QUEUE_SCHEMA;
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.maxConnections ?? 4,
    application_name: 'orgadmin-queue',
  });
  pool.on('error', (error) => log(`job queue: idle connection error: ${error.message}`));
  const db = (executor: pg.Pool | pg.PoolClient): PgBoss.Db => ({
    executeSql: (text: string, values: unknown[]) => executor.query(text, values),
  });
  const boss = new PgBoss({
    db: db(pool),
    schema,
    schedule: false,
    supervise: options.supervise ?? true,
    maintenanceIntervalSeconds: settings.maintenanceIntervalSeconds,
  });
  // Without a listener an 'error' event would crash the process; pg-boss reports maintenance failures this way.
  boss.on('error', (error) => log(`job queue: ${error.message}`));
  const jobOptions = {
    expireInSeconds: settings.expireInSeconds,
    retryLimit: settings.retryLimit,
    retryDelay: settings.retryDelaySeconds,
    retryBackoff: settings.retryBackoff,
  };
  try {
    await boss.start();
    await boss.createQueue(RUN_QUEUE_NAME, { name: RUN_QUEUE_NAME, policy: 'short', ...jobOptions });
  } catch (error) {
    await boss.stop({ graceful: false, close: false }).catch(() => undefined);
    await pool.end().catch(() => undefined);
    throw error;
  }

  const locks = createRunLocks(options.connectionString, log);
  const workers = new Set<RunQueueWork>();
  let closing: Promise<void> | undefined;

  const queue: RunQueue = {
    async enqueue(runId, { delayMs, replacingJobId, wake = true, onlyWake = false } = {}) {
      return transaction(pool, async (client) => {
        // Serializes enqueues of one run, so "no open job yet" and the send cannot interleave with another's.
        await client.query('SELECT pg_advisory_xact_lock($1::int, hashtext($2))', [
          ENQUEUE_LOCK_NAMESPACE,
          runId,
        ]);
        // A suspended run woken before its scheduled resumption: its waiting job is offered now. (Looked for by
        // itself: the run may also have an active job — the attempt that suspended it, not yet completed.)
        if (delayMs === undefined && wake) {
          const woken = await client.query(
            `UPDATE ${schema}.job SET start_after = now()
             WHERE name = $1 AND singleton_key = $2 AND state = 'created' AND start_after > now()`,
            [RUN_QUEUE_NAME, runId],
          );
          if (woken.rowCount) return false;
        }
        if (onlyWake) return false;
        const open = await client.query(
          `SELECT 1 FROM ${schema}.job
           WHERE name = $1 AND singleton_key = $2 AND state < 'completed' AND ($3::uuid IS NULL OR id <> $3::uuid)
           LIMIT 1`,
          [RUN_QUEUE_NAME, runId, replacingJobId ?? null],
        );
        if (open.rowCount) return false;
        const data: RunJobData = { runId };
        const id = await boss.send(RUN_QUEUE_NAME, data, {
          ...jobOptions,
          singletonKey: runId,
          // A suspended run goes before runs not started yet once it is due (pg-boss fetches by priority, then
          // age): behind a bulk apply's thousands of queued runs it would otherwise wait for all of them.
          ...(delayMs === undefined
            ? {}
            : { startAfter: Math.max(1, Math.ceil(delayMs / 1000)), priority: RESUMED_PRIORITY }),
          db: db(client),
        });
        return id !== null;
      });
    },

    work({ concurrency }, handler) {
      const work = startFetchLoop({
        boss,
        heartbeat: async (id) => {
          await pool.query(
            `UPDATE ${schema}.job SET started_on = now() WHERE name = $1 AND id = $2 AND state = 'active'`,
            [RUN_QUEUE_NAME, id],
          );
        },
        concurrency,
        pollIntervalMs: settings.pollIntervalMs,
        handler,
        log,
        onStopped: () => workers.delete(work),
      });
      workers.add(work);
      return work;
    },

    withRunLock: (runId, fn) => locks.withRunLock(runId, fn),

    async jobState(runId) {
      const { rows } = await pool.query<JobRow>(
        `SELECT state, retry_count, start_after, output FROM ${schema}.job
         WHERE name = $1 AND singleton_key = $2 ORDER BY created_on DESC LIMIT 1`,
        [RUN_QUEUE_NAME, runId],
      );
      const row = rows[0];
      if (!row) return undefined;
      const message = row.output?.message;
      return {
        state: row.state,
        retryCount: row.retry_count,
        startAfter: row.start_after,
        ...(typeof message === 'string' ? { lastError: message } : {}),
      };
    },

    close({ timeoutMs = 30_000 } = {}) {
      closing ??= (async () => {
        await Promise.all([...workers].map((work) => work.stop({ timeoutMs })));
        await boss.stop({ graceful: false, close: false, wait: true }).catch((error: unknown) => {
          log(`job queue: stopping pg-boss: ${errorMessage(error)}`);
        });
        await locks.close();
        await pool.end();
      })();
      return closing;
    },
  };
  return queue;
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * The fetch loop of one `work()` call: keeps up to `concurrency` handlers running; a handler that resolves
 * completes its job, one that rejects fails it (pg-boss retries it after the backoff).
 */
function startFetchLoop(input: {
  boss: PgBoss;
  /** Extends the lease of an active job (see the heartbeat above). */
  heartbeat: (jobId: string) => Promise<void>;
  concurrency: number;
  pollIntervalMs: number;
  handler: (job: RunJob) => Promise<void>;
  log: (line: string) => void;
  onStopped: () => void;
}): RunQueueWork {
  const { boss, concurrency, pollIntervalMs, handler, log } = input;
  const inFlight = new Map<string, Promise<void>>();
  let stopping = false;
  let wake: (() => void) | undefined;
  let woken = false;

  const pause = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      if (woken || stopping) {
        woken = false;
        resolve();
        return;
      }
      const done = (): void => {
        clearTimeout(timer);
        wake = undefined;
        woken = false;
        resolve();
      };
      const timer = setTimeout(done, ms);
      wake = done;
    });
  const notify = (): void => {
    woken = true;
    wake?.();
  };

  const runOne = async (job: PgBoss.Job<RunJobData>): Promise<void> => {
    const runId = typeof job.data?.runId === 'string' ? job.data.runId : undefined;
    let failure: unknown;
    const beat = setInterval(
      () => {
        input.heartbeat(job.id).catch((error: unknown) => {
          log(`job queue: heartbeat of job ${job.id}: ${errorMessage(error)}`);
        });
      },
      // pg returns the lease as numeric text (EXTRACT … FROM interval).
      Math.max(250, (Number(job.expireInSeconds) * 1000) / 3),
    );
    try {
      if (!runId) throw new Error(`job ${job.id} carries no runId`);
      await handler({ id: job.id, runId });
    } catch (error) {
      failure = error ?? new Error('handler failed');
    } finally {
      clearInterval(beat);
    }
    try {
      if (failure === undefined) await boss.complete(RUN_QUEUE_NAME, job.id);
      else await boss.fail(RUN_QUEUE_NAME, job.id, { message: errorMessage(failure) });
    } catch (error) {
      // The job stays active until its lease runs out; then it is retried like a crashed worker's.
      log(`job queue: could not settle job ${job.id}: ${errorMessage(error)}`);
    }
  };

  const loop = (async () => {
    while (!stopping) {
      const free = concurrency - inFlight.size;
      let fetched = 0;
      if (free > 0) {
        try {
          const jobs = await boss.fetch<RunJobData>(RUN_QUEUE_NAME, { batchSize: free });
          fetched = jobs.length;
          for (const job of jobs) {
            const running = runOne(job).finally(() => {
              inFlight.delete(job.id);
              notify();
            });
            inFlight.set(job.id, running);
          }
        } catch (error) {
          log(`job queue: fetching jobs: ${errorMessage(error)}`);
        }
      }
      if (stopping) break;
      // A full batch may mean more are waiting: look again at once (or as soon as a slot frees up).
      if (fetched > 0 && fetched === free && inFlight.size < concurrency) continue;
      await pause(pollIntervalMs);
    }
  })();

  let stopped: Promise<void> | undefined;
  return {
    notify,
    stop({ timeoutMs }) {
      stopped ??= (async () => {
        stopping = true;
        notify();
        await loop;
        let timer: NodeJS.Timeout | undefined;
        const timedOut = new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), timeoutMs);
        });
        const settled = Promise.allSettled([...inFlight.values()]).then(() => 'done' as const);
        const outcome = await Promise.race([settled, timedOut]);
        clearTimeout(timer);
        if (outcome === 'timeout' && inFlight.size > 0) {
          // Give the jobs back now rather than when their lease runs out; the run lock keeps a second executor
          // out while this process is still finishing.
          const ids = [...inFlight.keys()];
          log(`job queue: ${ids.length} job(s) still running after ${timeoutMs} ms; handing them back`);
          for (const id of ids)
            await boss.fail(RUN_QUEUE_NAME, id, { message: 'worker stopped' }).catch(() => undefined);
        }
        input.onStopped();
      })();
      return stopped;
    },
  };
}

/**
 * Session-level advisory locks on runs, all held on one dedicated connection per process: a lock lives exactly as
 * long as that session, so a process that dies releases its runs at once. Re-entrancy within the process (which
 * PostgreSQL would allow on one session) is refused with an in-memory set.
 */
function createRunLocks(connectionString: string, log: (line: string) => void) {
  const held = new Set<string>();
  let connecting: Promise<pg.Client> | undefined;
  let closed = false;

  const connection = (): Promise<pg.Client> => {
    connecting ??= (async () => {
      const client = new pg.Client({ connectionString, application_name: 'orgadmin-run-locks' });
      client.on('error', (error) => {
        // The session is gone, and every lock with it: the runs still going here lose their exclusivity, which
        // is logged; the next lock opens a new session.
        log(`run locks: connection lost (${error.message}); ${held.size} run(s) were locked`);
        connecting = undefined;
      });
      await client.connect();
      return client;
    })().catch((error: unknown) => {
      connecting = undefined;
      throw error;
    });
    return connecting;
  };

  /** The queries of all runs go over the one session one at a time (pg 9 will refuse overlapping ones). */
  let turn: Promise<unknown> = Promise.resolve();
  const query = <R extends pg.QueryResultRow>(
    text: string,
    values: unknown[],
  ): Promise<pg.QueryResult<R>> => {
    const result = turn.then(async () => (await connection()).query<R>(text, values));
    turn = result.catch(() => undefined);
    return result;
  };

  return {
    async withRunLock<T>(
      runId: string,
      fn: () => Promise<T>,
    ): Promise<{ locked: true; value: T } | { locked: false }> {
      if (closed) throw new Error('the job queue is closed');
      if (held.has(runId)) return { locked: false };
      held.add(runId);
      try {
        const { rows } = await query<{ locked: boolean }>(
          'SELECT pg_try_advisory_lock($1::int, hashtext($2)) AS locked',
          [RUN_LOCK_NAMESPACE, runId],
        );
        if (!rows[0]?.locked) return { locked: false };
        try {
          return { locked: true, value: await fn() };
        } finally {
          await query('SELECT pg_advisory_unlock($1::int, hashtext($2))', [RUN_LOCK_NAMESPACE, runId]).catch(
            (error: unknown) => log(`run locks: unlocking run ${runId}: ${errorMessage(error)}`),
          );
        }
      } finally {
        held.delete(runId);
      }
    },
    async close(): Promise<void> {
      closed = true;
      const pending = connecting;
      connecting = undefined;
      if (pending) await (await pending.catch(() => undefined))?.end().catch(() => undefined);
    },
  };
}
