/**
 * GitOps mode (issue 5): an organization change becomes a commit to the organization repository, and
 * `deploy` brings the installation's tenant to a revision of it with the same durable engine as live mode.
 *
 * - A commit starts from the remote's head (the adapter redoes it if someone pushed first), under a database lock
 *   so processes sharing a working copy take turns. Secrets go to the database (sealed), never into the repository.
 * - A deployment is incremental: only organizations whose files changed between the deployed revision and the
 *   target are read, planned and run. It holds the environment's deployment lock for its whole length (a killed
 *   deploy releases it with its database session); the next deployment first finishes the runs an interrupted one
 *   left, then continues. The deployed revision advances only when every run succeeded.
 */
import {
  connectionOwner,
  connectionPath,
  isConnectionPath,
  keywordLikeValues,
  MANIFEST_PATH,
  ORGADMIN_DIR,
  organizationFiles,
  organizationOfPath,
  organizationPath,
  readOrganization,
  restoreKeywords,
  secretKeyword,
  secretKeywords,
  SECRET_KEYWORD_PREFIX,
  sidecarPath,
  type KeywordValue,
} from '../domain/deploy-cli-files.js';
import { OrgadminError } from '../domain/errors.js';
import { connectionNameFor } from '../domain/naming.js';
import {
  CONNECTION_KINDS,
  organizationNameSchema,
  orgSpecSchema,
  redactSecrets,
  type ConnectionKind,
  type OrgSpec,
} from '../domain/org-spec.js';
import { describeStep, type Step } from '../domain/plan.js';
import { invalid, zodIssues } from '../domain/spec-document.js';
import { executeRun, RetryLaterError, type EngineDeps } from '../engine/run-executor.js';
import type { RunQueue } from '../engine/worker.js';
import type { TenantOrganization } from '../ports/auth0-tenant.js';
import type { Deployment, GitopsState } from '../ports/gitops-state.js';
import type { CommitAuthor, FileChanges, OrgRepository, RepoCommit } from '../ports/org-repository.js';
import type { OrgRecord, RunRecord, Store } from '../ports/store.js';

export type ChangeAction = 'create' | 'update' | 'delete';

export interface DeployPlanEntry {
  name: string;
  action: 'apply' | 'remove';
  steps: { key: string; kind: Step['kind']; description: string }[];
}

export interface DeployResult {
  env: string;
  fromRevision: string | undefined;
  toRevision: string;
  /** Organizations whose files changed, with what their runs (or, in a dry run, their plans) do. */
  organizations: DeployPlanEntry[];
  dryRun: boolean;
  deployment?: Deployment | undefined;
  runs: RunRecord[];
}

export interface DeployProgress {
  (
    event:
      | { kind: 'planned'; organizations: number; from: string | undefined; to: string }
      | { kind: 'resuming'; deployment: string; runs: number }
      | { kind: 'started'; deployment: Deployment }
      | { kind: 'run'; run: RunRecord }
      | { kind: 'waiting'; run: RunRecord; reason: string },
  ): void;
}

export interface RollbackResult {
  target: string;
  /** What deploying the target does (from the deployed revision): the plan shown before a rollback. */
  plan: DeployResult;
  /** Organizations the rollback recreates: their Auth0 objects get new ids. */
  recreated: string[];
  /** The commit that restored the files (undefined in a dry run, or when the head already had them). */
  commit?: RepoCommit | undefined;
  deployed?: DeployResult | undefined;
}

export interface DriftReport {
  env: string;
  /** The deployed revision compared (undefined: nothing deployed yet, nothing compared). */
  revision: string | undefined;
  /** How many organizations were compared. */
  compared: number;
  /** Only the organizations that drifted, with what a deployment would do about it. */
  drifted: DeployPlanEntry[];
}

export interface InitReport {
  /** The organizations written, and where each came from. */
  imported: { name: string; from: 'orgadmin' | 'tenant'; adopted: boolean }[];
  /** Organizations left out, and why. */
  skipped: { name: string; reason: string }[];
  commit?: RepoCommit | undefined;
}

