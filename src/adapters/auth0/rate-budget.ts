/**
 * The client-side rate budget: one token bucket per Auth0 tenant for the whole Management API (where the plan has
 * one) and one per endpoint group, configured from the plan's published limits (reference §14.3) and corrected from
 * the `x-ratelimit-*` headers, so that normal operation produces almost no 429s.
 *
 * - A call waits until every bucket it counts against (the global bucket and its endpoint group's) holds a token,
 *   then takes one from each. Each bucket serves its waiters first come, first served; a waiter sleeps until the
 *   next token is due (no polling), and calls of other endpoint groups are not held up behind it.
 * - Buckets refill continuously ("one additional request every 60/y seconds", the reading auth0-local also models).
 *   The refill semantics of the real service are UNCONFIRMED (§14.2): the headers correct the estimate either way.
 * - `observe()` corrects the bucket a response's headers describe: a `x-ratelimit-remaining` below our estimate
 *   (another client shares the tenant) lowers it, less the calls still in flight; a 429 empties the bucket and
 *   closes it until `x-ratelimit-reset` (or `retry-after`). The estimate is never raised from headers.
 * - Shared (`shared`, issue 6): the buckets live in PostgreSQL (`SharedBuckets`), refilled and taken under a row lock
 *   on the database clock, so every worker and portal process of an installation draws from one budget per tenant;
 *   the FIFO of waiters and the count of calls in flight stay per process.
 * - `budgetedFetch()` puts the budget in front of the SDK's `fetch`, so every Management API request (each page of a
 *   list too) is counted with its real method and path, and every response corrects the budget. Other requests
 *   (the token request to `/oauth/token`) pass through uncounted.
 *
 * The published numbers are duplicated from auth0-local's `rate-limits.ts` on purpose: the client and the imitation
 * server model the same public table independently, and product code never imports auth0-local.
 */
import { setTimeout as sleep } from 'node:timers/promises';

import type { SharedBucket, SharedBuckets } from '../../ports/rate-buckets.js';
import { BUDGET_UNAVAILABLE, retryAtFrom } from './classify.js';

export interface BucketSpec {
  burst: number;
  /** Sustained refill rate in requests per second (before time scaling). */
  perSecond: number;
}

/** The endpoint groups of the published tables (the same grouping as auth0-local's). */
export type EndpointGroup =
  | 'organizations:read'
  | 'organizations:read-by-id'
  | 'organizations:read-by-name'
  | 'organizations:write'
  | 'organization-members:read'
  | 'organization-members:write'
  | 'organization-member-roles:read'
  | 'organization-member-roles:write'
  | 'organization-connections:read'
  | 'organization-connections:write'
  | 'organization-client-grants:write'
  | 'users:read'
  | 'users:write'
  | 'clients:read'
  | 'connections:read'
  | 'other';

export interface RateProfile {
  /** The tenant-wide Management API bucket, where the plan has one. */
  global?: BucketSpec | undefined;
  endpoints: Partial<Record<EndpointGroup, BucketSpec>>;
}

export const RATE_PROFILE_NAMES = ['free', 'self-service', 'enterprise', 'unlimited'] as const;
export type RateProfileName = (typeof RATE_PROFILE_NAMES)[number];

const perMinute = (burst: number, sustained: number): BucketSpec => ({ burst, perSecond: sustained / 60 });

/** Auth0's published Management API limits per plan (reference §14.3; enterprise = public-cloud production). */
export const RATE_PROFILES: Record<RateProfileName, RateProfile> = {
  free: { global: { burst: 2, perSecond: 2 }, endpoints: {} },
  // Essentials and Professional.
  'self-service': {
    endpoints: {
      'organizations:read': perMinute(5, 50),
      'organizations:read-by-id': perMinute(20, 200),
      'organizations:read-by-name': perMinute(10, 100),
      'organizations:write': perMinute(5, 25),
      'organization-members:read': perMinute(40, 500),
      'organization-members:write': perMinute(20, 200),
      'organization-member-roles:read': perMinute(20, 200),
      'organization-member-roles:write': perMinute(20, 200),
      'organization-connections:read': perMinute(5, 50),
      'organization-connections:write': perMinute(5, 25),
      'organization-client-grants:write': perMinute(5, 150),
      'users:read': perMinute(40, 500),
      'users:write': perMinute(20, 200),
      'clients:read': perMinute(5, 100),
      'connections:read': perMinute(5, 50),
      other: perMinute(10, 150),
    },
  },
  enterprise: {
    global: { burst: 50, perSecond: 16 },
    endpoints: {
      'organizations:read-by-name': perMinute(20, 200),
      'organizations:write': perMinute(5, 150),
      'organization-members:read': perMinute(40, 500),
      'organization-members:write': perMinute(20, 200),
      'organization-connections:read': perMinute(10, 100),
      'organization-connections:write': perMinute(5, 150),
    },
  },
  // No buckets: only a 429 the server sends pauses the group it names.
  unlimited: { endpoints: {} },
};

