/**
 * `orgadmin org plan|apply|list|show|delete` and `orgadmin runs` / `orgadmin run show`: the CLI face of the engine.
 * Without a worker process running, `apply` and `delete` carry out their runs themselves, so one command is enough
 * on a laptop or in CI; the runs are the same durable runs a worker would execute. Applying several organizations
 * records them as one batch, which the portal's Bulk apply page shows as well.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { openOrgadmin, openRunQueue, type Orgadmin } from '../../composition-root.js';
import { loadConfig } from '../../config/config.js';
import { redactSecrets, type OrgSpec } from '../../domain/org-spec.js';
import { describeStep, type Step } from '../../domain/plan.js';
import { parseSpecs } from '../../domain/spec-document.js';
import { RUN_BUSY, RunBusyError, startWorker } from '../../engine/worker.js';
import { RunSuspendedError } from '../../engine/run-executor.js';
import type { RunRecord } from '../../ports/store.js';
import { createBulkApplyService } from '../../services/bulk-apply.js';
import type { GitopsService } from '../../services/gitops.js';
import { createOrganizationService } from '../../services/organizations.js';
import { printErr, type Command } from '../command.js';

const HELP = `Usage:
  orgadmin org plan -f FILE|DIR [--json]            show what apply would change (no writes)
  orgadmin org apply -f FILE|DIR [--dry-run] [--json] [--wait]
                                                    provision or update organizations (runs until done)
  orgadmin org list [--json]                        organizations and their status
  orgadmin org show NAME [--json]                   one organization (secrets shown as "(set)")
  orgadmin org delete NAME [--dry-run] [--json]     deprovision what orgadmin created for it
  orgadmin runs [--org NAME] [--json]               recent runs
  orgadmin run show ID [--json]                     one run and its steps

In GitOps mode (ORGADMIN_MODE=gitops) apply and delete commit each organization's change to the organization
repository instead (--reason TEXT goes into the commit message); \`orgadmin deploy\` applies them.
`;

const print = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

/** Reads every spec in a file, or in every .yaml/.yml/.json file of a directory. */
function readSpecFiles(path: string): OrgSpec[] {
  const files = statSync(path).isDirectory()
    ? readdirSync(path)
        .filter((name) => /\.(ya?ml|json)$/.test(name))
        .sort()
        .map((name) => join(path, name))
    : [path];
  const texts = files.map((file) => readFileSync(file, 'utf8'));
  // One validation over all documents, so duplicates across files are found too.
  return parseSpecs(texts.join('\n---\n'), path);
}

async function withOrgadmin<T>(fn: (orgadmin: Orgadmin) => Promise<T>): Promise<T> {
  const orgadmin = await openOrgadmin(loadConfig(process.env, process.cwd()));
  try {
    return await fn(orgadmin);
  } finally {
    await orgadmin.close();
  }
}

/** The plan of one change, from the tenant's current state (the same planning the portal shows). */
function planFor(orgadmin: Orgadmin, name: string, desired: OrgSpec | undefined): Promise<Step[]> {
  const service = createOrganizationService(orgadmin, {
    enqueue: () => Promise.reject(new Error('planning enqueues nothing')),
  });
  return service.planChange(name, desired);
}

function printPlan(name: string, steps: Step[]): void {
  print(steps.length === 0 ? `${name}: up to date` : `${name}: ${steps.length} change(s)`);
  for (const step of steps) print(`  + ${describeStep(step)}`);
}

/** How often `apply` reads the store for the progress of runs another process executes. */
const PROGRESS_POLL_MS = 250;
/** Runs the temporary in-process worker of `apply` executes at once. */
const LOCAL_CONCURRENCY = 4;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Waits until every run has ended, while working the queue in-process: the runs are enqueued, and this process's
 * temporary worker takes jobs like any `orgadmin worker` does (pg-boss gives each job to one of them), so one
 * command is enough when no worker runs. Progress is drawn as steps complete — from the engine's callbacks for
 * runs executed here, from the store for runs another process took. A run whose attempt failed (transient failures
 * outlasted the retries) is left open: the queue offers it again later.
 */
