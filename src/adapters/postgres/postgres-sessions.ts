/**
 * The `SessionStore` port on PostgreSQL (schema: `migrations/0004_portal.sql`). Tokens are 256 random bits; the
 * table holds their sha256, so reading the table does not let anyone act as an operator.
 */
import { createHash, randomBytes } from 'node:crypto';

import type pg from 'pg';

import { isRole } from '../../domain/roles.js';
import type { OperatorSession, PendingLogin, SessionStore } from '../../ports/sessions.js';

type SessionRow = {
  token_hash: string;
  subject: string;
  email: string | null;
  name: string | null;
  roles: string[];
  csrf_token: string;
  auth_time: Date;
  created_at: Date;
  last_seen_at: Date;
};

const hashOf = (token: string): string => createHash('sha256').update(token).digest('base64url');
const randomToken = (): string => randomBytes(32).toString('base64url');

function toSession(row: SessionRow): OperatorSession {
  return {
    id: row.token_hash,
    subject: row.subject,
    email: row.email ?? undefined,
    name: row.name ?? undefined,
    roles: row.roles.filter(isRole),
    csrfToken: row.csrf_token,
    authTime: row.auth_time,
    createdAt: row.created_at,
    lastSeenAt: row.last_seen_at,
  };
}

export function createPostgresSessions(pool: pg.Pool): SessionStore {
  return {
    async createSession(session) {
      const token = randomToken();
      const { rows } = await pool.query<SessionRow>(
        `INSERT INTO portal_sessions (token_hash, subject, email, name, roles, csrf_token, auth_time)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *`,
        [
          hashOf(token),
          session.subject,
          session.email ?? null,
          session.name ?? null,
          session.roles,
          randomToken(),
          session.authTime,
        ],
      );
      // Expired sessions are swept as new ones start: no timer, and the table stays the size of the active ones.
      await pool.query(`DELETE FROM portal_sessions WHERE last_seen_at < now() - interval '2 days'`);
      return { token, session: toSession(rows[0]!) };
    },

    async touchSession(token, { idleMs, absoluteMs }) {
      const { rows } = await pool.query<SessionRow>(
        `UPDATE portal_sessions SET last_seen_at = now()
         WHERE token_hash = $1
           AND last_seen_at > now() - make_interval(secs => $2::double precision / 1000)
           AND created_at > now() - make_interval(secs => $3::double precision / 1000)
         RETURNING *`,
        [hashOf(token), idleMs, absoluteMs],
      );
      return rows[0] ? toSession(rows[0]) : undefined;
    },

    async deleteSession(token) {
      await pool.query('DELETE FROM portal_sessions WHERE token_hash = $1', [hashOf(token)]);
    },

    async listSessions({ idleMs, absoluteMs }) {
      const { rows } = await pool.query<SessionRow>(
        `SELECT * FROM portal_sessions
         WHERE last_seen_at > now() - make_interval(secs => $1::double precision / 1000)
           AND created_at > now() - make_interval(secs => $2::double precision / 1000)
         ORDER BY last_seen_at DESC LIMIT 1000`,
        [idleMs, absoluteMs],
      );
      return rows.map(toSession);
    },

    async endSession(id) {
      const { rowCount } = await pool.query('DELETE FROM portal_sessions WHERE token_hash = $1', [id]);
      return (rowCount ?? 0) > 0;
    },

    async saveLogin(state, login) {
      await pool.query(
        `INSERT INTO portal_logins (state, code_verifier, nonce, return_to, max_age) VALUES ($1, $2, $3, $4, $5)`,
        [state, login.codeVerifier, login.nonce, login.returnTo, login.maxAge ?? null],
      );
      await pool.query(`DELETE FROM portal_logins WHERE created_at < now() - interval '1 day'`);
    },

    async takeLogin(state, maxAgeMs) {
      const { rows } = await pool.query<{
        code_verifier: string;
        nonce: string;
        return_to: string;
        max_age: number | null;
        fresh: boolean;
      }>(
        `DELETE FROM portal_logins WHERE state = $1
         RETURNING code_verifier, nonce, return_to, max_age,
           created_at > now() - make_interval(secs => $2::double precision / 1000) AS fresh`,
        [state, maxAgeMs],
      );
      const row = rows[0];
      if (!row?.fresh) return undefined;
      const login: PendingLogin = {
        codeVerifier: row.code_verifier,
        nonce: row.nonce,
        returnTo: row.return_to,
        maxAge: row.max_age ?? undefined,
      };
      return login;
    },
  };
}
