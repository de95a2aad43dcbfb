/**
 * The portal in GitOps mode, in a real browser (Debian's Chromium driven by playwright-core), against a local bare
 * repository and auth0-local:
 * - an operator creates an organization in the wizard with a reason and sees the commit it became (not a run); the
 *   organizations list, which shows what is deployed, does not have it yet;
 * - "Deploy…" opens the History page with the plan (the organization's steps) and the commit with its author; the
 *   deployment runs to "succeeded", links its run, and the organization is listed;
 * - an edit and (by an admin) a removal become commits too, and the list says a change waits for a deploy;
 * - an admin rolls back to the first commit after the removal was deployed: the plan warns that the organization is
 *   recreated with new Auth0 ids, the short revision must be typed, and the organization comes back — with a new id;
 * - a viewer sees the history without deploy or rollback controls; every control is named; 375 px wide fits.
 * Screenshots go to `test-results/screenshots/`; the console must stay free of errors throughout.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { managementClient, useAuth0Local } from '../helpers/auth0-local.js';
import { launchChromium } from '../helpers/chromium.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { gitIn, newBareRepository } from '../helpers/gitops.js';
import { sessionFor, startTestPortal, type TestPortal } from '../helpers/portal.js';

const SCREENSHOTS = join(process.cwd(), 'test-results', 'screenshots');
const OPERATOR = 'gina.operator@test.example';
const ADMIN = 'adam.admin@test.example';

const local = useAuth0Local();
let database: TestDatabase;
let portal: TestPortal;
let browser: Browser;
let git: (...args: string[]) => string;
const consoleErrors: string[] = [];

beforeAll(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  database = await createTestDatabase();
  const bare = newBareRepository();
  git = gitIn(bare);
  portal = await startTestPortal(local, database, {
    web: true,
    env: { ORGADMIN_MODE: 'gitops', ORGADMIN_GITOPS_REPO: bare },
  });
  browser = await launchChromium();
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await portal?.close();
  await database?.drop();
});

/** A page signed in with this role (the session a sign-in would create, just now). */
async function pageAs(role: 'viewer' | 'operator' | 'admin', email: string, width = 1280): Promise<Page> {
  const { cookie } = await sessionFor(portal.orgadmin, [role], { email });
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

/** Form controls that no label, aria-label or aria-labelledby names (evaluated in the page, hence a string). */
function unnamedControls(page: Page): Promise<string[]> {
  return page.evaluate<string[]>(`[...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
    .filter((e) => (e.labels?.length ?? 0) === 0 && !e.getAttribute('aria-label') && !e.getAttribute('aria-labelledby'))
    .map((e) => e.outerHTML.slice(0, 120))`);
}

const eventually = <T>(fn: () => T | Promise<T>, options: { timeout?: number } = {}) =>
  expect.poll(fn, { timeout: 20_000, ...options });

const shot = (page: Page, name: string): Promise<Buffer> =>
  page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });

/** The commit of the bare repository's main branch whose subject is `subject`: its full sha. */
function commitWithSubject(subject: string): string {
  const line = git('log', '--format=%H %s', 'main')
    .split('\n')
    .find((entry) => entry.slice(41) === subject);
  if (!line) throw new Error(`no commit "${subject}" on main`);
  return line.slice(0, 40);
}

const organizationId = async (name: string): Promise<string | undefined> =>
  (await portal.orgadmin.store.getOrg(name))?.auth0Ids['organization'];

