/**
 * `orgadmin start` (what `npm start` runs): the main job on the embedded default. It opens the database (embedded
 * PostgreSQL under the state folder unless DATABASE_URL is set, migrated) and, unless a real tenant is configured,
 * auth0-local with a state file in the same folder, so a restart keeps the tenant in step with the database.
 * Later issues add the worker and the portal here.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';

import { startAuth0Local } from '../../../auth0-local/index.js';
import { openDatabase } from '../../adapters/postgres/database.js';
import { localConnectionFile } from '../../composition-root.js';
import { loadConfig } from '../../config/config.js';
import { printErr, untilSignal, type Command } from '../command.js';

const HELP = `Usage: orgadmin start

Starts orgadmin's main job: PostgreSQL (embedded under ORGADMIN_HOME unless DATABASE_URL is set) and, unless
AUTH0_DOMAIN/AUTH0_CLIENT_ID/AUTH0_CLIENT_SECRET name a real tenant, auth0-local on AUTH0_LOCAL_PORT.
Prints auth0-local's JSON line on stdout, then how to reach everything on stderr. Stops on Ctrl-C.
`;

/** Hides the password in a connection URL before it is printed. */
function redact(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}

export const startCommand: Command = {
  name: 'start',
  summary: 'run the main job: database (embedded by default) and auth0-local',
  async run(args) {
    const { values } = parseArgs({ args, options: { help: { type: 'boolean', short: 'h' } }, strict: true });
    if (values.help) {
      process.stdout.write(HELP);
      return 0;
    }
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
          JSON.stringify({ domain, clientId, clientSecret, caCertPath, adminToken }),
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
      printErr('orgadmin: ready (Ctrl-C to stop)');
      const signal = await untilSignal();
      printErr(`orgadmin: ${signal} received, stopping`);
    } finally {
      await local?.close();
      await database.close();
    }
    return 0;
  },
};
