/**
 * The `Store` port on PostgreSQL (schema: `migrations/0002_organizations_runs.sql`).
 *
 * - Every method is one transaction: several statements run between BEGIN and COMMIT on one pooled client (rolled
 *   back on any error); a method that needs a single statement sends just that statement, which PostgreSQL runs as
 *   a transaction of its own.
 * - At most one unfinished run per organization is guaranteed by a partial unique index; `createRun` reports a
 *   violation (or the run it finds first) as `RunConflictError`.
 * - Secrets never reach the database in clear: every value under a secret key (`SECRET_FIELDS` and their snake_case
 *   forms, e.g. a connection's `client_secret` inside a planned step) is replaced by `{"$sealed": "v1:…"}` before a
 *   jsonb column is written and opened again on read. The audit trail holds redacted specs: no secret at all.
 * - `withClientLock` holds a session-level advisory lock on a dedicated connection of the pool for as long as `fn`
 *   runs. Holders in one process queue in memory first, so a process never ties up more than one connection per
 *   client lock (otherwise waiters could take every connection the holder's `fn` needs: a deadlock).
 * - Bulk-apply batches are in `postgres-batches.ts` (schema: `migrations/0009_bulk_batches.sql`).
 */
import { OrgadminError } from '../../domain/errors.js';
import type pg from 'pg';
import { eventsOfFinishedRun, subscribes, type EventType } from '../../domain/lifecycle-events.js';
import { redactSecrets, SECRET_FIELDS, type OrgSpec } from '../../domain/org-spec.js';
import type { Step, StepResult } from '../../domain/plan.js';
import type { KnownIds } from '../../ports/auth0-tenant.js';
import type {
  AppData,
  AuditEvent,
  ClientUrlIntent,
  ClientUrlIntentState,
  OrgRecord,
  OrgStatus,
  RunKind,
  RunRecord,
  RunState,
  StepPhase,
  StepRecord,
  StepStatus,
  Store,
  TenantRecord,
  UrlLists,
} from '../../ports/store.js';
import { createPostgresBatches } from './postgres-batches.js';
import type { SecretBox } from './secret-box.js';
import { withAdvisoryLock } from './advisory-lock.js';
import { transaction } from './transaction.js';

export interface PostgresStoreOptions {
  /** Seals secrets before they are written and opens them on read. */
  secrets: SecretBox;
}

/** Codes of the store's own failures; the faces map them like `OrgadminError` codes. */
export type StoreErrorCode =
  /** Another run of the organization is not finished (pending, running or compensating). */
  | 'run.conflict'
  /** No run with this id (or the run has no step with this index). */
  | 'run.not_found'
  /** The run already finished differently; a finished run is never changed. */
  | 'run.finished'
  /** A removal was requested for an organization orgadmin does not know. */
  | 'org.not_found'
  /** The organization lives in another tenant; it must be removed there before it can move. */
  | 'org.tenant_mismatch';

export class StoreError extends OrgadminError {
  override readonly name: string = 'StoreError';

  constructor(
    override readonly code: StoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, {}, options);
  }
}

export class RunConflictError extends StoreError {
  override readonly name = 'RunConflictError';

  constructor(
    readonly orgName: string,
    /** The unfinished run, when it could be read. */
    readonly runId: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(
      'run.conflict',
      `Another run of organization ${orgName} is not finished${runId ? ` (run ${runId})` : ''}.`,
      options,
    );
  }
}

/** First key of every client lock: keeps them apart from other two-key advisory locks ('orgc' in ASCII). */
export const CLIENT_LOCK_NAMESPACE = 0x6f726763;

const UNFINISHED: RunState[] = ['pending', 'running', 'compensating'];
const ONE_UNFINISHED_RUN_INDEX = 'runs_one_unfinished_per_org';
const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const URL_LIST_NAMES = ['callbacks', 'logoutUrls', 'webOrigins'] as const;
const EMPTY_LISTS: UrlLists = { callbacks: [], logoutUrls: [], webOrigins: [] };

type OrgRow = {
  name: string;
  tenant: string;
  status: OrgStatus;
  spec: unknown;
  applied_spec: unknown;
  auth0_ids: KnownIds;
  app_data: Record<string, Record<string, unknown>>;
  last_run_id: string | null;
  error: string | null;
  created_at: Date;
  updated_at: Date;
};

type RunRow = {
  id: string;
  org_name: string;
  tenant: string;
  kind: RunKind;
  state: RunState;
  requested_by: string;
  desired: unknown;
  error: string | null;
  cancel_requested_by: string | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  auth0_calls: number;
};

type StepRow = {
  run_id: string;
  index: number;
  phase: StepPhase;
  step: unknown;
  status: StepStatus;
  attempts: number;
  outcome: KnownIds | null;
  result: StepResult | null;
  last_error: string | null;
  started_at: Date | null;
  finished_at: Date | null;
};

type AuditRow = {
  id: string;
  at: Date;
  actor: string;
  action: string;
  org_name: string | null;
  run_id: string | null;
  before: unknown;
  after: unknown;
};

