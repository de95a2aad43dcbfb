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
import { EVENT_TYPES } from '../domain/lifecycle-events.js';
import type { AuditEvent, OrgRecord, RunRecord, StepRecord } from '../ports/store.js';

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
