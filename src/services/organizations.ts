/**
 * What an operator can ask of orgadmin, whichever face they use (HTTP API, portal, CLI): plan, create, update and
 * remove organizations, retry and cancel runs, and the read models the faces show. Every change is recorded as a
 * run and handed to the queue; the engine (a worker, in this process or another) carries it out.
 */
import { OrgadminError } from '../domain/errors.js';
import { mergePatch } from '../domain/merge-patch.js';
import { connectionNameFor } from '../domain/naming.js';
import { keepRedactedSecrets, redactSecrets, type OrgSpec } from '../domain/org-spec.js';
import { describeStep, plan, type Step } from '../domain/plan.js';
import { invalid, validateSpecs } from '../domain/spec-document.js';
import { observeRequest } from '../engine/run-executor.js';
import type { Orgadmin } from '../composition-root.js';
import type { Catalog } from '../ports/auth0-tenant.js';
import type { RepoCommit } from '../ports/org-repository.js';
import type { OrgRecord, RunRecord } from '../ports/store.js';

export interface PlanView {
  name: string;
  exists: boolean;
  steps: { key: string; kind: Step['kind']; description: string }[];
  /** The applied spec (secrets redacted), null for a new organization. */
  before: OrgSpec | null;
  after: OrgSpec;
}

export interface RemovalPlanView {
  name: string;
  steps: PlanView['steps'];
  /** What stays in place: shared connections, the applications, orgadmin's own record and audit trail. */
  kept: string[];
}

export interface SamlServiceProvider {
  connectionName: string;
  acsUrl: string;
  entityId: string;
  signInUrl: string;
  certificateUrl: string;
  metadataUrl: string;
}

export interface OrganizationService {
  /** The steps a change would take, from the tenant's current state; makes no write. */
  planChange(name: string, desired: OrgSpec | undefined): Promise<Step[]>;
  planCreate(spec: unknown): Promise<PlanView>;
  planUpdate(name: string, spec: unknown): Promise<PlanView>;
  planRemoval(name: string): Promise<RemovalPlanView>;
  /** Records a run and queues it (live mode; in GitOps mode `mode.mismatch` — changes go through `commits`). */
  create(spec: unknown, actor: string): Promise<{ organization: OrgRecord; run: RunRecord }>;
  update(name: string, spec: unknown, actor: string): Promise<{ organization: OrgRecord; run: RunRecord }>;
  /** Like `update`, with a JSON merge patch (RFC 7396) of the current spec. */
  patch(name: string, patch: unknown, actor: string): Promise<{ organization: OrgRecord; run: RunRecord }>;
  remove(name: string, actor: string): Promise<RunRecord>;
  /** `live`, or `gitops`: changes are commits to the organization repository, deployed by `orgadmin deploy`. */
  readonly mode: 'live' | 'gitops';
  /**
   * GitOps mode's changes: each a commit to the organization repository with the operator as author (undefined when
   * the files stay as they were). Same validation as live mode. `mode.mismatch` in live mode.
   */
  commits: {
    create(spec: unknown, actor: string, reason?: string): Promise<RepoCommit | undefined>;
    update(name: string, spec: unknown, actor: string, reason?: string): Promise<RepoCommit | undefined>;
    patch(name: string, patch: unknown, actor: string, reason?: string): Promise<RepoCommit | undefined>;
    remove(name: string, actor: string, reason?: string): Promise<RepoCommit | undefined>;
  };
  retry(runId: string, actor: string): Promise<RunRecord>;
  cancel(runId: string, actor: string): Promise<RunRecord>;
  catalog(): Promise<Catalog>;
  samlServiceProvider(orgName: string): SamlServiceProvider;
  /** The administrator link a run executed in this process issued (kept in memory for an hour, never stored). */
  adminLink(runId: string): string | undefined;
  /** Where the engine hands over administrator links (wired to the in-process worker). */
  rememberAdminLink(run: RunRecord, url: string): void;
}

const ADMIN_LINK_TTL_MS = 60 * 60 * 1000;

const viewSteps = (steps: Step[]): PlanView['steps'] =>
  steps.map((step) => ({ key: step.key, kind: step.kind, description: describeStep(step) }));

/** Auth0's tenant name for SAML entity ids: the first label of a canonical domain (`acme` of acme.eu.auth0.com). */
function tenantNameOf(domain: string): string {
  const host = domain.split(':')[0] ?? domain;
  return /^\d+(\.\d+){3}$/.test(host) ? 'local' : (host.split('.')[0] ?? host);
}

