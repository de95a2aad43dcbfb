/**
 * The API's resource shapes (zod: the source of the OpenAPI document) and the mappers from store records to them.
 * Secrets never leave through these: specs are redacted ("(set)") before they are put in a response.
 */
import { z } from 'zod';

import { HOOK_PHASES } from '../domain/app-hooks.js';
import { describeStep } from '../domain/plan.js';
import { orgSpecSchema, redactSecrets } from '../domain/org-spec.js';
import { ROLES } from '../domain/roles.js';
import type { AppHook } from '../ports/app-hooks.js';
import type { DeliveryAttempt, OutboxEvent } from '../ports/events.js';
import type { Deployment } from '../ports/gitops-state.js';
import type { RepoCommit } from '../ports/org-repository.js';
import { EVENT_TYPES } from '../domain/lifecycle-events.js';
import type {
  AuditEvent,
  BatchCounts,
  BatchProgress,
  OrgRecord,
  RunRecord,
  StepRecord,
} from '../ports/store.js';
import { CSV_COLUMNS, MAX_BULK_CHARACTERS } from '../services/bulk-apply.js';

const isoDate = z.iso.datetime();
const nullableDate = isoDate.nullable();

export const ORG_STATUSES = ['provisioning', 'active', 'failed', 'removing', 'removed'] as const;
export const RUN_STATES = ['pending', 'running', 'compensating', 'succeeded', 'failed'] as const;
export const ISOLATIONS = ['shared', 'isolated-database', 'dedicated-tenant'] as const;

export const orgSummarySchema = z.object({
  name: z.string(),
  displayName: z.string().nullable(),
  isolation: z.enum(ISOLATIONS),
  status: z.enum(ORG_STATUSES),
  tenant: z.string(),
  error: z.string().nullable(),
  lastRunId: z.string().nullable(),
  createdAt: isoDate,
  updatedAt: isoDate,
});

export const runSchema = z.object({
  id: z.string(),
  orgName: z.string(),
  tenant: z.string(),
  kind: z.enum(['apply', 'remove']),
  state: z.enum(RUN_STATES),
  requestedBy: z.string(),
  error: z.string().nullable(),
  cancelRequestedBy: z.string().nullable(),
  createdAt: isoDate,
  startedAt: nullableDate,
  finishedAt: nullableDate,
});

export const stepSchema = z.object({
  index: z.number().int(),
  phase: z.enum(['forward', 'compensation']),
  key: z.string(),
  kind: z.string(),
  description: z.string(),
  status: z.enum(['pending', 'started', 'done', 'failed', 'skipped']),
  attempts: z.number().int(),
  lastError: z.string().nullable(),
  startedAt: nullableDate,
  finishedAt: nullableDate,
});

export const runDetailSchema = runSchema.extend({
  steps: z.array(stepSchema),
  adminLink: z
    .string()
    .nullable()
    .describe('An invitation or password link for the organization administrator, shown to operators once.'),
});

export const organizationSchema = orgSummarySchema.extend({
  spec: orgSpecSchema,
  appliedSpec: orgSpecSchema.nullable(),
  auth0Ids: z.record(z.string(), z.string()),
  appData: z
    .record(z.string(), z.record(z.string(), z.unknown()))
    .describe("What the application's hooks returned for the organization, by hook name."),
  currentRun: runSchema.nullable(),
});

export const planStepSchema = z.object({ key: z.string(), kind: z.string(), description: z.string() });

export const planSchema = z.object({
  name: z.string(),
  exists: z.boolean(),
  steps: z.array(planStepSchema),
  before: orgSpecSchema.nullable(),
  after: orgSpecSchema,
});

export const removalPlanSchema = z.object({
  name: z.string(),
  steps: z.array(planStepSchema),
  kept: z.array(z.string()),
});

export const auditEventSchema = z.object({
  id: z.string(),
  at: isoDate,
  actor: z.string(),
  action: z.string(),
  orgName: z.string().nullable(),
  runId: z.string().nullable(),
  before: z.unknown(),
  after: z.unknown(),
});

