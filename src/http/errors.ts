/**
 * The one place where orgadmin's error codes become HTTP statuses, and the one error body every route answers with:
 * `{ code, message, details }`. Unexpected errors are logged with an id and answered as `internal` with that id only.
 */
import { randomUUID } from 'node:crypto';

import { ERROR_CODES, OrgadminError, type ErrorCode } from '../domain/errors.js';
import { Auth0Failure } from '../ports/auth0-tenant.js';

export const STATUS_OF: Record<ErrorCode, number> = {
  'spec.invalid': 400,
  'spec.unreadable': 400,
  'request.invalid': 400,
  'tenant.not_registered': 400,
  'hook.invalid': 400,
  'auth.required': 401,
  'auth.reauthentication_required': 401,
  'auth.forbidden': 403,
  'auth.csrf': 403,
  not_found: 404,
  'org.not_found': 404,
  'run.not_found': 404,
  'hook.not_found': 404,
  'event.not_found': 404,
  'org.exists': 409,
  'hook.exists': 409,
  'org.tenant_mismatch': 409,
  'run.conflict': 409,
  'run.finished': 409,
  'run.not_retryable': 409,
  'repository.invalid': 422,
  'deploy.locked': 409,
  'mode.mismatch': 409,
  'repository.unavailable': 502,
  'auth0.failed': 502,
  internal: 500,
};

export interface ErrorBody {
  code: ErrorCode;
  message: string;
  details: Record<string, unknown>;
}

export function errorBody(
  code: ErrorCode,
  message?: string,
  details: Record<string, unknown> = {},
): ErrorBody {
  return { code, message: message ?? ERROR_CODES[code], details };
}

/** The status and body for any thrown value. */
export function toErrorResponse(
  error: unknown,
  log: (line: string) => void,
): { status: number; body: ErrorBody } {
  if (error instanceof OrgadminError) {
    return {
      status: STATUS_OF[error.code],
      body: errorBody(error.code, error.message, { ...error.details }),
    };
  }
  if (error instanceof Auth0Failure) {
    return {
      status: STATUS_OF['auth0.failed'],
      body: errorBody('auth0.failed', `Auth0: ${error.message}`, {
        status: error.details.status,
        retryable: error.details.retryable,
      }),
    };
  }
  const errorId = randomUUID();
  log(
    `orgadmin http: error ${errorId}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
  );
  return { status: 500, body: errorBody('internal', undefined, { errorId }) };
}

export function jsonError(status: number, body: ErrorBody): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
  });
}
