/**
 * The `/api/v1` route table: every route with the permission it needs, its schemas, and its handler. The handlers
 * are thin: they call the organization service (the same one the CLI uses) and map records to the API's shapes.
 */
import { streamSSE } from 'hono/streaming';
import { z } from 'zod';

import type { Orgadmin } from '../composition-root.js';
import type { PortalConfig } from '../config/config.js';
import { OrgadminError } from '../domain/errors.js';
import { orgSpecSchema } from '../domain/org-spec.js';
import type { Deployment } from '../ports/gitops-state.js';
import type { RepoCommit } from '../ports/org-repository.js';
import type { RunChanges } from '../ports/run-changes.js';
import type { SessionStore, SessionTimeouts } from '../ports/sessions.js';
import { createBulkApplyService, type BulkApplyService } from '../services/bulk-apply.js';
import type { DeployProgress, DeployResult, GitopsService } from '../services/gitops.js';
import type { OrganizationService } from '../services/organizations.js';
import { defineRoute, type RouteDefinition } from './api-route.js';
import {
  auditEventOf,
  auditEventSchema,
  batchDetailOf,
  batchDetailSchema,
  batchOf,
  batchSchema,
  bulkUploadSchema,
  bulkValidationSchema,
  catalogSchema,
  commitOf,
  committedSchema,
  deploymentOf,
  deploymentSchema,
  deployPlanSchema,
  historySchema,
  ISOLATIONS,
  meSchema,
  organizationOf,
  organizationSchema,
  ORG_STATUSES,
  orgSummaryOf,
  orgSummarySchema,
  page,
  pageQuery,
  planSchema,
  removalPlanSchema,
  RUN_STATES,
  runDetailSchema,
  runOf,
  runSchema,
  samlSpSchema,
  sessionSchema,
  hookSchema,
  hookOf,
  lifecycleEventDetailOf,
  lifecycleEventDetailSchema,
  lifecycleEventOf,
  lifecycleEventSchema,
  hookTestSchema,
  stepOf,
  tenantSchema,
} from './api-schemas.js';

export interface ApiDeps {
  orgadmin: Orgadmin;
  service: OrganizationService;
  runChanges: RunChanges;
  portal: PortalConfig;
  sessions: SessionStore;
  sessionTimeouts: SessionTimeouts;
  /** Bulk applies; by default one on `service`, starting runs in this process. */
  bulk?: BulkApplyService;
  log?: (line: string) => void;
}

const orgName = z.object({ name: z.string().min(1).max(50) });
const runId = z.object({ id: z.uuid('must be a run id (a UUID)') });
const batchId = z.object({ id: z.uuid('must be a batch id (a UUID)') });
const eventId = z.object({
  id: z.string().regex(/^[1-9][0-9]{0,18}$/, 'must be an event id (a positive integer)'),
});
/** The body's spec is validated by the service, so its errors carry `spec.invalid` with paths inside the spec. */
/** Why a change is made: in GitOps mode it goes into the commit message. */
const reason = z.string().max(500).optional();

const specOnly = z
  .strictObject({ spec: z.unknown(), reason })
  .describe(
    '`{ spec, reason? }`: an organization spec (see README); in GitOps mode `reason` goes into the commit.',
  );

/** The answer to a change: a run (live mode) or a commit (GitOps mode). */
const changed = z.union([z.object({ organization: organizationSchema, run: runSchema }), committedSchema]);

function committed(
  c: { json: (value: unknown, status?: number) => Response },
  commit: RepoCommit | undefined,
) {
  return c.json({ commit: commit ? commitOf(commit) : null }, 202);
}

/** The delivery mode the UI adapts to; a repository URL's credentials are never shown. */
function deliveryMode(deps: ApiDeps) {
  const { config } = deps.orgadmin;
  if (config.mode !== 'gitops' || !config.gitops) return { mode: 'live' as const, gitops: null };
  const { repository, branch, env } = config.gitops;
  return {
    mode: 'gitops' as const,
    gitops: { repository: repository.replace(/\/\/[^/@]*@/, '//'), branch, env },
  };
}

function gitopsOf(deps: ApiDeps): GitopsService {
  if (!deps.orgadmin.gitops)
    throw new OrgadminError(
      'mode.mismatch',
      'This installation runs in live mode (ORGADMIN_MODE=gitops to use GitOps).',
    );
  return deps.orgadmin.gitops;
}

function planOf(result: DeployResult) {
  return {
    env: result.env,
    fromRevision: result.fromRevision ?? null,
    toRevision: result.toRevision,
    organizations: result.organizations,
  };
}

