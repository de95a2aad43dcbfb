/**
 * The port to orgadmin's own database: organizations (desired and last applied spec, status, the Auth0 ids orgadmin
 * owns), runs and their step journal, the append-only audit trail, and the desired URL lists of shared clients.
 * Every method is one transaction; the engine's correctness rests on "intent recorded → act → result recorded".
 */
import type { OrgSpec } from '../domain/org-spec.js';
import type { Step, StepResult, UrlLists } from '../domain/plan.js';
import type { KnownIds } from './auth0-tenant.js';

export type OrgStatus = 'provisioning' | 'active' | 'failed' | 'removing' | 'removed';
export type RunState = 'pending' | 'running' | 'succeeded' | 'compensating' | 'failed';
export type RunKind = 'apply' | 'remove';
export type StepStatus = 'pending' | 'started' | 'done' | 'failed' | 'skipped';
export type StepPhase = 'forward' | 'compensation';

export interface OrgRecord {
  name: string;
  /** The Auth0 tenant (domain) the organization lives in. */
  tenant: string;
  status: OrgStatus;
  /** The latest desired spec (secrets included: the store encrypts them at rest). */
  spec: OrgSpec;
  /** The spec last applied successfully; undefined until the first run succeeds. */
  appliedSpec: OrgSpec | undefined;
  /** Ids of the Auth0 objects orgadmin owns for this organization (`organization`, `connection:<name>`, …). */
  auth0Ids: KnownIds;
  lastRunId: string | undefined;
  /** What the application's hooks returned, by hook name (issue 7). */
  appData: Record<string, Record<string, unknown>>;
  /** Why the last run failed, when it did. */
  error: string | undefined;
  createdAt: Date;
  updatedAt: Date;
}

export interface RunRecord {
  id: string;
  orgName: string;
  tenant: string;
  kind: RunKind;
  state: RunState;
  /** Who asked for the run (operator email, `cli:<user>`, …). */
  requestedBy: string;
  /** The desired spec (apply) — undefined for a removal. */
  desired: OrgSpec | undefined;
  error: string | undefined;
  /** Who asked to cancel the run while it was unfinished; the executor then compensates. */
  cancelRequestedBy: string | undefined;
  createdAt: Date;
  startedAt: Date | undefined;
  finishedAt: Date | undefined;
  /** Management API calls made for the run so far (attempts that ended; a killed attempt's are not known). */
  auth0Calls: number;
}

export interface StepRecord {
  runId: string;
  /** Position in the run: forward steps 0..n-1, compensation steps after them. */
  index: number;
  phase: StepPhase;
  step: Step;
  status: StepStatus;
  attempts: number;
  outcome: KnownIds | undefined;
  /** What the step did, where its compensation depends on it (the URLs an add-client-urls step really added). */
  result: StepResult | undefined;
  lastError: string | undefined;
  startedAt: Date | undefined;
  finishedAt: Date | undefined;
}

export interface AuditEvent {
  /** Increasing with time: the cursor of audit pages. */
  id: string;
  at: Date;
  actor: string;
  action: string;
  /** Undefined for events that concern no organization (e.g. a tenant registered). */
  orgName: string | undefined;
  runId: string | undefined;
  before: unknown;
  after: unknown;
}