export interface GitopsService {
  readonly repository: OrgRepository;
  readonly env: string;
  /** The organization's spec at the repository's head (secrets from the database), undefined if it has none. */
  current(name: string): Promise<OrgSpec | undefined>;
  /**
   * Commits a change of one organization: `spec` for create and update, undefined for delete. Undefined when the
   * change leaves the repository as it is.
   */
  commitChange(input: {
    name: string;
    /**
     * The new spec: given (create), made from the organization's spec at the head the commit starts from (update —
     * so a concurrent change is never overwritten), or undefined (delete).
     */
    spec: OrgSpec | ((current: OrgSpec) => OrgSpec) | undefined;
    action: ChangeAction;
    actor: string;
    reason?: string | undefined;
  }): Promise<RepoCommit | undefined>;
  deploy(input: {
    to?: string | undefined;
    dryRun?: boolean | undefined;
    actor: string;
    onProgress?: DeployProgress | undefined;
  }): Promise<DeployResult>;
  /**
   * Restores every organization's files to revision `to` as one new commit and deploys it: organizations created
   * after `to` are removed, changed ones restored, deleted ones recreated (with new Auth0 ids). With `dryRun`, only
   * the plan of that deployment (nothing committed, nothing written).
   */
  rollback(input: {
    to: string;
    actor: string;
    reason?: string | undefined;
    dryRun?: boolean | undefined;
    onProgress?: DeployProgress | undefined;
  }): Promise<RollbackResult>;
  /**
   * Compares the revision deployed to this environment with the tenant: for each organization of that revision (or
   * only `orgs`), the steps a deployment would take to bring the tenant back to it (none = no drift). Reads only.
   */
  drift(input?: {
    orgs?: string[] | undefined;
    onProgress?: ((name: string) => void) | undefined;
  }): Promise<DriftReport>;
  /**
   * Starts a repository from what exists: the organizations this installation applied (live mode), and with
   * `fromTenant` those the tenant holds — orgadmin's, and with `adopt` others too (tagged as orgadmin's in the tenant).
   * One commit, recorded as deployed to this environment (the tenant already is that state). The repository must
   * hold no organization yet. `dryRun` reports without committing or tagging anything.
   */
  init(input: {
    fromTenant?: boolean;
    adopt?: boolean;
    dryRun?: boolean;
    actor: string;
  }): Promise<InitReport>;
  /** Commits newest first, with the revision each environment has deployed. */
  history(limit?: number): Promise<{ commits: RepoCommit[]; deployments: Deployment[] }>;
}

export interface GitopsDeps {
  repository: OrgRepository;
  state: GitopsState;
  store: Store;
  engine: EngineDeps;
  env: string;
  /** The tenant (domain) every organization of the repository lives in. */
  tenant: string;
  /** What `planChange` of the organization service answers: the steps a change would take, without writing. */
  planChange(name: string, desired: OrgSpec | undefined): Promise<Step[]>;
  /** Opens the run queue for its run locks (one executor per run across processes). */
  openQueue(): Promise<RunQueue>;
  /** Runs of one deployment executed at once. */
  concurrency?: number;
  /** How long to wait before resuming a run whose transient failures outlasted its retries. */
  retryLaterMs?: number;
  /** How many times a run is resumed within one deployment before it is left open. */
  maxResumes?: number;
  sleep?: (ms: number) => Promise<void>;
}

/** Environment keywords: `.orgadmin/environments/<env>.json` = `{ "keywords": { "KEY": "value" } }`. */
export const environmentPath = (env: string): string => `${ORGADMIN_DIR}/environments/${env}.json`;

/** A file of the repository that belongs to an organization (what a rollback restores). */
const isOrganizationFile = (path: string): boolean =>
  organizationOfPath(path) !== undefined || isConnectionPath(path);

const OWNED_KINDS = CONNECTION_KINDS.filter(
  (kind): kind is Exclude<ConnectionKind, 'shared'> => kind !== 'shared',
);

/** Every path orgadmin may have written for an organization (whichever connections it has). */
function candidatePaths(name: string): string[] {
  return [
    organizationPath(name),
    sidecarPath(name),
    ...OWNED_KINDS.map((kind) => connectionPath(connectionNameFor(name, kind), kind)),
  ];
}

function authorOf(actor: string): CommitAuthor {
  const email = /^[^\s@<>]+@[^\s@<>]+$/.test(actor)
    ? actor
    : `${actor.replace(/[^A-Za-z0-9._-]/g, '-')}@orgadmin.invalid`;
  return { name: actor, email };
}

/** orgadmin's own manifest (`.orgadmin/manifest.json`): what it manages, and which revision each environment runs. */
interface Manifest {
  format: 1;
  managedBy: 'orgadmin';
  owns: string;
  deploy: string;
  environments: Record<string, { revision: string; deployedAt: string; deployedBy: string }>;
}

const NEW_MANIFEST: Manifest = {
  format: 1,
  managedBy: 'orgadmin',
  owns: 'organizations/, connections/ and database-connections/ files whose metadata.orgadmin_org names an organization',
  deploy: 'orgadmin deploy (incremental, with rollback); a0deploy import also works, see docs/gitops.md',
  environments: {},
};

const manifestText = (manifest: Manifest): string => `${JSON.stringify(manifest, null, 2)}\n`;

/** The manifest in a file's text; a missing or unreadable one starts afresh (it is informational, never read back). */
function parseManifest(text: string | undefined): Manifest {
  try {
    const value = JSON.parse(text ?? '') as Partial<Manifest>;
    return { ...NEW_MANIFEST, ...value, environments: { ...(value.environments ?? {}) } };
  } catch {
    return { ...NEW_MANIFEST, environments: {} };
  }
}