async function runToEnd(
  orgadmin: Orgadmin,
  create: (enqueued: (run: RunRecord) => Promise<void>) => Promise<void>,
  json: boolean,
): Promise<{ runs: RunRecord[]; error?: Error }> {
  const { store } = orgadmin;
  const ours = new Map<string, RunRecord>();
  const shown = new Set<string>();
  const linked = new Set<string>();
  const leftOpen = new Map<string, string>();
  const showStep = (
    run: { id: string; orgName: string },
    record: { index: number; status: string; lastError?: string | undefined },
    description: string,
  ): void => {
    const key = `${run.id}#${record.index}:${record.status}`;
    if (json || shown.has(key)) return;
    shown.add(key);
    printErr(
      `  ${record.status === 'done' ? '✓' : '✗'} ${run.orgName}: ${description}${record.lastError ? ` — ${record.lastError}` : ''}`,
    );
  };
  const queue = await openRunQueue(orgadmin, { maxConnections: LOCAL_CONCURRENCY + 2 });
  try {
    const worker = await startWorker({
      queue,
      concurrency: LOCAL_CONCURRENCY,
      resumeUnfinished: false,
      urlBatchMaxWaitMs: orgadmin.config.urlBatchMaxWaitMs,
      engine: {
        ...orgadmin.engine,
        onStep: (run, record, description) => {
          if (ours.has(run.id)) showStep(run, record, description);
        },
        onAdminLink: (run, url) => {
          // Shown once to the operator, who hands it to the administrator; never stored. Links of runs that are
          // not this command's are not shown to this operator.
          if (!ours.has(run.id)) return;
          linked.add(run.id);
          printErr(`  → ${run.orgName}: administrator link: ${url}`);
        },
      },
      onAttempt: (job, outcome) => {
        // Busy elsewhere, or waiting for a batched URL write: neither ended the run's chances here.
        if (
          'error' in outcome &&
          ours.has(job.runId) &&
          !(outcome.error instanceof RunBusyError) &&
          !(outcome.error instanceof RunSuspendedError)
        )
          leftOpen.set(
            job.runId,
            outcome.error instanceof Error ? outcome.error.message : String(outcome.error),
          );
      },
    });
    let error: Error | undefined;
    try {
      await create(async (run) => {
        ours.set(run.id, run);
        await queue.enqueue(run.id);
        worker.notify();
      });
    } catch (creating) {
      // Runs already created still run to the end; the error is reported after them.
      error = creating instanceof Error ? creating : new Error(String(creating));
    }
    const waiting = new Set(ours.keys());
    const linkNoted = new Set<string>();
    let failed = 0;
    let shown = -1;
    const showProgress = (): void => {
      const done = ours.size - waiting.size;
      if (json || ours.size < 2 || done === shown) return;
      shown = done;
      printErr(progressBar(done, ours.size, failed));
    };
    while (waiting.size > 0) {
      for (const id of [...waiting]) {
        const run = (await store.getRun(id)) ?? ours.get(id)!;
        if (run.state !== 'pending') {
          for (const record of await store.steps(id)) {
            if (record.status !== 'done' && record.status !== 'failed') continue;
            showStep(run, record, describeStep(record.step));
            const issuesLink =
              record.step.kind === 'send-password-ticket' || record.step.kind === 'invite-admin';
            if (issuesLink && record.status === 'done' && !linked.has(id) && !linkNoted.has(id)) {
              linkNoted.add(id);
              printErr(`  → ${run.orgName}: administrator link: issued by the worker that executed the run`);
            }
          }
        }
        if (run.state === 'succeeded' || run.state === 'failed') {
          if (run.state === 'failed') failed += 1;
          waiting.delete(id);
          continue;
        }
        let why = leftOpen.get(id);
        if (why === undefined) {
          const job = await queue.jobState(id);
          if (job && (job.state === 'retry' || job.state === 'failed') && !job.lastError?.includes(RUN_BUSY))
            why = job.lastError ?? 'the last attempt failed';
        }
        if (why !== undefined) {
          printErr(`  … ${run.orgName}: ${why}; the run stays open and resumes on the next apply or worker`);
          waiting.delete(id);
        }
      }
      showProgress();
      if (waiting.size > 0) await sleep(PROGRESS_POLL_MS);
    }
    await worker.stop();
    const runs: RunRecord[] = [];
    for (const [id, run] of ours) runs.push((await store.getRun(id)) ?? run);
    return { runs, ...(error === undefined ? {} : { error }) };
  } finally {
    await queue.close();
  }
}

