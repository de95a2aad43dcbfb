/**
 * Vitest global setup: one place that prepares what every test file shares.
 * - TLS: auth0-local's CA is created before any worker starts, and `NODE_EXTRA_CA_CERTS` points at it, because Node
 *   reads that variable only at process start; the workers inherit it, so the unmodified `auth0` SDK trusts
 *   auth0-local exactly as a user's process would.
 * - PostgreSQL: one embedded server per run, a template database that test files clone.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';

import type { TestProject } from 'vitest/node';

import { ensureTlsMaterial } from '../auth0-local/certificates.js';
import * as postgres from './global-setup-postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    auth0LocalTlsDir: string;
  }
}

export async function setup(project: TestProject): Promise<void> {
  const tlsDir = resolve('.orgadmin-test/tls');
  mkdirSync(tlsDir, { recursive: true });
  const tls = await ensureTlsMaterial(tlsDir);
  process.env['NODE_EXTRA_CA_CERTS'] = tls.caCertPath;
  project.provide('auth0LocalTlsDir', tlsDir);
  await postgres.setup(project);
}

export async function teardown(): Promise<void> {
  await postgres.teardown();
}
