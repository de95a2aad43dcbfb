/**
 * Auth0's error body, `{statusCode, error, message, errorCode?}`, as every recorded Management API error has it.
 * Route handlers throw `Auth0HttpError`; one error handler in `server.ts` turns it into the response.
 */
import { STATUS_CODES } from 'node:http';

export interface Auth0ErrorBody {
  statusCode: number;
  error: string;
  message: string;
  errorCode?: string;
  attributes?: Record<string, string>;
}

export class Auth0HttpError extends Error {
  readonly statusCode: number;
  readonly errorCode: string | undefined;
  readonly headers: Record<string, string>;

  constructor(statusCode: number, message: string, errorCode?: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = 'Auth0HttpError';
    this.statusCode = statusCode;
    this.errorCode = errorCode;
    this.headers = headers;
  }

  body(): Auth0ErrorBody {
    const body: Auth0ErrorBody = {
      statusCode: this.statusCode,
      error: STATUS_CODES[this.statusCode] ?? 'Error',
      message: this.message,
    };
    if (this.errorCode !== undefined) body.errorCode = this.errorCode;
    // Auth0's 401s repeat the message under `attributes.error` (recorded).
    if (this.statusCode === 401) body.attributes = { error: this.message };
    return body;
  }
}

export const badRequest = (message: string, errorCode = 'invalid_body'): Auth0HttpError =>
  new Auth0HttpError(400, message, errorCode);

export const notFound = (message: string, errorCode?: string): Auth0HttpError =>
  new Auth0HttpError(404, message, errorCode);

export const conflict = (message: string, errorCode?: string): Auth0HttpError =>
  new Auth0HttpError(409, message, errorCode);

/** The 404 bodies differ per resource; these are the recorded ones (see the reference, §11). */
export const missing = {
  organization: () => notFound('No organization found by that id or name'),
  connection: () => notFound('The connection does not exist', 'inexistent_connection'),
  orgConnection: () => notFound('No connection found by that id'),
  client: () => notFound('The client does not exist', 'inexistent_client'),
  user: () => notFound('The user does not exist.', 'inexistent_user'),
  role: () => notFound('The role does not exist.'),
  invitation: () => notFound('The invitation does not exist.', 'inexistent_invitation'),
  resourceServer: () => notFound('The resource server does not exist', 'inexistent_resource_server'),
  clientGrant: () => notFound('The grant does not exist.', 'inexistent_client_grant'),
  selfServiceProfile: (id: string) => notFound(`Profile with ID: ${id} not found`),
  discoveryDomain: () => notFound('No organization domain found by that id'),
};
