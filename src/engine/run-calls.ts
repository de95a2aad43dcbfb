/**
 * Counts the Management API calls made on behalf of the run being executed: the Auth0 adapter reports every call
 * (`noteAuth0Call`, wired in the composition root), and AsyncLocalStorage follows the run's awaits, so concurrent
 * runs in one process are told apart without passing a counter through every port.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

const current = new AsyncLocalStorage<{ calls: number }>();

/** Runs `fn`, counting the calls made within it; `done` gets those not taken yet once it settled (also when it threw). */
export async function countingAuth0Calls<T>(
  fn: () => Promise<T>,
  done: (calls: number) => Promise<void>,
): Promise<T> {
  const counter = { calls: 0 };
  try {
    return await current.run(counter, fn);
  } finally {
    await done(counter.calls);
  }
}

/**
 * The calls counted so far in this attempt, handed over (the counter restarts at 0): for recording them before the
 * run is marked finished, so whoever sees it finished also sees its calls.
 */
export function takeAuth0Calls(): number {
  const counter = current.getStore();
  if (!counter) return 0;
  const calls = counter.calls;
  counter.calls = 0;
  return calls;
}

/** One Management API call, counted for the run it was made for (outside a run: not counted). */
export function noteAuth0Call(): void {
  const counter = current.getStore();
  if (counter) counter.calls += 1;
}
