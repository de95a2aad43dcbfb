/**
 * Auth0's Management API rate limits: a token bucket per tenant for the whole API (where the plan has one) and one
 * per endpoint group, with the published numbers per plan (reference §14.3). Buckets refill continuously, the
 * reading of Auth0's "one additional request every 60/y seconds" page; `timeScale` multiplies every rate so a
 * benchmark can run an Auth0-shaped limit faster than real time.
 */
import { Auth0HttpError } from './errors.js';

export interface BucketSpec {
  burst: number;
  /** Sustained refill rate in requests per second (before time scaling). */
  perSecond: number;
}

export type BucketName =
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

export interface RateLimitSpec {
  profile: string;
  global?: BucketSpec | undefined;
  endpoints: Partial<Record<BucketName, BucketSpec>>;
  timeScale: number;
}

const perMinute = (burst: number, sustained: number): BucketSpec => ({ burst, perSecond: sustained / 60 });

export const RATE_LIMIT_PROFILES: Record<string, Omit<RateLimitSpec, 'timeScale'>> = {
  free: { profile: 'free', global: { burst: 2, perSecond: 2 }, endpoints: {} },
  'self-service': {
    profile: 'self-service',
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
    profile: 'enterprise',
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
  unlimited: { profile: 'unlimited', endpoints: {} },
};

/** Resolves a profile name (or a spec object from the admin API / seed file) into a full spec. */
export function resolveRateLimits(
  input: string | Partial<RateLimitSpec> | undefined,
  timeScale = 1,
): RateLimitSpec {
  if (input === undefined) return { ...RATE_LIMIT_PROFILES['unlimited']!, timeScale };
  if (typeof input === 'string') {
    const profile = RATE_LIMIT_PROFILES[input];
    if (!profile) {
      throw new Error(
        `unknown rate-limit profile "${input}"; expected one of ${Object.keys(RATE_LIMIT_PROFILES).join(', ')}`,
      );
    }
    return { ...profile, timeScale };
  }
  const base = input.profile
    ? resolveRateLimits(input.profile, timeScale)
    : resolveRateLimits('unlimited', timeScale);
  return {
    profile: input.profile ?? 'custom',
    global: input.global === undefined ? base.global : input.global,
    endpoints: { ...base.endpoints, ...(input.endpoints ?? {}) },
    timeScale: input.timeScale ?? timeScale,
  };
}

/** The endpoint group a Management API call counts against (path relative to `/api/v2`). */
export function bucketFor(method: string, path: string): BucketName {
  const read = method === 'GET';
  const segments = path.split('/').filter(Boolean);
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

class Bucket {
  private tokens: number;
  private last: number;

  constructor(
    readonly name: string,
    readonly spec: BucketSpec,
    private readonly rate: number,
    now: number,
  ) {
    this.tokens = spec.burst;
    this.last = now;
  }

  refill(now: number): void {
    this.tokens = Math.min(this.spec.burst, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
  }

  get available(): number {
    // The epsilon absorbs floating-point drift, so a token that is due is never withheld by 1e-15.
    return Math.floor(this.tokens + 1e-9);
  }

  take(): void {
    this.tokens -= 1;
  }

  /** Epoch ms when one token is available (if empty) or the bucket is full again. */
  resetAt(now: number): number {
    const missing = this.tokens < 1 ? 1 - this.tokens : this.spec.burst - this.tokens;
    return now + (missing / this.rate) * 1000;
  }
}

export interface RateDecision {
  headers: Record<string, string>;
  limited: Auth0HttpError | undefined;
}

const UNLIMITED_HEADERS = (now: number): Record<string, string> => ({
  'x-ratelimit-limit': '1000000',
  'x-ratelimit-remaining': '1000000',
  'x-ratelimit-reset': String(Math.ceil(now / 1000)),
});

/** One tenant's buckets. */
export class RateLimiter {
  private global: Bucket | undefined;
  private readonly endpoints = new Map<BucketName, Bucket>();

  constructor(
    public spec: RateLimitSpec,
    now: number,
  ) {
    this.configure(spec, now);
  }

  configure(spec: RateLimitSpec, now: number): void {
    this.spec = spec;
    this.global = spec.global
      ? new Bucket('global', spec.global, spec.global.perSecond * spec.timeScale, now)
      : undefined;
    this.endpoints.clear();
    for (const [name, bucket] of Object.entries(spec.endpoints) as [BucketName, BucketSpec][]) {
      this.endpoints.set(name, new Bucket(name, bucket, bucket.perSecond * spec.timeScale, now));
    }
  }

  /** Takes one token from every bucket the call counts against, or reports which one is exhausted. */
  admit(method: string, path: string, now: number): RateDecision {
    const buckets: Bucket[] = [];
    const endpoint = this.endpoints.get(bucketFor(method, path));
    if (endpoint) buckets.push(endpoint);
    if (this.global) buckets.push(this.global);
    if (buckets.length === 0) return { headers: UNLIMITED_HEADERS(now), limited: undefined };
    for (const bucket of buckets) bucket.refill(now);
    const exhausted = buckets.find((bucket) => bucket.available < 1);
    if (exhausted) {
      const headers = this.headersFor(exhausted, now);
      const message =
        exhausted.name === 'global'
          ? 'Global limit has been reached'
          : `Global per minute ${exhausted.name.replace(':', '_')} group limit has been reached`;
      return { headers, limited: new Auth0HttpError(429, message, 'too_many_requests', headers) };
    }
    for (const bucket of buckets) bucket.take();
    // Report the bucket closest to empty: it is the one a client must pace itself by.
    const binding = buckets.reduce((a, b) =>
      b.available / b.spec.burst < a.available / a.spec.burst ? b : a,
    );
    return { headers: this.headersFor(binding, now), limited: undefined };
  }

  private headersFor(bucket: Bucket, now: number): Record<string, string> {
    return {
      'x-ratelimit-limit': String(bucket.spec.burst),
      'x-ratelimit-remaining': String(Math.max(0, bucket.available)),
      'x-ratelimit-reset': String(Math.ceil(bucket.resetAt(now) / 1000)),
    };
  }
}
