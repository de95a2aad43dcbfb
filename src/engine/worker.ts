/**
 * The worker: takes run jobs from the queue and executes them, any number of workers in any number of processes.
 *
 * - A job is a run id. Executing it is `executeRun` under the run's lock (one executor per run across processes);
 *   when another executor holds the lock, the job fails and comes back later.
 * - A finished run (succeeded or failed) completes the job. `RetryLaterError` — and any other error, since a run
 *   can always be resumed — fails the job, and the queue offers it again after its backoff: forward recovery.
 * - A run that suspends (`RunSuspendedError`: its URL change waits for a batched write) completes its job and gets a
 *   new one offered later; the write that applies its change offers that job at once (`wake`).
 * - A worker that dies mid-run leaves its job active; when the job's lease runs out the queue offers it again, and
 *   the next executor reconciles the step that was in doubt.
 * - At start (and every `rescanIntervalMs`, if set) every unfinished run of the store is enqueued: a run whose
 *   enqueue was lost (a crash between creating it and enqueueing it) is still executed. Enqueueing a run that
 *   already has an open job does nothing.
 */
import type { RunRecord } from '../ports/store.js';
import { executeRun, RetryLaterError, RunSuspendedError, type EngineDeps } from './run-executor.js';

/** One job of the queue: the run to execute. */
export interface RunJob {
  id: string;
  runId: string;
}

/** The latest job of a run, as the queue sees it. */
export interface RunJobState {
  state: 'created' | 'retry' | 'active' | 'completed' | 'cancelled' | 'failed';
  /** Attempts already made before the current one. */
  retryCount: number;
  /** When a job in `retry` is offered again. */
  startAfter: Date;
  /** Why the last attempt failed. */
  lastError?: string;
}

export interface RunQueueWork {
  /** Looks for jobs now instead of at the next poll. */
  notify(): void;
  /** Stops taking jobs and waits (up to `timeoutMs`) for the ones running; the rest are handed back. */
  stop(options: { timeoutMs: number }): Promise<void>;
}

/** The queue of runs to execute (adapter: src/adapters/postgres/job-queue.ts). */
export interface RunQueue {
  /**
   * Adds a job for the run unless it already has one that is not finished; true when one was added. A job offered
   * later (`delayMs`) is offered now when the run is enqueued again without a delay, unless `wake` is false.
   * `replacingJobId`: the job being handled, which ends when its handler returns, does not count as the run's open
   * job. `onlyWake`: only offer a waiting job now; never add one (a run woken after it finished needs none).
   */
  enqueue(
    runId: string,
    options?: { delayMs?: number; replacingJobId?: string; wake?: boolean; onlyWake?: boolean },
  ): Promise<boolean>;
  /**
   * Takes jobs, up to `concurrency` at once, and hands each to `handler`: resolving completes the job, rejecting
   * fails it (it is offered again after the backoff, until the retry limit).
   */
  work(options: { concurrency: number }, handler: (job: RunJob) => Promise<void>): RunQueueWork;
  /** Runs `fn` holding the run's lock across processes, or reports `locked: false` at once if it is held. */
  withRunLock<T>(
    runId: string,
    fn: () => Promise<T>,
  ): Promise<{ locked: true; value: T } | { locked: false }>;
  jobState(runId: string): Promise<RunJobState | undefined>;
  /** Stops every `work()` (waiting up to `timeoutMs` for running jobs) and disconnects. */
  close(options?: { timeoutMs?: number }): Promise<void>;
}

/** Part of the message of a job that failed because another executor held its run (not a failed attempt). */
export const RUN_BUSY = 'is being executed elsewhere';

/** Another executor holds the run: this attempt is skipped and the job comes back later. */
export class RunBusyError extends Error {
  override readonly name = 'RunBusyError';

  constructor(runId: string) {
    super(`run ${runId} ${RUN_BUSY}`);
  }
}

