/**
 * The portal's only door to the server: typed shapes of the HTTP API (`/api/v1`), one `request()` that adds the
 * CSRF header to every state-changing call and turns every failure into an `ApiError` with the server's stable
 * `code`, and small helpers for the URLs the UI builds.
 */
import type { z } from 'zod';

import type { OrgSpec } from '../../src/domain/org-spec.js';
import type {
  batchDetailSchema,
  batchSchema,
  bulkValidationSchema,
  commitSchema,
  deploymentSchema,
  deployPlanSchema,
  historySchema,
  samlSpSchema,
} from '../../src/http/api-schemas.js';

export type Role = 'viewer' | 'operator' | 'admin';
export type Isolation = OrgSpec['isolation'];
export type OrgStatus = 'provisioning' | 'active' | 'failed' | 'removing' | 'removed';
export type RunState = 'pending' | 'running' | 'compensating' | 'succeeded' | 'failed';
export type StepStatus = 'pending' | 'started' | 'done' | 'failed' | 'skipped';

export const ORG_STATUSES: readonly OrgStatus[] = ['active', 'provisioning', 'failed', 'removing', 'removed'];
export const RUN_STATES: readonly RunState[] = ['pending', 'running', 'compensating', 'succeeded', 'failed'];
export const ISOLATIONS: readonly Isolation[] = ['shared', 'isolated-database', 'dedicated-tenant'];

export interface Me {
  user: { sub: string; email: string | null; name: string | null };
  roles: Role[];
  /** How the caller is authenticated; a browser always has a session. */
  via?: 'session' | 'bearer';
  /** null without a session (Bearer tokens need no CSRF token). */
  csrfToken: string | null;
  authTime: string | null;
  /** Until when destructive actions need no new sign-in; null without a session. */
  reauthenticatedUntil: string | null;
  /** How changes are delivered: runs at once (live), or commits to a repository that is then deployed (gitops). */
  mode: 'live' | 'gitops';
  /** GitOps mode: the repository (without credentials), its branch and the environment this portal deploys to. */
  gitops: { repository: string; branch: string; env: string } | null;
}