/** An environment's keyword file: `{ "keywords": { "KEY": value } }` (strings, or any JSON for `@@KEY@@`). */
function parseKeywords(path: string, text: string | undefined): Record<string, KeywordValue> {
  if (text === undefined) return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new OrgadminError('repository.invalid', `${path}: not valid JSON (${(error as Error).message})`);
  }
  const keywords = (value as { keywords?: unknown } | null)?.keywords;
  if (keywords === null || typeof keywords !== 'object' || Array.isArray(keywords))
    throw new OrgadminError('repository.invalid', `${path}: "keywords" must be an object`);
  // Secrets are never environment keywords: a file must not be able to name another organization's secret.
  const secret = Object.keys(keywords).find((key) => key.startsWith(SECRET_KEYWORD_PREFIX));
  if (secret)
    throw new OrgadminError('repository.invalid', `${path}: ${secret} is a name orgadmin keeps for secrets`);
  return keywords as Record<string, KeywordValue>;
}

/** Redacts what a run record holds for people and CI logs: secrets in its spec never leave the store in clear. */
function runView(run: RunRecord): RunRecord {
  return { ...run, desired: run.desired ? redactSecrets(run.desired) : undefined };
}

const viewSteps = (steps: Step[]): DeployPlanEntry['steps'] =>
  steps.map((step) => ({ key: step.key, kind: step.kind, description: describeStep(step) }));

/**
 * The spec an organization found in the tenant stands for: its settings, its own database connection (the only owned
 * kind whose options can be read back), and any other
 * connection as shared. Untagged organizations only with `adopt`. An enterprise connection's options are what Auth0
 * derived from its spec (metadata XML parsed and not kept, endpoints filled in), so its spec cannot be recovered.
 */
function specFromTenant(found: TenantOrganization, adopt: boolean): { spec: OrgSpec } | { reason: string } {
  if (found.owner !== undefined && found.owner !== found.name)
    return { reason: `tagged as orgadmin's ${found.owner}` };
  if (found.owner === undefined && !adopt)
    return { reason: 'not created by orgadmin (--adopt takes it over)' };
  const connections: unknown[] = [];
  let database = false;
  for (const connection of found.connections) {
    const membership = {
      assignMembershipOnLogin: connection.settings.assignMembershipOnLogin,
      showAsButton: connection.settings.showAsButton,
    };
    if (connection.owner === undefined) {
      connections.push({ shared: connection.name, ...membership });
      continue;
    }
    if (connection.owner !== found.name)
      return { reason: `its connection ${connection.name} belongs to orgadmin's ${connection.owner}` };
    if (connection.strategy !== 'auth0' || connection.name !== connectionNameFor(found.name, 'database'))
      return {
        reason: `its own ${connection.strategy} connection ${connection.name} cannot be read back (Auth0 keeps options derived from what created it — SAML metadata XML parsed and dropped, server-filled endpoints — not the spec); write its spec by hand`,
      };
    database = true;
    const options = connection.options ?? {};
    connections.push({
      database: {
        ...(typeof options['passwordPolicy'] === 'string'
          ? { passwordPolicy: options['passwordPolicy'] }
          : {}),
        ...(typeof options['requires_username'] === 'boolean'
          ? { requiresUsername: options['requires_username'] }
          : {}),
        signupEnabled: connection.settings.isSignupEnabled,
      },
      ...membership,
    });
  }
  const candidate = {
    name: found.name,
    ...(found.displayName ? { displayName: found.displayName } : {}),
    isolation: database ? 'isolated-database' : 'shared',
    ...(Object.keys(found.metadata).length > 0 ? { metadata: found.metadata } : {}),
    ...(found.branding ? { branding: found.branding } : {}),
    connections,
  };
  const result = orgSpecSchema.safeParse(candidate);
  if (!result.success)
    return {
      reason: `not a valid spec: ${zodIssues(result.error)
        .map((issue) => `${issue.path} ${issue.message}`)
        .join('; ')}`,
    };
  if (keywordLikeValues(result.data).length > 0) return { reason: 'a value looks like a deploy-cli keyword' };
  return { spec: result.data };
}

const VERB: Record<ChangeAction, string> = { create: 'Create', update: 'Update', delete: 'Delete' };

/** Runs created before the deployment's record is updated with them. */
const RECORD_CHUNK = 200;