export interface Store {
  /**
   * Records the request for a run: the organization row (created `provisioning`, or updated with the new desired
   * spec), the run `pending`, an audit event. Refuses (`run.conflict`) while another run of the same organization is
   * not finished.
   */
  createRun(input: {
    orgName: string;
    tenant: string;
    kind: RunKind;
    desired: OrgSpec | undefined;
    requestedBy: string;
  }): Promise<RunRecord>;
  getRun(id: string): Promise<RunRecord | undefined>;
  /** Newest first; `before` (a run id) continues a page after that run. */
  listRuns(filter: {
    orgName?: string;
    state?: RunState;
    limit?: number;
    before?: string;
  }): Promise<RunRecord[]>;
  /**
   * Asks an unfinished run to stop: the executor compensates what it did and fails the run. Refuses
   * (`run.finished`) a finished run; asking twice keeps the first requester. Audited.
   */
  requestCancel(runId: string, actor: string): Promise<RunRecord>;
  /** Stores the plan as `pending` forward steps and moves the run to `running` (idempotent: once per run). */
  startRun(runId: string, plan: Step[]): Promise<void>;
  steps(runId: string): Promise<StepRecord[]>;
  /** Intent: the step is about to act (attempts + 1). */
  markStepStarted(runId: string, index: number): Promise<void>;
  /**
   * Records a step done, with what a hook returned (it reaches the organization when the run succeeds) and what
   * the step did (`result`, for its compensation).
   */
  markStepDone(
    runId: string,
    index: number,
    outcome: KnownIds | undefined,
    appData?: AppData,
    result?: StepResult,
  ): Promise<void>;
  markStepFailed(runId: string, index: number, error: string): Promise<void>;
  /** Notes a retryable error on a step that stays `started`. */
  noteStepError(runId: string, index: number, error: string): Promise<void>;
  /** Moves the run to `compensating` and appends its compensation steps as `pending`. */
  startCompensation(runId: string, error: string, compensations: Step[]): Promise<void>;
  /**
   * Ends a run and updates the organization in the same transaction: `succeeded` → org `active` (apply, with
   * appliedSpec = desired and the ids) or `removed` (remove); `failed` → org `failed` with the error. Audited.
   */
  finishRun(runId: string, state: 'succeeded' | 'failed', ids: KnownIds, error?: string): Promise<void>;
  getOrg(name: string): Promise<OrgRecord | undefined>;
  /**
   * By name; `after` continues a page after that name. `q` matches a substring of the name, display name or a
   * home-realm domain (case-insensitive); `excludeRemoved` hides organizations whose removal finished.
   */
  listOrgs(filter: {
    status?: OrgStatus;
    isolation?: OrgSpec['isolation'];
    q?: string;
    excludeRemoved?: boolean;
    limit?: number;
    after?: string;
  }): Promise<OrgRecord[]>;
  /** Newest first; `beforeId` continues a page after its last event. */
  audit(filter: {
    orgName?: string;
    actor?: string;
    since?: Date;
    until?: Date;
    limit?: number;
    beforeId?: string;
  }): Promise<AuditEvent[]>;
  /** Adds the Management API calls an attempt at the run made. */
  addRunAuth0Calls(runId: string, calls: number): Promise<void>;
  /** Runs not finished (`pending`, `running`, `compensating`), oldest first: what a worker resumes. */
  unfinishedRuns(): Promise<RunRecord[]>;