export const meSchema = z.object({
  user: z.object({ sub: z.string(), email: z.string().nullable(), name: z.string().nullable() }),
  roles: z.array(z.enum(ROLES)),
  via: z.enum(['session', 'bearer']),
  csrfToken: z.string().nullable().describe('Send it back in `x-csrf-token` on state-changing requests.'),
  authTime: isoDate.nullable(),
  reauthenticatedUntil: isoDate
    .nullable()
    .describe('Removing an organization needs a sign-in newer than this.'),
  mode: z
    .enum(['live', 'gitops'])
    .describe('How changes are delivered: live runs, or commits to the GitOps repository (then deploy).'),
  gitops: z
    .object({ repository: z.string(), branch: z.string(), env: z.string() })
    .nullable()
    .describe('GitOps mode: the repository (credentials removed from its URL), branch and this environment.'),
});

export const catalogSchema = z.object({
  connections: z.array(z.object({ name: z.string(), strategy: z.string() })),
  clients: z.array(z.object({ name: z.string(), clientId: z.string() })),
});

export const samlSpSchema = z.object({
  connectionName: z.string(),
  acsUrl: z.string(),
  entityId: z.string(),
  signInUrl: z.string(),
  certificateUrl: z.string(),
  metadataUrl: z.string(),
});

export const sessionSchema = z.object({
  id: z.string(),
  subject: z.string(),
  email: z.string().nullable(),
  name: z.string().nullable(),
  roles: z.array(z.enum(ROLES)),
  authTime: isoDate,
  createdAt: isoDate,
  lastSeenAt: isoDate,
  current: z.boolean().describe("The caller's own session."),
});

export const hookSchema = z.object({
  name: z.string(),
  url: z.string(),
  phases: z.array(z.enum(HOOK_PHASES)),
  events: z.array(z.string()),
  allowPrivateNetwork: z.boolean(),
  disabled: z
    .object({ at: isoDate, reason: z.string() })
    .nullable()
    .describe('Set when event deliveries failed too long; they wait until the hook is enabled again.'),
  secret: z.literal('(set)'),
  createdBy: z.string(),
  createdAt: isoDate,
});

export const hookTestSchema = z.object({
  ok: z.boolean(),
  status: z.number().int().nullable(),
  detail: z.string().nullable(),
});

export function hookOf(hook: AppHook): z.output<typeof hookSchema> {
  return {
    ...hook,
    disabled: hook.disabled ? { at: hook.disabled.at.toISOString(), reason: hook.disabled.reason } : null,
    secret: '(set)',
    createdAt: hook.createdAt.toISOString(),
  };
}

export const deliverySchema = z.object({
  hookName: z.string(),
  state: z.enum(['pending', 'delivered']),
  attempts: z.number().int(),
  nextAttemptAt: nullableDate,
  lastStatus: z.number().int().nullable(),
  lastError: z.string().nullable(),
  deliveredAt: nullableDate,
});

export const lifecycleEventSchema = z.object({
  id: z.string().describe('Increasing; the webhook-id of its deliveries is `evt_<id>`.'),
  type: z.enum(EVENT_TYPES),
  orgName: z.string(),
  runId: z.string().nullable(),
  payload: z.record(z.string(), z.unknown()),
  createdAt: isoDate,
  deliveries: z.array(deliverySchema),
});

export const lifecycleEventDetailSchema = lifecycleEventSchema.extend({
  attempts: z.array(
    z.object({
      hookName: z.string(),
      at: isoDate,
      status: z.number().int().nullable(),
      error: z.string().nullable(),
      durationMs: z.number().int(),
    }),
  ),
});

export function lifecycleEventOf(event: OutboxEvent): z.output<typeof lifecycleEventSchema> {
  return {
    id: event.id,
    type: event.type,
    orgName: event.orgName,
    runId: event.runId ?? null,
    payload: event.payload,
    createdAt: event.createdAt.toISOString(),
    deliveries: event.deliveries.map((delivery) => ({
      hookName: delivery.hookName,
      state: delivery.state,
      attempts: delivery.attempts,
      nextAttemptAt: iso(delivery.nextAttemptAt),
      lastStatus: delivery.lastStatus ?? null,
      lastError: delivery.lastError ?? null,
      deliveredAt: iso(delivery.deliveredAt),
    })),
  };
}

export function lifecycleEventDetailOf(
  event: OutboxEvent & { attempts: DeliveryAttempt[] },
): z.output<typeof lifecycleEventDetailSchema> {
  return {
    ...lifecycleEventOf(event),
    attempts: event.attempts.map((attempt) => ({
      hookName: attempt.hookName,
      at: attempt.at.toISOString(),
      status: attempt.status ?? null,
      error: attempt.error ?? null,
      durationMs: attempt.durationMs,
    })),
  };
}

export const tenantSchema = z.object({
  name: z.string(),
  domain: z.string(),
  clientId: z.string(),
  createdAt: isoDate,
});