export interface OrgSummary {
  name: string;
  displayName: string | null;
  isolation: Isolation;
  status: OrgStatus;
  tenant: string;
  error: string | null;
  lastRunId: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface Run {
  id: string;
  orgName: string;
  tenant: string;
  kind: 'apply' | 'remove';
  state: RunState;
  requestedBy: string;
  error: string | null;
  /** Who asked to cancel the (still unfinished) run, if anyone did. */
  cancelRequestedBy?: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface RunStep {
  index: number;
  phase: 'forward' | 'compensation';
  key: string;
  kind: string;
  description: string;
  status: StepStatus;
  attempts: number;
  lastError: string | null;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface RunDetail extends Run {
  steps: RunStep[];
  adminLink: string | null;
}

export interface Organization extends OrgSummary {
  spec: OrgSpec;
  appliedSpec: OrgSpec | null;
  auth0Ids: Record<string, string>;
  /** What the application's hooks returned for the organization, by hook name (docs/hooks-and-events.md). */
  appData: Record<string, Record<string, unknown>>;
  currentRun: Run | null;
}

export interface PlanStep {
  key: string;
  kind: string;
  description: string;
}

export interface Plan {
  name: string;
  exists: boolean;
  steps: PlanStep[];
  before: OrgSpec | null;
  after: OrgSpec;
}

export interface RemovalPlan {
  name: string;
  steps: PlanStep[];
  kept: string[];
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface AuditEntry {
  id: string;
  at: string;
  actor: string;
  action: string;
  orgName: string | null;
  runId: string | null;
  before: unknown;
  after: unknown;
}

export interface Catalog {
  connections: { name: string; strategy: string }[];
  clients: { name: string; clientId: string }[];
}

/** The API's own response schema, by type only (erased from the bundle, which gets no server code). */
export type SamlServiceProvider = z.infer<typeof samlSpSchema>;

/** A bulk apply (`GET /api/v1/batches`): one uploaded file, its counts and duration. */
export type Batch = z.infer<typeof batchSchema>;
/** A bulk apply with its work and its failures grouped by reason (`GET /api/v1/batches/{id}`). */
export type BatchDetail = z.infer<typeof batchDetailSchema>;
/** What a valid bulk file would do (`POST /api/v1/batches/validate`). */
export type BulkValidation = z.infer<typeof bulkValidationSchema>;

/** A commit of the GitOps repository (`{ commit }` answers a change in GitOps mode). */
export type Commit = z.infer<typeof commitSchema>;
/** The answer to a create, update or removal in GitOps mode: null when the repository already had it. */
export interface Committed {
  commit: Commit | null;
}
/** A deployment of a revision to an environment, with the run of each organization it changed. */
export type Deployment = z.infer<typeof deploymentSchema>;
/** What deploying (or rolling back to) a revision would do, per organization (`dryRun: true`). */
export type DeployPlan = z.infer<typeof deployPlanSchema>;
/** `GET /api/v1/gitops/history`: commits newest first (with where each is deployed) and the deployments. */
export type GitopsHistory = z.infer<typeof historySchema>;
export type HistoryCommit = GitopsHistory['commits'][number];

export interface Tenant {
  name: string;
  domain: string;
  clientId: string;
  createdAt: string;
}

export type HookPhase = 'before-auth0' | 'after-auth0' | 'on-remove' | 'on-compensate';

/** An endpoint of the application (`GET /api/v1/hooks`); its secret is never sent, only `'(set)'`. */
export interface Hook {
  name: string;
  url: string;
  phases: HookPhase[];
  /** Lifecycle events it receives: exact types, `organization.*`, `run.*` or `*`. */
  events: string[];
  allowPrivateNetwork: boolean;
  /** Set when event deliveries failed too long; they wait until the hook is enabled again. */
  disabled: { at: string; reason: string } | null;
  secret: '(set)';
  createdBy: string;
  createdAt: string;
}

/** The answer of `POST /api/v1/hooks/{name}/test`. */
export interface HookTestResult {
  ok: boolean;
  status: number | null;
  /** Why the call failed, or the start of a non-2xx answer. */
  detail: string | null;
}

export type LifecycleEventType =
  'organization.created' | 'organization.updated' | 'organization.removed' | 'run.succeeded' | 'run.failed';

/** Where one event stands with one subscribed hook. */
export interface EventDelivery {
  hookName: string;
  state: 'pending' | 'delivered';
  attempts: number;
  nextAttemptAt: string | null;
  lastStatus: number | null;
  lastError: string | null;
  deliveredAt: string | null;
}

/** A lifecycle event of the outbox (`GET /api/v1/lifecycle-events`). */
export interface LifecycleEvent {
  /** Increasing; the webhook-id of its deliveries is `evt_<id>`. */
  id: string;
  type: LifecycleEventType;
  orgName: string;
  runId: string | null;
  payload: Record<string, unknown>;
  createdAt: string;
  deliveries: EventDelivery[];
}

/** One call of a hook with an event: its HTTP status, or the error when there was no answer. */
export interface DeliveryAttempt {
  hookName: string;
  at: string;
  status: number | null;
  error: string | null;
  durationMs: number;
}

export interface LifecycleEventDetail extends LifecycleEvent {
  attempts: DeliveryAttempt[];
}

export interface SpecIssue {
  path: string;
  message: string;
}

/** Every failure the UI can see: the server's `{ code, message, details }`, or a local stand-in. */
export class ApiError extends Error {
  override readonly name = 'ApiError';

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }

  /** `details.issues` of a `spec.invalid` error. */
  get issues(): SpecIssue[] {
    const issues = this.details['issues'];
    if (!Array.isArray(issues)) return [];
    return issues.flatMap((issue: unknown) => {
      if (issue === null || typeof issue !== 'object') return [];
      const { path, message } = issue as Record<string, unknown>;
      return typeof path === 'string' && typeof message === 'string' ? [{ path, message }] : [];
    });
  }
}

export function isAbort(error: unknown): boolean {
  return error instanceof DOMException && error.name === 'AbortError';
}

let csrfToken = '';

export function setCsrfToken(token: string | null): void {
  csrfToken = token ?? '';
}

export function loginUrl(returnTo: string, reauth = false): string {
  return `/auth/login?${reauth ? 'reauth=1&' : ''}returnTo=${encodeURIComponent(returnTo)}`;
}

/** Leaves the app for the sign-in page, coming back to where the user was. */
export function redirectToLogin(): void {
  window.location.assign(loginUrl(window.location.pathname + window.location.search));
}

/** `?a=1&b=x` from the defined, non-empty values. */
export function query(params: Record<string, string | number | null | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') search.set(key, String(value));
  }
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
}

export const orgPath = (name: string): string => `/api/v1/organizations/${encodeURIComponent(name)}`;
export const runPath = (id: string): string => `/api/v1/runs/${encodeURIComponent(id)}`;
export const batchPath = (id: string): string => `/api/v1/batches/${encodeURIComponent(id)}`;
export const hookPath = (name: string): string => `/api/v1/hooks/${encodeURIComponent(name)}`;
export const lifecycleEventPath = (id: string): string =>
  `/api/v1/lifecycle-events/${encodeURIComponent(id)}`;

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export async function request<T>(
  method: Method,
  url: string,
  options: { body?: unknown; signal?: AbortSignal | undefined } = {},
): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (method !== 'GET') {
    headers['content-type'] = 'application/json';
    headers['x-csrf-token'] = csrfToken;
  }
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers,
      credentials: 'same-origin',
      body: options.body === undefined ? null : JSON.stringify(options.body),
      signal: options.signal ?? null,
    });
  } catch (error) {
    if (isAbort(error)) throw error;
    throw new ApiError(0, 'network', 'Could not reach the server. Check your connection and try again.');
  }
  const text = await response.text();
  let body: unknown = null;
  if (text !== '') {
    try {
      body = JSON.parse(text) as unknown;
    } catch {
      body = null;
    }
  }
  if (response.ok) return body as T;

  const error = toApiError(response.status, body);
  if (response.status === 401 && error.code !== 'auth.reauthentication_required') {
    // The session ended (or never began): sign in again and come back here.
    redirectToLogin();
  }
  throw error;
}

function toApiError(status: number, body: unknown): ApiError {
  if (body !== null && typeof body === 'object') {
    const { code, message, details } = body as Record<string, unknown>;
    if (typeof code === 'string') {
      return new ApiError(
        status,
        code,
        typeof message === 'string' ? message : `Request failed (HTTP ${status}).`,
        details !== null && typeof details === 'object' ? (details as Record<string, unknown>) : {},
      );
    }
  }
  return new ApiError(status, 'http.error', `The server answered HTTP ${status}.`);
}

export const api = {
  get: <T>(url: string, signal?: AbortSignal): Promise<T> => request<T>('GET', url, { signal }),
  post: <T>(url: string, body?: unknown): Promise<T> => request<T>('POST', url, { body: body ?? {} }),
  put: <T>(url: string, body: unknown): Promise<T> => request<T>('PUT', url, { body }),
  delete: <T>(url: string): Promise<T> => request<T>('DELETE', url),
};

export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error) return error.message;
  return 'Something went wrong.';
}
