/**
 * The shared rate budget (issue 6): token buckets in PostgreSQL that several processes draw from — one budget per
 * tenant however many workers run. Two `RateBudget`s stand for two processes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { classifyAuth0Error } from '../../../src/adapters/auth0/classify.js';
import { budgetedFetch, RateBudget, type BudgetClock } from '../../../src/adapters/auth0/rate-budget.js';
import { createSharedRateBuckets } from '../../../src/adapters/postgres/shared-rate-buckets.js';
import type { SharedBuckets } from '../../../src/ports/rate-buckets.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.js';

let database: TestDatabase;
let buckets: SharedBuckets;

beforeAll(async () => {
  database = await createTestDatabase();
  buckets = createSharedRateBuckets(database.pool);
});
afterAll(() => database?.drop());

/** A clock whose sleeps are recorded and resolved only when the test says so. */
function pausedClock(): BudgetClock & { sleeps: number[]; wake(): void } {
  const waiting: (() => void)[] = [];
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => Date.now(),
    sleep(ms) {
      sleeps.push(ms);
      return new Promise((resolve) => waiting.push(resolve));
    },
    wake: () => waiting.splice(0).forEach((resolve) => resolve()),
  };
}

describe('shared token buckets', () => {
  it('hand out a burst once, then ask to wait, across callers', async () => {
    const slow = { burst: 2, perMs: 1e-9 };
    expect(await buckets.take('t|a', slow)).toBe(0);
    expect(await buckets.take('t|a', slow)).toBe(0);
    expect(await buckets.take('t|a', slow)).toBeGreaterThan(60_000);
    // Another key is another bucket.
    expect(await buckets.take('t|b', slow)).toBe(0);
  });

  it('refill with time, lower to what the server reports, and close on a 429', async () => {
    // One token every 10 s: after the server says 0 remain, the next token is about 10 s away.
    const slow = { burst: 5, perMs: 1e-4 };
    expect(await buckets.take('t|c', slow)).toBe(0);
    await buckets.lower('t|c', slow, 0, 0);
    expect(await buckets.take('t|c', slow)).toBeGreaterThan(9_000);
    // Lowering never raises: a full bucket (5) told "at most 10" keeps 5, and gives 5 tokens.
    await buckets.lower('t|d', slow, 10, 0);
    for (let i = 0; i < 5; i++) expect(await buckets.take('t|d', slow)).toBe(0);
    expect(await buckets.take('t|d', slow)).toBeGreaterThan(9_000);
    // Refill: one token a millisecond is back at once; a 429 closes the bucket whatever its tokens.
    const fast = { burst: 5, perMs: 1 };
    await buckets.lower('t|e', fast, 0, 0);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(await buckets.take('t|e', fast)).toBe(0);
    await buckets.lower('t|e', fast, 5, 5_000);
    expect(await buckets.take('t|e', fast)).toBeGreaterThan(4_000);
  });

  it('fail a call as retryable, without sending it, when the database cannot be asked', async () => {
    const broken: SharedBuckets = {
      take: () => Promise.reject(new Error('Connection terminated unexpectedly')),
      lower: () => Promise.resolve(),
    };
    let sent = 0;
    const fetchVia = budgetedFetch(
      new RateBudget({ profile: 'free', shared: { buckets: broken, scope: 'x' } }),
      {
        fetch: () => {
          sent += 1;
          return Promise.resolve(new Response('{}'));
        },
      },
    );
    const error = await fetchVia('https://tenant.example.com/api/v2/clients').then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(sent).toBe(0);
    expect(classifyAuth0Error(error, 'list clients').retryable).toBe(true);
  });

  it('make two processes share one budget: the second waits for the tokens the first took', async () => {
    const shared = { buckets, scope: 'tenant.example.com' };
    const first = new RateBudget({ profile: 'free', shared });
    const clock = pausedClock();
    const second = new RateBudget({ profile: 'free', shared }, clock);
    // The free plan: 2 requests of burst for the whole API, 2 per second after that.
    await first.acquire('GET', '/clients');
    await first.acquire('GET', '/clients');
    let granted = false;
    const pending = second.acquire('GET', '/clients').then(() => (granted = true));
    while (clock.sleeps.length === 0) await new Promise((resolve) => setImmediate(resolve));
    expect(granted).toBe(false);
    expect(clock.sleeps[0]).toBeGreaterThan(400); // about one token's time at 2 per second
    expect(clock.sleeps[0]).toBeLessThanOrEqual(500);
    await new Promise((resolve) => setTimeout(resolve, clock.sleeps[0]));
    clock.wake();
    await pending;
    expect(granted).toBe(true);
    // A budget of its own (no `shared`) grants its whole burst at once, whatever other processes took.
    const aloneClock = pausedClock();
    const alone = new RateBudget({ profile: 'free' }, aloneClock);
    await alone.acquire('GET', '/clients');
    await alone.acquire('GET', '/clients');
    expect(aloneClock.sleeps).toEqual([]);
  });
});
