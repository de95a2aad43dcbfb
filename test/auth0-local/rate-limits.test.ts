/**
 * Acceptance 4: under the `free` profile a burst is answered with 429s that carry Auth0's rate-limit headers and
 * body, and the SDK's own retry (which waits for `x-ratelimit-reset`) completes the work.
 */
import { expect, it } from 'vitest';

import { managementClient, useAuth0Local } from '../helpers/auth0-local.js';

const local = useAuth0Local({ rateLimits: 'free' });

it('answers a burst with 429 and the x-ratelimit headers, and the SDK retry completes the work', async () => {
  const api = managementClient(local, { maxRetries: 10 });
  const names = Array.from({ length: 12 }, (_, i) => `burst-${i}`);
  await Promise.all(names.map((name) => api.organizations.create({ name })));

  const log = local.requestLog.list({ tenant: local.name }).filter((e) => e.path === '/api/v2/organizations');
  const limited = log.filter((entry) => entry.status === 429);
  expect(limited.length).toBeGreaterThan(0);
  expect(log.filter((entry) => entry.method === 'POST' && entry.status === 201)).toHaveLength(names.length);

  const listed = await api.organizations.list({ take: 50 });
  expect(listed.data.map((org) => org.name).sort()).toEqual([...names].sort());
});

it('puts the headers on every response and Auth0 429 body on a limited one', async () => {
  const { access_token: token } = (await (
    await fetch(`https://${local.domain}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        grant_type: 'client_credentials',
        client_id: local.clientId,
        client_secret: local.clientSecret,
        audience: local.audience,
      }),
    })
  ).json()) as { access_token: string };
  const responses = await Promise.all(
    Array.from({ length: 6 }, () =>
      fetch(`https://${local.domain}/api/v2/roles`, { headers: { authorization: `Bearer ${token}` } }),
    ),
  );
  const nowSeconds = Math.floor(Date.now() / 1000);
  for (const response of responses) {
    expect(response.headers.get('x-ratelimit-limit')).toBe('2');
    expect(Number(response.headers.get('x-ratelimit-remaining'))).toBeGreaterThanOrEqual(0);
    expect(Number(response.headers.get('x-ratelimit-reset'))).toBeGreaterThanOrEqual(nowSeconds);
  }
  const limited = responses.filter((response) => response.status === 429);
  expect(limited.length).toBeGreaterThan(0);
  expect(limited[0]!.headers.get('x-ratelimit-remaining')).toBe('0');
  expect(await limited[0]!.json()).toEqual({
    statusCode: 429,
    error: 'Too Many Requests',
    message: 'Global limit has been reached',
    errorCode: 'too_many_requests',
  });
});
