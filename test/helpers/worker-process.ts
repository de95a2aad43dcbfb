/**
 * `orgadmin worker` as a real child process for tests, with its stderr to wait on, and the store polled until runs
 * finish. A test file keeps one `WorkerProcesses` and kills what is left after each test, so a test that failed
 * half-way never leaves workers taking the next test's jobs.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

import type { RunRecord, Store } from '../../src/ports/store.js';

export interface WorkerProcess {
  child: ChildProcessWithoutNullStreams;
  stderr(): string;
  /** Resolves when stderr contains `text` (rejects after `timeoutMs` or when the process exits first). */
  waitFor(text: string, timeoutMs?: number): Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface WorkerProcesses {
  /** Starts `orgadmin worker ARGS` with the common environment plus `env`. */
  start(args: string[], env?: Record<string, string>): WorkerProcess;
  /** SIGTERM (a graceful stop); resolves with how it exited. */
  stop(worker: WorkerProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL for every worker still running. */
  killAll(): Promise<void>;
}

export function workerProcesses(environment: () => Record<string, string>): WorkerProcesses {
  const workers = new Set<WorkerProcess>();
  return {
    start(args, env = {}) {
      const child = spawn(process.execPath, ['bin/orgadmin.js', 'worker', ...args], {
        env: { ...process.env, ...environment(), ...env },
      });
      let stderr = '';
      const listeners = new Set<() => void>();
      child.stdout.resume();
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        for (const listener of listeners) listener();
      });
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
        child.on('exit', (code, signal) => {
          workers.delete(worker);
          for (const listener of listeners) listener();
          resolve({ code, signal });
        }),
      );
      const worker: WorkerProcess = {
        child,
        stderr: () => stderr,
        exited,
        waitFor: (text, timeoutMs = 30_000) =>
          new Promise((resolve, reject) => {
            const check = (): void => {
              if (stderr.includes(text)) done(() => resolve());
              else if (child.exitCode !== null || child.signalCode !== null)
                done(() => reject(new Error(`worker exited before "${text}":\n${stderr}`)));
            };
            const timer = setTimeout(
              () => done(() => reject(new Error(`no "${text}" within ${timeoutMs} ms:\n${stderr}`))),
              timeoutMs,
            );
            const done = (settle: () => void): void => {
              clearTimeout(timer);
              listeners.delete(check);
              settle();
            };
            listeners.add(check);
            check();
          }),
      };
      workers.add(worker);
      return worker;
    },
    stop(worker) {
      worker.child.kill('SIGTERM');
      return worker.exited;
    },
    async killAll() {
      const left = [...workers];
      for (const worker of left) worker.child.kill('SIGKILL');
      await Promise.all(left.map((worker) => worker.exited));
    },
  };
}

/** Polls the store until every run has finished (the deadline is the limit). */
export async function untilRunsFinished(
  store: Store,
  runIds: string[],
  deadlineMs: number,
): Promise<RunRecord[]> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const runs = await Promise.all(runIds.map(async (id) => (await store.getRun(id))!));
    if (runs.every((run) => run.state === 'succeeded' || run.state === 'failed')) return runs;
    if (Date.now() > deadline)
      throw new Error(
        `runs not finished in ${deadlineMs} ms: ${runs.map((r) => `${r.orgName}=${r.state}`).join(', ')}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