export const BATCH_FORMATS = ['yaml', 'json', 'csv'] as const;

export const bulkUploadSchema = z.strictObject({
  fileName: z
    .string()
    .min(1, 'must not be empty')
    .max(255, 'must be at most 255 characters')
    .describe('The uploaded file’s name; its extension (.yaml, .yml, .json, .csv) tells the format.'),
  format: z.enum(BATCH_FORMATS).optional().describe('The format, when the file name does not tell it.'),
  content: z
    .string()
    .min(1, 'must not be empty')
    .max(MAX_BULK_CHARACTERS, `must be at most ${MAX_BULK_CHARACTERS / 1024 / 1024} MiB`)
    .describe(
      `The file's text: organization specs as YAML documents separated by \`---\` (or a JSON array), or CSV with a header row naming these columns: ${CSV_COLUMNS.map((column) => column.name).join(', ')}.`,
    ),
});

const count = z.number().int();

export const bulkValidationSchema = z.object({
  format: z.enum(BATCH_FORMATS),
  total: count,
  creates: count.describe('Organizations the batch would create.'),
  updates: count.describe('Existing organizations it would update.'),
  busy: z
    .array(z.string())
    .describe('Organizations with an unfinished run (refused at start); the first 20.'),
  busyCount: count,
});

export const batchSchema = z.object({
  id: z.string(),
  requestedBy: z.string(),
  sourceName: z.string().describe('The uploaded file’s name.'),
  format: z.enum(BATCH_FORMATS),
  createdAt: isoDate,
  state: z
    .enum(['starting', 'running', 'finished'])
    .describe(
      'starting: runs are still being started; running: some run is unfinished; finished: all ended.',
    ),
  total: count,
  succeeded: count,
  failed: count.describe('Runs that failed.'),
  notStarted: count.describe('Organizations whose run could not be started (see failures, stage "start").'),
  open: count.describe('Runs not finished yet (pending, running, compensating).'),
  waiting: count.describe('Organizations whose run is not started yet.'),
  runs: z.object({
    pending: count,
    running: count,
    compensating: count,
    succeeded: count,
    failed: count,
  }),
  finishedAt: nullableDate,
  durationMs: count.describe('From the upload until the last run finished (until now while unfinished).'),
});

export const batchDetailSchema = batchSchema.extend({
  work: z
    .object({
      stepsDone: count,
      stepAttempts: count,
      auth0Calls: count.describe(
        'Management API calls the runs made (reads included; a write to a shared application that carries several runs’ URLs counts once, for the run that made it; an attempt cut short by a killed process is not counted).',
      ),
    })
    .describe('What the runs did: steps done and step attempts (from their journal), and Auth0 calls used.'),
  failures: z
    .array(
      z.object({
        reason: z.string().describe('The error, with the organization’s name as {org} and run ids as {id}.'),
        stage: z.enum(['run', 'start']).describe('run: the run failed; start: no run was started.'),
        count,
        organizations: z
          .array(z.object({ name: z.string(), runId: z.string().nullable() }))
          .describe('The first ones, in file order.'),
      }),
    )
    .describe('Failed and not started organizations, grouped by reason, largest group first.'),
});

export function batchOf(batch: BatchCounts): z.output<typeof batchSchema> {
  const { pending, running, compensating, succeeded, failed } = batch.runs;
  const open = pending + running + compensating;
  return {
    id: batch.id,
    requestedBy: batch.requestedBy,
    sourceName: batch.sourceName,
    format: batch.format,
    createdAt: batch.createdAt.toISOString(),
    state: batch.waiting > 0 ? 'starting' : open > 0 ? 'running' : 'finished',
    total: batch.total,
    succeeded,
    failed,
    notStarted: batch.refused,
    open,
    waiting: batch.waiting,
    runs: { ...batch.runs },
    finishedAt: iso(batch.finishedAt),
    durationMs: Math.round(batch.durationMs),
  };
}

export function batchDetailOf(batch: BatchProgress): z.output<typeof batchDetailSchema> {
  return {
    ...batchOf(batch),
    work: { stepsDone: batch.stepsDone, stepAttempts: batch.stepAttempts, auth0Calls: batch.auth0Calls },
    failures: batch.failures.map((group) => ({
      reason: group.reason,
      stage: group.stage,
      count: group.count,
      organizations: group.examples.map((example) => ({
        name: example.orgName,
        runId: example.runId ?? null,
      })),
    })),
  };
}