  /**
   * Runs `fn` while holding the lock of one shared client across every orgadmin process (a PostgreSQL advisory
   * lock on a dedicated connection): the client's URL read-modify-write is serialized.
   */
  withClientLock<T>(tenant: string, clientName: string, fn: () => Promise<T>): Promise<T>;
  /**
   * Records what an organization's run wants on a shared client's URL lists, as a `pending` intent, and says where
   * it stands. The same run recording the same intent again (a step repeated after a crash) changes nothing: an
   * intent already applied stays `settled` with what it added, so the step's result is not lost.
   */
  recordClientUrlIntent(intent: ClientUrlIntent): Promise<ClientUrlIntentState>;
  /** Where this run's intent on the client stands (`none`: the organization's intent there is another run's, or none). */
  clientUrlIntentState(
    tenant: string,
    clientName: string,
    orgName: string,
    runId: string,
  ): Promise<ClientUrlIntentState | { state: 'none' }>;
  /** Every `pending` intent on a client, of every organization: what one reconciliation applies together. */
  pendingClientUrlIntents(tenant: string, clientName: string): Promise<ClientUrlIntent[]>;
  /**
   * Whether a write to the client's URL lists can wait for more intents: how long its oldest pending intent has
   * waited (database clock), and whether another unfinished run of the tenant will still record an intent on it (a
   * run not started yet whose spec names the client, or a started one whose step on it has not begun).
   */
  clientUrlBatchState(
    tenant: string,
    clientName: string,
    exceptRunId: string,
  ): Promise<{ oldestPendingMs: number | undefined; moreComing: boolean }>;
  /**
   * The URLs other organizations of the tenant (not removed) list for this client in their desired or applied spec:
   * a removal must leave them on the client.
   */
  clientUrlsWantedByOthers(tenant: string, clientName: string, orgName: string): Promise<UrlLists>;
  /**
   * Marks intents applied (after the write was verified), with the URLs the reconciliation put on the client for
   * each organization (`added`, by organization name; none when absent). Returns the runs whose intents it settled.
   */
  settleClientUrlIntents(
    tenant: string,
    clientName: string,
    orgNames: string[],
    added?: Record<string, UrlLists>,
  ): Promise<string[]>;
  /**
   * Takes back a run's intent that was never applied (its run failed or was cancelled), so no later reconciliation
   * applies it; call it holding the client's lock. An intent already applied is left and reported with what it added.
   */
  withdrawClientUrlIntent(
    tenant: string,
    clientName: string,
    orgName: string,
    runId: string,
  ): Promise<{ state: 'withdrawn' | 'none' } | { state: 'settled'; added: UrlLists }>;

  /** Registers (or updates the credentials of) a tenant; audited without the secret. */
  registerTenant(tenant: Omit<TenantRecord, 'createdAt'>, actor: string): Promise<TenantRecord>;
  getTenant(name: string): Promise<TenantRecord | undefined>;
  getTenantByDomain(domain: string): Promise<TenantRecord | undefined>;
  listTenants(): Promise<TenantRecord[]>;

  // Bulk apply: one uploaded file = one batch, whose items become runs (`src/services/bulk-apply.ts`).

  /** Records a batch and one `waiting` item per spec (secrets sealed), in file order; audited. */
  createBatch(input: {
    requestedBy: string;
    sourceName: string;
    format: BatchFormat;
    specs: OrgSpec[];
  }): Promise<BatchRecord>;
  /**
   * Claims up to `limit` items to start, in file order: `waiting` ones and claims whose lease ran out (their process
   * stopped or stalled). A lapsed claim whose run was created before its process stopped is linked to that run, not
   * claimed again. The items of one call carry one new random `owner` token: only that claim may begin, settle or
   * release them, so a process whose items were taken over can no longer act on them. Marks the batch as being
   * started by the caller.
   */
  claimBatchItems(batchId: string, limit: number, leaseMs: number): Promise<ClaimedBatchItem[]>;
  /**
   * Called just before starting a claimed item's run: renews the lease of every item the claim still holds. `lost`:
   * the item is no longer this claim's (taken over): start nothing more of the claim. `linked`: a run of the
   * organization requested by the batch's requester since the item was first claimed exists (a process that lost
   * the claim started it), so the item is settled with that run and nothing is to be started. `start`: go ahead.
   */
  beginBatchItem(
    batchId: string,
    position: number,
    owner: string,
    leaseMs: number,
  ): Promise<'start' | 'linked' | 'lost'>;
  /**
   * Ends a claim: `started` with the run, or `refused` with why no run was started — unless a run of the
   * organization was created by the batch's requester since the item was first claimed (the error came after it),
   * which is linked. Only the claim holding the item settles it: false, and nothing recorded, for any other.
   */
  settleBatchItem(
    batchId: string,
    position: number,
    owner: string,
    outcome: { runId: string } | { error: string },
  ): Promise<boolean>;
  /** Puts the items this claim still holds back to `waiting` (its process stops before starting them). */
  releaseBatchClaim(batchId: string, owner: string): Promise<void>;
  /** The batch with its progress, work and failures; `leaseMs` is the claim lease (to tell a stalled start). */
  getBatch(id: string, leaseMs: number): Promise<BatchProgress | undefined>;
  /**
   * Newest first, with counts; `before` (a batch id) continues a page after that batch. `leaseMs` as for `getBatch`;
   * without it, `stalled` counts only claims whose lease ran out.
   */
  listBatches(filter: { limit?: number; before?: string }, leaseMs?: number): Promise<BatchCounts[]>;
  /**
   * Batches with items neither started nor refused, oldest first (only `batchId`'s when given): what a process that
   * starts up (or finished its own claims) may take over.
   */
  unstartedBatches(filter?: { batchId?: string }): Promise<UnstartedBatch[]>;
  /** Which of these organizations exist (removed ones included) and whether a run of theirs is unfinished. */
  orgStatuses(names: string[]): Promise<{ name: string; status: OrgStatus; busy: boolean }[]>;
}

