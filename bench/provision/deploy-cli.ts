/**
 * Contender 2: the real auth0-deploy-cli (the pinned devDependency, run as its own process with
 * NODE_EXTRA_CA_CERTS = auth0-local's CA, exactly as test/auth0-local/deploy-cli.test.ts runs it) importing a
 * directory-format configuration of the N organizations:
 *   database-connections/<name>-db/database.json   { name, strategy: auth0, enabled_clients: ["<its app>"] }
 *   organizations/<name>.json                      { name, connections: [{ name: "<name>-db", … }] }
 *   clients/<app>.json                             { name: "<app>", app_type, callbacks: [its organizations' URLs] }
 * A client file holds the client's whole callback list (deploy-cli PATCHes it as given), so the per-organization
 * URLs are represented as ONE list per shared application, written in full: the configuration must know every
 * organization's URL, and whatever else is on the client at import time is replaced.
 *
 * Wall time: the `a0deploy import` process from spawn to exit (its start-up and directory loading included).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { childEnv, startChild } from './child.js';
import { requestLogFile, result } from './measure.js';
import {
  databaseConnectionName,
  freshTenant,
  measure,
  watchProgress,
  type OrgToProvision,
} from './tenant.js';
import type { BenchContext, ContenderResult } from './types.js';

const DEPLOY_CLI = fileURLToPath(
  new URL('../../node_modules/auth0-deploy-cli/lib/index.js', import.meta.url),
);

/**
 * The settings that keep deploy-cli to these resources: only clients, database connections and organizations are
 * read and written; the tenant's own clients and database connection are excluded; nothing is ever deleted.
 * Everything else (retries: AUTH0_API_MAX_RETRIES default 10, unless `--deploy-cli-max-retries`; its fixed
 * concurrency of 3 calls) is left as shipped.
 */
export const DEPLOY_CLI_CONFIG = {
  AUTH0_INCLUDED_ONLY: ['clients', 'databases', 'organizations'],
  AUTH0_EXCLUDED_CLIENTS: ['Default App', 'orgadmin (auth0-local)'],
  AUTH0_EXCLUDED_DATABASES: ['Username-Password-Authentication'],
  AUTH0_ALLOW_DELETE: false,
};

function writeDirectory(root: string, orgs: OrgToProvision[], apps: string[]): void {
  const databases = join(root, 'database-connections');
  const organizations = join(root, 'organizations');
  const clients = join(root, 'clients');
  for (const dir of [databases, organizations, clients]) mkdirSync(dir, { recursive: true });
  for (const { name, app } of orgs) {
    const connection = databaseConnectionName(name);
    mkdirSync(join(databases, connection));
    writeFileSync(
      join(databases, connection, 'database.json'),
      JSON.stringify({ name: connection, strategy: 'auth0', enabled_clients: [app] }, null, 2),
    );
    writeFileSync(
      join(organizations, `${name}.json`),
      JSON.stringify(
        {
          name,
          connections: [
            {
              name: connection,
              assign_membership_on_login: false,
              show_as_button: true,
              is_signup_enabled: false,
            },
          ],
        },
        null,
        2,
      ),
    );
  }
  for (const app of apps) {
    const callbacks = orgs.filter((org) => org.app === app).map((org) => org.url);
    writeFileSync(
      join(clients, `${app}.json`),
      JSON.stringify({ name: app, app_type: 'regular_web', callbacks }, null, 2),
    );
  }
}

export async function runDeployCli(
  ctx: BenchContext,
  options: {
    deadlineMs: number;
    /** AUTH0_API_MAX_RETRIES; undefined = deploy-cli's default (10). */
    maxRetries: number | undefined;
  },
): Promise<ContenderResult> {
  const { orgs } = ctx;
  const notes: string[] = [];
  const tenant = await freshTenant({
    name: 'deploy-cli',
    tlsDir: ctx.tlsDir,
    profile: ctx.profile,
    timeScale: ctx.timeScale,
    apps: ctx.apps,
  });
  try {
    const input = join(ctx.workDir, 'deploy-cli-input');
    writeDirectory(input, orgs, ctx.apps);
    const configFile = join(ctx.workDir, 'deploy-cli-config.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        AUTH0_DOMAIN: tenant.local.domain,
        AUTH0_CLIENT_ID: tenant.local.clientId,
        AUTH0_CLIENT_SECRET: tenant.local.clientSecret,
        ...DEPLOY_CLI_CONFIG,
        ...(options.maxRetries === undefined ? {} : { AUTH0_API_MAX_RETRIES: options.maxRetries }),
      }),
    );
    const stop = watchProgress(tenant, 'deploy-cli', orgs.length, ctx.log);
    const started = performance.now();
    const startedAt = Date.now();
    const child = startChild(
      process.execPath,
      [DEPLOY_CLI, 'import', '--input_file', input, '--config_file', configFile, '--env=false'],
      { env: childEnv({ NODE_EXTRA_CA_CERTS: ctx.caCertPath, NO_COLOR: '1', FORCE_COLOR: '0' }) },
    );
    const timer = setTimeout(() => {
      notes.push(`deploy-cli: killed after ${(options.deadlineMs / 1000).toFixed(0)} s`);
      child.kill('SIGKILL');
    }, options.deadlineMs);
    const exit = await child.exited;
    const wallSeconds = (performance.now() - started) / 1000;
    clearTimeout(timer);
    stop();
    ctx.log(
      `deploy-cli: a0deploy import exited with ${exit.code ?? exit.signal} after ${wallSeconds.toFixed(1)} s`,
    );
    if (exit.code !== 0) {
      const tail = child
        .output()
        .split('\n')
        // eslint-disable-next-line no-control-regex -- winston colours its levels even with NO_COLOR
        .map((line) => line.replace(/\u001b\[[0-9;]*m/g, '').trim())
        .filter(Boolean)
        .slice(-12)
        .join(' ⏎ ')
        .replace(/\s+/g, ' ');
      notes.push(
        `deploy-cli: a0deploy import exited with ${exit.code ?? exit.signal}; the end of its output: ${tail.slice(-1500)}`,
      );
      if (/TooManyRequests|status code: 429/i.test(tail))
        notes.push(
          `deploy-cli: it gave up on a 429 after ${options.maxRetries ?? 10} retries of one call; --deploy-cli-max-retries 100 lets it finish (a different setting from the shipped one)`,
        );
    }
    notes.push(
      `deploy-cli: the callback URLs were written as one complete list per shared application (clients/<app>.json, ${ctx.apps.length} file(s)): a client file replaces the client's whole list`,
    );
    const measured = measure(tenant, orgs, ctx.profile, ctx.timeScale, requestLogFile(ctx, 'deploy-cli'));
    if (measured.firstWriteAt !== undefined)
      notes.push(
        `deploy-cli: first write reached auth0-local ${((measured.firstWriteAt - startedAt) / 1000).toFixed(1)} s after the process started`,
      );
    return result({
      name: 'deploy-cli',
      workers: 1,
      orgs: orgs.length,
      wallSeconds,
      measured,
      // A failed import reports no per-organization outcome: what is incomplete in the tenant is what failed.
      reportedFailed: new Set(),
      processes: [child],
      notes,
    });
  } finally {
    await tenant.close();
  }
}