export interface RateLimitOptions {
  /** The tenant's plan. */
  profile: RateProfileName;
  /** Multiplies every refill rate (an auth0-local started with the same `timeScale`); default 1. */
  timeScale?: number | undefined;
  /**
   * Keep the buckets in `buckets` (shared by every process of the installation) under keys starting with `scope`
   * (the tenant's domain), instead of in this process.
   */
  shared?: { buckets: SharedBuckets; scope: string } | undefined;
}

/** Time for the budget; injectable so tests run on a fake clock. */
export interface BudgetClock {
  /** Epoch milliseconds (compared with `x-ratelimit-reset`, which is epoch seconds). */
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: BudgetClock = {
  now: () => Date.now(),
  sleep: (ms) => sleep(ms),
};

/** The endpoint group a Management API call counts against (`path` relative to `/api/v2`, query ignored). */
export function endpointGroup(method: string, path: string): EndpointGroup {
  const read = method.toUpperCase() === 'GET';
  const segments = path.split('?')[0]!.split('/').filter(Boolean);
  const [resource, id, sub, , subsub] = segments;
  if (resource === 'organizations') {
    if (segments.length === 1) return read ? 'organizations:read' : 'organizations:write';
    if (id === 'name') return 'organizations:read-by-name';
    if (segments.length === 2) return read ? 'organizations:read-by-id' : 'organizations:write';
    if (sub === 'members') {
      if (subsub === 'roles')
        return read ? 'organization-member-roles:read' : 'organization-member-roles:write';
      return read ? 'organization-members:read' : 'organization-members:write';
    }
    if (sub === 'enabled_connections' || sub === 'connections') {
      return read ? 'organization-connections:read' : 'organization-connections:write';
    }
    if (sub === 'client-grants' && !read) return 'organization-client-grants:write';
    return 'other';
  }
  if (resource === 'users' || resource === 'users-by-email') return read ? 'users:read' : 'users:write';
  if (resource === 'clients' && read) return 'clients:read';
  if (resource === 'connections' && read) return 'connections:read';
  return 'other';
}

/** Absorbs floating-point drift, so a token that is due is never withheld by 1e-15. */
const EPSILON = 1e-9;
/** How long a 429 closes a group when the answer says nothing about when to come back (before time scaling). */
const DEFAULT_PAUSE_MS = 1000;
/** A `x-ratelimit-reset` further away than this is a clock-skew artefact, not a plan. */
const MAX_PAUSE_MS = 60_000;

interface Waiter {
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** One bucket (or, without a spec, a group that only a 429 can close), with its FIFO of waiters. */
class Gate {
  private tokens: number;
  private last: number;
  private closedUntil = 0;
  /** Tokens taken whose response has not been observed yet. */
  private inFlight = 0;
  private readonly waiters: Waiter[] = [];
  private pumping = false;

  constructor(
    readonly name: string,
    readonly spec: BucketSpec | undefined,
    /** Tokens per millisecond. */
    private readonly rate: number,
    private readonly clock: BudgetClock,
    /** Where the bucket's state lives when it is shared across processes. */
    private readonly shared?: { buckets: SharedBuckets; key: string },
  ) {
    this.tokens = spec?.burst ?? 0;
    this.last = clock.now();
  }

  /** The shared bucket's size and rate (a group without a spec never runs out; only a 429 closes it). */
  private sharedBucket(): SharedBucket {
    return this.spec ? { burst: this.spec.burst, perMs: this.rate } : { burst: 1e9, perMs: 1e9 };
  }

  acquire(): Promise<void> {
    const now = this.clock.now();
    if (!this.shared && this.waiters.length === 0 && this.delay(now) === 0) {
      this.take();
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      if (!this.pumping) void this.pump();
    });
  }

