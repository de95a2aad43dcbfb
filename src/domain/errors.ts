/**
 * orgadmin's one error type. Every failure a user can see carries a stable machine code (`spec.invalid`,
 * `org.not_found`, …) and structured details; the faces (HTTP, CLI) map codes to statuses and exit codes in one place
 * each. Messages are for people; code that reacts to an error reads `code`, never the message.
 */
export const ERROR_CODES = {
  /** A spec failed validation; `details.issues` lists every field path and rule. */
  'spec.invalid': 'The organization spec is invalid.',
  /** A spec document could not be parsed as YAML or JSON. */
  'spec.unreadable': 'The organization spec could not be read.',
  /** Another run of the organization is not finished (pending, running or compensating). */
  'run.conflict': 'Another run of this organization is not finished.',
  /** No run with this id (or no step with that index). */
  'run.not_found': 'No such run.',
  /** A finished run is never changed. */
  'run.finished': 'The run has already finished.',
  /** The organization is not known to orgadmin. */
  'org.not_found': 'No such organization.',
  /** A spec names a dedicated tenant that is not registered (`orgadmin tenant add`). */
  'tenant.not_registered': 'The tenant is not registered.',
  /** The organization lives in another tenant; it must be removed there before it can move. */
  'org.tenant_mismatch': 'The organization lives in another tenant.',
  /** Creating an organization that already exists (and is not removed); update it instead. */
  'org.exists': 'The organization already exists.',
  /** Only the latest run of an organization, once failed, can be retried. */
  'run.not_retryable': 'This run cannot be retried.',
  /** A request (path, query or body) failed validation; `details.issues` names each field and rule. */
  'request.invalid': 'The request is invalid.',
  /** No such route or resource. */
  not_found: 'Not found.',
  /** No valid session cookie or Bearer token. */
  'auth.required': 'Sign-in required.',
  /** Signed in, but the role does not allow this. */
  'auth.forbidden': 'Your role does not allow this.',
  /** A state-changing request from a browser session came without the session's CSRF token. */
  'auth.csrf': 'Missing or wrong CSRF token.',
  /** A hook configuration failed validation; `details.issues` names each field and rule. */
  'hook.invalid': 'The hook configuration is invalid.',
  /** A hook with this name exists. */
  'hook.exists': 'A hook with this name exists.',
  /** No hook with this name. */
  'hook.not_found': 'No such hook.',
  /** No lifecycle event with this id. */
  'event.not_found': 'No such event.',
  /** The GitOps repository's files do not describe valid organizations; `details.issues` names file and field. */
  'repository.invalid': "The GitOps repository's files are invalid.",
  /** The GitOps repository could not be read or written (git failed: unreachable, rejected, not a repository). */
  'repository.unavailable': 'The GitOps repository is unavailable.',
  /** Another deployment to the same environment is running. */
  'deploy.locked': 'Another deployment to this environment is running.',
  /** The request needs the other delivery mode (e.g. `orgadmin deploy` in live mode). */
  'mode.mismatch': 'Not available in this delivery mode.',
  /** Auth0 answered with an error the request cannot get past (e.g. while planning). */
  'auth0.failed': 'Auth0 could not complete the request.',
  /** Anything unexpected; the server log has the details under `details.errorId`. */
  internal: 'Internal error.',
  /** The action needs a recent sign-in; `details.loginUrl` starts one. */
  'auth.reauthentication_required': 'Sign in again to confirm this action.',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface SpecIssue {
  /** Where the problem is, e.g. `connections[2].saml.metadataUrl` (prefixed `#2 ` for the third document). */
  path: string;
  /** The rule that was broken. */
  message: string;
}

export class OrgadminError extends Error {
  override readonly name: string = 'OrgadminError';

  constructor(
    readonly code: ErrorCode,
    message: string = ERROR_CODES[code],
    readonly details: { issues?: SpecIssue[]; [key: string]: unknown } = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
