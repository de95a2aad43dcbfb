/**
 * Issue 7, acceptance 4 (hook configuration): bad hook configurations — http:// outside local development, private
 * addresses without the local flag, a missing secret — are refused with the field and the rule, through the CLI and
 * the API; secrets are encrypted at rest and never shown again after creation; a test message arrives signed so the
 * application verifies it with the `standardwebhooks` library; the sender itself refuses private addresses unless
 * the hook allows them.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { sendWebhook } from '../../src/adapters/webhooks/webhook-sender.js';
import { useAuth0Local } from '../helpers/auth0-local.js';
import { orgadminCli } from '../helpers/cli.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { sessionFor, startTestPortal, type TestPortal } from '../helpers/portal.js';

const local = useAuth0Local();
let database: TestDatabase;
let portal: TestPortal;
let receiver: Server;
let receiverUrl: string;
const received: { headers: Record<string, string>; body: string }[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  portal = await startTestPortal(local, database, { worker: false });
  receiver = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      received.push({ headers: request.headers as Record<string, string>, body });
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/orgadmin-hooks`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => receiver.close(() => resolve()));
  await portal?.close();
  await database?.drop();
});

const orgadmin = orgadminCli(() => ({
  ORGADMIN_HOME: portal.home,
  DATABASE_URL: database.url,
  ORGADMIN_SECRET_KEY: 'test-secret-key',
}));

describe('hook configuration through the CLI', () => {
  it('refuses bad configurations, naming the field and the rule, and stores nothing', async () => {
    const http = await orgadmin(
      'hooks',
      'add',
      'app',
      '--url',
      'http://app.example.com/h',
      '--phases',
      'after-auth0',
      '--generate-secret',
    );
    expect(http.code).toBe(2);
    expect(http.stderr).toContain('url: must be https://');
    const privateAddress = await orgadmin(
      'hooks',
      'add',
      'app',
      '--url',
      'https://10.0.0.8/h',
      '--phases',
      'after-auth0',
      '--generate-secret',
    );
    expect(privateAddress.code).toBe(2);
    expect(privateAddress.stderr).toContain(
      'url: must not point into a private, loopback or link-local network',
    );
    const noSecret = await orgadmin(
      'hooks',
      'add',
      'app',
      '--url',
      'https://app.example.com/h',
      '--phases',
      'after-auth0',
    );
    expect(noSecret.code).toBe(2);
    expect(noSecret.stderr).toContain('secret: is required');
    expect(await portal.orgadmin.hooks.list()).toEqual([]);
  });

  it('prints a generated secret once, keeps it encrypted, and signs test messages with it', async () => {
    const added = await orgadmin(
      'hooks',
      'add',
      'local-app',
      '--url',
      receiverUrl,
      '--phases',
      'before-auth0,on-compensate',
      '--generate-secret',
      '--allow-private-network',
    );
    expect(added.code, added.stderr).toBe(0);
    const secret = added.stdout.trim();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);

    const listed = await orgadmin('hooks', 'list', '--json');
    expect(listed.stdout).not.toContain(secret.slice(6));
    expect(JSON.parse(listed.stdout)).toMatchObject([
      { name: 'local-app', url: receiverUrl, phases: ['before-auth0', 'on-compensate'] },
    ]);
    const { rows } = await database.pool.query('SELECT * FROM app_hooks');
    const { rows: audit } = await database.pool.query(
      `SELECT * FROM audit_events WHERE action LIKE 'hook.%'`,
    );
    expect(JSON.stringify([rows, audit])).not.toContain(secret.slice(6));

    const tested = await orgadmin('hooks', 'test', 'local-app');
    expect(tested.code, tested.stderr).toBe(0);
    expect(tested.stdout.trim()).toBe('ok: 204');
    const [message] = received;
    const verified = new Webhook(secret).verify(message!.body, message!.headers) as {
      type: string;
      data: unknown;
    };
    expect(verified).toMatchObject({ type: 'hook.test', data: { hook: 'local-app' } });
    expect(message!.headers['webhook-id']).toMatch(/^msg_test_/);
    // Another secret does not verify it: the check can fail.
    expect(() =>
      new Webhook(`whsec_${Buffer.alloc(32, 1).toString('base64')}`).verify(message!.body, message!.headers),
    ).toThrow();
  });
});

describe('hook configuration through the API', () => {
  it('answers hook.invalid with every issue, and never returns a secret', async () => {
    const admin = await sessionFor(portal.orgadmin, ['admin']);
    const call = (method: string, path: string, body?: unknown) =>
      fetch(`${portal.url}/api/v1${path}`, {
        method,
        headers: {
          cookie: admin.cookie,
          'x-csrf-token': admin.csrfToken,
          'content-type': 'application/json',
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    const bad = await call('POST', '/hooks', {
      name: 'crm',
      url: 'https://169.254.169.254/latest',
      phases: [],
    });
    expect(bad.status).toBe(400);
    const { code, details } = (await bad.json()) as { code: string; details: { issues: { path: string }[] } };
    expect(code).toBe('hook.invalid');
    expect(details.issues.map((issue) => issue.path).sort()).toEqual(['phases', 'secret', 'url']);

    const secret = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
    const created = await call('POST', '/hooks', {
      name: 'crm',
      url: 'https://crm.example.com/hooks',
      secret,
      phases: ['on-remove'],
    });
    expect(created.status).toBe(201);
    const text = await created.text();
    expect(text).not.toContain(secret.slice(6));
    expect(JSON.parse(text)).toMatchObject({ name: 'crm', secret: '(set)' });
    expect(
      (
        await call('POST', '/hooks', {
          name: 'crm',
          url: 'https://crm.example.com/x',
          secret,
          phases: ['on-remove'],
        })
      ).status,
    ).toBe(409);
    const list = await (await call('GET', '/hooks')).text();
    expect(list).not.toContain(secret.slice(6));
    expect((await call('DELETE', '/hooks/crm')).status).toBe(204);
  });
});

describe('the sender', () => {
  it('refuses to connect into a private network unless the hook allows it', async () => {
    const target = { url: receiverUrl, secret: `whsec_${Buffer.alloc(32, 3).toString('base64')}` };
    const message = { id: 'msg_1', type: 'hook.test', data: {} };
    await expect(sendWebhook({ ...target, allowPrivateNetwork: false }, message)).rejects.toThrow(
      /127\.0\.0\.1/,
    );
    await expect(sendWebhook({ ...target, allowPrivateNetwork: true }, message)).resolves.toMatchObject({
      status: 204,
    });
  });
});