  /** Serves the waiters in order, sleeping until the next token is due. One pump per gate at a time. */
  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      while (this.waiters.length > 0) {
        const wait = this.shared
          ? await this.shared.buckets.take(this.shared.key, this.sharedBucket())
          : this.delay(this.clock.now());
        if (wait > 0) {
          await this.clock.sleep(wait);
          continue;
        }
        if (this.shared) this.inFlight += 1;
        else this.take();
        this.waiters.shift()!.resolve();
      }
    } catch (error) {
      for (const waiter of this.waiters.splice(0)) waiter.reject(error);
    } finally {
      this.pumping = false;
    }
  }

  /** Milliseconds until a token can be taken (0: now), after refilling to `now`. */
  private delay(now: number): number {
    this.refill(now);
    const closed = Math.max(0, this.closedUntil - now);
    const short = this.spec && this.tokens + EPSILON < 1 ? (1 - this.tokens) / this.rate : 0;
    const wait = Math.max(closed, short);
    return wait <= 0 ? 0 : Math.max(1, Math.ceil(wait));
  }

  private refill(now: number): void {
    if (this.spec && now > this.last) {
      this.tokens = Math.min(this.spec.burst, this.tokens + (now - this.last) * this.rate);
    }
    this.last = Math.max(this.last, now);
  }

  private take(): void {
    if (this.spec) this.tokens -= 1;
    this.inFlight += 1;
  }

  /** The response to one of this gate's calls arrived (or the call failed without one). */
  settle(): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
  }

  /** The server reports `remaining` tokens: lower our estimate to that, less the calls still in flight. */
  lowerTo(remaining: number): Promise<void> | void {
    if (!this.spec) return;
    if (this.shared)
      return this.shared.buckets.lower(
        this.shared.key,
        this.sharedBucket(),
        Math.max(0, remaining - this.inFlight),
        0,
      );
    this.refill(this.clock.now());
    this.tokens = Math.min(this.tokens, Math.max(0, remaining - this.inFlight));
  }

  /** A 429: nothing left, and closed until `until` (epoch ms). */
  close(until: number): Promise<void> | void {
    if (this.shared)
      return this.shared.buckets.lower(
        this.shared.key,
        this.sharedBucket(),
        0,
        Math.max(1, until - this.clock.now()),
      );
    this.refill(this.clock.now());
    if (this.spec) this.tokens = Math.min(this.tokens, 0);
    this.closedUntil = Math.max(this.closedUntil, until);
  }
}

function headerNumber(headers: Headers, name: string): number | undefined {
  const value = headers.get(name)?.trim();
  return value && /^\d+$/.test(value) ? Number(value) : undefined;
}

/** One Auth0 tenant's budget. Every `acquire` must be followed by one `observe` of the same call. */
export class RateBudget {
  readonly profile: RateProfileName;
  readonly timeScale: number;
  private readonly clock: BudgetClock;
  private readonly global: Gate | undefined;
  private readonly groups = new Map<EndpointGroup, Gate>();
  private readonly shared: RateLimitOptions['shared'];

  constructor(options: RateLimitOptions, clock: BudgetClock = systemClock) {
    const profile = (RATE_PROFILES as Partial<Record<string, RateProfile>>)[options.profile];
    if (!profile) {
      throw new Error(
        `unknown rate-limit profile "${options.profile}"; expected one of ${RATE_PROFILE_NAMES.join(', ')}`,
      );
    }
    const timeScale = options.timeScale ?? 1;
    if (!(timeScale > 0) || !Number.isFinite(timeScale)) {
      throw new Error(`rate-limit timeScale must be a positive number, got ${timeScale}`);
    }
    this.profile = options.profile;
    this.timeScale = timeScale;
    this.clock = clock;
    this.shared = options.shared;
    this.global = profile.global ? this.gate('global', profile.global) : undefined;
    for (const [name, spec] of Object.entries(profile.endpoints) as [EndpointGroup, BucketSpec][]) {
      this.groups.set(name, this.gate(name, spec));
    }
  }

  private gate(name: string, spec: BucketSpec | undefined): Gate {
    const rate = spec ? (spec.perSecond * this.timeScale) / 1000 : 0;
    const shared = this.shared
      ? { buckets: this.shared.buckets, key: `${this.shared.scope}|${this.profile}|${name}` }
      : undefined;
    return new Gate(name, spec, rate, this.clock, shared);
  }

