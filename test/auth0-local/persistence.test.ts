/**
 * Acceptance 5: with a state file, every tenant, object and id survives a restart, and a kill -9 in the middle of
 * a stream of writes leaves a state that loads, holding every write that was acknowledged before the kill.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';

import { describe, expect, inject, it } from 'vitest';

import { managementClient, startTestAuth0Local } from '../helpers/auth0-local.js';

/**
 * The SDK's fetch pool keeps idle keep-alive sockets per origin; a restarted server on the same port is the same
 * origin, and the pool only notices that the old sockets were closed once their FIN has been read. There is no event
 * to await in the pool, so give it a moment, as any client talking to a restarted server needs.
 */
const letClientPoolSettle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 100));

describe('state file', () => {
  it('keeps all tenants, objects and ids across a restart', async () => {
    const stateFile = join(mkdtempSync(join(tmpdir(), 'auth0-local-state-')), 'state.json');
    const first = await startTestAuth0Local({ stateFile });
    const api = managementClient(first);
    const org = await api.organizations.create({ name: 'persisted', metadata: { plan: 'gold' } });
    const connection = await api.connections.create({ name: 'persisted-db', strategy: 'auth0' });
    await api.organizations.enabledConnections.add(org.id!, { connection_id: connection.id! });
    const second = await first.createTenant({ name: 'customer-b' });
    const secondApi = managementClient(second);
    const secondOrg = await secondApi.organizations.create({ name: 'only-in-b' });
    const dumpBefore = first.dump();
    await first.close();
    await letClientPoolSettle();

    const restarted = await startTestAuth0Local({ stateFile });
    try {
      expect(restarted.tenants().map((tenant) => tenant.name)).toEqual(['default', 'customer-b']);
      expect(restarted.dump()).toEqual(dumpBefore);
      // Same credentials and ids work again, on the same domains.
      expect(restarted.domain).toBe(first.domain);
      const again = managementClient(restarted);
      expect(await again.organizations.get(org.id!)).toEqual(org);
      const enabled = await again.organizations.enabledConnections.list(org.id!);
      expect(enabled.data.map((item) => item.connection_id)).toEqual([connection.id]);
      const b = restarted.tenantInfo('customer-b');
      expect(b.domain).toBe(second.domain);
      expect((await managementClient(b).organizations.getByName('only-in-b')).id).toBe(secondOrg.id);
    } finally {
      await restarted.close();
    }
  });

  it('keeps the credentials working when a tenant has to move to another port', async () => {
    const stateFile = join(mkdtempSync(join(tmpdir(), 'auth0-local-moved-')), 'state.json');
    const first = await startTestAuth0Local({ stateFile });
    const org = await managementClient(first).organizations.create({ name: 'moved' });
    const port = Number(first.domain.split(':')[1]);
    await first.close();
    // Someone else takes the port while auth0-local is down.
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(port, '127.0.0.1', resolve));
    try {
      const moved = await startTestAuth0Local({ stateFile });
      try {
        expect(moved.domain).not.toBe(first.domain);
        expect(moved.audience).toBe(`https://${moved.domain}/api/v2/`);
        const again = managementClient(moved);
        expect((await again.organizations.getByName('moved')).id).toBe(org.id);
      } finally {
        await moved.close();
      }
    } finally {
      await new Promise<void>((resolve) => squatter.close(() => resolve()));
    }
  });

  it('loads after a kill -9 in the middle of writes, with every acknowledged write', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'auth0-local-kill-'));
    const stateFile = join(dir, 'state.json');
    const child = spawn(
      process.execPath,
      [
        'bin/orgadmin.js',
        'auth0-local',
        '--port',
        '0',
        '--state-file',
        stateFile,
        '--tls-dir',
        inject('auth0LocalTlsDir'),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.on('exit', (_code, signal) => resolve(signal)),
    );
    const readyLine = new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout }).once('line', resolve);
      child.once('exit', () => reject(new Error('auth0-local exited before it was ready')));
    });
    const info = JSON.parse(await readyLine) as { domain: string; clientId: string; clientSecret: string };
    const api = managementClient(info, { maxRetries: 0 });
    const acknowledged: string[] = [];
    let stop = false;
    const writers = Array.from({ length: 8 }, async (_, worker) => {
      for (let i = 0; !stop; i++) {
        const name = `w${worker}-${i}`;
        try {
          await api.organizations.create({ name, metadata: { payload: 'x'.repeat(200) } });
          acknowledged.push(name);
        } catch {
          return; // the server is gone
        }
      }
    });
    while (acknowledged.length < 200) await new Promise((resolve) => setImmediate(resolve));
    child.kill('SIGKILL');
    stop = true;
    expect(await exited).toBe('SIGKILL');
    await Promise.all(writers);
    await letClientPoolSettle();

    // A torn final line, as a kill in the middle of a journal write would leave it.
    appendFileSync(
      `${stateFile}.log`,
      '{"l":999999,"ops":[{"o":"put","n":"default","t":"organizations","k":"org_torn',
    );
    const reloaded = await startTestAuth0Local({ stateFile });
    try {
      const names = new Set(
        [...reloaded.runtime('default')!.data.table<{ name: string }>('organizations').values()].map(
          (o) => o.name,
        ),
      );
      for (const name of acknowledged) expect(names.has(name)).toBe(true);
      // And the store keeps working after recovery.
      await managementClient(reloaded).organizations.create({ name: 'after-recovery' });
    } finally {
      await reloaded.close();
    }
    await letClientPoolSettle();
    const again = await startTestAuth0Local({ stateFile });
    try {
      expect(await managementClient(again).organizations.getByName('after-recovery')).toMatchObject({
        name: 'after-recovery',
      });
    } finally {
      await again.close();
    }
  });
});