/**
 * The end of an apply of many organizations: how many succeeded, failed (grouped by reason, with a few names each)
 * and stayed open, how long it took and how many Management API calls the runs made.
 */
export function bulkSummary(runs: RunRecord[], elapsedMs: number): string[] {
  const count = (state: RunRecord['state']): number => runs.filter((run) => run.state === state).length;
  const open = runs.length - count('succeeded') - count('failed');
  const calls = runs.reduce((sum, run) => sum + run.auth0Calls, 0);
  const lines = [
    `${runs.length} organizations in ${(elapsedMs / 1000).toFixed(1)} s: ${count('succeeded')} succeeded, ${count('failed')} failed${open ? `, ${open} still open (they resume on the next apply or worker)` : ''}; ${calls} Auth0 calls`,
  ];
  const byReason = new Map<string, string[]>();
  for (const run of runs.filter((candidate) => candidate.state === 'failed')) {
    const reason = run.error ?? 'no reason recorded';
    byReason.set(reason, [...(byReason.get(reason) ?? []), run.orgName]);
  }
  for (const [reason, names] of [...byReason].sort((a, b) => b[1].length - a[1].length)) {
    const shown = names.slice(0, 3).join(', ') + (names.length > 3 ? `, … ${names.length - 3} more` : '');
    lines.push(`  failed ×${names.length}: ${reason} (${shown})`);
  }
  return lines;
}

/** `[██████░░░░░░░░░░░░░░] 9/30 organizations finished (1 failed)` — for applies of many organizations. */
export function progressBar(done: number, total: number, failed: number): string {
  const width = 20;
  const filled = total === 0 ? width : Math.round((done / total) * width);
  const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
  return `[${bar}] ${done}/${total} organizations finished${failed > 0 ? ` (${failed} failed)` : ''}`;
}

function who(): string {
  return `cli:${process.env['USER'] ?? 'unknown'}`;
}

/**
 * Applies many organizations as one batch, as an upload in the portal does, so the portal shows its progress and
 * summary too. Each run is started through the organization service (a creation, or an update of an existing
 * organization); one that cannot start (e.g. another run of it is unfinished) is reported after the others ran.
 */
async function applyAsBatch(
  orgadmin: Orgadmin,
  specs: OrgSpec[],
  source: string,
  enqueued: (run: RunRecord) => Promise<void>,
  json: boolean,
): Promise<void> {
  const organizations = createOrganizationService(orgadmin, {
    enqueue: async (runId) => {
      const run = await orgadmin.store.getRun(runId);
      if (!run) throw new Error(`run ${runId} is not in the store`);
      if (!json) printErr(`${run.orgName}: run ${run.id} (${run.kind})`);
      await enqueued(run);
    },
  });
  const bulk = createBulkApplyService({ store: orgadmin.store, organizations });
  const batch = await bulk.record(
    specs,
    { name: source, format: source.endsWith('.json') ? 'json' : 'yaml' },
    who(),
  );
  if (!json)
    printErr(`batch ${batch.id}: ${specs.length} organizations (the portal shows it under Bulk apply)`);
  await bulk.drain(batch.id);
  const notStarted = (await bulk.get(batch.id)).failures.filter((group) => group.stage === 'start');
  if (notStarted.length > 0)
    throw new Error(
      `not started: ${notStarted
        .map(
          (group) =>
            `${group.examples.map((example) => example.orgName).join(', ')}${group.count > group.examples.length ? `, … ${group.count - group.examples.length} more` : ''} (${group.reason})`,
        )
        .join('; ')}`,
    );
}

/**
 * GitOps mode: each organization's change is a commit to the organization repository (an update when the
 * repository has it, else a creation; names to delete), deployed later by `orgadmin deploy`.
 */
