/**
 * Operator sessions in PostgreSQL: only a hash of the cookie's token is stored, a session ends when idle too long or
 * too old whatever its activity, and a sign-in transaction can be taken once and only while fresh.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createPostgresSessions } from '../../../src/adapters/postgres/postgres-sessions.js';
import type { SessionStore } from '../../../src/ports/sessions.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.js';

let database: TestDatabase;
let sessions: SessionStore;
const LONG = { idleMs: 3_600_000, absoluteMs: 86_400_000 };

beforeAll(async () => {
  database = await createTestDatabase();
  sessions = createPostgresSessions(database.pool);
});
afterAll(async () => {
  await database?.drop();
});

const start = () =>
  sessions.createSession({
    subject: 'auth0|ops',
    email: 'ops@example.com',
    name: 'Ops',
    roles: ['operator'],
    authTime: new Date(),
  });

describe('operator sessions', () => {
  it('stores no usable token, only its hash, and finds the session by the token', async () => {
    const { token, session } = await start();
    expect(token).toMatch(/^[\w-]{43}$/);
    expect(session.csrfToken).not.toBe(token);
    const { rows } = await database.pool.query<Record<string, unknown>>('SELECT * FROM portal_sessions');
    expect(JSON.stringify(rows)).not.toContain(token);
    expect(await sessions.touchSession(token, LONG)).toMatchObject({
      subject: 'auth0|ops',
      roles: ['operator'],
    });
    expect(await sessions.touchSession(`${token}x`, LONG)).toBeUndefined();
  });

  it('ends a session unused for longer than the idle timeout', async () => {
    const { token } = await start();
    await database.pool.query(
      `UPDATE portal_sessions SET last_seen_at = now() - interval '31 minutes' WHERE email = 'ops@example.com'`,
    );
    expect(
      await sessions.touchSession(token, { idleMs: 30 * 60_000, absoluteMs: LONG.absoluteMs }),
    ).toBeUndefined();
    expect(await sessions.touchSession(token, LONG)).toBeDefined();
  });

  it('ends a session older than the absolute timeout however active it is', async () => {
    const { token } = await start();
    await database.pool.query(
      `UPDATE portal_sessions SET created_at = now() - interval '13 hours' WHERE email = 'ops@example.com'`,
    );
    expect(
      await sessions.touchSession(token, { idleMs: LONG.idleMs, absoluteMs: 12 * 3_600_000 }),
    ).toBeUndefined();
  });

  it('ends a session on sign-out', async () => {
    const { token } = await start();
    await sessions.deleteSession(token);
    expect(await sessions.touchSession(token, LONG)).toBeUndefined();
  });
});

describe('sign-in transactions', () => {
  it('are taken once, and only while fresh', async () => {
    const login = { codeVerifier: 'v', nonce: 'n', returnTo: '/runs', maxAge: 0 };
    await sessions.saveLogin('state-1', login);
    expect(await sessions.takeLogin('state-1', 600_000)).toEqual(login);
    expect(await sessions.takeLogin('state-1', 600_000)).toBeUndefined();

    await sessions.saveLogin('state-2', { ...login, maxAge: undefined });
    await database.pool.query(`UPDATE portal_logins SET created_at = now() - interval '11 minutes'`);
    expect(await sessions.takeLogin('state-2', 600_000)).toBeUndefined();
  });
});
