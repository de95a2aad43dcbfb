/**
 * The port to the portal's operator sessions and sign-in transactions. A session is found by the random token in
 * its cookie; the store keeps only a hash of it. Timeouts are enforced where the session is read, so an expired
 * session is never returned whoever asks.
 */
import type { Role } from '../domain/roles.js';

export interface OperatorSession {
  /** Names the session for administrators (a hash of the token: it cannot be used as a cookie). */
  id: string;
  subject: string;
  email: string | undefined;
  name: string | undefined;
  roles: Role[];
  /** Sent back by the browser in `x-csrf-token` on every state-changing request. */
  csrfToken: string;
  /** When the operator last proved who they are at the identity provider (the ID token's `auth_time`). */
  authTime: Date;
  createdAt: Date;
  lastSeenAt: Date;
}

export interface SessionTimeouts {
  /** A session unused for this long ends. */
  idleMs: number;
  /** A session ends this long after sign-in, however active. */
  absoluteMs: number;
}

export interface PendingLogin {
  codeVerifier: string;
  nonce: string;
  returnTo: string;
  /** Asked the identity provider for a sign-in no older than this (0 = sign in again now). */
  maxAge: number | undefined;
}

export interface SessionStore {
  /** Starts a session; the token returned goes into the cookie and nowhere else. */
  createSession(
    session: Omit<OperatorSession, 'id' | 'createdAt' | 'lastSeenAt' | 'csrfToken'>,
  ): Promise<{ token: string; session: OperatorSession }>;
  /** The live session of a token (and marks it used), or undefined when unknown, idle too long or too old. */
  touchSession(token: string, timeouts: SessionTimeouts): Promise<OperatorSession | undefined>;
  deleteSession(token: string): Promise<void>;
  /** Live sessions, most recently used first (for administrators). */
  listSessions(timeouts: SessionTimeouts): Promise<OperatorSession[]>;
  /** Ends a session by its id; false when there was none. */
  endSession(id: string): Promise<boolean>;
  /** Remembers a sign-in transaction under its OAuth `state`. */
  saveLogin(state: string, login: PendingLogin): Promise<void>;
  /** Takes (reads and deletes) a sign-in transaction; undefined when unknown, used or older than `maxAgeMs`. */
  takeLogin(state: string, maxAgeMs: number): Promise<PendingLogin | undefined>;
}
