/**
 * The application's hooks and lifecycle events in the portal, in a real browser (Debian's Chromium driven by
 * playwright-core), against a receiver on 127.0.0.1 that verifies every Standard Webhooks signature and answers the
 * `before-auth0` call with JSON (which becomes the organization's application data):
 * - an admin sees the hooks (never a secret), sends a test message and sees the answer, and enables a hook that was
 *   disabled after failed deliveries; operators and viewers do not get the page;
 * - an organization created through the service: once its run finished and the portal's in-process dispatcher
 *   delivered its events, the Events page lists `organization.created` as delivered, filters by organization, and the
 *   event's page shows the attempt; Replay queues it for its one hook and the receiver gets it again with the same
 *   `webhook-id`; a viewer sees no Replay button; a delivery the application keeps refusing shows as pending with
 *   its attempts and last answer;
 * - the organization's page shows what the hook returned (a URL as an outside link, markup as text) and links to its
 *   events.
 * Screenshots go to `test-results/screenshots/`; the console must stay free of errors throughout.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { managementClient, useAuth0Local } from '../helpers/auth0-local.js';
import { launchChromium } from '../helpers/chromium.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { sessionFor, startTestPortal, type TestPortal } from '../helpers/portal.js';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';

const SCREENSHOTS = join(process.cwd(), 'test-results', 'screenshots');
const HOOK_SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
const SIGN_IN_URL = 'http://127.0.0.1:4000/login?organization=acme';

/** The application's endpoint: answers `hook.before-auth0` with app data, refuses globex's events (503). */
function startReceiver(): Promise<WebhookReceiver> {
  return startWebhookReceiver({
    secret: () => HOOK_SECRET,
    answer(message) {
      const organization = message.data['organization'] as { name?: string } | undefined;
      // The application is down for globex's events: deliveries stay pending and are retried.
      if (!message.type.startsWith('hook.') && organization?.name === 'globex') return { status: 503 };
      if (message.type === 'hook.before-auth0')
        return {
          status: 200,
          json: {
            appOrgId: 'app_1',
            signInUrl: SIGN_IN_URL,
            note: '<img src=x onerror=alert(1)>',
            seats: 25,
          },
        };
      return undefined;
    },
  });
}

const local = useAuth0Local();
let database: TestDatabase;
let portal: TestPortal;
let receiver: WebhookReceiver;
let browser: Browser;
const consoleErrors: string[] = [];

beforeAll(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  database = await createTestDatabase();
  await managementClient(local).clients.create({ name: 'SaaS App', app_type: 'regular_web' });
  receiver = await startReceiver();
  portal = await startTestPortal(local, database, { web: true });
  await portal.orgadmin.hooks.add(
    {
      name: 'saas-app',
      url: receiver.url,
      secret: HOOK_SECRET,
      phases: ['before-auth0'],
      events: ['*'],
      allowPrivateNetwork: true,
    },
    'test',
  );
  // A second hook, for removals only (no events: replays concern saas-app alone), disabled as the dispatcher
  // disables a hook whose endpoint kept failing.
  await portal.orgadmin.hooks.add(
    {
      name: 'billing',
      url: `${receiver.url}/billing`,
      secret: HOOK_SECRET,
      phases: ['on-remove'],
      allowPrivateNetwork: true,
    },
    'test',
  );
  await portal.orgadmin.database.pool.query(
    `UPDATE app_hooks SET disabled_at = now(), disabled_reason = '50 failed deliveries in a row' WHERE name = 'billing'`,
  );
  browser = await launchChromium();
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await portal?.close();
  await receiver?.close();
  await database?.drop();
});

/** A page signed in as an operator with this role (the session a sign-in would create). */
async function pageAs(role: 'viewer' | 'operator' | 'admin', width = 1280): Promise<Page> {
  const { cookie } = await sessionFor(portal.orgadmin, [role], { email: `${role}-events@test.example` });
  const [name, value] = cookie.split('=') as [string, string];
  const context = await browser.newContext({ viewport: { width, height: 900 } });
  await context.addCookies([{ name, value, url: portal.url }]);
  const page = await context.newPage();
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning')
      consoleErrors.push(`${message.type()}: ${message.text()} (${message.location().url})`);
  });
  page.on('pageerror', (error) => consoleErrors.push(`page error: ${error.message}`));
  return page;
}

const eventually = <T>(fn: () => T | Promise<T>, options: { timeout?: number } = {}) =>
  expect.poll(fn, { timeout: 20_000, ...options });

const shot = (page: Page, name: string): Promise<Buffer> =>
  page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });

/** Form controls that no label, aria-label or aria-labelledby names. */
function unnamedControls(page: Page): Promise<string[]> {
  return page.evaluate<string[]>(`[...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
    .filter((e) => (e.labels?.length ?? 0) === 0 && !e.getAttribute('aria-label') && !e.getAttribute('aria-labelledby'))
    .map((e) => e.outerHTML.slice(0, 120))`);
}

