/**
 * Waiting in tests for something a run change can bring about: `check` runs now and after every run change (one
 * check at a time; a change during a check makes it run again), until it returns a value.
 */
import type { RunChanges } from '../../src/ports/run-changes.js';

export function untilRunChange<T>(
  changes: Pick<RunChanges, 'subscribe'>,
  check: () => Promise<T | undefined>,
  { timeoutMs, waitingFor }: { timeoutMs: number; waitingFor: string },
): Promise<T> {
  return new Promise((resolve, reject) => {
    let checking = false;
    let again = false;
    let done = false;
    const finish = (outcome: () => void): void => {
      done = true;
      clearTimeout(timer);
      unsubscribe();
      outcome();
    };
    const run = async (): Promise<void> => {
      if (checking) {
        again = true;
        return;
      }
      checking = true;
      try {
        do {
          again = false;
          const value = await check();
          if (value !== undefined) {
            if (!done) finish(() => resolve(value));
            return;
          }
        } while (again && !done);
      } finally {
        checking = false;
      }
    };
    const fail = (error: unknown): void => {
      if (!done) finish(() => reject(error instanceof Error ? error : new Error(String(error))));
    };
    const unsubscribe = changes.subscribe(() => void run().catch(fail));
    const timer = setTimeout(() => fail(new Error(`${waitingFor}: not in ${timeoutMs} ms`)), timeoutMs);
    void run().catch(fail);
  });
}
