/**
 * Runs the example SaaS app next to `npm start` (orgadmin with auth0-local): `npm run example:saas-app`.
 *
 * Configuration (environment):
 * - `SAAS_APP_DATABASE_URL`: the app's database (default: orgadmin's embedded database; the app's tables live in
 *   their own `saas_app` schema there).
 * - `SAAS_APP_PORT` (default 4000).
 * - `SAAS_APP_HOOK_SECRET`: the whsec_… secret orgadmin signs with (default: generated once and kept in
 *   `<home>/saas-app/hook-secret`).
 * - `ORGADMIN_HOME` (default `.orgadmin`): orgadmin's state folder, where auth0-local's connection.json is.
 * - `SAAS_APP_AUTH0_DOMAIN`, `SAAS_APP_AUTH0_CLIENT_ID`, `SAAS_APP_AUTH0_CLIENT_SECRET`: a real tenant's application
 *   for organization login, instead of the "SaaS App" application this script creates in auth0-local.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { ManagementClient } from 'auth0';

import { openDatabase } from '../../src/adapters/postgres/database.js';
import { ensureSaasAppClient, SAAS_APP_CLIENT_NAME } from './src/auth0-application.js';
import type { Auth0Client } from './src/organization-login.js';
import { startSaasApp } from './src/saas-app.js';

interface LocalConnection {
  domain: string;
  clientId: string;
  clientSecret: string;
  caCertPath: string;
}

const log = (line: string): void => {
  process.stderr.write(`saas-app: ${line}\n`);
};

const home = resolve(process.env['ORGADMIN_HOME'] || '.orgadmin');
const local = readLocalConnection(join(home, 'auth0-local', 'connection.json'));

if (local && !trusts(process.env['NODE_EXTRA_CA_CERTS'], local.caCertPath)) {
  // Node reads NODE_EXTRA_CA_CERTS only when a process starts, and both the auth0 SDK and openid-client must trust
  // auth0-local's CA: so run again with it trusted (what bin/orgadmin.js does for orgadmin).
  runAgainTrusting(local.caCertPath);
} else {
  await main(local);
}

async function main(localAuth0: LocalConnection | undefined): Promise<void> {
  const port = Number(process.env['SAAS_APP_PORT'] || 4000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`SAAS_APP_PORT must be a port number, got ${process.env['SAAS_APP_PORT']}`);
  }
  const hookSecret =
    process.env['SAAS_APP_HOOK_SECRET'] || keptHookSecret(join(home, 'saas-app', 'hook-secret'));
  const embedded = process.env['SAAS_APP_DATABASE_URL'] ? undefined : await openDatabase({ home, log });
  const databaseUrl = process.env['SAAS_APP_DATABASE_URL'] || embedded!.url;

  const app = await startSaasApp({ databaseUrl, hookSecret, port, log }).catch(async (error: unknown) => {
    await embedded?.close();
    throw error;
  });
  // One shutdown however many signals arrive (Ctrl-C reaches this process and, from a relaunch, its parent too).
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      await app.close();
      await embedded?.close();
    })());
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      stop().then(
        () => process.exit(0),
        (error: unknown) => {
          log(`stopping failed: ${error instanceof Error ? error.message : String(error)}`);
          process.exit(1);
        },
      );
    });
  }

  try {
    const client = await auth0Client(localAuth0, app.url);
    if (client) app.useAuth0(client);
    print(nextSteps(app.url, app.hookUrl, hookSecret, client !== undefined));
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The application organization members sign in to: from the environment, else "SaaS App" in auth0-local. */
async function auth0Client(
  localAuth0: LocalConnection | undefined,
  appUrl: string,
): Promise<Auth0Client | undefined> {
  const domain = process.env['SAAS_APP_AUTH0_DOMAIN'];
  if (domain) {
    const clientId = process.env['SAAS_APP_AUTH0_CLIENT_ID'];
    const clientSecret = process.env['SAAS_APP_AUTH0_CLIENT_SECRET'];
    if (!clientId || !clientSecret) {
      throw new Error(
        'SAAS_APP_AUTH0_DOMAIN needs SAAS_APP_AUTH0_CLIENT_ID and SAAS_APP_AUTH0_CLIENT_SECRET',
      );
    }
    return { issuer: `https://${domain}/`, clientId, clientSecret };
  }
  if (!localAuth0) {
    log(
      `no ${join(home, 'auth0-local', 'connection.json')} (run \`npm start\` first): organization login is off`,
    );
    return undefined;
  }
  const api = new ManagementClient({
    domain: localAuth0.domain,
    clientId: localAuth0.clientId,
    clientSecret: localAuth0.clientSecret,
  });
  const { clientId, clientSecret, created } = await ensureSaasAppClient(api, appUrl);
  log(
    `${created ? 'created' : 'using'} the "${SAAS_APP_CLIENT_NAME}" application in auth0-local (${clientId})`,
  );
  return { issuer: `https://${localAuth0.domain}/`, clientId, clientSecret };
}

