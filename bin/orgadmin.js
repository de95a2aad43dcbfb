#!/usr/bin/env node
// Runs the TypeScript sources directly through tsx's loader, so a clone works after `npm ci` with no build step.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { register } from 'tsx/esm/api';

// Against auth0-local the official SDK must trust its CA, and Node reads NODE_EXTRA_CA_CERTS only when a process
// starts: so, when the state folder has that CA, run again with it trusted — added to a CA file the environment
// already names (merged into one bundle, since Node takes one file). `start` on a fresh state folder makes the CA
// first (it talks to its own auth0-local to set up operator sign-in).
const localTls = join(resolve(process.env.ORGADMIN_HOME || '.orgadmin'), 'auth0-local', 'tls');
const localCa = join(localTls, 'ca.pem');
const bundle = join(localTls, 'trusted.pem');
const extra = process.env.NODE_EXTRA_CA_CERTS;
const trustsAlready = (file) => {
  try {
    return existsSync(localCa) && readFileSync(file, 'utf8').includes(readFileSync(localCa, 'utf8').trim());
  } catch {
    return false;
  }
};
// `auth0-local` serves the CA rather than trusting it; a process that already trusts it needs nothing either.
const reexec =
  process.argv[2] !== 'auth0-local' &&
  !process.env.AUTH0_DOMAIN &&
  extra !== localCa &&
  extra !== bundle &&
  !(extra && trustsAlready(extra));
if (reexec && process.argv[2] === 'start' && !existsSync(localCa)) {
  register();
  const { ensureTlsMaterial } = await import('../auth0-local/certificates.ts');
  await ensureTlsMaterial(localTls);
}
if (reexec && existsSync(localCa)) {
  let trusted = localCa;
  if (extra && existsSync(extra)) {
    writeFileSync(bundle, `${readFileSync(extra, 'utf8').trimEnd()}\n${readFileSync(localCa, 'utf8')}`);
    trusted = bundle;
  }
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, NODE_EXTRA_CA_CERTS: trusted },
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
