/**
 * `orgadmin start` (what `npm start` runs): the main job on the embedded default. It opens the database (embedded
 * PostgreSQL under the state folder unless DATABASE_URL is set, migrated) and, unless a real tenant is configured,
 * auth0-local with a state file in the same folder, so a restart keeps the tenant in step with the database.
 * Then the worker and the portal run in this process: one command brings up everything.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';

import { startAuth0Local } from '../../../auth0-local/index.js';
import { openDatabase } from '../../adapters/postgres/database.js';
import {
  localConnectionFile,
  openOrgadmin,
  startPortal,
  type Orgadmin,
  type Portal,
} from '../../composition-root.js';
import { loadConfig } from '../../config/config.js';
import { printErr, untilSignal, type Command } from '../command.js';

const HELP = `Usage: orgadmin start [--concurrency N]

Starts orgadmin's main job: PostgreSQL (embedded under ORGADMIN_HOME unless DATABASE_URL is set), unless
AUTH0_DOMAIN/AUTH0_CLIENT_ID/AUTH0_CLIENT_SECRET name a real tenant auth0-local on AUTH0_LOCAL_PORT, then a worker
and the portal (web UI and HTTP API) on HOST:PORT (default 127.0.0.1:3000).
Prints auth0-local's JSON line on stdout, then how to reach everything on stderr. Stops on Ctrl-C.

Options:
  --concurrency N   runs the in-process worker executes at once (default 4)
`;

/** Hides the password in a connection URL before it is printed. */
function redact(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}

export const startCommand: Command = {
  name: 'start',
  summary: 'run everything: database (embedded by default), auth0-local, a worker and the portal',
  async run(args) {
    const { values } = parseArgs({
      args,
      options: { help: { type: 'boolean', short: 'h' }, concurrency: { type: 'string' } },
      strict: true,
    });
    const concurrency = Number(values.concurrency ?? 4);
    if (!Number.isInteger(concurrency) || concurrency < 1)
      throw new Error('--concurrency must be an integer ≥ 1');
    if (values.help) {
      process.stdout.write(HELP);
      return 0;
    }
    // Listening from the first moment: Ctrl-C during start-up stops as soon as the step under way is done.
    let received: NodeJS.Signals | undefined;
    const signalled = untilSignal().then((signal) => (received = signal));
    const config = loadConfig(process.env, process.cwd());
    printErr(`orgadmin: state folder ${config.home}`);
    printErr(config.databaseUrl ? 'orgadmin: using DATABASE_URL' : 'orgadmin: starting embedded PostgreSQL…');
    const database = await openDatabase({
      home: config.home,
      ...(config.databaseUrl ? { databaseUrl: config.databaseUrl } : {}),
      log: printErr,
    });
    printErr(`orgadmin: database ready at ${redact(database.url)}`);
    let local: Awaited<ReturnType<typeof startAuth0Local>> | undefined;
    let orgadmin: Orgadmin | undefined;
    let portal: Portal | undefined;
    try {
      if (config.auth0) {
        printErr(`orgadmin: using the Auth0 tenant ${config.auth0.domain}`);
      } else {
        local = await startAuth0Local({
          port: config.auth0Local.port,
          stateFile: join(config.home, 'auth0-local', 'state.json'),
          tlsDir: join(config.home, 'auth0-local', 'tls'),
          rateLimits: config.auth0Local.rateLimits,
          log: printErr,
        });
        const { domain, clientId, clientSecret, audience, caCertPath, adminToken } = local;
        // Other orgadmin processes on this state folder (`orgadmin org apply`, workers) provision into this tenant.
        const connectionFile = localConnectionFile(config.home);
        mkdirSync(dirname(connectionFile), { recursive: true });
        writeFileSync(
          connectionFile,
          JSON.stringify({ domain, clientId, clientSecret, caCertPath, adminToken, tenantName: local.name }),
          {
            mode: 0o600,
          },
        );
        process.stdout.write(
          `${JSON.stringify({ domain, clientId, clientSecret, audience, caCertPath, adminToken })}\n`,
        );
        printErr(
          `orgadmin: auth0-local tenant "${local.name}" at https://${domain}/ (rate limits: ${config.auth0Local.rateLimits})`,
        );
        printErr(
          `orgadmin: Auth0 SDK / deploy-cli: AUTH0_DOMAIN=${domain} NODE_EXTRA_CA_CERTS=${caCertPath}`,
        );
      }
      if (received === undefined) orgadmin = await openOrgadmin(config, { log: printErr });
      if (orgadmin && received === undefined)
        portal = await startPortal(orgadmin, { log: printErr, worker: { concurrency } });
      if (portal && received === undefined) {
        printErr(
          `orgadmin: portal at ${portal.url}/ (API ${portal.url}/api/v1, docs ${portal.url}/api/v1/docs)`,
        );
        if (portal.operators.length > 0) {
          printErr('orgadmin: local operators (sign in at the portal):');
          for (const operator of portal.operators)
            printErr(
              `  ${operator.role.padEnd(8)} ${operator.email.padEnd(24)} password ${operator.password}`,
            );
        }
        printErr('orgadmin: ready (Ctrl-C to stop)');
      }
      const signal = await signalled;
      printErr(`orgadmin: ${signal} received, stopping`);
    } finally {
      await portal?.close();
      await orgadmin?.close();
      await local?.close();
      await database.close();
    }
    return 0;
  },
};