type TenantRow = {
  name: string;
  domain: string;
  client_id: string;
  client_secret_sealed: string;
  created_at: Date;
};

type IntentRow = {
  tenant: string;
  client_name: string;
  org_name: string;
  add: unknown;
  remove: unknown;
  state: 'pending' | 'settled';
  revision: string;
  added: unknown;
  run_id: string | null;
};

export function createPostgresStore(pool: pg.Pool, options: PostgresStoreOptions): Store {
  const box = options.secrets;
  const seal = (value: unknown): string => JSON.stringify(sealSecrets(value, box));
  const open = <T>(value: unknown): T => openSecrets(value, box) as T;
  /** Revisions of the pending intents last read per client, so settling never settles a newer intent. */
  const readRevisions = new Map<string, string>();
  /** The last holder (or waiter) of each client lock in this process. */
  const localLocks = new Map<string, Promise<void>>();

  const toOrg = (row: OrgRow): OrgRecord => ({
    name: row.name,
    tenant: row.tenant,
    status: row.status,
    spec: open<OrgSpec>(row.spec),
    appliedSpec: row.applied_spec === null ? undefined : open<OrgSpec>(row.applied_spec),
    auth0Ids: row.auth0_ids,
    appData: row.app_data,
    lastRunId: row.last_run_id ?? undefined,
    error: row.error ?? undefined,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  });

  const toRun = (row: RunRow): RunRecord => ({
    id: row.id,
    orgName: row.org_name,
    tenant: row.tenant,
    kind: row.kind,
    state: row.state,
    requestedBy: row.requested_by,
    desired: row.desired === null ? undefined : open<OrgSpec>(row.desired),
    error: row.error ?? undefined,
    cancelRequestedBy: row.cancel_requested_by ?? undefined,
    createdAt: row.created_at,
    startedAt: row.started_at ?? undefined,
    finishedAt: row.finished_at ?? undefined,
    auth0Calls: row.auth0_calls,
  });

  const toTenant = (row: TenantRow): TenantRecord => ({
    name: row.name,
    domain: row.domain,
    clientId: row.client_id,
    clientSecret: box.open(row.client_secret_sealed),
    createdAt: row.created_at,
  });

  const toStep = (row: StepRow): StepRecord => ({
    runId: row.run_id,
    index: row.index,
    phase: row.phase,
    step: open<Step>(row.step),
    status: row.status,
    attempts: row.attempts,
    outcome: row.outcome ?? undefined,
    result: row.result ?? undefined,
    lastError: row.last_error ?? undefined,
    startedAt: row.started_at ?? undefined,
    finishedAt: row.finished_at ?? undefined,
  });

  /** The spec as the audit trail holds it: redacted, never sealed. */
  const forAudit = (sealedOrPlain: unknown): unknown =>
    sealedOrPlain === null || sealedOrPlain === undefined
      ? null
      : redactDeep(redactSecrets(open<OrgSpec>(sealedOrPlain)));

  async function lockRun(client: pg.ClientBase, runId: string): Promise<RunRow> {
    const row = UUID.test(runId)
      ? (await client.query<RunRow>('SELECT * FROM runs WHERE id = $1 FOR UPDATE', [runId])).rows[0]
      : undefined;
    if (!row) throw new StoreError('run.not_found', `No run ${runId}.`);
    return row;
  }

  async function insertSteps(
    client: pg.ClientBase,
    runId: string,
    firstIndex: number,
    phase: StepPhase,
    steps: Step[],
  ): Promise<void> {
    if (steps.length === 0) return;
    await client.query(
      `INSERT INTO run_steps (run_id, index, phase, step)
       SELECT $1, $2 + ordinality::int - 1, $3, step
       FROM jsonb_array_elements($4::jsonb) WITH ORDINALITY AS planned(step, ordinality)`,
      [runId, firstIndex, phase, seal(steps)],
    );
  }

  /** The organization's hook data with what this run's hooks returned merged in, in step order, per hook. */
  async function appDataAfter(
    client: pg.ClientBase,
    runId: string,
    org: OrgRow,
  ): Promise<Record<string, Record<string, unknown>>> {
    const { rows } = await client.query<{ app_data: AppData }>(
      `SELECT app_data FROM run_steps WHERE run_id = $1 AND status = 'done' AND app_data IS NOT NULL ORDER BY index`,
      [runId],
    );
    const merged = { ...org.app_data };
    for (const { app_data: returned } of rows)
      merged[returned.hook] = { ...merged[returned.hook], ...returned.data };
    return merged;
  }

  /** An event and, in the same transaction, one delivery for each hook subscribed to its type. */
  async function insertOutboxEvent(
    client: pg.ClientBase,
    type: EventType,
    payload: {
      organization: { name: string } & Record<string, unknown>;
      run: { id: string } & Record<string, unknown>;
    },
  ): Promise<void> {
    const { rows } = await client.query<{ id: string }>(
      `INSERT INTO outbox_events (type, org_name, run_id, payload) VALUES ($1, $2, $3, $4::jsonb) RETURNING id`,
      [type, payload.organization.name, payload.run.id, JSON.stringify(payload)],
    );
    const hooks = await client.query<{ name: string; events: string[] }>(
      `SELECT name, events FROM app_hooks WHERE cardinality(events) > 0`,
    );
    const subscribed = hooks.rows.filter((hook) => subscribes(hook.events, type)).map((hook) => hook.name);
    if (subscribed.length === 0) return;
    await client.query(
      `INSERT INTO event_deliveries (event_id, hook_name, org_name) SELECT $1, unnest($2::text[]), $3`,
      [rows[0]!.id, subscribed, payload.organization.name],
    );
  }

  async function updateStep(runId: string, index: number, sql: string, params: unknown[]): Promise<void> {
    const { rowCount } = UUID.test(runId)
      ? await pool.query(`UPDATE run_steps SET ${sql} WHERE run_id = $1 AND index = $2`, [
          runId,
          index,
          ...params,
        ])
      : { rowCount: 0 };
    if (!rowCount) throw new StoreError('run.not_found', `Run ${runId} has no step ${index}.`);
  }

  async function insertAudit(
    client: pg.ClientBase,
    event: { actor: string; action: string; orgName: string; runId: string; before: unknown; after: unknown },
  ): Promise<void> {
    await client.query(
      `INSERT INTO audit_events (actor, action, org_name, run_id, before, after)
       VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb)`,
      [
        event.actor,
        event.action,
        event.orgName,
        event.runId,
        JSON.stringify(event.before ?? null),
        JSON.stringify(event.after ?? null),
      ],
    );
  }

  return {
    ...createPostgresBatches(pool, { seal, open }),

    createRun: (input) => {
      const { orgName, tenant, kind, desired, requestedBy } = input;
      if ((kind === 'apply') !== (desired !== undefined)) {
        return Promise.reject(
          new Error(`A run of kind ${kind} ${kind === 'apply' ? 'needs' : 'takes no'} desired spec`),
        );
      }
      if (desired && desired.name !== orgName) {
        return Promise.reject(new Error(`The desired spec names ${desired.name}, not ${orgName}`));
      }
      return transaction(pool, async (client) => {
        // A new organization is inserted (and row-locked) at once, so concurrent first requests queue up here.
        const inserted = desired
          ? (
              await client.query<OrgRow>(
                `INSERT INTO organizations (name, tenant, status, spec) VALUES ($1, $2, 'provisioning', $3::jsonb)
                 ON CONFLICT (name) DO NOTHING RETURNING *`,
                [orgName, tenant, seal(desired)],
              )
            ).rows[0]
          : undefined;
        const existing = inserted
          ? undefined
          : (await client.query<OrgRow>('SELECT * FROM organizations WHERE name = $1 FOR UPDATE', [orgName]))
              .rows[0];
        if (!inserted && !existing) {
          throw new StoreError('org.not_found', `Organization ${orgName} is not known to orgadmin.`);
        }
        if (existing && existing.tenant !== tenant && existing.status !== 'removed') {
          throw new StoreError(
            'org.tenant_mismatch',
            `Organization ${orgName} lives in tenant ${existing.tenant}, not ${tenant}; remove it there first.`,
          );
        }
        const unfinished = await client.query<{ id: string }>(
          'SELECT id FROM runs WHERE org_name = $1 AND state = ANY($2::text[]) LIMIT 1',
          [orgName, UNFINISHED],
        );
        if (unfinished.rows[0]) throw new RunConflictError(orgName, unfinished.rows[0].id);
        if (existing) {
          await client.query(
            `UPDATE organizations SET tenant = $2, status = $3, spec = coalesce($4::jsonb, spec), updated_at = now()
             WHERE name = $1`,
            [orgName, tenant, kind === 'apply' ? 'provisioning' : 'removing', desired ? seal(desired) : null],
          );
        }
        let run: RunRow | undefined;
        try {
          run = (
            await client.query<RunRow>(
              `INSERT INTO runs (org_name, tenant, kind, requested_by, desired)
               VALUES ($1, $2, $3, $4, $5::jsonb) RETURNING *`,
              [orgName, tenant, kind, requestedBy, desired ? seal(desired) : null],
            )
          ).rows[0];
        } catch (error) {
          if (isUniqueViolation(error, ONE_UNFINISHED_RUN_INDEX)) {
            throw new RunConflictError(orgName, undefined, { cause: error });
          }
          throw error;
        }
        if (!run) throw new Error('INSERT … RETURNING gave no row');
        await client.query('UPDATE organizations SET last_run_id = $2 WHERE name = $1', [orgName, run.id]);
        await insertAudit(client, {
          actor: requestedBy,
          action: `org.${kind}.requested`,
          orgName,
          runId: run.id,
          before: forAudit(existing?.spec),
          after: desired ? forAudit(desired) : null,
        });
        return toRun(run);
      });
    },

    async getRun(id) {
      if (!UUID.test(id)) return undefined;
      const { rows } = await pool.query<RunRow>('SELECT * FROM runs WHERE id = $1', [id]);
      return rows[0] ? toRun(rows[0]) : undefined;
    },

    async listRuns(filter) {
      const { rows } = await pool.query<RunRow>(
        `SELECT * FROM runs WHERE ($1::text IS NULL OR org_name = $1) AND ($2::text IS NULL OR state = $2)
           AND ($3::uuid IS NULL OR (created_at, id) < (SELECT created_at, id FROM runs WHERE id = $3))
         ORDER BY created_at DESC, id DESC LIMIT $4`,
        [
          filter.orgName ?? null,
          filter.state ?? null,
          filter.before !== undefined && UUID.test(filter.before) ? filter.before : null,
          limitOf(filter.limit),
        ],
      );
      return rows.map(toRun);
    },

    requestCancel: (runId, actor) =>
      transaction(pool, async (client) => {
        const run = await lockRun(client, runId);
        if (run.state === 'succeeded' || run.state === 'failed') {
          throw new StoreError('run.finished', `Run ${runId} already ${run.state}; it cannot be cancelled.`);
        }
        if (run.cancel_requested_by !== null) return toRun(run);
        const { rows } = await client.query<RunRow>(
          'UPDATE runs SET cancel_requested_by = $2 WHERE id = $1 RETURNING *',
          [runId, actor],
        );
        await insertAudit(client, {
          actor,
          action: 'run.cancel.requested',
          orgName: run.org_name,
          runId,
          before: { state: run.state },
          after: { state: run.state, cancelRequestedBy: actor },
        });
        return toRun(rows[0] ?? run);
      }),

    startRun: (runId, plan) =>
      transaction(pool, async (client) => {
        const run = await lockRun(client, runId);
        if (run.state !== 'pending') return;
        await insertSteps(client, runId, 0, 'forward', plan);
        await client.query(`UPDATE runs SET state = 'running', started_at = now() WHERE id = $1`, [runId]);
      }),

    async steps(runId) {
      if (!UUID.test(runId)) return [];
      const { rows } = await pool.query<StepRow>('SELECT * FROM run_steps WHERE run_id = $1 ORDER BY index', [
        runId,
      ]);
      return rows.map(toStep);
    },

    markStepStarted: (runId, index) =>
      updateStep(
        runId,
        index,
        `status = 'started', attempts = attempts + 1, started_at = coalesce(started_at, now())`,
        [],
      ),

    // What a hook returned stays on its step until the run succeeds (finishRun).
    markStepDone: (runId, index, outcome, appData, result) =>
      updateStep(
        runId,
        index,
        `status = 'done', outcome = $3::jsonb, app_data = $4::jsonb, result = $5::jsonb, finished_at = now()`,
        [
          outcome === undefined ? null : JSON.stringify(outcome),
          appData === undefined ? null : JSON.stringify(appData),
          result === undefined ? null : JSON.stringify(result),
        ],
      ),

    markStepFailed: (runId, index, error) =>
      updateStep(runId, index, `status = 'failed', last_error = $3, finished_at = now()`, [error]),

    noteStepError: (runId, index, error) => updateStep(runId, index, 'last_error = $3', [error]),

    startCompensation: (runId, error, compensations) =>
      transaction(pool, async (client) => {
        const run = await lockRun(client, runId);
        if (run.state === 'compensating') return;
        if (run.state === 'succeeded' || run.state === 'failed') {
          throw new StoreError('run.finished', `Run ${runId} already ${run.state}; it cannot compensate.`);
        }
        const { rows } = await client.query<{ next: number }>(
          'SELECT coalesce(max(index) + 1, 0)::int AS next FROM run_steps WHERE run_id = $1',
          [runId],
        );
        await insertSteps(client, runId, rows[0]?.next ?? 0, 'compensation', compensations);
        await client.query(`UPDATE runs SET state = 'compensating', error = $2 WHERE id = $1`, [
          runId,
          error,
        ]);
      }),

    finishRun: (runId, state, ids, error) =>
      transaction(pool, async (client) => {
        const run = await lockRun(client, runId);
        if (run.state === 'succeeded' || run.state === 'failed') {
          if (run.state === state) return;
          throw new StoreError('run.finished', `Run ${runId} already ${run.state}; it cannot be ${state}.`);
        }
        const org = (
          await client.query<OrgRow>('SELECT * FROM organizations WHERE name = $1 FOR UPDATE', [run.org_name])
        ).rows[0];
        if (!org) throw new Error(`Organization ${run.org_name} of run ${runId} is missing`);
        const runError = state === 'failed' ? (error ?? run.error ?? 'The run failed.') : null;
        await client.query(`UPDATE runs SET state = $2, error = $3, finished_at = now() WHERE id = $1`, [
          runId,
          state,
          runError,
        ]);
        const idsJson = JSON.stringify(ids);
        let after: { status: OrgStatus; appliedSpec: unknown };
        if (state === 'failed') {
          await client.query(
            `UPDATE organizations SET status = 'failed', error = $2, auth0_ids = auth0_ids || $3::jsonb,
               updated_at = now() WHERE name = $1`,
            [org.name, runError, idsJson],
          );
          after = { status: 'failed', appliedSpec: forAudit(org.applied_spec) };
        } else if (run.kind === 'apply') {
          await client.query(
            `UPDATE organizations SET status = 'active', applied_spec = $2::jsonb, auth0_ids = auth0_ids || $3::jsonb,
               app_data = $4::jsonb, error = NULL, updated_at = now() WHERE name = $1`,
            [
              org.name,
              JSON.stringify(run.desired),
              idsJson,
              JSON.stringify(await appDataAfter(client, runId, org)),
            ],
          );
          after = { status: 'active', appliedSpec: forAudit(run.desired) };
        } else {
          // Everything orgadmin owned is gone: nothing is applied and no id is valid any more.
          await client.query(
            `UPDATE organizations SET status = 'removed', applied_spec = NULL, auth0_ids = '{}'::jsonb,
               app_data = '{}'::jsonb, error = NULL, updated_at = now() WHERE name = $1`,
            [org.name],
          );
          after = { status: 'removed', appliedSpec: null };
        }
        const current = (
          await client.query<OrgRow>('SELECT * FROM organizations WHERE name = $1', [org.name])
        ).rows[0]!;
        const removed = run.kind === 'remove' && state === 'succeeded';
        for (const type of eventsOfFinishedRun({
          kind: run.kind,
          state,
          wasApplied: org.applied_spec !== null,
        })) {
          await insertOutboxEvent(client, type, {
            organization: {
              name: current.name,
              tenant: current.tenant,
              status: current.status,
              spec: forAudit(run.kind === 'apply' && state === 'succeeded' ? run.desired : org.applied_spec),
              // A removal's event describes what was removed.
              auth0Ids: removed ? org.auth0_ids : current.auth0_ids,
              appData: removed ? org.app_data : current.app_data,
            },
            run: { id: runId, kind: run.kind, state, error: runError },
          });
        }
        await insertAudit(client, {
          actor: run.requested_by,
          action: `org.${run.kind}.${state}`,
          orgName: org.name,
          runId,
          before: { status: org.status, appliedSpec: forAudit(org.applied_spec) },
          after: runError === null ? after : { ...after, error: runError },
        });
      }),

    async getOrg(name) {
      const { rows } = await pool.query<OrgRow>('SELECT * FROM organizations WHERE name = $1', [name]);
      return rows[0] ? toOrg(rows[0]) : undefined;
    },

    async listOrgs(filter) {
      const q = filter.q?.trim().toLowerCase();
      const { rows } = await pool.query<OrgRow>(
        `SELECT * FROM organizations
         WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR name > $2)
           AND ($3::text IS NULL OR isolation = $3)
           AND ($4::text IS NULL OR search_text LIKE '%' || $4 || '%')
           AND (NOT $5 OR status <> 'removed')
         ORDER BY name LIMIT $6`,
        [
          filter.status ?? null,
          filter.after ?? null,
          filter.isolation ?? null,
          q ? escapeLike(q) : null,
          filter.excludeRemoved ?? false,
          limitOf(filter.limit),
        ],
      );
      return rows.map(toOrg);
    },

    async audit(filter) {
      const { rows } = await pool.query<AuditRow>(
        `SELECT id::text, at, actor, action, org_name, run_id, before, after FROM audit_events
         WHERE ($1::text IS NULL OR org_name = $1) AND ($2::text IS NULL OR actor = $2)
           AND ($3::timestamptz IS NULL OR at >= $3) AND ($4::timestamptz IS NULL OR at < $4)
           AND ($5::bigint IS NULL OR audit_events.id < $5)
         ORDER BY audit_events.id DESC LIMIT $6`,
        [
          filter.orgName ?? null,
          filter.actor ?? null,
          filter.since ?? null,
          filter.until ?? null,
          filter.beforeId !== undefined && /^\d{1,18}$/.test(filter.beforeId) ? filter.beforeId : null,
          limitOf(filter.limit),
        ],
      );
      return rows.map((row): AuditEvent => ({
        id: row.id,
        at: row.at,
        actor: row.actor,
        action: row.action,
        orgName: row.org_name ?? undefined,
        runId: row.run_id ?? undefined,
        before: row.before,
        after: row.after,
      }));
    },

    async addRunAuth0Calls(runId, calls) {
      if (calls > 0)
        await pool.query('UPDATE runs SET auth0_calls = auth0_calls + $2 WHERE id = $1', [runId, calls]);
    },

    async unfinishedRuns() {
      const { rows } = await pool.query<RunRow>(
        'SELECT * FROM runs WHERE state = ANY($1::text[]) ORDER BY created_at, id',
        [UNFINISHED],
      );
      return rows.map(toRun);
    },

    withClientLock: (tenant, clientName, fn) =>
      // Holders in this process queue here first, so a process waits on the advisory lock with one connection
      // per client however many runs want it: waiting on connections the holder's `fn` needs would deadlock.
      localTurn(localLocks, `${tenant}|${clientName}`, () =>
        withClientAdvisoryLock(pool, tenant, clientName, fn),
      ),

    recordClientUrlIntent: (intent) =>
      transaction(pool, async (client): Promise<ClientUrlIntentState> => {
        const keys = [intent.tenant, intent.clientName, intent.orgName];
        const add = normalizeUrls(intent.add);
        const remove = normalizeUrls(intent.remove);
        const runId = intent.runId ?? null;
        const inserted = await client.query(
          `INSERT INTO client_url_intents (tenant, client_name, org_name, add, remove, state, revision, run_id)
           VALUES ($1, $2, $3, $4::jsonb, $5::jsonb, 'pending', 1, $6)
           ON CONFLICT (tenant, client_name, org_name) DO NOTHING`,
          [...keys, JSON.stringify(add), JSON.stringify(remove), runId],
        );
        if (inserted.rowCount) return { state: 'pending' };
        const current = (
          await client.query<IntentRow>(
            `SELECT * FROM client_url_intents WHERE tenant = $1 AND client_name = $2 AND org_name = $3
             FOR UPDATE`,
            keys,
          )
        ).rows[0];
        if (!current) throw new Error('A client URL intent vanished while it was locked');
        const currentAdd = normalizeUrls(current.add);
        const currentRemove = normalizeUrls(current.remove);
        // The same step of the same run again (after a crash, or resumed after waiting): nothing changes, so an
        // applied intent keeps what it added and a pending one keeps its revision (a reconciliation reading it
        // meanwhile still settles it).
        if (
          runId !== null &&
          current.run_id === runId &&
          sameUrls(currentAdd, add) &&
          sameUrls(currentRemove, remove)
        )
          return current.state === 'settled'
            ? { state: 'settled', added: normalizeUrls(current.added) }
            : { state: 'pending' };
        const merged =
          current.state === 'pending'
            ? mergeIntents({ add: currentAdd, remove: currentRemove }, { add, remove })
            : { add, remove };
        // What an earlier reconciliation added belongs to the intent it settled, not to this one.
        await client.query(
          `UPDATE client_url_intents
           SET add = $4::jsonb, remove = $5::jsonb, state = 'pending', revision = revision + 1, added = NULL,
             run_id = $6, updated_at = now()
           WHERE tenant = $1 AND client_name = $2 AND org_name = $3`,
          [...keys, JSON.stringify(merged.add), JSON.stringify(merged.remove), runId],
        );
        return { state: 'pending' };
      }),

    async clientUrlIntentState(tenant, clientName, orgName, runId) {
      const { rows } = await pool.query<Pick<IntentRow, 'state' | 'added'>>(
        `SELECT state, added FROM client_url_intents
         WHERE tenant = $1 AND client_name = $2 AND org_name = $3 AND run_id = $4`,
        [tenant, clientName, orgName, runId],
      );
      const row = rows[0];
      if (!row) return { state: 'none' };
      return row.state === 'settled'
        ? { state: 'settled', added: normalizeUrls(row.added) }
        : { state: 'pending' };
    },

    async clientUrlBatchState(tenant, clientName, exceptRunId) {
      const { rows } = await pool.query<{ oldest_ms: number | null; more_coming: boolean }>(
        `SELECT
           (SELECT extract(epoch FROM now() - min(updated_at))::float8 * 1000 FROM client_url_intents
            WHERE tenant = $1 AND client_name = $2 AND state = 'pending') AS oldest_ms,
           EXISTS (
             SELECT 1 FROM runs r
             WHERE r.tenant = $1 AND r.id <> $3 AND r.state = 'pending' AND r.kind = 'apply'
               AND r.desired -> 'applications' @> jsonb_build_array(jsonb_build_object('client', $2::text))
           ) OR EXISTS (
             SELECT 1 FROM runs r JOIN run_steps s ON s.run_id = r.id
             WHERE r.tenant = $1 AND r.id <> $3 AND r.state = 'running' AND s.phase = 'forward'
               AND s.status = 'pending' AND s.step ->> 'kind' IN ('add-client-urls', 'remove-client-urls')
               AND s.step ->> 'clientName' = $2
           ) AS more_coming`,
        [tenant, clientName, exceptRunId],
      );
      const row = rows[0];
      return { oldestPendingMs: row?.oldest_ms ?? undefined, moreComing: row?.more_coming ?? false };
    },

    async clientUrlsWantedByOthers(tenant, clientName, orgName) {
      const { rows } = await pool.query<{ list: (typeof URL_LIST_NAMES)[number]; url: string }>(
        `SELECT DISTINCT list.name AS list, url.value AS url
         FROM organizations o
         CROSS JOIN LATERAL (VALUES (o.spec), (o.applied_spec)) AS specs(spec)
         CROSS JOIN LATERAL jsonb_array_elements(coalesce(specs.spec -> 'applications', '[]'::jsonb)) AS app(value)
         CROSS JOIN LATERAL (VALUES ('callbacks'), ('logoutUrls'), ('webOrigins')) AS list(name)
         CROSS JOIN LATERAL jsonb_array_elements_text(coalesce(app.value -> list.name, '[]'::jsonb)) AS url(value)
         WHERE o.tenant = $1 AND o.name <> $3 AND o.status NOT IN ('removed', 'removing')
           AND app.value ->> 'client' = $2`,
        [tenant, clientName, orgName],
      );
      const wanted: UrlLists = { callbacks: [], logoutUrls: [], webOrigins: [] };
      for (const row of rows) wanted[row.list].push(row.url);
      return wanted;
    },

    async pendingClientUrlIntents(tenant, clientName) {
      const { rows } = await pool.query<IntentRow>(
        `SELECT * FROM client_url_intents WHERE tenant = $1 AND client_name = $2 AND state = 'pending'
         ORDER BY org_name`,
        [tenant, clientName],
      );
      return rows.map((row): ClientUrlIntent => {
        readRevisions.set(intentKey(tenant, clientName, row.org_name), row.revision);
        return {
          tenant: row.tenant,
          clientName: row.client_name,
          orgName: row.org_name,
          runId: row.run_id ?? undefined,
          add: normalizeUrls(row.add),
          remove: normalizeUrls(row.remove),
        };
      });
    },

    async settleClientUrlIntents(tenant, clientName, orgNames, added) {
      if (orgNames.length === 0) return [];
      const keys = orgNames.map((orgName) => intentKey(tenant, clientName, orgName));
      // An intent recorded again after it was read (a newer revision) stays pending: it was not applied.
      const { rows } = await pool.query<{ run_id: string | null }>(
        `UPDATE client_url_intents AS intent SET state = 'settled', added = settled.added, updated_at = now()
         FROM unnest($3::text[], $4::bigint[], $5::jsonb[]) AS settled(org_name, revision, added)
         WHERE intent.tenant = $1 AND intent.client_name = $2 AND intent.org_name = settled.org_name
           AND intent.state = 'pending' AND (settled.revision IS NULL OR intent.revision = settled.revision)
         RETURNING intent.run_id`,
        [
          tenant,
          clientName,
          orgNames,
          keys.map((key) => readRevisions.get(key) ?? null),
          orgNames.map((orgName) => JSON.stringify(normalizeUrls(added?.[orgName]))),
        ],
      );
      for (const key of keys) readRevisions.delete(key);
      return rows.flatMap((row) => (row.run_id === null ? [] : [row.run_id]));
    },

    withdrawClientUrlIntent: (tenant, clientName, orgName, runId) =>
      transaction(pool, async (client) => {
        const keys = [tenant, clientName, orgName, runId];
        const withdrawn = await client.query(
          `DELETE FROM client_url_intents
           WHERE tenant = $1 AND client_name = $2 AND org_name = $3 AND run_id = $4 AND state = 'pending'`,
          keys,
        );
        if (withdrawn.rowCount) return { state: 'withdrawn' as const };
        const { rows } = await client.query<Pick<IntentRow, 'added'>>(
          `SELECT added FROM client_url_intents
           WHERE tenant = $1 AND client_name = $2 AND org_name = $3 AND run_id = $4 AND state = 'settled'`,
          keys,
        );
        const row = rows[0];
        return row
          ? { state: 'settled' as const, added: normalizeUrls(row.added) }
          : { state: 'none' as const };
      }),

    async registerTenant(tenant, actor) {
      const { rows } = await pool.query<TenantRow>(
        `INSERT INTO tenants (name, domain, client_id, client_secret_sealed) VALUES ($1, $2, $3, $4)
         ON CONFLICT (name) DO UPDATE SET domain = EXCLUDED.domain, client_id = EXCLUDED.client_id,
           client_secret_sealed = EXCLUDED.client_secret_sealed
         RETURNING *`,
        [tenant.name, tenant.domain, tenant.clientId, box.seal(tenant.clientSecret)],
      );
      await pool.query(
        `INSERT INTO audit_events (actor, action, org_name, run_id, before, after) VALUES ($1, 'tenant.registered', NULL, NULL, NULL, $2)`,
        [
          actor,
          JSON.stringify({
            name: tenant.name,
            domain: tenant.domain,
            clientId: tenant.clientId,
            clientSecret: '(set)',
          }),
        ],
      );
      return toTenant(rows[0]!);
    },

    async getTenant(name) {
      const { rows } = await pool.query<TenantRow>('SELECT * FROM tenants WHERE name = $1', [name]);
      return rows[0] ? toTenant(rows[0]) : undefined;
    },

    async getTenantByDomain(domain) {
      const { rows } = await pool.query<TenantRow>('SELECT * FROM tenants WHERE domain = $1', [domain]);
      return rows[0] ? toTenant(rows[0]) : undefined;
    },

    async listTenants() {
      const { rows } = await pool.query<TenantRow>('SELECT * FROM tenants ORDER BY name');
      return rows.map(toTenant);
    },
  };
}

