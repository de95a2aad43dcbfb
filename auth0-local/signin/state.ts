/**
 * The sign-in state that may be lost on a restart, as the brief for a local stand-in allows: login transactions,
 * authorization codes and SSO sessions. Each lives in memory per tenant with a fixed lifetime; entries are inserted
 * in expiry order, so sweeping expired ones from the front of the map costs only what it removes.
 */
import { randomBytes } from 'node:crypto';

export interface AuthorizationRequest {
  clientId: string;
  redirectUri: string;
  state: string | undefined;
  nonce: string | undefined;
  scope: string[];
  audience: string | undefined;
  codeChallenge: string | undefined;
  codeChallengeMethod: 'S256' | 'plain' | undefined;
  organizationId: string | undefined;
  /** The invitation ticket id (`invitation=` on /authorize). */
  invitation: string | undefined;
  /** Restricts the login to one connection (`connection=` on /authorize). */
  connection: string | undefined;
  loginHint: string | undefined;
  maxAge: number | undefined;
}

export interface LoginTransaction {
  id: string;
  /** The browser that started the transaction (its `did` cookie). */
  browser: string;
  request: AuthorizationRequest;
  expiresAt: number;
}

export interface IssuedCode {
  request: AuthorizationRequest;
  userId: string;
  authTime: number;
  sid: string;
  expiresAt: number;
}

export interface SsoSession {
  /** Public session id, the `sid` claim; the cookie carries a separate secret. */
  sid: string;
  userId: string;
  connection: string;
  /** Seconds since the epoch of the last time the user typed a password. */
  authTime: number;
  expiresAt: number;
}

class ExpiringMap<V extends { expiresAt: number }> {
  private readonly entries = new Map<string, V>();

  constructor(private readonly lifetimeMs: number) {}

  /** Stores a value under a key with this map's lifetime from `now`, and returns it. */
  add(key: string, make: (expiresAt: number) => V, now: number): V {
    this.sweep(now);
    const value = make(now + this.lifetimeMs);
    this.entries.set(key, value);
    return value;
  }

  get(key: string, now: number): V | undefined {
    const value = this.entries.get(key);
    if (value && value.expiresAt <= now) {
      this.entries.delete(key);
      return undefined;
    }
    return value;
  }

  /** Gets and removes in one step: what makes a value single-use. */
  take(key: string, now: number): V | undefined {
    const value = this.get(key, now);
    this.entries.delete(key);
    return value;
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }

  private sweep(now: number): void {
    for (const [key, value] of this.entries) {
      if (value.expiresAt > now) return;
      this.entries.delete(key);
    }
  }
}

export const CODE_LIFETIME_MS = 10 * 60_000;
const TRANSACTION_LIFETIME_MS = 60 * 60_000;
/** Auth0's default absolute session lifetime (7 days). */
export const SESSION_LIFETIME_MS = 7 * 24 * 60 * 60_000;

/** 256 bits from the CSPRNG, URL-safe: transaction ids, codes and session cookies. */
export const secret = (): string => randomBytes(32).toString('base64url');

export class SignInState {
  readonly transactions = new ExpiringMap<LoginTransaction>(TRANSACTION_LIFETIME_MS);
  readonly codes = new ExpiringMap<IssuedCode>(CODE_LIFETIME_MS);
  /** Keyed by the cookie's secret value. */
  readonly sessions = new ExpiringMap<SsoSession>(SESSION_LIFETIME_MS);

  clear(): void {
    this.transactions.clear();
    this.codes.clear();
    this.sessions.clear();
  }
}
