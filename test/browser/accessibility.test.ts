/**
 * The portal for every operator: each form control has an accessible name, the first Tab reaches "Skip to content",
 * a viewer sees no button their role cannot use (nor the admins' pages), and at 375 px wide nothing scrolls sideways
 * (the hooks and events pages with data are checked in events.test.ts). The console stays
 * free of errors throughout.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { managementClient, useAuth0Local } from '../helpers/auth0-local.js';
import { launchChromium } from '../helpers/chromium.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { sessionFor, startTestPortal, type TestPortal } from '../helpers/portal.js';

const local = useAuth0Local();
let database: TestDatabase;
let portal: TestPortal;
let browser: Browser;
const consoleErrors: string[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  await managementClient(local).clients.create({ name: 'SaaS App', app_type: 'regular_web' });
  portal = await startTestPortal(local, database, { web: true });
  browser = await launchChromium();
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await portal?.close();
  await database?.drop();
});

/** A page signed in as an operator with these roles (the session a sign-in would create). */
async function pageAs(role: 'viewer' | 'operator' | 'admin', width = 1280): Promise<Page> {
  const { cookie } = await sessionFor(portal.orgadmin, [role], { email: `${role}-a11y@test.example` });
  const [name, value] = cookie.split('=') as [string, string];
  const context = await browser.newContext({ viewport: { width, height: 800 } });
  await context.addCookies([{ name, value, url: portal.url }]);
  const page = await context.newPage();
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => consoleErrors.push(error.message));
  return page;
}

/** Form controls that no label, aria-label or aria-labelledby names (evaluated in the page, hence a string). */
function unnamedControls(page: Page): Promise<string[]> {
  return page.evaluate<string[]>(`[...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
    .filter((e) => (e.labels?.length ?? 0) === 0 && !e.getAttribute('aria-label') && !e.getAttribute('aria-labelledby'))
    .map((e) => e.outerHTML.slice(0, 120))`);
}

const eventually = <T>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 20_000 });

describe('accessibility and roles', () => {
  it('names every control of the list and of every wizard step, and starts keyboard use at "Skip to content"', async () => {
    const page = await pageAs('operator');
    await page.goto(`${portal.url}/organizations`);
    await eventually(() => page.getByLabel('Search organizations').isVisible()).toBe(true);
    expect(await unnamedControls(page)).toEqual([]);
    // The check does find an unnamed control.
    await page.evaluate(
      `document.body.append(Object.assign(document.createElement('input'), { id: 'probe' }))`,
    );
    expect(await unnamedControls(page)).toEqual(['<input id="probe">']);
    await page.evaluate(`document.getElementById('probe').remove()`);
    await page.keyboard.press('Tab');
    expect(await page.locator(':focus').textContent()).toBe('Skip to content');

    await page.goto(`${portal.url}/organizations/new`);
    await page.getByLabel('Name', { exact: true }).fill('globex');
    await page.getByRole('radio', { name: 'Isolated database' }).check();
    expect(await unnamedControls(page)).toEqual([]);
    await page.getByRole('button', { name: 'Next' }).click();
    for (const kind of ['SAML', 'OIDC', 'Okta']) {
      await page.getByLabel('Connection type').selectOption({ label: kind });
      await page.getByRole('button', { name: 'Add connection' }).click();
    }
    expect(await unnamedControls(page)).toEqual([]);
    // Removing a connection works from the keyboard alone.
    await page.getByRole('button', { name: 'Remove Okta connection' }).focus();
    await page.keyboard.press('Enter');
    await eventually(() => page.getByLabel('Okta domain').count()).toBe(0);
  });

  it('shows a viewer nothing their role cannot do', async () => {
    const page = await pageAs('viewer');
    await page.goto(`${portal.url}/organizations`);
    await eventually(() => page.getByText('No organizations yet').isVisible()).toBe(true);
    expect(await page.getByRole('button', { name: 'New organization' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Create organization' }).count()).toBe(0);
    expect(await page.getByRole('link', { name: 'Tenants' }).count()).toBe(0);
    expect(await page.getByRole('link', { name: 'Hooks' }).count()).toBe(0);
    expect(await page.getByRole('link', { name: 'Bulk apply' }).count()).toBe(0);
    // GitOps mode's history (gitops.test.ts) has no place in live mode.
    expect(await page.getByRole('link', { name: 'History' }).count()).toBe(0);
    expect(await page.getByRole('link', { name: 'Events' }).count()).toBe(1);
    await page.goto(`${portal.url}/events`);
    await eventually(() => page.getByText('No events yet.').isVisible()).toBe(true);
    expect(await page.getByRole('button').allTextContents()).toEqual(['Sign out']);
  });

  it('names every control of the events, hooks and bulk apply pages', async () => {
    const page = await pageAs('admin');
    await page.goto(`${portal.url}/bulk-apply`);
    await eventually(() => page.getByLabel('Spec file (YAML or CSV)').isVisible()).toBe(true);
    expect(await unnamedControls(page)).toEqual([]);
    await page.goto(`${portal.url}/events`);
    await eventually(() => page.getByLabel('Organization').isVisible()).toBe(true);
    expect(await unnamedControls(page)).toEqual([]);
    await page.goto(`${portal.url}/hooks`);
    await eventually(() => page.getByText('No hooks yet').isVisible()).toBe(true);
    expect(await unnamedControls(page)).toEqual([]);
  });

  it('fits a 375 px wide screen without sideways scrolling', async () => {
    const page = await pageAs('admin', 375);
    for (const path of [
      '/organizations',
      '/organizations/new',
      '/bulk-apply',
      '/runs',
      '/events',
      '/audit',
      '/hooks',
    ]) {
      await page.goto(`${portal.url}${path}`);
      await eventually(() => page.locator('main').isVisible()).toBe(true);
      const overflow = await page.evaluate<number>(
        'document.documentElement.scrollWidth - document.documentElement.clientWidth',
      );
      expect(overflow, path).toBeLessThanOrEqual(0);
    }
  });

  it('kept the console free of errors', () => {
    expect(consoleErrors).toEqual([]);
  });
});