/** Runs `fn` after every earlier caller with the same key (in this process) finished. */
/** A search string taken literally by LIKE: `%`, `_` and the escape character lose their meaning. */
function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (char) => `\\${char}`);
}

async function localTurn<T>(
  queues: Map<string, Promise<void>>,
  key: string,
  fn: () => Promise<T>,
): Promise<T> {
  const previous = queues.get(key) ?? Promise.resolve();
  let finish = (): void => undefined;
  const mine = previous.then(() => new Promise<void>((resolve) => (finish = resolve)));
  queues.set(key, mine);
  await previous;
  try {
    return await fn();
  } finally {
    finish();
    if (queues.get(key) === mine) queues.delete(key);
  }
}

/**
 * Holds the session-level advisory lock (CLIENT_LOCK_NAMESPACE, hashtext('<tenant>|<client>')) on a dedicated
 * pooled connection while `fn` runs; a hash collision only serializes two clients needlessly.
 */
async function withClientAdvisoryLock<T>(
  pool: pg.Pool,
  tenant: string,
  clientName: string,
  fn: () => Promise<T>,
): Promise<T> {
  const locked = await withAdvisoryLock(pool, CLIENT_LOCK_NAMESPACE, `${tenant}|${clientName}`, fn);
  return locked!.value;
}