async function commitChanges(
  orgadmin: Orgadmin,
  gitops: GitopsService,
  changes: OrgSpec[] | string[],
  options: { json?: boolean | undefined; reason?: string | undefined },
): Promise<number> {
  const commits = createOrganizationService(orgadmin, {
    enqueue: () => Promise.reject(new Error('GitOps mode queues no run on a change')),
  }).commits;
  const results: { name: string; commit: string | null; subject: string | null }[] = [];
  for (const change of changes) {
    const name = typeof change === 'string' ? change : change.name;
    const commit =
      typeof change === 'string'
        ? await commits.remove(name, who(), options.reason)
        : (await gitops.current(name))
          ? await commits.update(name, change, who(), options.reason)
          : await commits.create(change, who(), options.reason);
    results.push({ name, commit: commit?.sha ?? null, subject: commit?.subject ?? null });
    if (!options.json)
      print(
        commit ? `${name}: committed ${commit.sha.slice(0, 12)} ${commit.subject}` : `${name}: unchanged`,
      );
  }
  if (options.json) print(JSON.stringify(results));
  else
    printErr(
      `GitOps mode: ${gitops.repository.location}; \`orgadmin deploy\` applies the commits to the tenant`,
    );
  return 0;
}

async function apply(args: string[], removal: boolean): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: removal,
    options: {
      file: { type: 'string', short: 'f' },
      'dry-run': { type: 'boolean' },
      json: { type: 'boolean' },
      wait: { type: 'boolean' },
      reason: { type: 'string' },
    },
  });
  let specs: OrgSpec[] = [];
  let names: string[];
  if (removal) {
    names = positionals;
    if (names.length === 0) throw new Error('name the organization to delete');
  } else {
    if (!values.file) throw new Error('-f FILE|DIR is required');
    specs = readSpecFiles(values.file);
    names = specs.map((spec) => spec.name);
  }
  return withOrgadmin(async (orgadmin) => {
    if (values['dry-run']) {
      const plans: Record<string, Step[]> = {};
      for (const [index, name] of names.entries())
        plans[name] = await planFor(orgadmin, name, removal ? undefined : specs[index]);
      if (values.json)
        print(
          JSON.stringify(
            Object.entries(plans).map(([name, steps]) => ({ name, steps: steps.map(describeStep) })),
          ),
        );
      else for (const [name, steps] of Object.entries(plans)) printPlan(name, steps);
      return 0;
    }
    if (orgadmin.gitops) return commitChanges(orgadmin, orgadmin.gitops, removal ? names : specs, values);
    const started = Date.now();
    const { runs: results, error } = await runToEnd(
      orgadmin,
      async (enqueued) => {
        if (!removal && specs.length > 1)
          return applyAsBatch(orgadmin, specs, values.file!, enqueued, values.json ?? false);
        for (const [index, name] of names.entries()) {
          const existing = await orgadmin.store.getOrg(name);
          if (removal && !existing) throw new Error(`no organization named ${name}`);
          const desired = specs[index];
          const tenant =
            existing && existing.status !== 'removed'
              ? existing.tenant
              : desired
                ? await orgadmin.tenantForSpec(desired, who())
                : orgadmin.defaultTenant.domain;
          const run = await orgadmin.store.createRun({
            orgName: name,
            tenant,
            kind: removal ? 'remove' : 'apply',
            desired: removal ? undefined : specs[index],
            requestedBy: who(),
          });
          if (!values.json) printErr(`${name}: run ${run.id} (${run.kind})`);
          await enqueued(run);
        }
      },
      values.json ?? false,
    );
    if (values.json)
      print(
        JSON.stringify(
          results.map(({ id, orgName, kind, state, error }) => ({ id, orgName, kind, state, error })),
        ),
      );
    else {
      for (const run of results) print(`${run.orgName}: ${run.state}${run.error ? ` — ${run.error}` : ''}`);
      if (results.length > 1) for (const line of bulkSummary(results, Date.now() - started)) printErr(line);
    }
    if (error !== undefined) throw error;
    return results.every((run) => run.state === 'succeeded') ? 0 : 1;
  });
}

async function planCommand(args: string[]): Promise<number> {
  return apply([...args, '--dry-run'], false);
}