const sleepFor = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export function createGitopsService(deps: GitopsDeps): GitopsService {
  const { repository, state, store, env } = deps;
  const concurrency = deps.concurrency ?? 4;
  const sleep = deps.sleep ?? sleepFor;

  const environmentKeywords = async (revision: string): Promise<Record<string, KeywordValue>> => {
    const path = environmentPath(env);
    return parseKeywords(path, (await repository.readFiles(revision, [path])).get(path));
  };

  /**
   * The files of many organizations at one revision, read in one git process. Each organization's files see the
   * environment's keywords and its own connections' secrets — never another organization's.
   */
  const readSpecs = async (revision: string, names: string[]): Promise<Map<string, OrgSpec | undefined>> => {
    const files = await repository.readFiles(revision, names.flatMap(candidatePaths));
    const secretsOf = (name: string): string[] =>
      OWNED_KINDS.map((kind) => secretKeyword(connectionNameFor(name, kind)));
    const stored = await state.secrets(names.flatMap(secretsOf));
    const environment = await environmentKeywords(revision);
    const specs = new Map<string, OrgSpec | undefined>();
    const issues = [];
    for (const name of names) {
      const own = Object.fromEntries(
        secretsOf(name).flatMap((key) => (key in stored ? [[key, stored[key]!]] : [])),
      );
      try {
        specs.set(
          name,
          readOrganization(name, (path) => files.get(path), { ...environment, ...own }),
        );
      } catch (error) {
        if (!(error instanceof OrgadminError)) throw error;
        issues.push(...(error.details.issues ?? [{ path: organizationPath(name), message: error.message }]));
      }
    }
    if (issues.length > 0)
      throw invalid('repository.invalid', `repository at ${revision.slice(0, 12)}`, issues);
    return specs;
  };

  /** Every organization orgadmin has live (not removed) in this tenant, from its records. */
  const liveOrgs = async (): Promise<OrgRecord[]> => {
    const found: OrgRecord[] = [];
    for (let after: string | undefined; ;) {
      const page = await store.listOrgs({ excludeRemoved: true, limit: 500, ...(after ? { after } : {}) });
      found.push(...page.filter((org) => org.tenant === deps.tenant));
      if (page.length < 500) return found;
      after = page.at(-1)!.name;
    }
  };

  const current = async (name: string): Promise<OrgSpec | undefined> => {
    const head = await repository.head();
    if (!head) return undefined;
    return (await readSpecs(head, [name])).get(name);
  };

  /** Which organizations a change between two revisions touches (an environment's keywords touch all). */
  const changedOrganizations = async (from: string | undefined, to: string): Promise<string[]> => {
    const paths = await repository.changedPaths(from, to);
    const names = new Set<string>();
    const connections: string[] = [];
    let everything = false;
    for (const path of paths) {
      const name = organizationOfPath(path);
      if (name) names.add(name);
      else if (isConnectionPath(path)) connections.push(path);
      else if (path === environmentPath(env)) everything = from !== undefined;
    }
    for (const revision of [from, to]) {
      if (revision === undefined || connections.length === 0) continue;
      for (const text of (await repository.readFiles(revision, connections)).values()) {
        const owner = connectionOwner(text);
        if (owner) names.add(owner);
      }
    }
    if (everything) {
      for (const revision of [from!, to])
        for (const path of await repository.listFiles(revision, 'organizations'))
          names.add(organizationOfPath(path) ?? '');
      names.delete('');
    }
    return [...names].sort();
  };

  /**
   * Records the deployed revision in the manifest too, so the repository says what each environment runs. "[skip ci]"
   * keeps the commit from starting the pipeline that deployed. Best effort: the database is the record deployments
   * go by, so a read-only remote only costs this note.
   */
  const noteDeployed = async (revision: string, actor: string): Promise<string> => {
    try {
      await state.withCommitLock(repository.location, () =>
        repository.commit({
          author: authorOf(actor),
          change: async (read) => {
            const manifest = parseManifest(await read(MANIFEST_PATH));
            manifest.environments[env] = {
              revision,
              deployedAt: new Date().toISOString(),
              deployedBy: actor,
            };
            return {
              files: new Map([[MANIFEST_PATH, manifestText(manifest)]]),
              message: `Deployed ${revision.slice(0, 12)} to ${env} [skip ci]\n\nRecorded by orgadmin deploy for ${actor}.`,
            };
          },
        }),
      );
      return '';
    } catch (error) {
      return `; the manifest was not updated (${error instanceof Error ? error.message : String(error)})`;
    }
  };

  /**
   * What a deployment to `to` must visit: organizations whose files changed since the deployed revision, those a
   * failed or interrupted deployment since then touched (the tenant may hold their newer state), and those whose
   * secret changed. Every file is read and validated here, before anything is written.
   */
  const prepare = async (
    to: string | undefined,
  ): Promise<{
    fromRevision: string | undefined;
    toRevision: string;
    entries: { name: string; desired: OrgSpec | undefined }[];
  }> => {
    const toRevision = await repository.resolve(to ?? 'HEAD');
    let fromRevision = await state.deployedRevision(env);
    const everyKnown: string[] = [];
    if (fromRevision !== undefined) {
      const known = await repository.resolve(fromRevision).catch((error: unknown) => {
        if (error instanceof OrgadminError && error.code === 'repository.invalid') return undefined;
        throw error;
      });
      if (known === undefined) {
        // The deployed revision is gone from the branch (history rewritten): compare everything instead — every
        // organization of the target, and every one orgadmin has live in this tenant (those missing are removed).
        fromRevision = undefined;
        everyKnown.push(...(await liveOrgs()).map((org) => org.name));
      }
    }
    const unsettled: string[] = [];
    for (const deployment of await state.listDeployments({ env, limit: 1000 })) {
      if (deployment.state === 'succeeded') break;
      unsettled.push(...Object.keys(deployment.runs));
    }
    const names = [
      ...new Set([
        ...(await changedOrganizations(fromRevision, toRevision)),
        ...unsettled,
        ...everyKnown,
        ...(await state.organizationsWithPendingSecrets()),
      ]),
    ].sort();
    const specs = await readSpecs(toRevision, names);
    const gone = names.filter((name) => !specs.get(name));
    const deployedBefore = fromRevision
      ? await repository.readFiles(fromRevision, gone.map(organizationPath))
      : new Map<string, string>();
    const entries: { name: string; desired: OrgSpec | undefined }[] = [];
    for (const name of names) {
      const desired = specs.get(name);
      if (desired) {
        entries.push({ name, desired });
        continue;
      }
      // Removed from the repository: remove it from the tenant if it was deployed or orgadmin knows it.
      const org = await store.getOrg(name);
      if (deployedBefore.has(organizationPath(name)) || (org && org.status !== 'removed'))
        entries.push({ name, desired: undefined });
    }
    return { fromRevision, toRevision, entries };
  };

  const runDeployment = async (
    to: string | undefined,
    actor: string,
    onProgress: DeployProgress | undefined,
  ): Promise<DeployResult> => {
    const { fromRevision, toRevision, entries } = await prepare(to);
    onProgress?.({ kind: 'planned', organizations: entries.length, from: fromRevision, to: toRevision });
    const queue = await deps.openQueue();
    /** Why runs were left open (errors other than Auth0 asking to wait), by run id. */
    const leftOpen = new Map<string, string>();

    /** Executes runs to the end, a few at once, each under its run lock; a run that must wait is resumed. */
    const executeAll = async (pending: RunRecord[]): Promise<RunRecord[]> => {
      const results = new Map<string, RunRecord>();
      const waiting = [...pending];
      const one = async (run: RunRecord): Promise<void> => {
        for (let resume = 0; ; resume += 1) {
          try {
            const outcome = await queue.withRunLock(run.id, () => executeRun(deps.engine, run.id));
            if (outcome.locked) {
              results.set(run.id, outcome.value);
              onProgress?.({ kind: 'run', run: runView(outcome.value) });
              return;
            }
            onProgress?.({ kind: 'waiting', run: runView(run), reason: 'another process is executing it' });
          } catch (error) {
            const reason = error instanceof Error ? error.message : String(error);
            if (!(error instanceof RetryLaterError)) {
              // Not this deployment's to judge (e.g. the database went away): the run stays open for the next one.
              leftOpen.set(run.id, reason);
              results.set(run.id, (await store.getRun(run.id).catch(() => undefined)) ?? run);
              return;
            }
            onProgress?.({ kind: 'waiting', run: runView(run), reason });
          }
          if (resume >= (deps.maxResumes ?? 20)) {
            leftOpen.set(run.id, 'Auth0 kept asking to wait');
            results.set(run.id, (await store.getRun(run.id)) ?? run);
            return;
          }
          await sleep(deps.retryLaterMs ?? 5000);
        }
      };
      await Promise.all(
        Array.from({ length: Math.min(concurrency, waiting.length) }, async () => {
          for (let run = waiting.shift(); run; run = waiting.shift()) await one(run);
        }),
      );
      return pending.map((run) => results.get(run.id) ?? run);
    };

    /** The organization's open run (of an interrupted deployment, or one started elsewhere), executed first. */
    const finishOpenRun = async (name: string): Promise<void> => {
      const runId = (await store.getOrg(name))?.lastRunId;
      const run = runId ? await store.getRun(runId) : undefined;
      if (run && run.state !== 'succeeded' && run.state !== 'failed') await executeAll([run]);
    };

    try {
      for (const interrupted of (await state.listDeployments({ env, limit: 1000 })).filter(
        (deployment) => deployment.state === 'running',
      )) {
        onProgress?.({
          kind: 'resuming',
          deployment: interrupted.id,
          runs: Object.keys(interrupted.runs).length,
        });
        for (const name of Object.keys(interrupted.runs)) await finishOpenRun(name);
        await state.finishDeployment(
          interrupted.id,
          'failed',
          'interrupted; its open runs were finished, and its organizations deployed again, by a later deployment',
        );
      }
      const deployment = await state.startDeployment({ env, fromRevision, toRevision, requestedBy: actor });
      onProgress?.({ kind: 'started', deployment });
      try {
        const runs: RunRecord[] = [];
        const notStarted: string[] = [];
        let unrecorded: Record<string, string> = {};
        const recordRuns = async (): Promise<void> => {
          if (Object.keys(unrecorded).length === 0) return;
          await state.recordDeploymentRuns(deployment.id, unrecorded);
          unrecorded = {};
        };
        const create = (name: string, desired: OrgSpec | undefined) =>
          store.createRun({
            orgName: name,
            tenant: deps.tenant,
            kind: desired ? 'apply' : 'remove',
            desired,
            requestedBy: `${actor} (deploy ${toRevision.slice(0, 12)})`,
          });
        for (const { name, desired } of entries) {
          let run: RunRecord;
          try {
            run = await create(name, desired);
          } catch (error) {
            if (!(error instanceof OrgadminError) || error.code !== 'run.conflict') throw error;
            // A run left open (by a crash before it was recorded here, or elsewhere) goes first; then this one.
            await finishOpenRun(name);
            try {
              run = await create(name, desired);
            } catch (again) {
              if (!(again instanceof OrgadminError) || again.code !== 'run.conflict') throw again;
              notStarted.push(`${name} (${again.message})`);
              continue;
            }
          }
          runs.push(run);
          unrecorded[name] = run.id;
          // In chunks: the record is one JSON value, and rewriting it per run made a large first deployment
          // quadratic. A crash before a chunk is recorded leaves open runs the next deployment finishes first.
          if (Object.keys(unrecorded).length >= RECORD_CHUNK) await recordRuns();
        }
        await recordRuns();
        const finished = await executeAll(runs);
        const failed = [
          ...finished
            .filter((run) => run.state !== 'succeeded')
            .map(
              (run) =>
                `${run.orgName} (${run.state}${run.error ? `: ${run.error}` : ''}${leftOpen.has(run.id) ? `: ${leftOpen.get(run.id)}` : ''})`,
            ),
          ...notStarted,
        ];
        const total = finished.length + notStarted.length;
        const summary =
          failed.length === 0
            ? `${total} organization(s) deployed`
            : `${failed.length} of ${total} organization(s) not deployed: ${failed.slice(0, 5).join(', ')}`;
        let noted = '';
        if (failed.length === 0) {
          await state.settleSecrets(entries.map((entry) => entry.name));
          if (total > 0) noted = await noteDeployed(toRevision, actor);
        }
        await state.finishDeployment(
          deployment.id,
          failed.length === 0 ? 'succeeded' : 'failed',
          `${summary}${noted}`,
        );
        const organizations: DeployPlanEntry[] = [];
        for (const run of finished)
          organizations.push({
            name: run.orgName,
            action: run.kind,
            steps: viewSteps(
              (await store.steps(run.id))
                .filter((record) => record.phase === 'forward')
                .map((record) => record.step),
            ),
          });
        return {
          env,
          fromRevision,
          toRevision,
          organizations,
          dryRun: false,
          deployment: (await state.listDeployments({ env, limit: 1 }))[0],
          runs: finished.map(runView),
        };
      } catch (error) {
        // The deployment's record says how it ended, whatever ended it.
        await state
          .finishDeployment(
            deployment.id,
            'failed',
            `stopped: ${error instanceof Error ? error.message : String(error)}`,
          )
          .catch(() => undefined);
        throw error;
      }
    } finally {
      await queue.close();
    }
  };

  const service: GitopsService = {
    repository,
    env,
    current,

    async commitChange({ name, spec, action, actor, reason }) {
      const nameCheck = organizationNameSchema.safeParse(name);
      if (!nameCheck.success)
        throw invalid('spec.invalid', 'organization name', [
          { path: 'name', message: nameCheck.error.issues[0]?.message ?? 'is not an organization name' },
        ]);
      /** The checks GitOps mode adds to the spec's own: what a repository cannot hold. */
      const checked = (candidate: OrgSpec): OrgSpec => {
        const issues = keywordLikeValues(candidate);
        if (candidate.isolation === 'dedicated-tenant')
          issues.push({
            path: 'isolation',
            message:
              'GitOps mode deploys one repository to one tenant per environment; "dedicated-tenant" needs live mode',
          });
        if (issues.length > 0) throw invalid('spec.invalid', 'organization spec', issues);
        return candidate;
      };
      if (spec !== undefined && typeof spec !== 'function') checked(spec);
      let written: OrgSpec | undefined;
      return state.withCommitLock(repository.location, async () => {
        const commit = await repository.commit({
          author: authorOf(actor),
          change: async (read) => {
            const before = new Map<string, string>();
            for (const path of candidatePaths(name)) {
              const text = await read(path);
              if (text !== undefined) before.set(path, text);
            }
            const exists = before.has(organizationPath(name));
            if (action === 'create' && exists)
              throw new OrgadminError('org.exists', `Organization ${name} already exists in the repository.`);
            if (action !== 'create' && !exists)
              throw new OrgadminError('org.not_found', `No organization named ${name} in the repository.`);
            const keywords = parseKeywords(environmentPath(env), await read(environmentPath(env)));
            if (typeof spec === 'function') {
              const secrets = await state.secrets(
                OWNED_KINDS.map((kind) => secretKeyword(connectionNameFor(name, kind))),
              );
              const current = readOrganization(name, (path) => before.get(path), { ...keywords, ...secrets });
              written = checked(spec(current!));
            } else written = spec;
            const files: FileChanges = new Map();
            for (const path of before.keys()) files.set(path, undefined);
            for (const file of written ? organizationFiles(written) : [])
              // Values an environment keyword stood for in the file before stay keywords.
              files.set(file.path, restoreKeywords(file.text, before.get(file.path), keywords));
            if ((await read(MANIFEST_PATH)) === undefined)
              files.set(MANIFEST_PATH, manifestText(NEW_MANIFEST));
            const listed = [...files]
              .filter(([path, text]) => text !== before.get(path))
              .map(([path, text]) => `  ${text === undefined ? '-' : before.has(path) ? '~' : '+'} ${path}`);
            const message = [
              `${VERB[action]} organization ${name}`,
              '',
              `Requested by ${actor} through orgadmin.${reason ? `\nReason: ${reason}` : ''}`,
              '',
              'Files:',
              ...listed,
            ].join('\n');
            return { files, message };
          },
        });
        // Secrets are kept once the change is in the repository (or when it changed only a secret, which is no
        // commit: the next deployment visits the organization for it).
        if (written) await state.saveSecrets(name, secretKeywords(written));
        return commit;
      });
    },

    async deploy({ to, dryRun = false, actor, onProgress }) {
      // A dry run only reads: it needs no lock, and works while a deployment runs.
      if (dryRun) {
        const { fromRevision, toRevision, entries } = await prepare(to);
        onProgress?.({ kind: 'planned', organizations: entries.length, from: fromRevision, to: toRevision });
        const organizations: DeployPlanEntry[] = [];
        for (const { name, desired } of entries)
          organizations.push({
            name,
            action: desired ? 'apply' : 'remove',
            steps: viewSteps(await deps.planChange(name, desired)),
          });
        return { env, fromRevision, toRevision, organizations, dryRun, runs: [] };
      }
      const locked = await state.tryWithDeployLock(env, () => runDeployment(to, actor, onProgress));
      if (!locked)
        throw new OrgadminError(
          'deploy.locked',
          `Another deployment to ${env} is running; wait for it to finish (or for its process to end).`,
        );
      return locked.value;
    },

    async rollback({ to, actor, reason, dryRun = false, onProgress }) {
      const target = await repository.resolve(to);
      const plan = await service.deploy({ to: target, dryRun: true, actor });
      const recreated = plan.organizations
        .filter((entry) => entry.steps.some((step) => step.kind === 'create-organization'))
        .map((entry) => entry.name);
      if (dryRun) return { target, plan, recreated };
      const [subject] = (await repository.log({ revision: target, limit: 1 })).map(
        (commit) => commit.subject,
      );
      const targetPaths = (await repository.listFiles(target)).filter(isOrganizationFile);
      const restored = await repository.readFiles(target, targetPaths);
      const commit = await state.withCommitLock(repository.location, () =>
        repository.commit({
          author: authorOf(actor),
          change: async (read, list) => {
            const files: FileChanges = new Map();
            for (const path of (await list()).filter(isOrganizationFile)) files.set(path, undefined);
            for (const [path, text] of restored) files.set(path, text);
            const changed: string[] = [];
            for (const [path, text] of files) if ((await read(path)) !== text) changed.push(path);
            const message = [
              `Roll back organizations to ${target.slice(0, 12)}${subject ? ` (${subject})` : ''}`,
              '',
              `Requested by ${actor} through orgadmin.${reason ? `\nReason: ${reason}` : ''}`,
              ...(recreated.length > 0 ? ['', `Recreated (new Auth0 ids): ${recreated.join(', ')}`] : []),
              '',
              'Files:',
              ...changed.map((path) => `  ${files.get(path) === undefined ? '-' : '~'} ${path}`),
            ].join('\n');
            return { files, message };
          },
        }),
      );
      // The head may move meanwhile: deploy exactly the commit that restored the files (or the target's files).
      const deployed = await service.deploy({ to: commit?.sha ?? target, actor, onProgress });
      return { target, plan, recreated, commit, deployed };
    },

    async drift(input = {}) {
      const revision = await state.deployedRevision(env);
      if (!revision) return { env, revision, compared: 0, drifted: [] };
      const names =
        input.orgs ??
        (await repository.listFiles(revision, 'organizations'))
          .map((path) => organizationOfPath(path))
          .filter((name): name is string => name !== undefined);
      const specs = await readSpecs(revision, names);
      const drifted: DeployPlanEntry[] = [];
      for (const name of names) {
        input.onProgress?.(name);
        const spec = specs.get(name);
        const steps = await deps.planChange(name, spec);
        if (steps.length > 0)
          drifted.push({
            name,
            action: spec ? 'apply' : 'remove',
            steps: viewSteps(steps),
          });
      }
      return { env, revision, compared: names.length, drifted };
    },

    async init({ fromTenant = false, adopt = false, dryRun = false, actor }) {
      const head = await repository.head();
      const existing = head ? await repository.listFiles(head, 'organizations') : [];
      if (existing.length > 0)
        throw new OrgadminError(
          'repository.invalid',
          `The repository already holds ${existing.length} organization(s); init starts a new one.`,
        );
      const specs = new Map<string, { spec: OrgSpec; from: 'orgadmin' | 'tenant'; adopted: boolean }>();
      const skipped: InitReport['skipped'] = [];
      // What this installation applied, exactly (secrets included), in the tenant GitOps mode deploys to.
      for (const org of await liveOrgs()) {
        if (!org.appliedSpec) continue;
        const issues = keywordLikeValues(org.appliedSpec);
        if (org.appliedSpec.isolation === 'dedicated-tenant')
          skipped.push({ name: org.name, reason: 'isolation "dedicated-tenant" needs live mode' });
        else if (issues.length > 0)
          skipped.push({ name: org.name, reason: `${issues[0]!.path} ${issues[0]!.message}` });
        else specs.set(org.name, { spec: org.appliedSpec, from: 'orgadmin', adopted: false });
      }
      if (fromTenant) {
        const tenant = await deps.engine.tenantFor(deps.tenant);
        for (const found of await tenant.listOrganizations()) {
          if (specs.has(found.name)) continue;
          const imported = specFromTenant(found, adopt);
          if ('reason' in imported) skipped.push({ name: found.name, reason: imported.reason });
          else
            specs.set(found.name, {
              spec: imported.spec,
              from: 'tenant',
              adopted: found.owner === undefined,
            });
        }
      }
      const imported = [...specs.values()]
        .map(({ spec, from, adopted }) => ({ name: spec.name, from, adopted }))
        .sort((a, b) => (a.name < b.name ? -1 : 1));
      skipped.sort((a, b) => (a.name < b.name ? -1 : 1));
      if (dryRun || specs.size === 0) return { imported, skipped };
      const commit = await state.withCommitLock(repository.location, () =>
        repository.commit({
          author: authorOf(actor),
          change: async (read) => {
            const files: FileChanges = new Map();
            for (const { spec } of specs.values())
              for (const file of organizationFiles(spec)) files.set(file.path, file.text);
            if ((await read(MANIFEST_PATH)) === undefined)
              files.set(MANIFEST_PATH, manifestText(NEW_MANIFEST));
            const message = [
              `Import ${specs.size} organization(s)`,
              '',
              `Requested by ${actor} through orgadmin gitops init${fromTenant ? ` --from-tenant${adopt ? ' --adopt' : ''}` : ''}.`,
              `From this installation: ${imported.filter((entry) => entry.from === 'orgadmin').length}; from the tenant: ${imported.filter((entry) => entry.from === 'tenant').length} (adopted: ${imported.filter((entry) => entry.adopted).length}).`,
              ...(skipped.length > 0
                ? ['', 'Left out:', ...skipped.map((entry) => `  ${entry.name}: ${entry.reason}`)]
                : []),
            ].join('\n');
            return { files, message };
          },
        }),
      );
      for (const { spec } of specs.values()) await state.saveSecrets(spec.name, secretKeywords(spec));
      await state.settleSecrets([...specs.keys()]);
      const tenant = await deps.engine.tenantFor(deps.tenant);
      for (const entry of imported) if (entry.adopted) await tenant.adoptOrganization(entry.name);
      if (commit) {
        // The tenant already is this revision: the next deployment starts from it.
        const deployment = await state.startDeployment({
          env,
          fromRevision: undefined,
          toRevision: commit.sha,
          requestedBy: actor,
        });
        await state.finishDeployment(
          deployment.id,
          'succeeded',
          `imported ${specs.size} organization(s); nothing written to the tenant but adoption tags`,
        );
      }
      return { imported, skipped, commit };
    },

    async history(limit = 50) {
      const [commits, deployments] = await Promise.all([
        repository.log({ limit }),
        state.listDeployments({ limit: 100 }),
      ]);
      return { commits, deployments };
    },
  };
  return service;
}
