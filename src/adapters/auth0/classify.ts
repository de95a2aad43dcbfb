/**
 * The one place where a failed Auth0 call becomes an `Auth0Failure`: the SDK's `ManagementError` subclasses (status,
 * Auth0's body, response headers), its `ManagementTimeoutError`, and the network errors that reach us raw (the token
 * request) or wrapped (every other request). Transient failures are retryable, with the time to wait when Auth0 said.
 */
import { ManagementError, ManagementTimeoutError } from 'auth0';

import { Auth0Failure } from '../../ports/auth0-tenant.js';

/** The code of the error a call fails with when the shared rate budget could not be asked (nothing was sent). */
export const BUDGET_UNAVAILABLE = 'ORGADMIN_BUDGET_UNAVAILABLE';

/** Socket and DNS failures worth another attempt (Node's and undici's codes). */
const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENETUNREACH',
  'ENETDOWN',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  // The shared rate budget's database could not be asked (rate-budget.ts): nothing was sent to Auth0.
  BUDGET_UNAVAILABLE,
]);

const TIMEOUT_NAMES = new Set(['AbortError', 'TimeoutError']);

interface ErrorFacts {
  codes: string[];
  names: string[];
  messages: string[];
  /** The SDK's own timeout: auth0 v7.1.0 aborts with the reason string "timeout", which reaches us as a
   * `ManagementError` without status whose `cause` is that string (not as a `ManagementTimeoutError`). */
  sdkTimeout: boolean;
}

/** Codes, names and messages along an error's `cause` chain (bounded: causes can be cyclic). */
function factsOf(error: unknown): ErrorFacts {
  const facts: ErrorFacts = { codes: [], names: [], messages: [], sdkTimeout: false };
  let current: unknown = error;
  for (let depth = 0; depth < 8 && current !== null && current !== undefined; depth += 1) {
    if (typeof current !== 'object') {
      if (current === 'timeout') facts.sdkTimeout = true;
      break;
    }
    const record = current as { code?: unknown; name?: unknown; message?: unknown; cause?: unknown };
    if (typeof record.code === 'string') facts.codes.push(record.code);
    if (typeof record.name === 'string') facts.names.push(record.name);
    if (typeof record.message === 'string' && record.message !== '') facts.messages.push(record.message);
    current = record.cause;
  }
  return facts;
}

/** Auth0's `{statusCode, error, message, errorCode?}` body (or the token endpoint's `{error, error_description}`). */
function bodyFacts(body: unknown): { message?: string; errorCode?: string } {
  if (typeof body === 'string') return body === '' ? {} : { message: body.slice(0, 500) };
  if (body === null || typeof body !== 'object') return {};
  const record = body as Record<string, unknown>;
  const text = (key: string): string | undefined =>
    typeof record[key] === 'string' && record[key] !== '' ? record[key] : undefined;
  const message = text('message') ?? text('error_description') ?? text('error');
  const errorCode = text('errorCode');
  return { ...(message ? { message } : {}), ...(errorCode ? { errorCode } : {}) };
}

function headerOf(headers: unknown, name: string): string | undefined {
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  if (headers !== null && typeof headers === 'object') {
    const value = (headers as Record<string, unknown>)[name];
    return typeof value === 'string' ? value : undefined;
  }
  return undefined;
}

/**
 * When to try again, epoch ms: `retry-after` (seconds or an HTTP date) on any transient status, and on a 429 also
 * `x-ratelimit-reset` (epoch seconds; Auth0 sends it on every response, but it means "retry then" only on a 429).
 * The later of the two wins.
 */
export function retryAtFrom(
  headers: unknown,
  status: number | undefined,
  now = Date.now(),
): number | undefined {
  const candidates: number[] = [];
  const retryAfter = headerOf(headers, 'retry-after')?.trim();
  if (retryAfter) {
    if (/^\d+(\.\d+)?$/.test(retryAfter)) candidates.push(now + Number(retryAfter) * 1000);
    else {
      const date = Date.parse(retryAfter);
      if (!Number.isNaN(date)) candidates.push(date);
    }
  }
  const reset = status === 429 ? headerOf(headers, 'x-ratelimit-reset')?.trim() : undefined;
  if (reset && /^\d+$/.test(reset)) candidates.push(Number(reset) * 1000);
  return candidates.length > 0 ? Math.max(...candidates) : undefined;
}

const isTransientStatus = (status: number): boolean => status === 408 || status === 429 || status >= 500;

/** Classifies any error thrown by an SDK call made for `operation` (e.g. `POST /organizations`). */
export function classifyAuth0Error(error: unknown, operation: string, now = Date.now()): Auth0Failure {
  if (error instanceof Auth0Failure) return error;
  if (error instanceof ManagementTimeoutError) {
    return new Auth0Failure(`${operation}: timed out`, { retryable: true }, { cause: error });
  }
  if (error instanceof ManagementError && typeof error.statusCode === 'number') {
    const status = error.statusCode;
    const { message, errorCode } = bodyFacts(error.body);
    const text = `${operation}: ${status}${message ? ` ${message}` : ''}`;
    if (isTransientStatus(status)) {
      return new Auth0Failure(
        text,
        {
          retryable: true,
          status,
          errorCode,
          retryAt: retryAtFrom(error.rawResponse?.headers, status, now),
        },
        { cause: error },
      );
    }
    return new Auth0Failure(text, { retryable: false, status, errorCode }, { cause: error });
  }
  // No HTTP answer: a timeout, a dropped or refused connection (wrapped by the SDK or raw from the token request),
  // a TLS problem (permanent: configuration), or a bug.
  const facts = factsOf(error);
  const detail = facts.messages.join(': ') || String(error);
  if (facts.sdkTimeout || facts.names.some((name) => TIMEOUT_NAMES.has(name))) {
    return new Auth0Failure(`${operation}: timed out`, { retryable: true }, { cause: error });
  }
  if (facts.codes.some((code) => TRANSIENT_CODES.has(code))) {
    return new Auth0Failure(`${operation}: network error: ${detail}`, { retryable: true }, { cause: error });
  }
  const tls = facts.codes.some((code) => /CERT|TLS|SSL|SELF_SIGNED|UNABLE_TO/i.test(code));
  if (!tls && facts.messages.some((text) => text === 'fetch failed' || /socket|network/i.test(text))) {
    return new Auth0Failure(`${operation}: network error: ${detail}`, { retryable: true }, { cause: error });
  }
  return new Auth0Failure(`${operation}: ${detail}`, { retryable: false }, { cause: error });
}
