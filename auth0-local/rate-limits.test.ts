import { describe, expect, it } from 'vitest';

import { bucketFor, RateLimiter, resolveRateLimits } from './rate-limits.js';

describe('bucketFor', () => {
  it.each([
    ['GET', '/organizations', 'organizations:read'],
    ['POST', '/organizations', 'organizations:write'],
    ['GET', '/organizations/org_1', 'organizations:read-by-id'],
    ['DELETE', '/organizations/org_1', 'organizations:write'],
    ['GET', '/organizations/name/acme', 'organizations:read-by-name'],
    ['POST', '/organizations/org_1/members', 'organization-members:write'],
    ['GET', '/organizations/org_1/members/auth0%7C1/roles', 'organization-member-roles:read'],
    ['POST', '/organizations/org_1/enabled_connections', 'organization-connections:write'],
    ['GET', '/organizations/org_1/connections', 'organization-connections:read'],
    ['POST', '/organizations/org_1/client-grants', 'organization-client-grants:write'],
    ['GET', '/users-by-email', 'users:read'],
    ['POST', '/users', 'users:write'],
    ['GET', '/clients', 'clients:read'],
    ['PATCH', '/clients/abc', 'other'],
    ['GET', '/connections', 'connections:read'],
    ['POST', '/roles', 'other'],
  ])('%s %s counts against %s', (method, path, bucket) => {
    expect(bucketFor(method, path)).toBe(bucket);
  });
});

describe('RateLimiter', () => {
  it('allows the burst, then answers 429 until a token refills at the sustained rate', () => {
    const limiter = new RateLimiter(resolveRateLimits('self-service'), 0);
    // Write Organizations: burst 5, 25 per minute → one token every 2.4 s.
    for (let i = 0; i < 5; i++) expect(limiter.admit('POST', '/organizations', 0).limited).toBeUndefined();
    const denied = limiter.admit('POST', '/organizations', 0);
    expect(denied.limited?.statusCode).toBe(429);
    expect(denied.headers).toEqual({
      'x-ratelimit-limit': '5',
      'x-ratelimit-remaining': '0',
      'x-ratelimit-reset': '3',
    });
    expect(limiter.admit('POST', '/organizations', 2300).limited).toBeDefined();
    expect(limiter.admit('POST', '/organizations', 2400).limited).toBeUndefined();
    // Other buckets are independent.
    expect(limiter.admit('GET', '/organizations/org_1', 2400).limited).toBeUndefined();
  });

  it('applies the global bucket on top of endpoint buckets (enterprise)', () => {
    const limiter = new RateLimiter(resolveRateLimits('enterprise'), 0);
    let admitted = 0;
    for (let i = 0; i < 60; i++) if (!limiter.admit('GET', '/roles', 0).limited) admitted++;
    expect(admitted).toBe(50);
  });

  it('refills faster with a time scale', () => {
    const limiter = new RateLimiter(resolveRateLimits('self-service', 10), 0);
    for (let i = 0; i < 5; i++) limiter.admit('POST', '/organizations', 0);
    expect(limiter.admit('POST', '/organizations', 200).limited).toBeDefined();
    expect(limiter.admit('POST', '/organizations', 240).limited).toBeUndefined();
  });

  it('takes explicit numbers over a profile and reports no limit for unlimited', () => {
    const spec = resolveRateLimits({ profile: 'unlimited', global: { burst: 1, perSecond: 1 } });
    const limiter = new RateLimiter(spec, 0);
    expect(limiter.admit('GET', '/roles', 0).limited).toBeUndefined();
    expect(limiter.admit('GET', '/roles', 0).limited?.message).toBe('Global limit has been reached');
    const unlimited = new RateLimiter(resolveRateLimits('unlimited'), 0);
    expect(unlimited.admit('GET', '/roles', 0).headers['x-ratelimit-limit']).toBe('1000000');
    expect(() => resolveRateLimits('platinum')).toThrow(/unknown rate-limit profile "platinum"/);
  });
});
