/**
 * The admin API and fault injection, driven over HTTP as a test in another process would: tenants on their own
 * domains, injected errors and latency scoped by method and path, "apply then drop the connection", "reply after",
 * the request log, state dump and reset.
 */
import { describe, expect, it } from 'vitest';

import { adminApi, failure, managementClient, useAuth0Local } from '../helpers/auth0-local.js';

const local = useAuth0Local();

const admin = adminApi(local);

describe('admin API', () => {
  it('refuses a request without the admin token', async () => {
    const response = await fetch(`https://${local.domain}/__admin/tenants`);
    expect(response.status).toBe(401);
  });

  it('creates and deletes tenants, each with its own domain, credentials and seeded objects', async () => {
    const created = await admin('POST', '/tenants', { name: 'customer-x', rateLimits: 'self-service' });
    expect(created.status).toBe(201);
    const tenant = created.json as { name: string; domain: string; clientId: string; clientSecret: string };
    expect(tenant.domain).not.toBe(local.domain);
    const api = managementClient(tenant);
    const connections = await api.connections.list({ take: 50 });
    expect(connections.data.map((c) => c.name)).toEqual(['Username-Password-Authentication']);
    const clients = await api.clients.list();
    expect(clients.data.map((c) => c.name).sort()).toEqual(['Default App', 'orgadmin (auth0-local)']);
    // Tenants are isolated: the default tenant's credentials are not valid there.
    const { clientId, clientSecret } = local;
    expect(
      (
        await failure(
          managementClient({ domain: tenant.domain, clientId, clientSecret }).organizations.list(),
        )
      ).statusCode,
    ).toBe(401);

    const names = ((await admin('GET', '/tenants')).json as { name: string }[]).map((t) => t.name);
    expect(names).toEqual(['default', 'customer-x']);
    expect((await admin('DELETE', '/tenants/customer-x')).status).toBe(204);
    expect(((await admin('GET', '/tenants')).json as unknown[]).length).toBe(1);
  });

  it('injects an error by status for a method and path, then stops when its count is used up', async () => {
    const api = managementClient(local, { maxRetries: 0 });
    const rule = await admin('POST', '/faults', {
      method: 'POST',
      path: '^/api/v2/organizations$',
      status: 503,
      times: 1,
    });
    expect(rule.status).toBe(201);
    const failed = await failure(api.organizations.create({ name: 'fault-target' }));
    expect(failed).toEqual({
      statusCode: 503,
      body: { statusCode: 503, error: 'Service Unavailable', message: 'Injected fault' },
    });
    // The fault answered before the handler ran: nothing was created, and the next call goes through.
    expect((await failure(api.organizations.getByName('fault-target'))).statusCode).toBe(404);
    await api.organizations.create({ name: 'fault-target' });
  });

  it('applies a change and then drops the connection (the ambiguous outcome)', async () => {
    const api = managementClient(local, { maxRetries: 0 });
    await admin('POST', '/faults', {
      method: 'POST',
      path: '^/api/v2/organizations$',
      dropAfterApply: true,
      times: 1,
    });
    await expect(api.organizations.create({ name: 'applied-but-dropped' })).rejects.toThrow();
    expect((await api.organizations.getByName('applied-but-dropped')).name).toBe('applied-but-dropped');
    const log = (await admin('GET', '/requests')).json as {
      method: string;
      path: string;
      status: number;
      fault?: string;
    }[];
    const dropped = log.find((entry) => entry.method === 'POST' && entry.status === 0);
    expect(dropped?.fault).toMatch(/^flt_/);
  });

  it('replies after a delay and adds latency, both visible in the request log', async () => {
    const api = managementClient(local);
    await admin('POST', '/faults', { method: 'GET', path: '^/api/v2/roles$', latencyMs: 150, times: 1 });
    await admin('POST', '/faults', { method: 'POST', path: '^/api/v2/roles$', replyAfterMs: 150, times: 1 });
    await api.roles.list();
    await api.roles.create({ name: 'slow-role' });
    const log = (await admin('GET', '/requests')).json as {
      method: string;
      path: string;
      durationMs: number;
    }[];
    const roleCalls = log.filter((entry) => entry.path === '/api/v2/roles');
    expect(roleCalls.map((entry) => entry.method)).toEqual(['GET', 'POST']);
    for (const entry of roleCalls) expect(entry.durationMs).toBeGreaterThanOrEqual(145);
    // The delayed reply still applied the change.
    expect((await api.roles.list()).data.map((role) => role.name)).toContain('slow-role');
  });

  it('storms 429s with the rate-limit headers until the storm ends', async () => {
    const api = managementClient(local, { maxRetries: 0 });
    await admin('POST', '/faults', { path: '^/api/v2/clients', status: 429, until: Date.now() + 60_000 });
    const limited = await failure(api.clients.list());
    expect(limited.body).toEqual({
      statusCode: 429,
      error: 'Too Many Requests',
      message: 'Global limit has been reached',
      errorCode: 'too_many_requests',
    });
    expect((await admin('DELETE', '/faults')).status).toBe(204);
    expect((await api.clients.list()).data.length).toBeGreaterThan(0);
  });

  it('dumps state and resets every tenant to its seeded state', async () => {
    const api = managementClient(local);
    await api.organizations.create({ name: 'before-reset' });
    const dump = (await admin('GET', '/state')).json as Record<string, Record<string, { name: string }[]>>;
    expect(dump['default']?.['organizations']?.map((org) => org.name)).toContain('before-reset');
    expect((await admin('POST', '/reset')).status).toBe(204);
    expect((await api.organizations.list()).data).toEqual([]);
    expect((await api.connections.list({ take: 50 })).data.map((c) => c.name)).toEqual([
      'Username-Password-Authentication',
    ]);
  });
});
