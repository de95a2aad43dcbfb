/**
 * `orgadmin serve` — the portal alone — with an `orgadmin worker` beside it on the same database, as several
 * instances behind a load balancer would run: a run requested through the portal's API waits in the queue until a
 * worker process executes it, and both processes stop cleanly on SIGINT.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createPostgresSessions } from '../../src/adapters/postgres/postgres-sessions.js';
import { orgadminHomeFor, useAuth0Local } from '../helpers/auth0-local.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

const local = useAuth0Local();
let database: TestDatabase;
let home: string;

beforeAll(async () => {
  database = await createTestDatabase();
  home = orgadminHomeFor(local, 'orgadmin-serve-');
});
afterAll(async () => {
  await database?.drop();
});

function orgadmin(...args: string[]): { child: ChildProcessWithoutNullStreams; stderr: () => string } {
  const child = spawn(process.execPath, ['bin/orgadmin.js', ...args], {
    env: {
      ...process.env,
      ORGADMIN_HOME: home,
      DATABASE_URL: database.url,
      ORGADMIN_SECRET_KEY: 'test-secret-key',
      PORT: '0',
    },
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return { child, stderr: () => stderr };
}

function waitFor(process: { child: ChildProcessWithoutNullStreams; stderr: () => string }, pattern: RegExp) {
  return new Promise<RegExpExecArray>((resolve, reject) => {
    const check = (): void => {
      const match = pattern.exec(process.stderr());
      if (!match) return;
      process.child.stderr.off('data', check);
      resolve(match);
    };
    process.child.stderr.on('data', check);
    process.child.once('exit', (code) => reject(new Error(`exited with ${code}: ${process.stderr()}`)));
    check();
  });
}

const stop = (child: ChildProcessWithoutNullStreams): Promise<number | null> =>
  new Promise((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.kill('SIGINT');
  });

describe('orgadmin serve', () => {
  it(
    'serves the portal without executing runs; an orgadmin worker executes them',
    { timeout: 120_000 },
    async () => {
      const serve = orgadmin('serve');
      let worker: ReturnType<typeof orgadmin> | undefined;
      try {
        const [, url] = await waitFor(serve, /portal at (http:\/\/127\.0\.0\.1:\d+)\//);
        const { token, session } = await createPostgresSessions(database.pool).createSession({
          subject: 'auth0|olivia',
          email: 'olivia@example.com',
          name: 'Olivia',
          roles: ['operator'],
          authTime: new Date(),
        });
        const headers = { cookie: `orgadmin_session=${token}`, 'x-csrf-token': session.csrfToken };
        const created = await fetch(`${url}/api/v1/organizations`, {
          method: 'POST',
          headers: { ...headers, 'content-type': 'application/json' },
          body: JSON.stringify({
            spec: { name: 'served', connections: [{ shared: 'Username-Password-Authentication' }] },
          }),
        });
        expect(created.status).toBe(202);
        const { run } = (await created.json()) as { run: { id: string; state: string } };
        expect(run.state).toBe('pending');

        worker = orgadmin('worker', '--poll', '0.5');
        const events = await fetch(`${url}/api/v1/runs/${run.id}/events`, { headers });
        const stream = await events.text();
        expect(stream).toContain('"state":"succeeded"');
        expect(await stop(worker.child)).toBe(0);
      } finally {
        if (worker && worker.child.exitCode === null) await stop(worker.child);
        expect(await stop(serve.child)).toBe(0);
      }
    },
  );
});