function limitOf(limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit)) return DEFAULT_LIMIT;
  return Math.max(0, Math.min(MAX_LIMIT, Math.floor(limit)));
}

function isUniqueViolation(error: unknown, constraint: string): boolean {
  return (
    error instanceof Error &&
    'code' in error &&
    error.code === '23505' &&
    'constraint' in error &&
    error.constraint === constraint
  );
}

function intentKey(tenant: string, clientName: string, orgName: string): string {
  return [tenant, clientName, orgName].join('\u0000');
}

// ---------------------------------------------------------------------------------------------------------------
// Client URL intents

const sameUrls = (a: UrlLists, b: UrlLists): boolean =>
  URL_LIST_NAMES.every((name) => JSON.stringify([...a[name]].sort()) === JSON.stringify([...b[name]].sort()));

function normalizeUrls(value: unknown): UrlLists {
  const record = isRecord(value) ? value : {};
  const list = (name: (typeof URL_LIST_NAMES)[number]): string[] => {
    const items = record[name];
    return Array.isArray(items)
      ? [...new Set(items.filter((item): item is string => typeof item === 'string'))]
      : [];
  };
  return { callbacks: list('callbacks'), logoutUrls: list('logoutUrls'), webOrigins: list('webOrigins') };
}

/** Union of both intents; a URL the newer intent adds leaves the older removals, and the other way round. */
export function mergeIntents(
  older: { add: UrlLists; remove: UrlLists },
  newer: { add: UrlLists; remove: UrlLists },
): { add: UrlLists; remove: UrlLists } {
  const add = { ...EMPTY_LISTS };
  const remove = { ...EMPTY_LISTS };
  for (const name of URL_LIST_NAMES) {
    const newerAdd = new Set(newer.add[name]);
    const newerRemove = new Set(newer.remove[name]);
    add[name] = [...new Set([...older.add[name].filter((url) => !newerRemove.has(url)), ...newer.add[name]])];
    remove[name] = [
      ...new Set([...older.remove[name].filter((url) => !newerAdd.has(url)), ...newer.remove[name]]),
    ];
  }
  return { add, remove };
}