export const page = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), nextCursor: z.string().nullable() });

/** Query parameters of paged lists. */
export const pageQuery = {
  limit: z.coerce.number().int().min(1, 'must be at least 1').max(200, 'must be at most 200').default(50),
  cursor: z.string().max(200).optional(),
};

// ----------------------------------------------------------------------------------------------------------------
// Mappers

const iso = (date: Date | undefined): string | null => (date ? date.toISOString() : null);

export function orgSummaryOf(org: OrgRecord): z.output<typeof orgSummarySchema> {
  return {
    name: org.name,
    displayName: org.spec.displayName ?? null,
    isolation: org.spec.isolation,
    status: org.status,
    tenant: org.tenant,
    error: org.error ?? null,
    lastRunId: org.lastRunId ?? null,
    createdAt: org.createdAt.toISOString(),
    updatedAt: org.updatedAt.toISOString(),
  };
}

export function runOf(run: RunRecord): z.output<typeof runSchema> {
  return {
    id: run.id,
    orgName: run.orgName,
    tenant: run.tenant,
    kind: run.kind,
    state: run.state,
    requestedBy: run.requestedBy,
    error: run.error ?? null,
    cancelRequestedBy: run.cancelRequestedBy ?? null,
    createdAt: run.createdAt.toISOString(),
    startedAt: iso(run.startedAt),
    finishedAt: iso(run.finishedAt),
  };
}

export function stepOf(record: StepRecord): z.output<typeof stepSchema> {
  return {
    index: record.index,
    phase: record.phase,
    key: record.step.key,
    kind: record.step.kind,
    description: describeStep(record.step),
    status: record.status,
    attempts: record.attempts,
    lastError: record.lastError ?? null,
    startedAt: iso(record.startedAt),
    finishedAt: iso(record.finishedAt),
  };
}

export function organizationOf(
  org: OrgRecord,
  currentRun: RunRecord | undefined,
): z.output<typeof organizationSchema> {
  return {
    ...orgSummaryOf(org),
    spec: redactSecrets(org.spec),
    appliedSpec: org.appliedSpec ? redactSecrets(org.appliedSpec) : null,
    auth0Ids: org.auth0Ids,
    appData: org.appData,
    currentRun: currentRun ? runOf(currentRun) : null,
  };
}

export function auditEventOf(event: AuditEvent): z.output<typeof auditEventSchema> {
  return {
    id: event.id,
    at: event.at.toISOString(),
    actor: event.actor,
    action: event.action,
    orgName: event.orgName ?? null,
    runId: event.runId ?? null,
    before: event.before,
    after: event.after,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// GitOps mode (issue 5)

export const commitSchema = z.object({
  sha: z.string(),
  author: z.object({ name: z.string(), email: z.string() }),
  date: z.string().describe('ISO 8601'),
  subject: z.string(),
  body: z.string(),
});

/** A change in GitOps mode: the commit it became (null when the files stayed as they were). */
export const committedSchema = z.object({ commit: commitSchema.nullable() });

export const deploymentSchema = z.object({
  id: z.string(),
  env: z.string(),
  fromRevision: z.string().nullable(),
  toRevision: z.string(),
  state: z.enum(['running', 'succeeded', 'failed']),
  requestedBy: z.string(),
  runs: z.record(z.string(), z.string()).describe('organization name → run id'),
  summary: z.string().nullable(),
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
});

export const deployPlanSchema = z.object({
  env: z.string(),
  fromRevision: z.string().nullable(),
  toRevision: z.string(),
  organizations: z.array(
    z.object({ name: z.string(), action: z.enum(['apply', 'remove']), steps: z.array(planStepSchema) }),
  ),
  recreated: z.array(z.string()).optional().describe('rollback: organizations recreated with new Auth0 ids'),
});

export const historySchema = z.object({
  commits: z.array(commitSchema.extend({ deployedTo: z.array(z.string()) })),
  deployments: z.array(deploymentSchema),
});

export function commitOf(commit: RepoCommit): z.infer<typeof commitSchema> {
  return { ...commit, date: commit.date.toISOString() };
}

export function deploymentOf(deployment: Deployment): z.infer<typeof deploymentSchema> {
  return {
    ...deployment,
    fromRevision: deployment.fromRevision ?? null,
    summary: deployment.summary ?? null,
    startedAt: deployment.startedAt.toISOString(),
    finishedAt: deployment.finishedAt?.toISOString() ?? null,
  };
}