/** How far the page scrolls sideways (0: it fits). */
const overflow = (page: Page): Promise<number> =>
  page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');

describe('hooks and lifecycle events in the portal', () => {
  let eventId: string;

  it('shows an admin the hooks without their secrets, sends a test message and enables a disabled hook', async () => {
    const page = await pageAs('admin');
    await page.goto(`${portal.url}/organizations`);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Hooks' }).click();
    await page.waitForURL(`${portal.url}/hooks`);
    await eventually(() => page.getByRole('heading', { name: 'Hooks', level: 1 }).isVisible()).toBe(true);
    const table = page.getByRole('region', { name: 'Hooks table' });
    await eventually(() => table.getByText(receiver.url, { exact: true }).isVisible()).toBe(true);
    const saasApp = table.getByRole('row').filter({ hasText: 'saas-app' });
    expect(await saasApp.getByText('before-auth0').isVisible()).toBe(true);
    expect(await saasApp.getByText('*', { exact: true }).isVisible()).toBe(true);
    expect(await saasApp.getByText('allowed', { exact: true }).isVisible()).toBe(true);
    expect(await saasApp.getByText('(set)').isVisible()).toBe(true);
    expect(await page.content()).not.toContain('whsec_');

    await page.getByRole('button', { name: 'Send test to saas-app' }).click();
    await eventually(() => saasApp.getByRole('status').textContent()).toContain('Test ok (HTTP 204)');
    expect(receiver.received.some((message) => message.type === 'hook.test')).toBe(true);

    const billing = table.getByRole('row').filter({ hasText: 'billing' });
    expect(await billing.getByText(/Disabled since .* — 50 failed deliveries in a row/).isVisible()).toBe(
      true,
    );
    await shot(page, 'events-01-hooks');
    await page.getByRole('button', { name: 'Enable billing' }).click();
    await eventually(() => page.getByText('billing is enabled again').isVisible()).toBe(true);
    await eventually(() => billing.getByText('active').isVisible()).toBe(true);
    expect(await page.getByRole('button', { name: 'Enable billing' }).count()).toBe(0);
    expect((await portal.orgadmin.hooks.list()).find((hook) => hook.name === 'billing')?.disabled).toBe(
      undefined,
    );
    expect(await unnamedControls(page)).toEqual([]);
    await page.context().close();
  });

  it('keeps the Hooks page from operators and viewers', async () => {
    for (const role of ['operator', 'viewer'] as const) {
      const page = await pageAs(role);
      await page.goto(`${portal.url}/hooks`);
      await eventually(() => page.getByRole('heading', { name: 'Not allowed' }).isVisible()).toBe(true);
      const nav = page.getByRole('navigation', { name: 'Main' });
      expect(await nav.getByRole('link', { name: 'Hooks' }).count()).toBe(0);
      expect(await nav.getByRole('link', { name: 'Events' }).count()).toBe(1);
      await page.context().close();
    }
  });

  it('lists the events of a new organization as delivered once the dispatcher delivered them', async () => {
    const { run } = await portal.portal.service.create({ name: 'acme', displayName: 'Acme' }, 'test');
    await eventually(async () => (await portal.orgadmin.store.getRun(run.id))?.state, {
      timeout: 30_000,
    }).toBe('succeeded');
    const page = await pageAs('operator');
    await page.goto(`${portal.url}/events`);
    const table = page.getByRole('region', { name: 'Events table' });
    const created = table.getByRole('row').filter({ hasText: 'organization.created' });
    await eventually(() => created.count()).toBe(1);
    expect(await created.getByRole('link', { name: 'acme' }).isVisible()).toBe(true);
    // The page reads pending deliveries again by itself until they are delivered.
    await eventually(() => created.getByText('delivered').isVisible()).toBe(true);
    expect(await created.getByText('saas-app').isVisible()).toBe(true);
    eventId = (await created.getByRole('link', { name: /^Event / }).textContent()) ?? '';
    expect(eventId).toMatch(/^\d+$/);
    expect(receiver.received.filter((message) => message.id === `evt_${eventId}`)).toHaveLength(1);
    await shot(page, 'events-02-list');

    // The filter lives in the address bar.
    await page.getByLabel('Organization').fill('globex');
    await eventually(() => page.getByText('No events for globex.').isVisible()).toBe(true);
    expect(new URL(page.url()).searchParams.get('org')).toBe('globex');
    await page.getByLabel('Organization').fill('acme');
    await eventually(() => created.isVisible()).toBe(true);
    expect(new URL(page.url()).searchParams.get('org')).toBe('acme');
    expect(await unnamedControls(page)).toEqual([]);
    await page.context().close();
  });

  it("shows an event's payload and delivery log, and replays it for an operator", async () => {
    const page = await pageAs('operator');
    await page.goto(`${portal.url}/events`);
    await page.getByRole('link', { name: `Event ${eventId}` }).click();
    await page.waitForURL(`${portal.url}/events/${eventId}`);
    await eventually(() => page.getByRole('heading', { name: `Event ${eventId}` }).isVisible()).toBe(true);
    const log = page.getByRole('region', { name: 'Delivery log table' });
    expect(await log.getByRole('row').filter({ hasText: 'saas-app' }).count()).toBe(1);
    expect(await log.getByText('delivered (HTTP 204)').isVisible()).toBe(true);
    const payload = page.getByLabel('Event payload (JSON)');
    expect(await payload.textContent()).toContain('"name": "acme"');
    await shot(page, 'events-03-detail');

    await page.getByRole('button', { name: 'Replay', exact: true }).click();
    await eventually(() => page.getByText('Replay queued for 1 hook(s).').isVisible()).toBe(true);
    // Delivered again, with the same webhook-id: the log shows the second attempt.
    await eventually(() => log.getByRole('row').filter({ hasText: 'saas-app' }).count()).toBe(2);
    expect(receiver.received.filter((message) => message.id === `evt_${eventId}`)).toHaveLength(2);
    await shot(page, 'events-04-replayed');
    await page.context().close();
  });

  it('shows a viewer the event without a Replay button', async () => {
    const page = await pageAs('viewer');
    await page.goto(`${portal.url}/events/${eventId}`);
    await eventually(() => page.getByRole('heading', { name: `Event ${eventId}` }).isVisible()).toBe(true);
    await eventually(() => page.getByRole('region', { name: 'Delivery log table' }).isVisible()).toBe(true);
    expect(await page.getByRole('button', { name: /Replay/ }).count()).toBe(0);
    expect(await page.getByText('needs the operator role').isVisible()).toBe(true);
    await page.context().close();
  });

  it("shows what the application's hook returned on the organization, and links to its events", async () => {
    const page = await pageAs('viewer');
    await page.goto(`${portal.url}/organizations/acme`);
    await eventually(() => page.getByRole('heading', { name: 'Application data' }).isVisible()).toBe(true);
    const data = page.getByRole('region', { name: 'Application data from saas-app' });
    await eventually(() => data.isVisible()).toBe(true);
    expect(await data.getByRole('row').filter({ hasText: 'appOrgId' }).getByText('app_1').isVisible()).toBe(
      true,
    );
    expect(await data.getByRole('row').filter({ hasText: 'seats' }).getByText('25').isVisible()).toBe(true);
    const link = data.getByRole('link', { name: SIGN_IN_URL });
    expect(await link.getAttribute('href')).toBe(SIGN_IN_URL);
    expect(await link.getAttribute('rel')).toBe('noopener noreferrer');
    // Markup a hook returns is text, never HTML.
    expect(await data.getByText('<img src=x onerror=alert(1)>').isVisible()).toBe(true);
    expect(await data.locator('img').count()).toBe(0);
    await shot(page, 'events-05-application-data');

    await page.getByRole('link', { name: 'Events of this organization' }).click();
    await page.waitForURL(`${portal.url}/events?org=acme`);
    expect(await page.getByLabel('Organization').inputValue()).toBe('acme');
    await eventually(() =>
      page.getByRole('region', { name: 'Events table' }).getByText('organization.created').isVisible(),
    ).toBe(true);
    await page.context().close();
  });

  it('shows a delivery the application keeps refusing as pending, with its attempts and last answer', async () => {
    const { run } = await portal.portal.service.create({ name: 'globex', displayName: 'Globex' }, 'test');
    await eventually(async () => (await portal.orgadmin.store.getRun(run.id))?.state, {
      timeout: 30_000,
    }).toBe('succeeded');
    const page = await pageAs('viewer');
    await page.goto(`${portal.url}/events?org=globex`);
    const created = page
      .getByRole('region', { name: 'Events table' })
      .getByRole('row')
      .filter({ hasText: 'organization.created' });
    await eventually(() => created.getByText(/last: HTTP 503/).isVisible()).toBe(true);
    expect(await created.getByText('pending').isVisible()).toBe(true);
    expect(await created.getByText(/\d+ attempts?/).isVisible()).toBe(true);
    await shot(page, 'events-06-pending');
    await created.getByRole('link', { name: /^Event / }).click();
    const log = page.getByRole('region', { name: 'Delivery log table' });
    await eventually(() =>
      log
        .getByText(/failed \(HTTP 503/)
        .first()
        .isVisible(),
    ).toBe(true);
    await page.context().close();
  });

  it('fits a 375 px wide screen on the events, event and hooks pages', async () => {
    const page = await pageAs('admin', 375);
    for (const path of ['/events', `/events/${eventId}`, '/hooks', '/organizations/acme']) {
      await page.goto(`${portal.url}${path}`);
      await eventually(() => page.locator('main h1').isVisible()).toBe(true);
      await eventually(() => page.getByRole('status').filter({ hasText: 'Loading' }).count()).toBe(0);
      expect(await overflow(page), path).toBeLessThanOrEqual(0);
    }
    await page.context().close();
  });

  it('kept the console free of errors', () => {
    expect(consoleErrors).toEqual([]);
  });
});