async function list(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { json: { type: 'boolean' } } });
  return withOrgadmin(async ({ store }) => {
    const orgs = await store.listOrgs({ limit: 1000 });
    if (values.json) {
      print(
        JSON.stringify(
          orgs.map(({ name, status, tenant, error, updatedAt }) => ({
            name,
            status,
            tenant,
            error,
            updatedAt,
          })),
        ),
      );
    } else {
      for (const org of orgs)
        print(
          `${org.name.padEnd(30)} ${org.status.padEnd(13)} ${org.tenant}${org.error ? `  ${org.error}` : ''}`,
        );
      if (orgs.length === 0) printErr('no organizations yet: orgadmin org apply -f acme.yaml');
    }
    return 0;
  });
}

async function show(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { json: { type: 'boolean' } },
  });
  const [name] = positionals;
  if (!name) throw new Error('name the organization to show');
  return withOrgadmin(async ({ store }) => {
    const org = await store.getOrg(name);
    if (!org) {
      printErr(`no organization named ${name}`);
      return 1;
    }
    const view = {
      ...org,
      spec: redactSecrets(org.spec),
      appliedSpec: org.appliedSpec ? redactSecrets(org.appliedSpec) : undefined,
    };
    print(values.json ? JSON.stringify(view) : JSON.stringify(view, null, 2));
    return 0;
  });
}

export const orgCommand: Command = {
  name: 'org',
  summary: 'plan, apply, list, show and delete organizations',
  async run(args) {
    const [sub, ...rest] = args;
    switch (sub) {
      case 'plan':
        return planCommand(rest);
      case 'apply':
        return apply(rest, false);
      case 'delete':
        return apply(rest, true);
      case 'list':
        return list(rest);
      case 'show':
        return show(rest);
      default:
        process.stdout.write(HELP);
        return sub === undefined || sub === '--help' || sub === '-h' ? 0 : 2;
    }
  },
};

export const runsCommand: Command = {
  name: 'runs',
  summary: 'list recent runs (--org NAME)',
  async run(args) {
    const { values } = parseArgs({ args, options: { org: { type: 'string' }, json: { type: 'boolean' } } });
    return withOrgadmin(async ({ store }) => {
      const runs = await store.listRuns({ ...(values.org ? { orgName: values.org } : {}), limit: 100 });
      if (values.json) print(JSON.stringify(runs.map(({ desired: _desired, ...run }) => run)));
      else
        for (const run of runs)
          print(
            `${run.id}  ${run.orgName.padEnd(24)} ${run.kind.padEnd(6)} ${run.state.padEnd(12)} ${run.createdAt.toISOString()}${run.error ? `  ${run.error}` : ''}`,
          );
      return 0;
    });
  },
};

export const runCommand: Command = {
  name: 'run',
  summary: 'show one run and its steps (run show ID)',
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: { json: { type: 'boolean' } },
    });
    const [sub, id] = positionals;
    if (sub !== 'show' || !id) throw new Error('usage: orgadmin run show ID');
    return withOrgadmin(async ({ store }) => {
      const run = await store.getRun(id);
      if (!run) {
        printErr(`no run ${id}`);
        return 1;
      }
      const steps = await store.steps(id);
      if (values.json) {
        const { desired: _desired, ...rest } = run;
        print(
          JSON.stringify({
            ...rest,
            steps: steps.map((s) => ({
              index: s.index,
              phase: s.phase,
              step: describeStep(s.step),
              status: s.status,
              attempts: s.attempts,
              lastError: s.lastError,
            })),
          }),
        );
      } else {
        print(`${run.id}  ${run.orgName}  ${run.kind}  ${run.state}${run.error ? `  ${run.error}` : ''}`);
        for (const s of steps)
          print(
            `  ${String(s.index).padStart(2)} ${s.phase === 'compensation' ? '↶' : ' '} ${s.status.padEnd(8)} ${describeStep(s.step)}${s.attempts > 1 ? ` (${s.attempts} attempts)` : ''}${s.lastError ? ` — ${s.lastError}` : ''}`,
          );
      }
      return 0;
    });
  },
};
