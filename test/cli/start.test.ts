/**
 * Acceptance 6 (the part a test can show): `orgadmin start` — what `npm start` runs — brings up the embedded
 * PostgreSQL and auth0-local, prints auth0-local's JSON line on stdout, stays up, serves the SDK, and stops cleanly
 * on SIGINT, keeping the tenant for the next start. `orgadmin --help` lists the commands.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

import { describe, expect, inject, it } from 'vitest';

import { deleteEmbeddedPostgresIfUnused } from '../../src/adapters/postgres/embedded-server.js';
import { managementClient } from '../helpers/auth0-local.js';

interface Started {
  child: ChildProcessWithoutNullStreams;
  info: { domain: string; clientId: string; clientSecret: string; audience: string; caCertPath: string };
  stderr: () => string;
}

function startOrgadmin(home: string): Promise<Started> {
  const child = spawn(process.execPath, ['bin/orgadmin.js', 'start'], {
    env: { ...process.env, ORGADMIN_HOME: home, AUTH0_LOCAL_PORT: '0', PORT: '0', DATABASE_URL: '' },
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', (line) =>
      resolve({ child, info: JSON.parse(line) as Started['info'], stderr: () => stderr }),
    );
    child.once('exit', (code) => reject(new Error(`orgadmin start exited with ${code}:\n${stderr}`)));
  });
}

/** Resolves once the process has written `text` to stderr. */
function stderrContains(started: Started, text: string): Promise<void> {
  return new Promise((resolve) => {
    const check = (): void => {
      if (!started.stderr().includes(text)) return;
      started.child.stderr.off('data', check);
      resolve();
    };
    started.child.stderr.on('data', check);
    check();
  });
}

function stop(child: ChildProcessWithoutNullStreams): Promise<number | null> {
  return new Promise((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.kill('SIGINT');
  });
}

describe('orgadmin start', () => {
  it(
    'prints the auth0-local JSON line, serves the SDK, stops on SIGINT and keeps the tenant',
    { timeout: 120_000 },
    async () => {
      const home = mkdtempSync(join(tmpdir(), 'orgadmin-home-'));
      chmodSync(home, 0o755); // reachable by the postgres OS user when tests run as root, so nothing is relocated
      // The state folder gets the CA this test process already trusts (it is reused, as on every restart).
      const tls = join(home, 'auth0-local', 'tls');
      mkdirSync(tls, { recursive: true });
      for (const file of ['ca.pem', 'ca-key.pem'])
        copyFileSync(join(inject('auth0LocalTlsDir'), file), join(tls, file));
      const running: Started[] = [];
      try {
        const first = await startOrgadmin(home);
        running.push(first);
        expect(first.info).toMatchObject({
          domain: expect.stringMatching(/^127\.0\.0\.1:\d+$/) as unknown,
          audience: `https://${first.info.domain}/api/v2/`,
          caCertPath: join(tls, 'ca.pem'),
        });
        const org = await managementClient(first.info).organizations.create({ name: 'kept-across-restarts' });
        await stderrContains(first, 'orgadmin: ready');
        expect(first.stderr()).toMatch(
          /database ready at postgres:\/\/orgadmin:\*\*\*@127\.0\.0\.1:\d+\/orgadmin/,
        );
        // The same command brought up the worker and the portal, and says how to sign in.
        const portalUrl = /orgadmin: portal at (http:\/\/127\.0\.0\.1:\d+)\//.exec(first.stderr())?.[1];
        expect(portalUrl).toBeDefined();
        for (const role of ['viewer', 'operator', 'admin'])
          expect(first.stderr()).toMatch(new RegExp(`${role}\\s+${role}@orgadmin\\.local\\s+password \\S+`));
        const document = (await (await fetch(`${portalUrl}/api/v1/openapi.json`)).json()) as {
          openapi: string;
        };
        expect(document.openapi).toBe('3.1.0');
        expect((await fetch(`${portalUrl}/api/v1/me`)).status).toBe(401);
        const homePage = await fetch(`${portalUrl}/organizations`);
        expect(await homePage.text()).toContain('<div id="root">');
        expect(await stop(first.child)).toBe(0);
        running.pop();
        expect(first.stderr()).toContain('embedded postgres stopped');

        const second = await startOrgadmin(home);
        running.push(second);
        expect(second.info.clientId).toBe(first.info.clientId);
        const again = await managementClient(second.info).organizations.getByName('kept-across-restarts');
        expect(again.id).toBe(org.id);
        expect(await stop(second.child)).toBe(0);
        running.pop();
      } finally {
        for (const started of running) await stop(started.child);
        await deleteEmbeddedPostgresIfUnused({ home });
        rmSync(home, { recursive: true, force: true });
      }
    },
  );

  it('lists its commands in --help', async () => {
    const child = spawn(process.execPath, ['bin/orgadmin.js', '--help']);
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(0);
    expect(out).toMatch(/^\s+start\s+/m);
    expect(out).toMatch(/^\s+auth0-local\s+/m);
  });

  it('names the variable and the rule when the configuration is bad', async () => {
    const child = spawn(process.execPath, ['bin/orgadmin.js', 'start'], {
      env: { ...process.env, AUTH0_LOCAL_PORT: 'seventy' },
    });
    let err = '';
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(1);
    expect(err).toContain('AUTH0_LOCAL_PORT must be a number');
  });
});