export interface WorkerOptions {
  queue: RunQueue;
  engine: EngineDeps;
  /** Runs executed at once by this worker. */
  concurrency: number;
  log?: (line: string) => void;
  /** Enqueue every unfinished run of the store at start. Default true. */
  resumeUnfinished?: boolean;
  /** Enqueue unfinished runs again this often (0: only at start). Default 0. */
  rescanIntervalMs?: number;
  /**
   * How long a run's change to a shared client's URL lists may wait to be written together with other runs'
   * changes (ms; 0: each run writes its own). Default 0.
   */
  urlBatchMaxWaitMs?: number;
  /** Every attempt's end: the run it left (finished or not), or the error that ended the attempt. */
  onAttempt?: (job: RunJob, outcome: { run: RunRecord } | { error: unknown }) => void;
}

export interface Worker {
  /** Looks for jobs now (after enqueueing in this process). */
  notify(): void;
  /** Graceful stop: takes no more jobs, lets running ones finish (up to `timeoutMs`, default 30 s). */
  stop(options?: { timeoutMs?: number }): Promise<void>;
}

export async function startWorker(options: WorkerOptions): Promise<Worker> {
  const { queue, concurrency } = options;
  const log = options.log ?? (() => undefined);
  /** Set once the queue is being worked (woken runs are looked for at once). */
  let lookForJobs = (): void => undefined;
  const engine: EngineDeps = options.urlBatchMaxWaitMs
    ? {
        ...options.engine,
        urlBatching: {
          maxWaitMs: options.urlBatchMaxWaitMs,
          wake: async (runIds) => {
            // A run settled by this write that is not waiting (still in its attempt, or finished) needs no job:
            // one in its attempt sees its intent applied, and a suspending one checks after scheduling itself.
            for (const runId of runIds) await queue.enqueue(runId, { onlyWake: true });
            if (runIds.length > 0) lookForJobs();
          },
        },
      }
    : options.engine;
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new Error('concurrency must be an integer ≥ 1');

  const resume = async (): Promise<void> => {
    const runs = await engine.store.unfinishedRuns();
    let added = 0;
    // A run waiting on a timer (suspended) keeps waiting: waking it only to suspend again would cost an attempt.
    for (const run of runs) if (await queue.enqueue(run.id, { wake: false })) added += 1;
    if (runs.length > 0) log(`${runs.length} unfinished run(s), ${added} newly enqueued`);
  };

  const handle = async (job: RunJob): Promise<void> => {
    const started = Date.now();
    try {
      const attempt = await queue.withRunLock(job.runId, () => executeRun(engine, job.runId));
      if (!attempt.locked) throw new RunBusyError(job.runId);
      const run = attempt.value;
      log(`run ${run.id} (${run.orgName}, ${run.kind}): ${run.state} in ${Date.now() - started} ms`);
      options.onAttempt?.(job, { run });
    } catch (error) {
      if (error instanceof RunSuspendedError) {
        // The attempt ends without failing: a job offered later takes the run up again, unless it is woken first
        // (also while this was being scheduled: then it is offered now).
        await queue.enqueue(job.runId, { delayMs: error.retryInMs, replacingJobId: job.id });
        if (!(await error.stillWaiting())) await queue.enqueue(job.runId);
        log(`run ${job.runId}: ${error.message}`);
        options.onAttempt?.(job, { error });
        return;
      }
      const why = error instanceof Error ? error.message : String(error);
      const kind =
        error instanceof RetryLaterError ? 'retry later' : error instanceof RunBusyError ? 'busy' : 'error';
      log(`run ${job.runId}: ${kind}: ${why}; the job will be retried`);
      options.onAttempt?.(job, { error });
      throw error;
    }
  };

  if (options.resumeUnfinished ?? true) await resume();
  const work = queue.work({ concurrency }, handle);
  lookForJobs = () => work.notify();
  let rescan: NodeJS.Timeout | undefined;
  if (options.rescanIntervalMs) {
    rescan = setInterval(() => {
      resume().then(
        () => work.notify(),
        (error: unknown) =>
          log(`rescanning unfinished runs: ${error instanceof Error ? error.message : String(error)}`),
      );
    }, options.rescanIntervalMs);
    rescan.unref();
  }
  let stopping: Promise<void> | undefined;
  return {
    notify: () => work.notify(),
    stop({ timeoutMs = 30_000 } = {}) {
      stopping ??= (async () => {
        clearInterval(rescan);
        await work.stop({ timeoutMs });
      })();
      return stopping;
    },
  };
}
