import { describe, expect, it } from 'vitest';

import { hookInputSchema, isPrivateHost } from './app-hooks.js';

const SECRET = `whsec_${'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'}`;
const valid = {
  name: 'billing',
  url: 'https://app.example.com/orgadmin/hooks',
  secret: SECRET,
  phases: ['after-auth0'],
};

function issuesOf(input: unknown): string[] {
  const result = hookInputSchema.safeParse(input);
  return result.success
    ? []
    : result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
}

describe('hook configuration', () => {
  it('accepts an https endpoint on the internet with a Standard Webhooks secret and phases', () => {
    expect(issuesOf(valid)).toEqual([]);
    expect(hookInputSchema.parse(valid).allowPrivateNetwork).toBe(false);
    expect(issuesOf({ ...valid, url: 'http://127.0.0.1:8080/hooks', allowPrivateNetwork: true })).toEqual([]);
    expect(issuesOf({ ...valid, url: 'https://10.1.2.3/hooks', allowPrivateNetwork: true })).toEqual([]);
    expect(issuesOf({ ...valid, phases: undefined, events: ['organization.*', 'run.failed'] })).toEqual([]);
  });

  it.each([
    [
      'plain http outside local development',
      { url: 'http://app.example.com/hooks' },
      'url: must be https://',
    ],
    [
      'plain http on a public host even with the flag',
      { url: 'http://app.example.com/h', allowPrivateNetwork: true },
      'url: must be https://',
    ],
    [
      'plain http on loopback without the flag',
      { url: 'http://127.0.0.1:8080/hooks' },
      'url: must be https://',
    ],
    ['a loopback address', { url: 'https://127.0.0.1/hooks' }, 'url: must not point into a private'],
    ['localhost', { url: 'https://localhost/hooks' }, 'url: must not point into a private'],
    ['a private network', { url: 'https://10.0.0.7/hooks' }, 'url: must not point into a private'],
    [
      'the cloud metadata address',
      { url: 'https://169.254.169.254/latest' },
      'url: must not point into a private',
    ],
    [
      'IPv4-mapped IPv6 loopback',
      { url: 'https://[::ffff:127.0.0.1]/hooks' },
      'url: must not point into a private',
    ],
    ['IPv6 unique-local', { url: 'https://[fd00::1]/hooks' }, 'url: must not point into a private'],
    [
      'credentials in the URL',
      { url: 'https://user:pw@app.example.com/hooks' },
      'url: must not carry credentials',
    ],
    ['another scheme', { url: 'ftp://app.example.com/hooks' }, 'url: must be an https:// URL'],
    ['a relative URL', { url: '/hooks' }, 'url: must be an absolute URL'],
    ['a missing secret', { secret: undefined }, 'secret: is required'],
    ['a secret in another format', { secret: 'hunter2' }, 'secret: must be a Standard Webhooks secret'],
    ['a secret too short', { secret: 'whsec_c2hvcnQ=' }, 'secret: must encode 24 to 64 random bytes'],
    ['no phase', { phases: [] }, 'phases: must name at least one phase'],
    ['no phase and no event', { phases: [], events: [] }, 'phases: must name at least one phase'],
    ['an unknown event', { events: ['org.made'] }, 'events.0: must be one of'],
    ['an unknown phase', { phases: ['whenever'] }, 'phases.0: must be one of'],
    ['a repeated phase', { phases: ['on-remove', 'on-remove'] }, 'phases: must not repeat a phase'],
    ['a bad name', { name: 'Billing Hook' }, 'name: must be 1-63 lowercase letters'],
    ['an unknown field', { retries: 3 }, ': Unrecognized key'],
  ])('refuses %s, naming the field and the rule', (_case, change, expected) => {
    const issues = issuesOf({ ...valid, ...change });
    expect(
      issues.some((issue) => issue.startsWith(expected)),
      issues.join('\n'),
    ).toBe(true);
  });

  it('classifies hosts by the address they name, not by their spelling', () => {
    expect(isPrivateHost('[::ffff:7f00:1]')).toBe(true);
    expect(isPrivateHost('192.168.1.10')).toBe(true);
    expect(isPrivateHost('0.0.0.0')).toBe(true);
    expect(isPrivateHost('api.localhost')).toBe(true);
    expect(isPrivateHost('93.184.215.14')).toBe(false);
    expect(isPrivateHost('app.example.com')).toBe(false);
  });
});
