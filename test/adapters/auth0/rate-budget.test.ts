/**
 * The client-side rate budget: on a fake clock (burst then the sustained rate, FIFO, global and endpoint buckets,
 * corrections from the `x-ratelimit-*` headers, a 429 closing the bucket until its reset, the fetch wrapper), and
 * against auth0-local with the self-service limits: a burst of organization creations through the SDK tenant stays
 * (almost) free of 429s with the budget and meets many without it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  budgetedFetch,
  endpointGroup,
  RATE_PROFILES,
  RateBudget,
  type BudgetClock,
  type RateLimitOptions,
} from '../../../src/adapters/auth0/rate-budget.js';
import { createSdkTenant } from '../../../src/adapters/auth0/sdk-tenant.js';
import type { Step } from '../../../src/domain/plan.js';
import type { Auth0Failure } from '../../../src/ports/auth0-tenant.js';
import { startTestAuth0Local, type TestAuth0Local } from '../../helpers/auth0-local.js';

/** A clock that moves only when told to; `sleep` resolves when `advance` passes its deadline. */
class FakeClock implements BudgetClock {
  private time = 1_800_000_000_000;
  private timers: { at: number; resolve: () => void }[] = [];
  /** Every sleep asked for, to show that waiting is never a busy loop. */
  sleeps = 0;

  now = (): number => this.time;

  sleep = (ms: number): Promise<void> => {
    this.sleeps += 1;
    return new Promise((resolve) => this.timers.push({ at: this.time + ms, resolve }));
  };

