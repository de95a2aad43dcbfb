/** `orgadmin auth0-local`: runs the local Auth0 Management API until interrupted. */
import { parseArgs } from 'node:util';

import { startAuth0Local } from '../../../auth0-local/index.js';
import { printErr, untilSignal, type Command } from '../command.js';

const HELP = `Usage: orgadmin auth0-local [options]

Runs auth0-local, a local HTTPS server that behaves like the Auth0 Management API v2.
When ready it prints one JSON line on stdout:
  {"domain","clientId","clientSecret","audience","caCertPath","adminToken"}
Point the auth0 SDK or auth0-deploy-cli at "domain" and start them with NODE_EXTRA_CA_CERTS=<caCertPath>.

Options:
  --port N                 port of the first tenant (0 = any free port; default 0, or the port it had before)
  --state-file F           keep all tenants in F (and F.log); survives restarts and kill -9. Default: in memory
  --rate-limits PROFILE    free | self-service | enterprise | unlimited (default unlimited)
  --time-scale S           refill rate limits S times faster than Auth0 (default 1)
  --seed FILE              YAML with clients, connections, roles, organizations, users to create at first start
  --tls-dir D              where the CA and server certificate are kept (default: beside the state file)
  --no-legacy-enabled-clients
                           behave like a tenant created after January 2026 (no enabled_clients on connections)
  -h, --help               show this help
`;

export const auth0LocalCommand: Command = {
  name: 'auth0-local',
  summary: 'run a local Auth0 Management API (HTTPS, rate limits, fault injection)',
  async run(args) {
    const { values } = parseArgs({
      args,
      options: {
        port: { type: 'string' },
        'state-file': { type: 'string' },
        'rate-limits': { type: 'string' },
        'time-scale': { type: 'string' },
        seed: { type: 'string' },
        'tls-dir': { type: 'string' },
        'no-legacy-enabled-clients': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    });
    if (values.help) {
      process.stdout.write(HELP);
      return 0;
    }
    const port = values.port === undefined ? undefined : Number(values.port);
    if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) {
      throw new Error(`--port must be an integer between 0 and 65535, got "${values.port}"`);
    }
    const timeScale = values['time-scale'] === undefined ? 1 : Number(values['time-scale']);
    if (!(timeScale > 0))
      throw new Error(`--time-scale must be a positive number, got "${values['time-scale']}"`);
    const local = await startAuth0Local({
      ...(port !== undefined ? { port } : {}),
      ...(values['state-file'] ? { stateFile: values['state-file'] } : {}),
      ...(values['rate-limits'] ? { rateLimits: values['rate-limits'] } : {}),
      ...(values.seed ? { seed: values.seed } : {}),
      ...(values['tls-dir'] ? { tlsDir: values['tls-dir'] } : {}),
      timeScale,
      legacyEnabledClients: !values['no-legacy-enabled-clients'],
      log: printErr,
    });
    const { domain, clientId, clientSecret, audience, caCertPath, adminToken } = local;
    process.stdout.write(
      `${JSON.stringify({ domain, clientId, clientSecret, audience, caCertPath, adminToken })}\n`,
    );
    printErr(`auth0-local: tenant "${local.name}" ready at https://${domain}/ (Ctrl-C to stop)`);
    const signal = await untilSignal();
    printErr(`auth0-local: ${signal} received, saving state and stopping`);
    await local.close();
    return 0;
  },
};
