#!/usr/bin/env node
// Runs the TypeScript sources directly through tsx's loader, so a clone works after `npm ci` with no build step.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { register } from 'tsx/esm/api';

// Against auth0-local the official SDK must trust its CA, and Node reads NODE_EXTRA_CA_CERTS only when a process
// starts: so, when the state folder has that CA and nothing else was chosen, run again with it set.
const localCa = join(resolve(process.env.ORGADMIN_HOME || '.orgadmin'), 'auth0-local', 'tls', 'ca.pem');
if (!process.env.NODE_EXTRA_CA_CERTS && !process.env.AUTH0_DOMAIN && existsSync(localCa)) {
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, NODE_EXTRA_CA_CERTS: localCa },
  });
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => {
    process.exitCode = code ?? (signal ? 1 : 0);
  });
} else {
  register();
  const { main } = await import('../src/cli/main.ts');
  process.exitCode = await main(process.argv.slice(2));
}
