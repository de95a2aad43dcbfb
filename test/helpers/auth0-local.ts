/** Starting auth0-local inside a test file, with the CA the global setup made trusted, and an SDK client for it. */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { ManagementClient } from 'auth0';
import { afterAll, beforeAll, inject } from 'vitest';

import { startAuth0Local, type StartAuth0LocalOptions } from '../../auth0-local/index.js';

export type TestAuth0Local = Awaited<ReturnType<typeof startAuth0Local>>;

export function startTestAuth0Local(options: StartAuth0LocalOptions = {}): Promise<TestAuth0Local> {
  return startAuth0Local({ tlsDir: inject('auth0LocalTlsDir'), log: () => undefined, ...options });
}

/** The official SDK, configured exactly as a user would configure it for a real tenant. */
export function managementClient(
  local: { domain: string; clientId: string; clientSecret: string },
  options: { maxRetries?: number } = {},
): ManagementClient {
  return new ManagementClient({
    domain: local.domain,
    clientId: local.clientId,
    clientSecret: local.clientSecret,
    ...options,
  });
}

/** Reads a rejected SDK call's HTTP status and parsed body. */
export async function failure(promise: Promise<unknown>): Promise<{ statusCode: number; body: unknown }> {
  try {
    await promise;
  } catch (error) {
    const { statusCode, body } = error as { statusCode: number; body: unknown };
    return { statusCode, body };
  }
  throw new Error('expected the call to fail');
}

/**
 * A fresh orgadmin state folder whose `auth0-local/connection.json` points at `local`, as `orgadmin start` leaves it,
 * so orgadmin processes started by a test provision into that auth0-local.
 */
export function orgadminHomeFor(local: TestAuth0Local, prefix = 'orgadmin-home-'): string {
  const home = mkdtempSync(join(tmpdir(), prefix));
  mkdirSync(join(home, 'auth0-local'), { recursive: true });
  const { domain, clientId, clientSecret, caCertPath, adminToken } = local;
  writeFileSync(
    join(home, 'auth0-local', 'connection.json'),
    JSON.stringify({ domain, clientId, clientSecret, caCertPath, adminToken }),
  );
  return home;
}

/**
 * One auth0-local for a whole test file: started before its tests, closed after them. The returned handle stands
 * for the running instance (it forwards to it), so tests read `local.domain` as with a started one.
 */
export function useAuth0Local(
  options: StartAuth0LocalOptions | (() => StartAuth0LocalOptions) = {},
): TestAuth0Local {
  let started: TestAuth0Local | undefined;
  beforeAll(async () => {
    started = await startTestAuth0Local(typeof options === 'function' ? options() : options);
  });
  afterAll(async () => {
    await started?.close();
  });
  return new Proxy({} as TestAuth0Local, {
    get(_target, property) {
      if (!started) throw new Error('auth0-local is used before the test file started it');
      const value: unknown = Reflect.get(started, property, started);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(started) : value;
    },
  });
}
