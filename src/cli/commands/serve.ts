/**
 * `orgadmin serve`: the portal alone (web UI and HTTP API), for running several instances behind a load balancer
 * with any number of `orgadmin worker`s on the same database. Runs it creates are queued for those workers.
 */
import { parseArgs } from 'node:util';

import { openOrgadmin, startPortal } from '../../composition-root.js';
import { loadConfig } from '../../config/config.js';
import { printErr, untilSignal, type Command } from '../command.js';

const HELP = `Usage: orgadmin serve

Serves the portal (web UI and HTTP API) on HOST:PORT (default 127.0.0.1:3000) without executing runs: start
\`orgadmin worker\` processes for that. Operators sign in through PORTAL_ISSUER (or the auth0-local tenant of a
running \`orgadmin start\`). Stops on Ctrl-C.
`;

export const serveCommand: Command = {
  name: 'serve',
  summary: 'serve the portal (web UI and HTTP API) without a worker',
  async run(args) {
    const { values } = parseArgs({ args, options: { help: { type: 'boolean', short: 'h' } }, strict: true });
    if (values.help) {
      process.stdout.write(HELP);
      return 0;
    }
    const orgadmin = await openOrgadmin(loadConfig(process.env, process.cwd()), { log: printErr });
    try {
      const portal = await startPortal(orgadmin, { log: printErr });
      try {
        printErr(`orgadmin: portal at ${portal.url}/ (API ${portal.url}/api/v1)`);
        const signal = await untilSignal();
        printErr(`orgadmin: ${signal} received, stopping`);
      } finally {
        await portal.close();
      }
    } finally {
      await orgadmin.close();
    }
    return 0;
  },
};