  /** Moves time forward by `ms`, firing due timers in order and letting their continuations run. */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    await settle();
    for (;;) {
      const due = this.timers.filter((timer) => timer.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.timers = this.timers.filter((timer) => timer !== due);
      this.time = Math.max(this.time, due.at);
      due.resolve();
      await settle();
    }
    this.time = end;
    await settle();
  }
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

const headers = (limit: number, remaining: number, resetSeconds: number): Headers =>
  new Headers({
    'x-ratelimit-limit': String(limit),
    'x-ratelimit-remaining': String(remaining),
    'x-ratelimit-reset': String(resetSeconds),
  });

function setup(options: RateLimitOptions): { clock: FakeClock; budget: RateBudget; start: number } {
  const clock = new FakeClock();
  return { clock, budget: new RateBudget(options, clock), start: clock.now() };
}

/** Starts `count` acquires of one call; records when (ms after `start`) and in which order each was granted. */
function burst(
  budget: RateBudget,
  clock: FakeClock,
  start: number,
  count: number,
  method = 'POST',
  path = '/organizations',
): { granted: { index: number; at: number }[] } {
  const granted: { index: number; at: number }[] = [];
  for (let index = 0; index < count; index++) {
    void budget.acquire(method, path).then(() => granted.push({ index, at: clock.now() - start }));
  }
  return { granted };
}

describe('RateBudget on a fake clock', () => {
  it('grants the burst at once, then one call per refill interval, in arrival order', async () => {
    // Self-service Write Organizations: burst 5, 25 per minute = one token every 2.4 s.
    const { clock, budget, start } = setup({ profile: 'self-service' });
    const { granted } = burst(budget, clock, start, 9);
    await clock.advance(0);
    expect(granted.map((g) => g.at)).toEqual([0, 0, 0, 0, 0]);
    await clock.advance(2399);
    expect(granted).toHaveLength(5);
    await clock.advance(1);
    expect(granted).toHaveLength(6);
    await clock.advance(3 * 2400);
    expect(granted.map((g) => g.at)).toEqual([0, 0, 0, 0, 0, 2400, 4800, 7200, 9600]);
    expect(granted.map((g) => g.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    // One sleep per token after the burst: the waiters sleep, they do not poll.
    expect(clock.sleeps).toBeLessThanOrEqual(4);
  });

  it('never grants more than the bucket allows, however many callers wait', async () => {
    const { clock, budget, start } = setup({ profile: 'self-service', timeScale: 20 });
    // 120 ms per token at time scale 20.
    const { granted } = burst(budget, clock, start, 60);
    for (let t = 0; t <= 8000; t += 50) {
      await clock.advance(t === 0 ? 0 : 50);
      const allowed = 5 + Math.floor((clock.now() - start) / 120);
      expect(granted.length).toBeLessThanOrEqual(allowed);
    }
    expect(granted).toHaveLength(60);
    expect(granted.map((g) => g.index)).toEqual([...Array(60).keys()]);
    expect(granted.at(-1)!.at).toBe(55 * 120);
  });

  it('counts a call against the global bucket and its endpoint group, without head-of-line blocking', async () => {
    // Enterprise: Write Organizations 5 / 150 per min (one per 400 ms); global 50 / 16 per s.
    const { clock, budget, start } = setup({ profile: 'enterprise' });
    const writes = burst(budget, clock, start, 7);
    await clock.advance(0);
    expect(writes.granted).toHaveLength(5);
    // Reads of users are not held up behind the waiting organization writes; they count against the global bucket.
    const reads = burst(budget, clock, start, 45, 'GET', '/users');
    await clock.advance(0);
    expect(reads.granted).toHaveLength(45);
    const more = burst(budget, clock, start, 2, 'GET', '/clients');
    await clock.advance(0);
    expect(more.granted).toHaveLength(0);
    await clock.advance(400);
    // 0.4 s of global refill is 6.4 tokens: the organization write due now and both client reads.
    expect(writes.granted).toHaveLength(6);
    expect(more.granted).toHaveLength(2);
  });

  it('paces every endpoint by the global bucket on the free plan', async () => {
    const { clock, budget, start } = setup({ profile: 'free' });
    const a = burst(budget, clock, start, 3, 'GET', '/users');
    const b = burst(budget, clock, start, 2, 'POST', '/roles');
    await clock.advance(2000);
    expect([...a.granted, ...b.granted].map((g) => g.at).sort((x, y) => x - y)).toEqual([
      0, 0, 500, 1000, 1500,
    ]);
  });

  it('lowers its estimate when the server reports fewer remaining calls, less the calls in flight', async () => {
    const { clock, budget, start } = setup({ profile: 'self-service' });
    await budget.acquire('POST', '/organizations');
    await budget.acquire('POST', '/organizations');
    // Another client shares the tenant: the server has 1 left after our first call, and our second is in flight.
    await budget.observe('POST', '/organizations', headers(5, 1, 0), 201);
    const { granted } = burst(budget, clock, start, 2);
    await clock.advance(0);
    expect(granted).toHaveLength(0);
    await clock.advance(2400);
    expect(granted.map((g) => g.at)).toEqual([2400]);
    // A higher remaining never raises the estimate.
    await budget.observe('POST', '/organizations', headers(5, 5, 0), 201);
    await clock.advance(0);
    expect(granted).toHaveLength(1);
  });

  it('ignores headers that describe a bucket of another size on success', async () => {
    const { clock, budget, start } = setup({ profile: 'self-service' });
    await budget.acquire('POST', '/organizations');
    await budget.observe('POST', '/organizations', headers(1_000_000, 0, 0), 201);
    const { granted } = burst(budget, clock, start, 4);
    await clock.advance(0);
    expect(granted).toHaveLength(4);
  });

  it('empties the bucket on a 429 and keeps it closed until the reset', async () => {
    const { clock, budget, start } = setup({ profile: 'self-service' });
    await budget.acquire('POST', '/organizations');
    const reset = Math.ceil((start + 10_000) / 1000);
    await budget.observe('POST', '/organizations', headers(5, 0, reset), 429);
    const { granted } = burst(budget, clock, start, 6);
    await clock.advance(9_999);
    expect(granted).toHaveLength(0);
    await clock.advance(reset * 1000 - clock.now());
    // Closed until the reset; the refill since the 429 (10 s at 2.4 s a token) is then available.
    expect(granted).toHaveLength(4);
    expect(granted[0]!.at).toBe(reset * 1000 - start);
    // Other groups are not affected.
    const other = burst(budget, clock, start, 1, 'GET', '/users');
    await clock.advance(0);
    expect(other.granted).toHaveLength(1);
  });

  it('closes the endpoint group when a 429 names a bucket it does not know', async () => {
    // Enterprise has no row for POST /roles ("other"): the group gets closed, the global bucket stays open.
    const { clock, budget, start } = setup({ profile: 'enterprise' });
    await budget.acquire('POST', '/roles');
    await budget.observe('POST', '/roles', new Headers({ 'retry-after': '3' }), 429);
    const roles = burst(budget, clock, start, 1, 'POST', '/roles');
    const users = burst(budget, clock, start, 1, 'GET', '/users');
    await clock.advance(2_999);
    expect(roles.granted).toHaveLength(0);
    expect(users.granted).toHaveLength(1);
    await clock.advance(1);
    expect(roles.granted).toHaveLength(1);
  });

  it('refuses an unknown profile and a bad time scale', () => {
    expect(() => new RateBudget({ profile: 'gold' as 'free' })).toThrow(/unknown rate-limit profile "gold"/);
    expect(() => new RateBudget({ profile: 'free', timeScale: 0 })).toThrow(/timeScale/);
  });

  it('classifies Management API paths into the published endpoint groups', () => {
    expect(endpointGroup('GET', '/organizations')).toBe('organizations:read');
    expect(endpointGroup('GET', '/organizations/name/acme')).toBe('organizations:read-by-name');
    expect(endpointGroup('PATCH', '/organizations/org_1')).toBe('organizations:write');
    expect(endpointGroup('POST', '/organizations/org_1/members')).toBe('organization-members:write');
    expect(endpointGroup('POST', '/organizations/org_1/members/auth0|1/roles')).toBe(
      'organization-member-roles:write',
    );
    expect(endpointGroup('POST', '/organizations/org_1/enabled_connections')).toBe(
      'organization-connections:write',
    );
    expect(endpointGroup('GET', '/users-by-email')).toBe('users:read');
    expect(endpointGroup('GET', '/clients?fields=name')).toBe('clients:read');
    expect(endpointGroup('PATCH', '/clients/abc')).toBe('other');
    // Every group a profile limits is one the classification produces.
    expect(Object.keys(RATE_PROFILES['self-service'].endpoints)).toHaveLength(16);
  });
});

describe('budgetedFetch', () => {
  it('counts Management API requests only, and corrects the budget from their answers', async () => {
    const clock = new FakeClock();
    const start = clock.now();
    const budget = new RateBudget({ profile: 'free' }, clock);
    const seen: string[] = [];
    let answer = (): Response => new Response('{}', { status: 200 });
    const inner: typeof fetch = (input) => {
      seen.push(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
      return Promise.resolve(answer());
    };
    const wrapped = budgetedFetch(budget, { fetch: inner });
    // The token request is not Management API: never counted, never delayed.
    for (let i = 0; i < 5; i++) await wrapped('https://tenant.example/oauth/token', { method: 'POST' });
    expect(seen).toHaveLength(5);
    answer = () => new Response('{}', { status: 429, headers: headers(2, 0, Math.ceil(start / 1000) + 3) });
    await wrapped('https://tenant.example/api/v2/users?q=x', { method: 'GET' });
    answer = () => new Response('{}', { status: 200 });
    const done: number[] = [];
    void wrapped('https://tenant.example/api/v2/roles', { method: 'POST' }).then(() =>
      done.push(clock.now() - start),
    );
    await clock.advance(2_999);
    expect(done).toEqual([]);
    await clock.advance(1_000);
    expect(done).toEqual([Math.ceil(start / 1000) * 1000 + 3000 - start]);
    expect(seen.at(-1)).toBe('https://tenant.example/api/v2/roles');
  });

  it("gives the request its own timeout, started after the wait, aborting with the SDK's reason", async () => {
    const budget = new RateBudget({ profile: 'unlimited' });
    const inner: typeof fetch = (_input, init) =>
      new Promise((_resolve, reject) => {
        init?.signal?.addEventListener('abort', () => reject(new Error(String(init.signal?.reason))));
      });
    const sdkSignal = AbortSignal.abort('timeout');
    const wrapped = budgetedFetch(budget, { fetch: inner, timeoutMs: 20 });
    const started = Date.now();
    // The SDK's own signal (already aborted, as after a long wait for the budget) is replaced.
    await expect(wrapped('https://t.example/api/v2/users', { signal: sdkSignal })).rejects.toThrow(
      /^timeout$/,
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(15);
  });
});

describe('RateBudget against auth0-local (self-service limits, time scale 20)', () => {
  const ORGS = 40;
  let budgeted: TestAuth0Local;
  let unbudgeted: TestAuth0Local;

  beforeAll(async () => {
    [budgeted, unbudgeted] = await Promise.all([
      startTestAuth0Local({ rateLimits: 'self-service', timeScale: 20 }),
      startTestAuth0Local({ rateLimits: 'self-service', timeScale: 20 }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([budgeted?.close(), unbudgeted?.close()]);
  });

  const createStep = (name: string): Step => ({
    kind: 'create-organization',
    key: 'organization:create',
    name,
    settings: { displayName: name, metadata: {} },
  });

  /** Creates `ORGS` organizations at once; returns how many succeeded and the 429s in auth0-local's log. */
  async function createBurst(
    local: TestAuth0Local,
    rateLimits: RateLimitOptions | false,
  ): Promise<{ created: number; failures: Auth0Failure[]; tooMany: number; writes: number }> {
    const tenant = createSdkTenant({
      domain: local.domain,
      clientId: local.clientId,
      clientSecret: local.clientSecret,
      rateLimits,
    });
    const results = await Promise.allSettled(
      Array.from({ length: ORGS }, (_, i) =>
        tenant.execute(createStep(`burst-${i}`), { orgName: `burst-${i}`, runId: 'run_1', ids: {} }),
      ),
    );
    const failures = results
      .filter((result) => result.status === 'rejected')
      .map((result) => result.reason as Auth0Failure);
    const log = local.requestLog.list().filter((entry) => entry.path.startsWith('/api/v2/'));
    return {
      created: results.length - failures.length,
      failures,
      tooMany: log.filter((entry) => entry.status === 429).length,
      writes: log.filter((entry) => entry.method === 'POST').length,
    };
  }

  it('creates a burst of organizations with (almost) no 429s, where the same burst without it meets many', async () => {
    const started = Date.now();
    const withBudget = await createBurst(budgeted, { profile: 'self-service', timeScale: 20 });
    const budgetedMs = Date.now() - started;
    const withoutBudget = await createBurst(unbudgeted, false);

    expect(withBudget.failures.map((failure) => failure.message)).toEqual([]);
    expect(withBudget.created).toBe(ORGS);
    expect(withBudget.writes).toBe(ORGS);
    const counts = `429s with the budget: ${withBudget.tooMany}, without: ${withoutBudget.tooMany}`;
    expect(withBudget.tooMany, counts).toBeLessThanOrEqual(1);
    // Without the budget only the burst (5) gets through; every other creation is answered 429.
    expect(withoutBudget.tooMany, counts).toBeGreaterThanOrEqual(ORGS - 10);
    expect(withoutBudget.failures.every((failure) => failure.details.status === 429)).toBe(true);
    // The budget paced the burst at the bucket's rate: 35 tokens after the burst at 120 ms each ≈ 4.2 s.
    expect(budgetedMs).toBeGreaterThanOrEqual(35 * 120 - 200);
    console.info(
      `rate budget, ${ORGS} concurrent organization creations: ${counts}; paced over ${budgetedMs} ms`,
    );
  }, 20_000);
});