describe('the portal in GitOps mode', () => {
  let operatorPage: Page;
  let adminPage: Page;
  let firstAuth0Id: string | undefined;

  it('commits an organization from the wizard, with the reason, instead of starting a run', async () => {
    const page = (operatorPage = await pageAs('operator', OPERATOR));
    await page.goto(`${portal.url}/organizations`);
    await eventually(() => page.getByText('No organizations yet').isVisible()).toBe(true);
    // The list explains itself: it is the deployed state of this environment.
    await eventually(() => page.getByText(/This list shows what is deployed to default/).isVisible()).toBe(
      true,
    );
    expect(await page.getByRole('link', { name: 'History', exact: true }).count()).toBe(1);
    // Bulk apply starts runs directly, which GitOps mode does not do.
    expect(await page.getByRole('link', { name: 'Bulk apply' }).count()).toBe(0);

    await page.getByRole('button', { name: 'New organization' }).click();
    await page.getByLabel('Name', { exact: true }).fill('gx-one');
    await page.getByLabel('Display name').fill('GX One');
    for (let step = 0; step < 4; step += 1) await page.getByRole('button', { name: 'Next' }).click();
    const steps = page.getByRole('list', { name: 'Steps to be executed' });
    await eventually(() => steps.getByText('create organization gx-one').isVisible()).toBe(true);
    await eventually(() => page.getByText('Once deployed, this will create:').isVisible()).toBe(true);
    await page.getByLabel('Reason (goes into the commit message)').fill('onboarding GX');
    expect(await unnamedControls(page)).toEqual([]);
    await shot(page, 'gitops-01-wizard-review');
    await page.getByRole('button', { name: 'Commit organization' }).click();

    await eventually(() =>
      page.getByRole('heading', { name: 'Organization gx-one committed', level: 1 }).isVisible(),
    ).toBe(true);
    const sha = commitWithSubject('Create organization gx-one');
    const notice = page.locator('.committed');
    await eventually(() => notice.textContent()).toContain(
      `Committed ${sha.slice(0, 7)}: Create organization gx-one`,
    );
    expect(await notice.textContent()).toContain(`Author: ${OPERATOR} <${OPERATOR}>`);
    expect(git('log', '-1', '--format=%B', sha)).toContain('Reason: onboarding GX');
    // Committed, not deployed: no record, no run, nothing in Auth0.
    expect(await portal.orgadmin.store.getOrg('gx-one')).toBeUndefined();
    await shot(page, 'gitops-02-committed');
  });

  it('opens the history with the deploy plan, deploys, and then lists the organization', async () => {
    const page = operatorPage;
    const sha = commitWithSubject('Create organization gx-one');
    await page.getByRole('button', { name: 'Deploy…' }).click();
    await page.waitForURL(`${portal.url}/history`);
    const commitRow = page
      .getByRole('region', { name: 'Commits table' })
      .getByRole('row', { name: /Create organization gx-one/ });
    await eventually(() => commitRow.textContent()).toContain(OPERATOR);
    expect(await commitRow.textContent()).toContain(sha.slice(0, 7));
    expect(await commitRow.textContent()).toContain('not deployed to default');

    // "Deploy…" asked for the plan: the organization's steps, nothing written yet.
    const planned = page.getByRole('list', { name: 'Steps for gx-one' });
    await eventually(() => planned.getByText('create organization gx-one').isVisible()).toBe(true);
    expect(await portal.orgadmin.store.getOrg('gx-one')).toBeUndefined();
    await shot(page, 'gitops-03-deploy-plan');

    await page.getByRole('button', { name: `Deploy ${sha.slice(0, 7)} to default` }).click();
    const followed = page.locator('.followed-deployment .callout-title');
    await eventually(() => followed.textContent(), { timeout: 60_000 }).toBe(
      `Deployment succeeded (${sha.slice(0, 7)} to default)`,
    );
    const deploymentRow = page.getByRole('region', { name: 'Deployments table' }).getByRole('row').nth(1);
    await eventually(() => deploymentRow.textContent()).toContain('1 organization(s) deployed');
    expect(await deploymentRow.textContent()).toContain(OPERATOR);
    await eventually(() => commitRow.locator('.badge-deployed').allTextContents()).toEqual(['✓ default']);
    await shot(page, 'gitops-04-deployed');
    firstAuth0Id = await organizationId('gx-one');
    expect(firstAuth0Id).toMatch(/^org_/);

    // The deployment's run, on the run page.
    await deploymentRow.getByRole('link', { name: 'Run of gx-one' }).click();
    await page.waitForURL(/\/runs\/[0-9a-f-]{36}$/);
    await eventually(() => page.getByRole('heading', { name: /^Apply run/ }).isVisible()).toBe(true);

    await page.getByRole('link', { name: 'Organizations' }).click();
    const orgRow = page
      .getByRole('region', { name: 'Organizations table' })
      .getByRole('row', { name: /gx-one/ });
    await eventually(() => orgRow.textContent()).toContain('active');
    // Nothing waits for a deploy (the deployment's own record commit is no change).
    expect(await page.getByText(/not deployed yet/).count()).toBe(0);
  });

  it('commits an edit, and an admin commits a removal, each with its reason', async () => {
    const page = operatorPage;
    await page.goto(`${portal.url}/organizations/gx-one/edit`);
    await page.getByLabel('Display name').fill('GX One Inc.');
    await page.getByRole('button', { name: 'Review changes' }).click();
    await eventually(() => page.getByText('update organization gx-one: displayName').isVisible()).toBe(true);
    await page.getByLabel('Reason (goes into the commit message)').fill('renamed');
    await page.getByRole('button', { name: 'Commit changes' }).click();
    await eventually(() => page.locator('.committed').textContent()).toContain('Update organization gx-one');
    expect(git('log', '-1', '--format=%B', commitWithSubject('Update organization gx-one'))).toContain(
      'Reason: renamed',
    );

    adminPage = await pageAs('admin', ADMIN);
    await adminPage.goto(`${portal.url}/organizations/gx-one`);
    // The page is the deployed organization, and says a committed change waits for a deploy.
    await eventually(() => adminPage.getByText('1 committed change not deployed yet.').isVisible()).toBe(
      true,
    );
    await eventually(() => adminPage.getByRole('heading', { name: 'GX One', level: 1 }).isVisible()).toBe(
      true,
    );
    await adminPage.getByRole('button', { name: 'Remove', exact: true }).click();
    const dialog = adminPage.getByRole('dialog', { name: 'Remove organization gx-one' });
    await eventually(() => dialog.getByText('delete organization gx-one').isVisible()).toBe(true);
    await dialog.getByLabel('Type the organization name to confirm').fill('gx-one');
    await dialog.getByLabel('Reason (goes into the commit message)').fill('contract ended');
    expect(await unnamedControls(adminPage)).toEqual([]);
    await dialog.getByRole('button', { name: 'Commit removal' }).click();
    await eventually(() => dialog.locator('.committed').textContent()).toContain(
      'Delete organization gx-one',
    );
    await shot(adminPage, 'gitops-05-removal-committed');
    expect(git('log', '-1', '--format=%B', commitWithSubject('Delete organization gx-one'))).toContain(
      'Reason: contract ended',
    );
    expect((await portal.orgadmin.store.getOrg('gx-one'))?.status).toBe('active');
    await dialog.getByRole('button', { name: 'Close' }).click();
  });

  it(
    'lets an admin roll back to the first commit after seeing what is recreated with new ids',
    { timeout: 120_000 },
    async () => {
      const page = adminPage;
      await page.getByRole('link', { name: 'History', exact: true }).click();
      await page.getByRole('button', { name: 'Plan deploy' }).click();
      const planned = page.getByRole('list', { name: 'Steps for gx-one' });
      await eventually(() => planned.getByText('delete organization gx-one').isVisible()).toBe(true);
      const head = commitWithSubject('Delete organization gx-one');
      await page.getByRole('button', { name: `Deploy ${head.slice(0, 7)} to default` }).click();
      const followed = page.locator('.followed-deployment .callout-title');
      await eventually(() => followed.textContent(), { timeout: 60_000 }).toBe(
        `Deployment succeeded (${head.slice(0, 7)} to default)`,
      );
      expect((await portal.orgadmin.store.getOrg('gx-one'))?.status).toBe('removed');

      const first = commitWithSubject('Create organization gx-one').slice(0, 7);
      await page.getByRole('button', { name: `Roll back to here… (${first})` }).click();
      const dialog = page.getByRole('dialog', { name: `Roll back to ${first}` });
      await eventually(() => dialog.getByRole('alert').textContent()).toContain(
        'Recreated with new Auth0 ids: gx-one',
      );
      await eventually(() =>
        dialog
          .getByRole('list', { name: 'Steps for gx-one' })
          .getByText('create organization gx-one')
          .isVisible(),
      ).toBe(true);
      const confirm = dialog.getByRole('button', { name: 'Roll back', exact: true });
      expect(await confirm.isDisabled()).toBe(true);
      await dialog.getByLabel('Type the revision to confirm').fill(first.slice(0, 6));
      expect(await confirm.isDisabled()).toBe(true);
      await dialog.getByLabel('Type the revision to confirm').fill(first);
      await dialog.getByLabel('Reason (goes into the commit message)').fill('removed by mistake');
      expect(await unnamedControls(page)).toEqual([]);
      await shot(page, 'gitops-06-rollback-plan');
      await confirm.click();

      await eventually(() => followed.textContent(), { timeout: 60_000 }).toMatch(
        new RegExp(`^Rollback to ${first} succeeded \\([0-9a-f]{7} to default\\)$`),
      );
      const rollback = git('log', '--format=%B', '--grep', '^Roll back organizations', 'main');
      expect(rollback).toContain(`Requested by ${ADMIN} through orgadmin.\nReason: removed by mistake`);
      expect(rollback).toContain('Recreated (new Auth0 ids): gx-one');
      const org = await portal.orgadmin.store.getOrg('gx-one');
      expect(org?.status).toBe('active');
      // The first commit's spec, in a new Auth0 organization.
      expect(org?.spec.displayName).toBe('GX One');
      expect(await organizationId('gx-one')).not.toBe(firstAuth0Id);
      expect((await managementClient(local).organizations.getByName('gx-one')).display_name).toBe('GX One');
      await eventually(() =>
        page
          .getByRole('region', { name: 'Commits table' })
          .getByRole('row', { name: /Roll back organizations to/ })
          .textContent(),
      ).toContain(ADMIN);
      await shot(page, 'gitops-07-rolled-back');
    },
  );

  it('shows a viewer the history without deploy or rollback controls, on a small screen too', async () => {
    const page = await pageAs('viewer', 'vera.viewer@test.example', 375);
    await page.goto(`${portal.url}/organizations`);
    await page.getByRole('link', { name: 'History', exact: true }).click();
    await eventually(() => page.getByRole('region', { name: 'Deployments table' }).isVisible()).toBe(true);
    await eventually(() =>
      page
        .getByRole('region', { name: 'Commits table' })
        .getByRole('row', { name: /Delete organization gx-one/ })
        .count(),
    ).toBe(1);
    expect(await page.getByRole('button').allTextContents()).toEqual(['Sign out']);
    expect(await unnamedControls(page)).toEqual([]);
    const overflow = await page.evaluate<number>(
      'document.documentElement.scrollWidth - document.documentElement.clientWidth',
    );
    expect(overflow).toBeLessThanOrEqual(0);
    await shot(page, 'gitops-08-viewer-375');
  });

  it('kept the console free of errors', () => {
    expect(consoleErrors).toEqual([]);
  });
});