export function createOrganizationService(
  orgadmin: Orgadmin,
  options: { enqueue: (runId: string) => Promise<void>; now?: () => number },
): OrganizationService {
  const { store } = orgadmin;
  const now = options.now ?? Date.now;
  const links = new Map<string, { url: string; expiresAt: number }>();

  const oneSpec = (value: unknown): OrgSpec => {
    const [spec] = validateSpecs([value]);
    return spec!;
  };

  const liveOrg = async (name: string): Promise<OrgRecord> => {
    const org = await store.getOrg(name);
    if (!org || org.status === 'removed')
      throw new OrgadminError('org.not_found', `No organization named ${name}.`);
    return org;
  };

  /** Validates a spec from a face: an edit must keep the name; "(set)" keeps the current secret, if there is one. */
  const editedSpec = (name: string | undefined, spec: OrgSpec, current: OrgSpec | undefined): OrgSpec => {
    const issues = [];
    if (name !== undefined && spec.name !== name)
      issues.push({ path: 'name', message: `must stay ${name} (an organization cannot be renamed)` });
    const kept = keepRedactedSecrets(spec, current);
    for (const path of kept.missing)
      issues.push({ path, message: 'is "(set)" but the organization has no such secret to keep' });
    if (issues.length > 0) throw invalid('spec.invalid', 'organization spec', issues);
    return kept.spec;
  };

  const planChange = async (name: string, desired: OrgSpec | undefined): Promise<Step[]> => {
    const org = await store.getOrg(name);
    const domain =
      org && org.status !== 'removed'
        ? org.tenant
        : desired
          ? await orgadmin.findTenantForSpec(desired)
          : orgadmin.defaultTenant.domain;
    // A dedicated tenant that does not exist yet holds nothing: plan against an empty tenant.
    const observed = domain
      ? await (
          await orgadmin.engine.tenantFor(domain)
        ).observe(observeRequest(name, [desired, org?.appliedSpec]))
      : { connections: [], clients: [], adminRoleExists: false };
    const hooks = orgadmin.engine.hooks ? await orgadmin.engine.hooks.planned() : [];
    return plan({ desired, applied: org?.appliedSpec, observed, hooks });
  };

  const startRun = async (
    name: string,
    kind: 'apply' | 'remove',
    desired: OrgSpec | undefined,
    tenant: string,
    actor: string,
  ): Promise<RunRecord> => {
    const run = await store.createRun({ orgName: name, tenant, kind, desired, requestedBy: actor });
    await options.enqueue(run.id);
    return run;
  };

  const gitops = orgadmin.config.mode === 'gitops' ? orgadmin.gitops : undefined;
  const liveOnly = (): void => {
    if (gitops)
      throw new OrgadminError(
        'mode.mismatch',
        'This installation runs in GitOps mode: a change is a commit to the organization repository (then orgadmin deploy).',
      );
  };
  const gitopsOnly = (): NonNullable<typeof gitops> => {
    if (!gitops)
      throw new OrgadminError(
        'mode.mismatch',
        'This installation runs in live mode (ORGADMIN_MODE=gitops commits instead).',
      );
    return gitops;
  };

  /** Applies the edited spec `edited` makes from the current one (a replacement or a merge patch). */
  const edit = async (
    name: string,
    edited: (current: OrgSpec) => unknown,
    actor: string,
  ): Promise<{ organization: OrgRecord; run: RunRecord }> => {
    liveOnly();
    const org = await liveOrg(name);
    const spec = editedSpec(name, oneSpec(edited(org.spec)), org.spec);
    const run = await startRun(name, 'apply', spec, org.tenant, actor);
    return { organization: (await store.getOrg(name))!, run };
  };

  /**
   * The same edit as a commit. The current spec is the repository's, read at the head the commit is made on, so an
   * edit racing another writer is made again on top of that writer's change instead of overwriting it.
   */
  const commitEdit = (
    name: string,
    edited: (current: OrgSpec) => unknown,
    actor: string,
    reason: string | undefined,
  ): Promise<RepoCommit | undefined> =>
    gitopsOnly().commitChange({
      name,
      spec: (current) => editedSpec(name, oneSpec(edited(current)), current),
      action: 'update',
      actor,
      reason,
    });

  return {
    planChange,

    async planCreate(value) {
      const parsed = oneSpec(value);
      const org = await store.getOrg(parsed.name);
      const exists = org !== undefined && org.status !== 'removed';
      const spec = editedSpec(undefined, parsed, exists ? org.spec : undefined);
      return {
        name: spec.name,
        exists,
        steps: viewSteps(await planChange(spec.name, spec)),
        before: exists && org.appliedSpec ? redactSecrets(org.appliedSpec) : null,
        after: redactSecrets(spec),
      };
    },

    async planUpdate(name, value) {
      const org = await liveOrg(name);
      const spec = editedSpec(name, oneSpec(value), org.spec);
      return {
        name,
        exists: true,
        steps: viewSteps(await planChange(name, spec)),
        before: org.appliedSpec ? redactSecrets(org.appliedSpec) : null,
        after: redactSecrets(spec),
      };
    },

    async planRemoval(name) {
      const org = await liveOrg(name);
      const applied = org.appliedSpec ?? org.spec;
      const kept = [
        ...applied.connections.flatMap((entry) =>
          'shared' in entry ? [`shared connection ${entry.shared} (only removed from the organization)`] : [],
        ),
        ...applied.applications.map(
          (app) => `application ${app.client} (only this organization's URLs are removed from it)`,
        ),
        `orgadmin's record of ${name}, its runs and its audit trail`,
      ];
      return { name, steps: viewSteps(await planChange(name, undefined)), kept };
    },

    async create(value, actor) {
      liveOnly();
      const spec = editedSpec(undefined, oneSpec(value), undefined);
      const existing = await store.getOrg(spec.name);
      if (existing && existing.status !== 'removed')
        throw new OrgadminError(
          'org.exists',
          `Organization ${spec.name} already exists; update it instead (PUT /api/v1/organizations/${spec.name}).`,
        );
      const tenant = await orgadmin.tenantForSpec(spec, actor);
      const run = await startRun(spec.name, 'apply', spec, tenant, actor);
      return { organization: (await store.getOrg(spec.name))!, run };
    },

    update: (name, value, actor) => edit(name, () => value, actor),

    patch: (name, patch, actor) => edit(name, (current) => mergePatch(current, patch), actor),

    async remove(name, actor) {
      liveOnly();
      const org = await liveOrg(name);
      return startRun(name, 'remove', undefined, org.tenant, actor);
    },

    mode: gitops ? 'gitops' : 'live',

    commits: {
      async create(value, actor, reason) {
        const repo = gitopsOnly();
        const spec = editedSpec(undefined, oneSpec(value), undefined);
        return repo.commitChange({ name: spec.name, spec, action: 'create', actor, reason });
      },
      update: (name, value, actor, reason) => commitEdit(name, () => value, actor, reason),
      patch: (name, patch, actor, reason) =>
        commitEdit(name, (current) => mergePatch(current, patch), actor, reason),
      remove: (name, actor, reason) =>
        gitopsOnly().commitChange({ name, spec: undefined, action: 'delete', actor, reason }),
    },

    async retry(runId, actor) {
      // In GitOps mode a failed run is retried by deploying again: the next deployment visits its organization.
      liveOnly();
      const run = await store.getRun(runId);
      if (!run) throw new OrgadminError('run.not_found', `No run ${runId}.`);
      const org = await store.getOrg(run.orgName);
      if (run.state !== 'failed' || org?.lastRunId !== run.id)
        throw new OrgadminError(
          'run.not_retryable',
          run.state !== 'failed'
            ? `Run ${runId} is ${run.state}; only a failed run can be retried.`
            : `Run ${runId} is not the latest run of ${run.orgName}; retry that one instead.`,
        );
      return startRun(run.orgName, run.kind, run.desired, run.tenant, actor);
    },

    async cancel(runId, actor) {
      const run = await store.requestCancel(runId, actor);
      // A run waiting (for a batched URL write, or a retry) acts on the cancellation when taken up: now.
      if (!gitops) await options.enqueue(run.id);
      return run;
    },

    async catalog() {
      return (await orgadmin.engine.tenantFor(orgadmin.defaultTenant.domain)).catalog();
    },

    samlServiceProvider(orgName) {
      const domain = orgadmin.defaultTenant.domain;
      const connectionName = connectionNameFor(orgName, 'saml');
      const base = `https://${domain}`;
      return {
        connectionName,
        acsUrl: `${base}/login/callback?connection=${connectionName}`,
        entityId: `urn:auth0:${tenantNameOf(domain)}:${connectionName}`,
        signInUrl: `${base}/login/callback?connection=${connectionName}`,
        certificateUrl: `${base}/pem`,
        metadataUrl: `${base}/samlp/metadata?connection=${connectionName}`,
      };
    },

    adminLink(runId) {
      const link = links.get(runId);
      if (link && link.expiresAt > now()) return link.url;
      links.delete(runId);
      return undefined;
    },

    rememberAdminLink(run, url) {
      for (const [id, link] of links) if (link.expiresAt <= now()) links.delete(id);
      links.set(run.id, { url, expiresAt: now() + ADMIN_LINK_TTL_MS });
    },
  };
}