// ---------------------------------------------------------------------------------------------------------------
// Secrets

/** `clientSecret` (specs) and `client_secret` (Auth0 connection options inside planned steps), and so on. */
const SECRET_KEYS: ReadonlySet<string> = new Set(
  SECRET_FIELDS.flatMap((field) => [field, field.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`)]),
);

const SEALED = '$sealed';
/** Marks a sealed value that was not a string (its JSON was sealed). */
const SEALED_JSON = '$json';

type Sealed = { [SEALED]: string; [SEALED_JSON]?: true };

/** A copy of `value` with every value under a secret key sealed. */
export function sealSecrets(value: unknown, box: SecretBox): unknown {
  if (Array.isArray(value)) return value.map((item) => sealSecrets(item, box));
  if (!isRecord(value)) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => {
      if (!SECRET_KEYS.has(key) || item === null || item === undefined) return [key, sealSecrets(item, box)];
      const sealed: Sealed =
        typeof item === 'string'
          ? { [SEALED]: box.seal(item) }
          : { [SEALED]: box.seal(JSON.stringify(item)), [SEALED_JSON]: true };
      return [key, sealed];
    }),
  );
}

/** The inverse of `sealSecrets`. */
export function openSecrets(value: unknown, box: SecretBox): unknown {
  if (Array.isArray(value)) return value.map((item) => openSecrets(item, box));
  if (!isRecord(value)) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => {
      if (!SECRET_KEYS.has(key) || !isSealed(item)) return [key, openSecrets(item, box)];
      const plaintext = box.open(item[SEALED]);
      return [key, item[SEALED_JSON] === true ? (JSON.parse(plaintext) as unknown) : plaintext];
    }),
  );
}

/** Every value under a secret key replaced by "(set)", sealed or not. */
function redactDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactDeep);
  if (!isRecord(value)) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [
      key,
      SECRET_KEYS.has(key) && item !== null && item !== undefined ? '(set)' : redactDeep(item),
    ]),
  );
}

function isSealed(value: unknown): value is Sealed {
  return isRecord(value) && typeof value[SEALED] === 'string';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