export type BatchFormat = 'yaml' | 'json' | 'csv';

export interface BatchRecord {
  id: string;
  requestedBy: string;
  /** The uploaded file's name (or the path the CLI read). */
  sourceName: string;
  format: BatchFormat;
  /** Organizations in the file. */
  total: number;
  createdAt: Date;
}

/** An item a process has claimed: it starts the organization's run (create or update) and settles the item. */
export interface ClaimedBatchItem {
  position: number;
  orgName: string;
  spec: OrgSpec;
  /** The claim's token (random per claim), which beginning, settling and releasing the item must present. */
  owner: string;
}

export interface UnstartedBatch {
  id: string;
  requestedBy: string;
  /** Items that can be claimed now: waiting, or claimed with the lease run out. */
  claimable: number;
  /** When other claims hold items: milliseconds until the first of their leases runs out. */
  heldForMs: number | undefined;
}

export interface BatchCounts extends BatchRecord {
  /** Items whose run is not started yet. */
  waiting: number;
  /** Items whose run could not be started (e.g. another run of the organization was unfinished). */
  refused: number;
  /** The batch's runs by state. */
  runs: Record<RunState, number>;
  /** When the last run finished, once no item waits and no run is open. */
  finishedAt: Date | undefined;
  /** From the upload to `finishedAt`, or to now while unfinished (the database's clock). */
  durationMs: number;
  /** Items wait or are claimed, but no process has shown a sign of life within the lease: another may take over. */
  stalled: boolean;
}

export interface BatchFailureGroup {
  /** The run's error, or why no run was started, with the organization's name as `{org}` and run ids as `{id}`. */
  reason: string;
  /** `run`: the run failed; `start`: no run was started. */
  stage: 'run' | 'start';
  count: number;
  /** The first ones, in file order. */
  examples: { orgName: string; runId: string | undefined }[];
}

export interface BatchProgress extends BatchCounts {
  /** Steps done (forward and compensation) and step attempts (intents recorded) of the batch's runs. */
  stepsDone: number;
  stepAttempts: number;
  /** Management API calls the batch's runs made. */
  auth0Calls: number;
  /** Largest groups first. */
  failures: BatchFailureGroup[];
}

/** A registered Auth0 tenant (for `isolation: dedicated-tenant`); the secret is sealed at rest. */
export interface TenantRecord {
  name: string;
  domain: string;
  clientId: string;
  clientSecret: string;
  createdAt: Date;
}

/** The object an application hook returned for an organization. */
export interface AppData {
  hook: string;
  data: Record<string, unknown>;
}

export interface ClientUrlIntent {
  tenant: string;
  clientName: string;
  orgName: string;
  /** The run that recorded it (absent for intents recorded before runs were noted). */
  runId?: string | undefined;
  add: UrlLists;
  remove: UrlLists;
}

export type ClientUrlIntentState = { state: 'pending' } | { state: 'settled'; added: UrlLists };

export type { StepResult, UrlLists };