/**
 * Starts a deployment in the background and resolves with its record as soon as it exists; an error before that
 * (locked, invalid repository) is the request's error. Later failures are the deployment's and its runs'.
 */
function startedDeployment(
  start: (onProgress: DeployProgress) => Promise<unknown>,
  log: (line: string) => void,
): Promise<Deployment> {
  return new Promise((resolve, reject) => {
    let started = false;
    start((event) => {
      if (event.kind === 'started' && !started) {
        started = true;
        resolve(event.deployment);
      }
    }).then(
      () => {
        if (!started) reject(new Error('the deployment ended before it was recorded'));
      },
      (error: unknown) => {
        if (!started) reject(error instanceof Error ? error : new Error(String(error)));
        // After the answer, the deployment's record holds the failure; the server log keeps the details.
        else
          log(
            `gitops deployment stopped: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
          );
      },
    );
  });
}

const encodeCursor = (value: string): string => Buffer.from(value, 'utf8').toString('base64url');
function decodeCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined;
  const value = Buffer.from(cursor, 'base64url').toString('utf8');
  if (value === '' || encodeCursor(value) !== cursor)
    throw new OrgadminError(
      'request.invalid',
      'invalid request: query.cursor: is not a cursor this API issued',
      {
        issues: [{ path: 'query.cursor', message: 'is not a cursor this API issued' }],
      },
    );
  return value;
}

/** Every run event a stream sends carries the whole run with its steps (the UI redraws from it). */
async function runDetail(deps: ApiDeps, id: string): Promise<z.output<typeof runDetailSchema> | undefined> {
  const run = await deps.orgadmin.store.getRun(id);
  if (!run) return undefined;
  const steps = await deps.orgadmin.store.steps(id);
  return { ...runOf(run), steps: steps.map(stepOf), adminLink: deps.service.adminLink(id) ?? null };
}

const FINISHED = new Set(['succeeded', 'failed']);
const HEARTBEAT_MS = 15_000;

export function apiRoutes(deps: ApiDeps): RouteDefinition[] {
  const { store } = deps.orgadmin;
  const bulk =
    deps.bulk ??
    createBulkApplyService({ store, organizations: deps.service, ...(deps.log ? { log: deps.log } : {}) });
  const json = (c: { json: (value: unknown, status?: number) => Response }, value: unknown, status = 200) =>
    c.json(value, status);

  return [
    defineRoute({
      method: 'get',
      path: '/me',
      permission: 'read',
      operationId: 'getMe',
      summary: 'The caller: identity, roles, CSRF token',
      tags: ['session'],
      responses: { 200: { description: 'The caller', schema: meSchema } },
      handler: ({ c, principal }) => {
        if (principal.kind === 'bearer')
          return json(c, {
            user: { sub: principal.subject, email: null, name: null },
            roles: principal.roles,
            via: 'bearer',
            csrfToken: null,
            authTime: null,
            reauthenticatedUntil: null,
            ...deliveryMode(deps),
          });
        const { session } = principal;
        return json(c, {
          user: { sub: session.subject, email: session.email ?? null, name: session.name ?? null },
          roles: session.roles,
          via: 'session',
          csrfToken: session.csrfToken,
          authTime: session.authTime.toISOString(),
          reauthenticatedUntil: new Date(
            session.authTime.getTime() + deps.portal.reauthMinutes * 60_000,
          ).toISOString(),
          ...deliveryMode(deps),
        });
      },
    }),

    defineRoute({
      method: 'get',
      path: '/organizations',
      permission: 'read',
      operationId: 'listOrganizations',
      summary: 'List organizations',
      description:
        'By name. `q` matches part of the name, display name or a home-realm domain. Removed organizations are listed only with `status=removed`.',
      tags: ['organizations'],
      query: z.object({
        q: z.string().max(200).optional(),
        status: z.enum(ORG_STATUSES).optional(),
        isolation: z.enum(ISOLATIONS).optional(),
        ...pageQuery,
      }),
      responses: { 200: { description: 'A page of organizations', schema: page(orgSummarySchema) } },
      handler: async ({ c, query }) => {
        const after = decodeCursor(query.cursor);
        const orgs = await store.listOrgs({
          ...(query.status ? { status: query.status } : { excludeRemoved: true }),
          ...(query.isolation ? { isolation: query.isolation } : {}),
          ...(query.q ? { q: query.q } : {}),
          ...(after ? { after } : {}),
          limit: query.limit + 1,
        });
        const items = orgs.slice(0, query.limit);
        return json(c, {
          items: items.map(orgSummaryOf),
          nextCursor: orgs.length > query.limit ? encodeCursor(items.at(-1)!.name) : null,
        });
      },
    }),

    defineRoute({
      method: 'post',
      path: '/organizations',
      permission: 'write',
      operationId: 'createOrganization',
      summary: 'Create an organization (apply a spec)',
      description: 'Records a run and queues it; follow it with GET /runs/{id} or /runs/{id}/events.',
      tags: ['organizations'],
      body: specOnly,
      responses: {
        202: {
          description: 'The run is queued (live mode) or the change committed (GitOps mode)',
          schema: changed,
        },
        409: { description: 'The organization exists (org.exists)' },
      },
      handler: async ({ c, principal, body }) => {
        if (deps.service.mode === 'gitops')
          return committed(c, await deps.service.commits.create(body.spec, principal.actor, body.reason));
        const { organization, run } = await deps.service.create(body.spec, principal.actor);
        return json(c, { organization: organizationOf(organization, run), run: runOf(run) }, 202);
      },
    }),

    defineRoute({
      method: 'post',
      path: '/organizations/plan',
      permission: 'write',
      operationId: 'planOrganization',
      summary: 'Plan a spec without applying it (dry run: no writes)',
      tags: ['organizations'],
      body: specOnly,
      responses: { 200: { description: 'What applying the spec would do', schema: planSchema } },
      handler: async ({ c, body }) => json(c, await deps.service.planCreate(body.spec)),
    }),

    defineRoute({
      method: 'get',
      path: '/organizations/{name}',
      permission: 'read',
      operationId: 'getOrganization',
      summary: 'One organization: spec (secrets redacted), Auth0 ids, current run',
      tags: ['organizations'],
      params: orgName,
      responses: { 200: { description: 'The organization', schema: organizationSchema } },
      handler: async ({ c, params }) => {
        const org = await store.getOrg(params.name);
        if (!org) throw new OrgadminError('org.not_found', `No organization named ${params.name}.`);
        const run = org.lastRunId ? await store.getRun(org.lastRunId) : undefined;
        return json(c, organizationOf(org, run));
      },
    }),

    defineRoute({
      method: 'put',
      path: '/organizations/{name}',
      permission: 'write',
      operationId: 'replaceOrganization',
      summary: 'Replace the spec of an organization and apply it',
      description: 'Secret fields sent as "(set)" keep their current value.',
      tags: ['organizations'],
      params: orgName,
      body: specOnly,
      responses: {
        202: {
          description: 'The run is queued (live mode) or the change committed (GitOps mode)',
          schema: changed,
        },
      },
      handler: async ({ c, principal, params, body }) => {
        if (deps.service.mode === 'gitops')
          return committed(
            c,
            await deps.service.commits.update(params.name, body.spec, principal.actor, body.reason),
          );
        const { organization, run } = await deps.service.update(params.name, body.spec, principal.actor);
        return json(c, { organization: organizationOf(organization, run), run: runOf(run) }, 202);
      },
    }),

    defineRoute({
      method: 'patch',
      path: '/organizations/{name}',
      permission: 'write',
      operationId: 'patchOrganization',
      summary: 'Change part of the spec (JSON merge patch, RFC 7396) and apply it',
      tags: ['organizations'],
      params: orgName,
      body: z.strictObject({ patch: z.record(z.string(), z.unknown()), reason }),
      responses: {
        202: {
          description: 'The run is queued (live mode) or the change committed (GitOps mode)',
          schema: changed,
        },
      },
      handler: async ({ c, principal, params, body }) => {
        if (deps.service.mode === 'gitops')
          return committed(
            c,
            await deps.service.commits.patch(params.name, body.patch, principal.actor, body.reason),
          );
        const { organization, run } = await deps.service.patch(params.name, body.patch, principal.actor);
        return json(c, { organization: organizationOf(organization, run), run: runOf(run) }, 202);
      },
    }),

    defineRoute({
      method: 'post',
      path: '/organizations/{name}/plan',
      permission: 'write',
      operationId: 'planOrganizationUpdate',
      summary: 'Plan a new spec for an existing organization (dry run: no writes)',
      tags: ['organizations'],
      params: orgName,
      body: specOnly,
      responses: { 200: { description: 'The difference and the steps', schema: planSchema } },
      handler: async ({ c, params, body }) => json(c, await deps.service.planUpdate(params.name, body.spec)),
    }),

    defineRoute({
      method: 'get',
      path: '/organizations/{name}/removal-plan',
      permission: 'read',
      operationId: 'planOrganizationRemoval',
      summary: 'What removing the organization would delete, and what it keeps',
      tags: ['organizations'],
      params: orgName,
      responses: { 200: { description: 'The removal plan', schema: removalPlanSchema } },
      handler: async ({ c, params }) => json(c, await deps.service.planRemoval(params.name)),
    }),

    defineRoute({
      method: 'delete',
      path: '/organizations/{name}',
      permission: 'administer',
      freshSignIn: true,
      operationId: 'removeOrganization',
      summary: 'Remove an organization (deprovision what orgadmin created)',
      description: `Browser sessions need a sign-in at most PORTAL_REAUTH_MINUTES old (auth.reauthentication_required otherwise).`,
      tags: ['organizations'],
      params: orgName,
      query: z.object({ reason }),
      responses: {
        202: {
          description: 'The removal run is queued (live mode) or the removal committed (GitOps mode)',
          schema: z.union([z.object({ run: runSchema }), committedSchema]),
        },
      },
      handler: async ({ c, principal, params, query }) =>
        deps.service.mode === 'gitops'
          ? committed(c, await deps.service.commits.remove(params.name, principal.actor, query.reason))
          : json(c, { run: runOf(await deps.service.remove(params.name, principal.actor)) }, 202),
    }),

    defineRoute({
      method: 'get',
      path: '/gitops/history',
      permission: 'read',
      operationId: 'gitopsHistory',
      summary: 'GitOps: the organization repository’s commits and the deployments of each environment',
      tags: ['gitops'],
      query: z.object({ limit: z.coerce.number().int().min(1).max(500).default(50) }),
      responses: { 200: { description: 'Newest first', schema: historySchema } },
      handler: async ({ c, query }) => {
        const { commits, deployments } = await gitopsOf(deps).history(query.limit);
        const deployedTo = new Map<string, string[]>();
        const seen = new Set<string>();
        for (const deployment of deployments) {
          if (deployment.state !== 'succeeded' || seen.has(deployment.env)) continue;
          seen.add(deployment.env);
          deployedTo.set(deployment.toRevision, [
            ...(deployedTo.get(deployment.toRevision) ?? []),
            deployment.env,
          ]);
        }
        return json(c, {
          commits: commits.map((commit) => ({
            ...commitOf(commit),
            deployedTo: deployedTo.get(commit.sha) ?? [],
          })),
          deployments: deployments.map(deploymentOf),
        });
      },
    }),

    defineRoute({
      method: 'post',
      path: '/gitops/deploy',
      permission: 'write',
      operationId: 'gitopsDeploy',
      summary: 'GitOps: deploy a revision of the organization repository (dryRun: its plan only)',
      description:
        'A dry run answers with each changed organization’s plan. Otherwise the deployment starts in the server and the answer is the deployment record; follow it with GET /gitops/history and the runs it lists.',
      tags: ['gitops'],
      body: z.strictObject({ to: z.string().min(1).max(200).optional(), dryRun: z.boolean().optional() }),
      responses: {
        200: { description: 'The plan (dry run)', schema: deployPlanSchema },
        202: { description: 'The deployment started', schema: deploymentSchema },
        409: { description: 'Another deployment to this environment is running (deploy.locked)' },
      },
      handler: async ({ c, principal, body }) => {
        const gitops = gitopsOf(deps);
        if (body.dryRun)
          return json(c, planOf(await gitops.deploy({ to: body.to, dryRun: true, actor: principal.actor })));
        const deployment = await startedDeployment(
          (onProgress) => gitops.deploy({ to: body.to, actor: principal.actor, onProgress }),
          deps.log ?? (() => undefined),
        );
        return json(c, deploymentOf(deployment), 202);
      },
    }),

    defineRoute({
      method: 'post',
      path: '/gitops/rollback',
      permission: 'administer',
      freshSignIn: true,
      operationId: 'gitopsRollback',
      summary: 'GitOps: restore every organization of an earlier revision (a new commit) and deploy it',
      description:
        'dryRun answers with the plan and the organizations that would be recreated with new Auth0 ids. Browser sessions need a sign-in at most PORTAL_REAUTH_MINUTES old.',
      tags: ['gitops'],
      body: z.strictObject({ to: z.string().min(1).max(200), dryRun: z.boolean().optional(), reason }),
      responses: {
        200: { description: 'The plan (dry run)', schema: deployPlanSchema },
        202: { description: 'Committed; the deployment started', schema: deploymentSchema },
      },
      handler: async ({ c, principal, body }) => {
        const gitops = gitopsOf(deps);
        if (body.dryRun) {
          const preview = await gitops.rollback({ to: body.to, actor: principal.actor, dryRun: true });
          return json(c, { ...planOf(preview.plan), recreated: preview.recreated });
        }
        const deployment = await startedDeployment(
          (onProgress) =>
            gitops.rollback({ to: body.to, actor: principal.actor, reason: body.reason, onProgress }),
          deps.log ?? (() => undefined),
        );
        return json(c, deploymentOf(deployment), 202);
      },
    }),

    defineRoute({
      method: 'get',
      path: '/runs',
      permission: 'read',
      operationId: 'listRuns',
      summary: 'Runs, newest first',
      tags: ['runs'],
      query: z.object({
        org: z.string().max(50).optional(),
        state: z.enum(RUN_STATES).optional(),
        ...pageQuery,
      }),
      responses: { 200: { description: 'A page of runs', schema: page(runSchema) } },
      handler: async ({ c, query }) => {
        const before = decodeCursor(query.cursor);
        const runs = await store.listRuns({
          ...(query.org ? { orgName: query.org } : {}),
          ...(query.state ? { state: query.state } : {}),
          ...(before ? { before } : {}),
          limit: query.limit + 1,
        });
        const items = runs.slice(0, query.limit);
        return json(c, {
          items: items.map(runOf),
          nextCursor: runs.length > query.limit ? encodeCursor(items.at(-1)!.id) : null,
        });
      },
    }),

    defineRoute({
      method: 'get',
      path: '/runs/{id}',
      permission: 'read',
      operationId: 'getRun',
      summary: 'One run and its steps',
      tags: ['runs'],
      params: runId,
      responses: { 200: { description: 'The run', schema: runDetailSchema } },
      handler: async ({ c, params }) => {
        const detail = await runDetail(deps, params.id);
        if (!detail) throw new OrgadminError('run.not_found', `No run ${params.id}.`);
        return json(c, detail);
      },
    }),

    defineRoute({
      method: 'get',
      path: '/runs/{id}/events',
      permission: 'read',
      operationId: 'streamRun',
      summary: 'Live progress of one run (Server-Sent Events)',
      description:
        'Each `run` event carries the run with its steps: one at once, then one per change; the stream ends when the run has finished.',
      tags: ['runs'],
      params: runId,
      responses: {
        200: {
          description: '`event: run` messages',
          schema: runDetailSchema,
          contentType: 'text/event-stream',
        },
      },
      handler: async ({ c, params }) => {
        const first = await runDetail(deps, params.id);
        if (!first) throw new OrgadminError('run.not_found', `No run ${params.id}.`);
        return streamSSE(c, async (stream) => {
          let wake: (() => void) | undefined;
          let changed = true;
          const unsubscribe = deps.runChanges.subscribe((id) => {
            if (id !== params.id) return;
            changed = true;
            wake?.();
          });
          const heartbeat = setInterval(() => wake?.(), HEARTBEAT_MS);
          stream.onAbort(() => wake?.());
          try {
            let last = '';
            while (!stream.aborted) {
              if (changed) {
                changed = false;
                const detail = await runDetail(deps, params.id);
                if (!detail) break;
                const data = JSON.stringify(detail);
                if (data !== last) {
                  last = data;
                  await stream.writeSSE({ event: 'run', data, id: String(Date.now()) });
                }
                if (FINISHED.has(detail.state)) break;
              } else {
                await stream.write(': keep-alive\n\n');
              }
              if (!changed) await new Promise<void>((resolve) => (wake = resolve));
              wake = undefined;
            }
          } finally {
            clearInterval(heartbeat);
            unsubscribe();
          }
        });
      },
    }),

    defineRoute({
      method: 'get',
      path: '/events',
      permission: 'read',
      operationId: 'streamRuns',
      summary: 'Live changes of every run (Server-Sent Events)',
      tags: ['runs'],
      responses: {
        200: {
          description: '`event: run` messages with the run',
          schema: runSchema,
          contentType: 'text/event-stream',
        },
      },
      handler: ({ c }) =>
        streamSSE(c, async (stream) => {
          const pending = new Set<string>();
          let wake: (() => void) | undefined;
          const unsubscribe = deps.runChanges.subscribe((id) => {
            pending.add(id);
            wake?.();
          });
          const heartbeat = setInterval(() => wake?.(), HEARTBEAT_MS);
          stream.onAbort(() => wake?.());
          try {
            await stream.write(': connected\n\n');
            while (!stream.aborted) {
              if (pending.size === 0) {
                await new Promise<void>((resolve) => (wake = resolve));
                wake = undefined;
                if (pending.size === 0 && !stream.aborted) await stream.write(': keep-alive\n\n');
                continue;
              }
              const ids = [...pending];
              pending.clear();
              for (const id of ids) {
                const run = await store.getRun(id);
                if (run) await stream.writeSSE({ event: 'run', data: JSON.stringify(runOf(run)) });
              }
            }
          } finally {
            clearInterval(heartbeat);
            unsubscribe();
          }
        }),
    }),

    defineRoute({
      method: 'post',
      path: '/runs/{id}/retry',
      permission: 'write',
      operationId: 'retryRun',
      summary: 'Retry a failed run (a new run with the same request)',
      tags: ['runs'],
      params: runId,
      responses: { 202: { description: 'The new run is queued', schema: z.object({ run: runSchema }) } },
      handler: async ({ c, principal, params }) =>
        json(c, { run: runOf(await deps.service.retry(params.id, principal.actor)) }, 202),
    }),

    defineRoute({
      method: 'post',
      path: '/runs/{id}/cancel',
      permission: 'write',
      operationId: 'cancelRun',
      summary: 'Cancel an unfinished run (what it did is compensated)',
      tags: ['runs'],
      params: runId,
      responses: { 202: { description: 'Cancellation requested', schema: z.object({ run: runSchema }) } },
      handler: async ({ c, principal, params }) =>
        json(c, { run: runOf(await deps.service.cancel(params.id, principal.actor)) }, 202),
    }),

    defineRoute({
      method: 'post',
      path: '/batches/validate',
      permission: 'write',
      operationId: 'validateBatch',
      summary: 'Check a file of organization specs (YAML documents or CSV rows) without starting anything',
      description:
        'Every document or row is checked like a single spec, plus duplicate names and the shared connections and applications named. Any problem refuses the whole file: `spec.invalid` with `details.issues` naming the row (`row 3 adminEmail`) or document (`#2 name`), the field and the rule (the first 100).',
      tags: ['bulk apply'],
      body: bulkUploadSchema,
      responses: {
        200: { description: 'The file is valid: what it would do', schema: bulkValidationSchema },
      },
      handler: async ({ c, body }) => json(c, await bulk.validate(body)),
    }),

    defineRoute({
      method: 'post',
      path: '/batches',
      permission: 'write',
      operationId: 'startBatch',
      summary: 'Apply every organization of a file (create or update) as one batch',
      description:
        'The file is checked as by `POST /batches/validate`; nothing starts unless all of it is valid. Then each organization gets its run (a creation, or an update of an existing one) in file order; follow the batch with `GET /batches/{id}`.',
      tags: ['bulk apply'],
      body: bulkUploadSchema,
      responses: {
        202: { description: 'The batch is recorded; its runs are being started', schema: batchDetailSchema },
      },
      handler: async ({ c, principal, body }) => {
        // In GitOps mode a change is a commit; a batch of runs would bypass the repository.
        if (deps.service.mode === 'gitops')
          throw new OrgadminError(
            'mode.mismatch',
            'Bulk apply starts runs, and this installation runs in GitOps mode: commit the organizations to the repository (orgadmin org apply -f DIR commits them) and deploy.',
          );
        return json(c, batchDetailOf(await bulk.start(body, principal.actor)), 202);
      },
    }),

    defineRoute({
      method: 'get',
      path: '/batches',
      permission: 'read',
      operationId: 'listBatches',
      summary: 'Bulk applies, newest first, with their counts',
      tags: ['bulk apply'],
      query: z.object({ ...pageQuery }),
      responses: { 200: { description: 'A page of batches', schema: page(batchSchema) } },
      handler: async ({ c, query }) => {
        const before = decodeCursor(query.cursor);
        const batches = await bulk.list({ ...(before ? { before } : {}), limit: query.limit + 1 });
        const items = batches.slice(0, query.limit);
        return json(c, {
          items: items.map(batchOf),
          nextCursor: batches.length > query.limit ? encodeCursor(items.at(-1)!.id) : null,
        });
      },
    }),

    defineRoute({
      method: 'get',
      path: '/batches/{id}',
      permission: 'read',
      operationId: 'getBatch',
      summary: "One bulk apply's progress and summary: counts, duration, work done, failures by reason",
      tags: ['bulk apply'],
      params: batchId,
      responses: { 200: { description: 'The batch', schema: batchDetailSchema } },
      handler: async ({ c, params }) => json(c, batchDetailOf(await bulk.get(params.id))),
    }),

    defineRoute({
      method: 'get',
      path: '/audit',
      permission: 'read',
      operationId: 'listAuditEvents',
      summary: 'Audit events, newest first',
      tags: ['audit'],
      query: z.object({
        org: z.string().max(50).optional(),
        actor: z.string().max(300).optional(),
        since: z.iso.datetime({ offset: true }).optional(),
        until: z.iso.datetime({ offset: true }).optional(),
        ...pageQuery,
      }),
      responses: { 200: { description: 'A page of audit events', schema: page(auditEventSchema) } },
      handler: async ({ c, query }) => {
        const beforeId = decodeCursor(query.cursor);
        const events = await store.audit({
          ...(query.org ? { orgName: query.org } : {}),
          ...(query.actor ? { actor: query.actor } : {}),
          ...(query.since ? { since: new Date(query.since) } : {}),
          ...(query.until ? { until: new Date(query.until) } : {}),
          ...(beforeId ? { beforeId } : {}),
          limit: query.limit + 1,
        });
        const items = events.slice(0, query.limit);
        return json(c, {
          items: items.map(auditEventOf),
          nextCursor: events.length > query.limit ? encodeCursor(items.at(-1)!.id) : null,
        });
      },
    }),

    defineRoute({
      method: 'get',
      path: '/catalog',
      permission: 'read',
      operationId: 'getCatalog',
      summary: 'Shared connections and applications of the default tenant (for specs to refer to)',
      tags: ['tenants'],
      responses: { 200: { description: 'The catalog', schema: catalogSchema } },
      handler: async ({ c }) => json(c, await deps.service.catalog()),
    }),

    defineRoute({
      method: 'get',
      path: '/saml-sp',
      permission: 'read',
      operationId: 'getSamlServiceProvider',
      summary: "The SAML service-provider details the customer's IT needs (ACS URL, entity ID, certificate)",
      tags: ['organizations'],
      query: z.object({ org: orgSpecSchema.shape.name }),
      responses: { 200: { description: 'Service-provider details', schema: samlSpSchema } },
      handler: ({ c, query }) => json(c, deps.service.samlServiceProvider(query.org)),
    }),

    defineRoute({
      method: 'get',
      path: '/hooks',
      permission: 'administer',
      operationId: 'listHooks',
      summary: "The application's hook endpoints (secrets are never shown)",
      tags: ['hooks'],
      responses: { 200: { description: 'The hooks', schema: z.object({ items: z.array(hookSchema) }) } },
      handler: async ({ c }) => json(c, { items: (await deps.orgadmin.hooks.list()).map(hookOf) }),
    }),

    defineRoute({
      method: 'post',
      path: '/hooks',
      permission: 'administer',
      operationId: 'addHook',
      summary:
        'Add a hook endpoint (https; a Standard Webhooks secret; the run phases it takes part in and the events it receives)',
      tags: ['hooks'],
      body: z
        .unknown()
        .describe('`{name, url, secret, phases?, events?, allowPrivateNetwork?}` (docs/hooks-and-events.md)'),
      responses: {
        201: { description: 'The hook (without its secret)', schema: hookSchema },
        409: { description: 'A hook with this name exists (hook.exists)' },
      },
      handler: async ({ c, principal, body }) =>
        json(c, hookOf(await deps.orgadmin.hooks.add(body, principal.actor)), 201),
    }),

    defineRoute({
      method: 'delete',
      path: '/hooks/{name}',
      permission: 'administer',
      operationId: 'removeHook',
      summary: 'Remove a hook endpoint',
      tags: ['hooks'],
      params: z.object({ name: z.string().min(1).max(63) }),
      responses: { 204: { description: 'Removed' } },
      handler: async ({ c, principal, params }) => {
        await deps.orgadmin.hooks.remove(params.name, principal.actor);
        return c.body(null, 204);
      },
    }),

    defineRoute({
      method: 'post',
      path: '/hooks/{name}/test',
      permission: 'administer',
      operationId: 'testHook',
      summary: 'Send a signed "hook.test" message to the endpoint and report its answer',
      tags: ['hooks'],
      params: z.object({ name: z.string().min(1).max(63) }),
      responses: { 200: { description: 'The endpoint’s answer', schema: hookTestSchema } },
      handler: async ({ c, params }) => json(c, await deps.orgadmin.hooks.test(params.name)),
    }),

    defineRoute({
      method: 'post',
      path: '/hooks/{name}/enable',
      permission: 'administer',
      operationId: 'enableHook',
      summary: 'Enable a hook disabled after failed event deliveries (its waiting deliveries resume)',
      tags: ['hooks'],
      params: z.object({ name: z.string().min(1).max(63) }),
      responses: { 204: { description: 'Enabled' } },
      handler: async ({ c, principal, params }) => {
        await deps.orgadmin.hooks.enable(params.name, principal.actor);
        return c.body(null, 204);
      },
    }),

    defineRoute({
      method: 'get',
      path: '/lifecycle-events',
      permission: 'read',
      operationId: 'listLifecycleEvents',
      summary: 'Lifecycle events of the outbox, newest first, with their deliveries',
      tags: ['events'],
      query: z.object({ org: z.string().max(50).optional(), ...pageQuery }),
      responses: { 200: { description: 'A page of events', schema: page(lifecycleEventSchema) } },
      handler: async ({ c, query }) => {
        const beforeId = decodeCursor(query.cursor);
        const events = await deps.orgadmin.events.list({
          ...(query.org ? { orgName: query.org } : {}),
          ...(beforeId ? { beforeId } : {}),
          limit: query.limit + 1,
        });
        const items = events.slice(0, query.limit);
        return json(c, {
          items: items.map(lifecycleEventOf),
          nextCursor: events.length > query.limit ? encodeCursor(items.at(-1)!.id) : null,
        });
      },
    }),

    defineRoute({
      method: 'get',
      path: '/lifecycle-events/{id}',
      permission: 'read',
      operationId: 'getLifecycleEvent',
      summary: 'One lifecycle event with its delivery log',
      tags: ['events'],
      params: eventId,
      responses: { 200: { description: 'The event', schema: lifecycleEventDetailSchema } },
      handler: async ({ c, params }) =>
        json(c, lifecycleEventDetailOf(await deps.orgadmin.events.get(params.id))),
    }),

    defineRoute({
      method: 'post',
      path: '/lifecycle-events/{id}/replay',
      permission: 'write',
      operationId: 'replayLifecycleEvent',
      summary: 'Send an event again to the hooks subscribed to it (same webhook-id)',
      tags: ['events'],
      params: eventId,
      body: z.object({
        hook: z
          .string()
          .min(1)
          .max(63)
          .optional()
          .describe('Only to this hook (default: every subscribed one).'),
      }),
      responses: {
        202: { description: 'Queued', schema: z.object({ queued: z.number().int() }) },
      },
      handler: async ({ c, principal, params, body }) =>
        json(c, await deps.orgadmin.events.replay(params.id, principal.actor, body.hook), 202),
    }),

    defineRoute({
      method: 'get',
      path: '/sessions',
      permission: 'administer',
      operationId: 'listSessions',
      summary: 'Live operator sessions, most recently used first',
      tags: ['session'],
      responses: {
        200: { description: 'The sessions', schema: z.object({ items: z.array(sessionSchema) }) },
      },
      handler: async ({ c, principal }) =>
        json(c, {
          items: (await deps.sessions.listSessions(deps.sessionTimeouts)).map((session) => ({
            id: session.id,
            subject: session.subject,
            email: session.email ?? null,
            name: session.name ?? null,
            roles: session.roles,
            authTime: session.authTime.toISOString(),
            createdAt: session.createdAt.toISOString(),
            lastSeenAt: session.lastSeenAt.toISOString(),
            current: principal.kind === 'session' && principal.session.id === session.id,
          })),
        }),
    }),

    defineRoute({
      method: 'delete',
      path: '/sessions/{id}',
      permission: 'administer',
      operationId: 'endSession',
      summary: "End an operator's session (they must sign in again)",
      tags: ['session'],
      params: z.object({ id: z.string().min(1).max(100) }),
      responses: { 204: { description: 'The session has ended' } },
      handler: async ({ c, principal, params }) => {
        if (!(await deps.sessions.endSession(params.id)))
          throw new OrgadminError('not_found', 'No such session (it may have ended already).');
        deps.log?.(`orgadmin: session ${params.id.slice(0, 8)}… ended by ${principal.actor}`);
        return c.body(null, 204);
      },
    }),

    defineRoute({
      method: 'get',
      path: '/tenants',
      permission: 'administer',
      operationId: 'listTenants',
      summary: 'Registered Auth0 tenants (for dedicated-tenant organizations)',
      tags: ['tenants'],
      responses: { 200: { description: 'The tenants', schema: z.object({ items: z.array(tenantSchema) }) } },
      handler: async ({ c }) =>
        json(c, {
          items: (await store.listTenants()).map((tenant) => ({
            name: tenant.name,
            domain: tenant.domain,
            clientId: tenant.clientId,
            createdAt: tenant.createdAt.toISOString(),
          })),
        }),
    }),
  ];
}
