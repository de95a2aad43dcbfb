/**
 * Lifecycle events through the faces (issue 7): a hook subscribed with `orgadmin hooks add --events` receives the
 * events of an organization created through the API and executed by the portal's in-process worker, signed so the
 * receiver verifies them with `standardwebhooks`; `orgadmin events` lists them with their deliveries, `--log` shows
 * the attempts, `--replay` sends again with the same webhook-id; the API lists and replays the same.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { useAuth0Local } from '../helpers/auth0-local.js';
import { orgadminCli } from '../helpers/cli.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { sessionFor, startTestPortal, type TestPortal } from '../helpers/portal.js';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';

const local = useAuth0Local();
let database: TestDatabase;
let portal: TestPortal;
let receiver: WebhookReceiver;
let secret = '';

beforeAll(async () => {
  database = await createTestDatabase();
  portal = await startTestPortal(local, database);
  receiver = await startWebhookReceiver({ secret: () => secret, path: '/events' });
});
afterAll(async () => {
  await receiver?.close();
  await portal?.close();
  await database?.drop();
});

const orgadmin = orgadminCli(() => ({
  ORGADMIN_HOME: portal.home,
  DATABASE_URL: database.url,
  ORGADMIN_SECRET_KEY: 'test-secret-key',
}));

/**
 * Resolves once the outbox has recorded `attempts` attempts of the event, the last one delivered: the receiver
 * answers before the dispatcher records the answer.
 */
async function recorded(eventId: string, attempts: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const event = await portal.orgadmin.events.get(eventId);
    if (event.attempts.length >= attempts && event.deliveries.every((d) => d.state === 'delivered')) return;
    if (Date.now() > deadline)
      throw new Error(`event ${eventId}: ${event.attempts.length} attempts recorded`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('lifecycle events through the CLI and the API', () => {
  it('refuses an unknown event type, naming the field and the rule', async () => {
    const bad = await orgadmin(
      'hooks',
      'add',
      'crm',
      '--url',
      receiver.url,
      '--events',
      'org.made',
      '--generate-secret',
      '--allow-private-network',
    );
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('events[0]: must be one of organization.created');
  });

  it('delivers, lists, logs and replays', { timeout: 120_000 }, async () => {
    const added = await orgadmin(
      'hooks',
      'add',
      'crm',
      '--url',
      receiver.url,
      '--events',
      'organization.*',
      '--generate-secret',
      '--allow-private-network',
    );
    expect(added.code, added.stderr).toBe(0);
    secret = added.stdout.trim();
    const listed = JSON.parse((await orgadmin('hooks', 'list', '--json')).stdout) as unknown[];
    expect(listed).toMatchObject([{ name: 'crm', phases: [], events: ['organization.*'] }]);

    const operator = await sessionFor(portal.orgadmin, ['operator']);
    const api = (method: string, path: string, body?: unknown) =>
      fetch(`${portal.url}/api/v1${path}`, {
        method,
        headers: {
          cookie: operator.cookie,
          'x-csrf-token': operator.csrfToken,
          'content-type': 'application/json',
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    const created = await api('POST', '/organizations', { spec: { name: 'evented' } });
    expect(created.status, await created.clone().text()).toBe(202);
    await receiver.receivedCount(1);
    expect(receiver.received[0]).toMatchObject({
      type: 'organization.created',
      data: { organization: { name: 'evented' } },
    });
    const eventId = String(receiver.received[0]!.data['eventId']);
    expect(receiver.received[0]!.id).toBe(`evt_${eventId}`);
    await recorded(eventId, 1);

    const events = await orgadmin('events', '--org', 'evented');
    expect(events.code, events.stderr).toBe(0);
    const lines = events.stdout.trim().split('\n');
    // run.succeeded is in the outbox too, with no subscribed hook (crm takes organization.* only).
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(
      new RegExp(
        `^\\s*${eventId} .* organization\\.created\\s+evented\\s+crm: delivered \\(1 attempt\\(s\\)\\)$`,
      ),
    );
    expect(lines[0]).toMatch(/run\.succeeded\s+evented\s+no subscribed hook$/);

    const log = await orgadmin('events', '--log', eventId, '--json');
    expect(JSON.parse(log.stdout)).toMatchObject({
      id: eventId,
      type: 'organization.created',
      attempts: [{ hookName: 'crm', status: 204 }],
    });

    const replayed = await orgadmin('events', '--replay', eventId);
    expect(replayed.code, replayed.stderr).toBe(0);
    expect(replayed.stderr).toContain('queued for 1 hook(s)');
    await receiver.receivedCount(2);
    expect(receiver.received[1]!.id).toBe(`evt_${eventId}`);
    await recorded(eventId, 2);

    const page = (await (await api('GET', '/lifecycle-events?org=evented')).json()) as {
      items: { id: string; type: string; deliveries: { hookName: string; state: string }[] }[];
    };
    expect(page.items.map((item) => item.type)).toEqual(['run.succeeded', 'organization.created']);
    expect(page.items[1]!.deliveries).toMatchObject([{ hookName: 'crm', state: 'delivered' }]);
    const again = await api('POST', `/lifecycle-events/${eventId}/replay`, {});
    expect(again.status).toBe(202);
    expect(await again.json()).toEqual({ queued: 1 });
    await receiver.receivedCount(3);
    expect(receiver.received[2]!.id).toBe(`evt_${eventId}`);
    const missing = await orgadmin('events', '--log', '424242');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('No event 424242.');
  });
});
