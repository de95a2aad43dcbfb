/**
 * Bulk apply in a real browser: an operator picks a CSV with a bad row and sees every problem (nothing can start),
 * picks a good one, starts it, and watches one progress view reach the summary — succeeded, failed with its reason
 * and a link to the failed run. The page documents every CSV column the server reads, and the console stays free of
 * errors (accessible names and small screens: accessibility.test.ts).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CSV_COLUMNS } from '../../src/services/bulk-apply.js';
import { managementClient, useAuth0Local } from '../helpers/auth0-local.js';
import { launchChromium } from '../helpers/chromium.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { sessionFor, startTestPortal, type TestPortal } from '../helpers/portal.js';

const SCREENSHOTS = join(process.cwd(), 'test-results', 'screenshots');

const local = useAuth0Local();
let database: TestDatabase;
let portal: TestPortal;
let browser: Browser;
let page: Page;
const consoleErrors: string[] = [];
/** Chromium logs every 4xx answer; the check of a bad file is answered 400 (spec.invalid) by design. */
let refusedChecks = 0;

beforeAll(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  database = await createTestDatabase();
  const api = managementClient(local);
  await api.clients.create({
    name: 'SaaS App',
    app_type: 'regular_web',
    initiate_login_uri: 'https://saas.example/login',
  });
  // Not a database: an administrator's password ticket in it fails for good.
  await api.connections.create({ name: 'Social-Google', strategy: 'google-oauth2' });
  portal = await startTestPortal(local, database, { web: true });
  browser = await launchChromium();
  const { cookie } = await sessionFor(portal.orgadmin, ['operator'], { email: 'bulk-operator@test.example' });
  const [name, value] = cookie.split('=') as [string, string];
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.addCookies([{ name, value, url: portal.url }]);
  page = await context.newPage();
  page.on('console', (message) => {
    if (message.type() !== 'error' && message.type() !== 'warning') return;
    if (
      message.text().includes('status of 400') &&
      message.location().url === `${portal.url}/api/v1/batches/validate`
    )
      refusedChecks += 1;
    else consoleErrors.push(`${message.text()} (${message.location().url})`);
  });
  page.on('pageerror', (error) => consoleErrors.push(error.message));
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await portal?.close();
  await database?.drop();
});

const eventually = <T>(fn: () => T | Promise<T>, timeout = 20_000) => expect.poll(fn, { timeout });

const csvFile = (name: string, rows: string[]) => ({
  name,
  mimeType: 'text/csv',
  buffer: Buffer.from(rows.join('\n')),
});

const HEADER = 'name,displayName,sharedConnections,application,callbackUrls,adminEmail,adminVia';

describe('bulk apply in the portal', () => {
  it("is in the operators' navigation and lists every CSV column the server reads", async () => {
    await page.goto(`${portal.url}/organizations`);
    await page.getByRole('link', { name: 'Bulk apply' }).click();
    await eventually(() => page.getByRole('heading', { name: 'Bulk apply', level: 1 }).isVisible()).toBe(
      true,
    );
    await eventually(() => page.getByText('No bulk applies yet.').isVisible()).toBe(true);
    await page.getByText('CSV columns').click();
    const documented = await page
      .getByRole('region', { name: 'CSV columns' })
      .locator('tbody code')
      .allTextContents();
    expect(documented).toEqual(CSV_COLUMNS.map((column) => column.name));
  });

  it('shows every problem of a bad file and starts nothing', async () => {
    await page
      .getByLabel('Spec file (YAML or CSV)')
      .setInputFiles(
        csvFile('bad.csv', [HEADER, 'b-one,One,,SaaS App,http://b-one.example/cb,,', 'B Two,Two,,,,,']),
      );
    const problems = page.getByRole('list', { name: 'Problems in the file' });
    await eventually(() => problems.isVisible()).toBe(true);
    expect(await problems.getByRole('listitem').allTextContents()).toEqual([
      expect.stringMatching(/^row 2 callbackUrls "http:\/\/b-one\.example\/cb": must be an https:\/\/ URL/),
      expect.stringMatching(/^row 3 name "B Two": may contain only lowercase/),
    ]);
    expect(await page.getByRole('button', { name: 'Start bulk apply' }).isDisabled()).toBe(true);
    await page.screenshot({ path: join(SCREENSHOTS, 'bulk-01-invalid.png'), fullPage: true });
    expect(await portal.orgadmin.store.listBatches({})).toEqual([]);
    expect(refusedChecks).toBe(1);
  });

  it('checks a good file, starts it and follows it to the summary', { timeout: 90_000 }, async () => {
    await page
      .getByLabel('Spec file (YAML or CSV)')
      .setInputFiles(
        csvFile('onboarding.csv', [
          HEADER,
          'b-one,One,Username-Password-Authentication,SaaS App,https://b-one.example/callback,,',
          'b-two,Two,Username-Password-Authentication,SaaS App,https://b-two.example/callback,,',
          'b-fail,Fails,Social-Google,,,it@b-fail.example,password-ticket',
        ]),
      );
    await eventually(() => page.getByText('onboarding.csv is valid').isVisible()).toBe(true);
    await eventually(() => page.getByText('3 organizations: 3 to create, 0 to update.').isVisible()).toBe(
      true,
    );
    await page.getByRole('button', { name: 'Start bulk apply' }).click();
    await page.waitForURL(/\/bulk-apply\/[0-9a-f-]{36}$/);
    await eventually(() => page.getByRole('heading', { name: 'onboarding.csv' }).isVisible()).toBe(true);

    const status = page.locator('.batch-status');
    await eventually(() => status.textContent(), 60_000).toMatch(
      /^Finished in [\d.]+ s: 2 succeeded, 1 failed, 0 not started\.$/,
    );
    expect(
      await page.getByRole('progressbar', { name: 'Organizations finished' }).getAttribute('value'),
    ).toBe('3');
    await eventually(() =>
      page.getByText('Users can only be created in database connections').isVisible(),
    ).toBe(true);
    await page.screenshot({ path: join(SCREENSHOTS, 'bulk-02-summary.png'), fullPage: true });
    await page.getByRole('link', { name: 'Failed run of b-fail' }).click();
    await page.waitForURL(/\/runs\/[0-9a-f-]{36}$/);
    await eventually(() => page.getByText('b-fail').first().isVisible()).toBe(true);

    await page.goto(`${portal.url}/bulk-apply`);
    const row = page
      .getByRole('region', { name: 'Bulk applies table' })
      .getByRole('row', { name: /onboarding\.csv/ });
    await eventually(() => row.textContent()).toContain('finished');
  });

  it('kept the console free of errors', () => {
    expect(consoleErrors).toEqual([]);
  });
});