  /** The gates a call counts against: its endpoint group's first, then the global one. */
  private gatesFor(method: string, path: string): Gate[] {
    const name = endpointGroup(method, path);
    let group = this.groups.get(name);
    if (!group) {
      // A group the plan does not limit still gets a gate, so that a 429 naming it can close it.
      group = this.gate(name, undefined);
      this.groups.set(name, group);
    }
    return this.global ? [group, this.global] : [group];
  }

  /** Waits until every bucket the call counts against has a token, and takes one from each. */
  async acquire(method: string, path: string): Promise<void> {
    // Always in the same order (group, then global), so no two callers wait for each other.
    for (const gate of this.gatesFor(method, path)) await gate.acquire();
  }

  /**
   * Corrects the budget from a call's answer. `headers`/`status` undefined: the call failed without an answer (it
   * still settles the call's tokens). The headers describe one bucket, found by its size (`x-ratelimit-limit`);
   * a 429 whose bucket we do not know closes the call's endpoint group.
   */
  observe(
    method: string,
    path: string,
    headers: Headers | undefined,
    status: number | undefined,
  ): Promise<void> | void {
    const gates = this.gatesFor(method, path);
    for (const gate of gates) gate.settle();
    if (!headers || status === undefined) return;
    const limit = headerNumber(headers, 'x-ratelimit-limit');
    const remaining = headerNumber(headers, 'x-ratelimit-remaining');
    const described = limit === undefined ? undefined : gates.find((gate) => gate.spec?.burst === limit);
    if (status === 429) {
      const now = this.clock.now();
      const pause = DEFAULT_PAUSE_MS / this.timeScale;
      const until = Math.min(retryAtFrom(headers, 429, now) ?? now + pause, now + MAX_PAUSE_MS);
      return (described ?? gates[0]!).close(until);
    }
    if (described && remaining !== undefined) return described.lowerTo(remaining);
  }
}

/** The budget a `rateLimits` option asks for. */
export function rateBudgetFor(options: RateLimitOptions | RateBudget): RateBudget {
  return options instanceof RateBudget ? options : new RateBudget(options);
}

const MANAGEMENT_API = '/api/v2/';
const TIMEOUT = 'timeout';

/**
 * A `fetch` for the SDK (`new ManagementClient({ fetch })`) that counts every Management API request against the
 * budget and corrects it from every answer.
 *
 * The SDK starts its timeout before it calls `fetch`, so time spent waiting for the budget would count against it.
 * With `timeoutMs`, the wait is excluded: the request gets its own timeout, started when the budget lets it go, in
 * place of the SDK's signal (it aborts with the same reason, `"timeout"`, so a timeout is classified as before).
 * orgadmin passes no abort signals of its own.
 */
export function budgetedFetch(
  budget: RateBudget,
  options: {
    timeoutMs?: number | undefined;
    fetch?: typeof fetch;
    /** Told of every Management API call's answer (status undefined: none), by its endpoint group. */
    onAnswer?: ((group: EndpointGroup, status: number | undefined) => void) | undefined;
  } = {},
): typeof fetch {
  const inner = options.fetch ?? fetch;
  return async (input, init) => {
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    if (!url.pathname.startsWith(MANAGEMENT_API)) return inner(input, init);
    const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
    const path = url.pathname.slice(MANAGEMENT_API.length - 1);
    try {
      await budget.acquire(method, path);
    } catch (error) {
      // The request was never sent: retrying it is safe, so this must not look like Auth0 refusing it.
      throw Object.assign(
        new Error(`the shared rate budget is unavailable: ${String(error)}`, { cause: error }),
        {
          code: BUDGET_UNAVAILABLE,
        },
      );
    }
    let timer: NodeJS.Timeout | undefined;
    let request = init;
    if (options.timeoutMs !== undefined) {
      const controller = new AbortController();
      timer = setTimeout(() => controller.abort(TIMEOUT), options.timeoutMs);
      request = { ...init, signal: controller.signal };
    }
    try {
      const response = await inner(input, request);
      options.onAnswer?.(endpointGroup(method, path), response.status);
      // A shared budget's correction is in the database before the next call of this process asks for a token; a
      // correction that fails is only a worse estimate, never a failed call.
      await Promise.resolve(budget.observe(method, path, response.headers, response.status)).catch(
        () => undefined,
      );
      return response;
    } catch (error) {
      options.onAnswer?.(endpointGroup(method, path), undefined);
      await Promise.resolve(budget.observe(method, path, undefined, undefined)).catch(() => undefined);
      throw error;
    } finally {
      if (timer) clearTimeout(timer);
    }
  };
}