function nextSteps(url: string, hookUrl: string, secret: string, loginOn: boolean): string {
  return `
SaaS App is running at ${url}/  (hook endpoint ${hookUrl})

Next steps (with \`npm start\` running):

1. Tell orgadmin about the app's hook endpoint (once):

   npx orgadmin hooks add saas-app --url ${hookUrl} --secret '${secret}' \\
     --phases before-auth0,after-auth0,on-remove,on-compensate --events '*' --allow-private-network

2. Provision an organization whose members sign in to this app. Save as acme.yaml:

   name: acme
   displayName: Acme Corporation
   isolation: isolated-database
   connections:
     - database: {}
   applications:
     - client: ${SAAS_APP_CLIENT_NAME}
   admin: { email: admin@acme.example, via: password-ticket }

   then: npx orgadmin org apply -f acme.yaml

3. Open the administrator link \`org apply\` printed and choose a password.
4. Open ${url}/ : Acme Corporation is listed as ready.${loginOn ? ' Click "Sign in" and sign in as admin@acme.example.' : ''}
`;
}

function readLocalConnection(file: string): LocalConnection | undefined {
  if (!existsSync(file)) return undefined;
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<LocalConnection>;
  const { domain, clientId, clientSecret, caCertPath } = parsed;
  if (!domain || !clientId || !clientSecret || !caCertPath) {
    throw new Error(`${file} lacks domain, clientId, clientSecret or caCertPath: run \`npm start\` again`);
  }
  return { domain, clientId, clientSecret, caCertPath };
}

function trusts(extraCaFile: string | undefined, caCertPath: string): boolean {
  if (!extraCaFile) return false;
  try {
    return readFileSync(extraCaFile, 'utf8').includes(readFileSync(caCertPath, 'utf8').trim());
  } catch {
    return false;
  }
}

function runAgainTrusting(caCertPath: string): void {
  let trusted = caCertPath;
  const extra = process.env['NODE_EXTRA_CA_CERTS'];
  if (extra && existsSync(extra)) {
    // Node takes one extra CA file: keep the CAs the environment already trusts, plus auth0-local's.
    trusted = join(home, 'saas-app', 'trusted-ca.pem');
    mkdirSync(join(home, 'saas-app'), { recursive: true });
    writeFileSync(trusted, `${readFileSync(extra, 'utf8').trimEnd()}\n${readFileSync(caCertPath, 'utf8')}`);
  }
  // bin/run-ts.js loads TypeScript in-process (not through execArgv), so the new process starts through it too.
  const runTs = fileURLToPath(new URL('../../bin/run-ts.js', import.meta.url));
  const child = spawn(
    process.execPath,
    [...process.execArgv, runTs, fileURLToPath(import.meta.url), ...process.argv.slice(2)],
    { stdio: 'inherit', env: { ...process.env, NODE_EXTRA_CA_CERTS: trusted } },
  );
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => {
    process.exitCode = code ?? (signal ? 1 : 0);
  });
}

/** The hook secret kept in the state folder, made on first use (orgadmin accepts 24–64 random bytes). */
function keptHookSecret(file: string): string {
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const secret = `whsec_${randomBytes(32).toString('base64')}`;
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}

function print(text: string): void {
  process.stdout.write(`${text}\n`);
}
