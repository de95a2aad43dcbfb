/**
 * Carries out one run: observe → plan (once, stored) → each step journaled (intent recorded → Auth0 call → result
 * recorded) → on a permanent failure, compensation of the completed steps in reverse → the organization's final state
 * written in the same transaction as the run's. Safe to call again on the same run at any moment — after a crash, in
 * another process: finished steps are skipped, and a step found `started` is in doubt and is first reconciled by
 * natural key and ownership tag, so nothing is done twice and nothing foreign is adopted.
 *
 * Transient failures (429, 5xx, timeouts, resets) are retried with backoff inside the step; when the attempts run
 * out the run stays `running` and `RetryLaterError` tells the caller to resume it later (forward recovery).
 *
 * The application's hook calls are steps like the others: their `webhook-id` is the run and the step's index, so a
 * call repeated after a crash or a 5xx carries the same idempotency key; a hook step in doubt is simply sent again.
 */

/** The largest object a hook may return to be kept on the organization. */
export const MAX_HOOK_DATA_BYTES = 4096;
import { OrgadminError } from '../domain/errors.js';
import { ORG_ADMIN_ROLE } from '../domain/naming.js';
import { redactSecrets, type OrgSpec } from '../domain/org-spec.js';
import {
  compensationFor,
  describeStep,
  desiredConnections,
  plan,
  type Step,
  type StepResult,
} from '../domain/plan.js';
import {
  Auth0Failure,
  type Auth0Tenant,
  type KnownIds,
  type ObserveRequest,
  type StepOutcome,
} from '../ports/auth0-tenant.js';
import type { RunHooks } from '../ports/app-hooks.js';
import type { Metrics } from '../ports/metrics.js';
import type { AppData, RunRecord, StepRecord, Store } from '../ports/store.js';
import { DEFAULT_RETRY_POLICY, retryDelay, type RetryPolicy } from './backoff.js';
import { countingAuth0Calls, takeAuth0Calls } from './run-calls.js';
import {
  EMPTY_URLS,
  reconcileClientUrls,
  unsafeReadModifyWrite,
  withdrawClientUrls,
  type ClientUrlBatching,
} from './client-urls.js';

export interface EngineDeps {
  store: Store;
  /** The Auth0 tenant (by domain) a run's organization lives in. */
  tenantFor(tenant: string): Auth0Tenant | Promise<Auth0Tenant>;
  /** The application's hooks; without them runs have no hook steps. */
  hooks?: RunHooks;
  /** Step latencies and run outcomes, for monitoring. */
  metrics?: Metrics;
  retry?: RetryPolicy;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  log?: (line: string) => void;
  /** Reports progress as steps complete (the CLI draws it). */
  onStep?: (run: RunRecord, record: StepRecord, description: string) => void;
  /**
   * Hands over a link meant for the organization's administrator (password-change ticket, invitation URL). It is
   * passed on once and never stored or logged.
   */
  onAdminLink?: (run: RunRecord, url: string) => void;
  /**
   * Lets a run's change to a shared client's URL lists wait for other runs' changes, so one write carries them all
   * (src/engine/client-urls.ts): the run suspends (`RunSuspendedError`) and `wake` resumes the runs a write applied.
   * Only an executor that resumes suspended runs sets it (the worker); without it every run writes its own change.
   */
  urlBatching?: ClientUrlBatching & { wake(runIds: string[]): Promise<void> };
  /** Test only: client URL changes as an uncoordinated read-modify-write, to show what the reconciler prevents. */
  __test__unsafeClientUrls?: boolean;
  /**
   * Test only: called at each failpoint of each step; throwing from it stops the run exactly there, as a crash
   * would (the journal keeps whatever was recorded before).
   */
  __test__failpoint?: (point: Failpoint, step: Step) => void;
}

export type Failpoint = 'before-call' | 'after-call' | 'after-record';

/** The run could not finish now (transient failures outlasted the retries); resume it later. */
export class RetryLaterError extends Error {
  override readonly name = 'RetryLaterError';
}

/**
 * The run waits for something another run will do (a batched URL write): nothing failed, the attempt ends here and
 * the run is resumed when woken, or after `retryInMs` at the latest. `stillWaiting` tells whether it still waits (a
 * wake-up may come before the caller has scheduled the resumption).
 */
export class RunSuspendedError extends Error {
  override readonly name = 'RunSuspendedError';

  constructor(
    message: string,
    readonly retryInMs: number,
    readonly stillWaiting: () => Promise<boolean>,
  ) {
    super(message);
  }
}

/** A step failed for good: the run compensates. */
class PermanentStepError extends Error {
  override readonly name = 'PermanentStepError';
}

/** What one step did: the ids it learnt (or the admin link it made), what a hook returned, what to journal. */
interface StepDone extends StepOutcome {
  appData?: AppData | undefined;
  result?: StepResult | undefined;
}

/** The organization as hook calls describe it: the spec with secrets redacted. */
interface RunSubject {
  spec: OrgSpec | undefined;
}

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * What the planner needs to read for an organization. A plan shown to people also reads the applications' URL lists
 * (`clientUrls`, the default), so it lists only what is missing; a run does not: its reconciler reads them.
 */
export function observeRequest(
  orgName: string,
  specs: (OrgSpec | undefined)[],
  { clientUrls = true }: { clientUrls?: boolean } = {},
): ObserveRequest {
  const connectionNames = new Set<string>();
  const clientNames = new Set<string>();
  let adminEmail: string | undefined;
  for (const spec of specs) {
    if (!spec) continue;
    for (const connection of desiredConnections(spec)) connectionNames.add(connection.name);
    for (const entry of spec.connections) if ('shared' in entry) connectionNames.add(entry.shared);
    for (const app of spec.applications) clientNames.add(app.client);
    adminEmail ??= spec.admin?.email;
  }
  return {
    orgName,
    connectionNames: [...connectionNames],
    clientNames: [...clientNames],
    clientUrls,
    adminEmail,
    adminRoleName: ORG_ADMIN_ROLE,
  };
}

export async function executeRun(deps: EngineDeps, runId: string): Promise<RunRecord> {
  // The attempt's Management API calls are added to the run however it ends (a killed process's are lost); a run
  // that finishes adds them just before (recordCalls).
  let counted = 0;
  const run = await countingAuth0Calls(
    () => executeAttempt(deps, runId),
    async (calls) => {
      counted = calls;
      await addCalls(deps, runId, calls);
    },
  );
  return { ...run, auth0Calls: run.auth0Calls + counted };
}

/** Records the calls counted so far in this attempt. */
async function recordCalls(deps: EngineDeps, runId: string): Promise<void> {
  await addCalls(deps, runId, takeAuth0Calls());
}

async function addCalls(deps: EngineDeps, runId: string, calls: number): Promise<void> {
  // A count that cannot be stored must not hide how the attempt ended.
  await deps.store.addRunAuth0Calls(runId, calls).catch((error: unknown) => {
    deps.log?.(`run ${runId}: recording ${calls} Auth0 call(s): ${String(error)}`);
  });
}

async function executeAttempt(deps: EngineDeps, runId: string): Promise<RunRecord> {
  const { store } = deps;
  const log = deps.log ?? (() => undefined);
  let run = await mustGetRun(store, runId);
  if (run.state === 'succeeded' || run.state === 'failed') return run;
  const tenant = await deps.tenantFor(run.tenant);
  const org = await store.getOrg(run.orgName);
  const ids: KnownIds = { ...(org?.auth0Ids ?? {}) };

  if (run.state === 'pending') {
    const desired = run.kind === 'apply' ? run.desired : undefined;
    const observed = await withRetries(deps, () =>
      tenant.observe(observeRequest(run.orgName, [desired, org?.appliedSpec], { clientUrls: false })),
    );
    const hooks = deps.hooks ? await deps.hooks.planned() : [];
    const steps = plan({ desired, applied: org?.appliedSpec, observed, hooks });
    if (observed.organization) ids['organization'] = observed.organization.id;
    await store.startRun(run.id, steps);
    log(`run ${run.id}: ${steps.length} step(s) planned for ${run.orgName}`);
    run = await mustGetRun(store, runId);
  }

  let records = await store.steps(run.id);
  for (const record of records) if (record.status === 'done') Object.assign(ids, record.outcome ?? {});
  const subject: RunSubject = { spec: run.desired ?? org?.appliedSpec ?? org?.spec };

  if (run.state === 'running') {
    /** Undo the completed forward steps in reverse (the compensation phase below carries them out). */
    const compensate = async (reason: string): Promise<number> => {
      // A hook call in doubt (sent, answer not recorded) may have been accepted: its on-compensate is harmless if not.
      const forward = (await store.steps(run.id)).filter((r) => r.phase === 'forward');
      const completed: { step: Step; result?: StepResult | undefined }[] = [];
      for (const r of forward) {
        if (r.status === 'done' || (r.status === 'started' && r.step.kind === 'call-hook')) completed.push(r);
        else if (isClientUrlStep(r.step) && r.status !== 'pending' && r.status !== 'skipped') {
          // A URL change in doubt or waiting: withdrawn if no write applied it yet (none ever will), else undone.
          const taken = await withdrawClientUrls(store, {
            tenant: run.tenant,
            clientName: r.step.clientName,
            orgName: run.orgName,
            runId: run.id,
          });
          if (taken.applied) completed.push({ step: r.step, result: { addedUrls: taken.added } });
        }
      }
      const compensations = completed
        .reverse()
        .map((r) => compensationFor(r.step, r.result))
        .filter((step): step is Step => step !== undefined);
      await store.startCompensation(run.id, reason, compensations);
      return compensations.length;
    };
    for (const record of records.filter((candidate) => candidate.phase === 'forward')) {
      if (record.status === 'done' || record.status === 'skipped') continue;
      // A cancellation is honoured between steps: a step in flight is never abandoned half-way.
      const cancelledBy = (await mustGetRun(store, runId)).cancelRequestedBy;
      if (cancelledBy !== undefined) {
        const count = await compensate(`cancelled by ${cancelledBy}`);
        log(`run ${run.id}: cancelled by ${cancelledBy}; compensating ${count} step(s)`);
        break;
      }
      const stepStarted = performance.now();
      const elapsed = (): number => (performance.now() - stepStarted) / 1000;
      try {
        const outcome = await runStep(deps, tenant, run, record, ids, subject);
        deps.__test__failpoint?.('after-call', record.step);
        Object.assign(ids, outcome.ids ?? {});
        await store.markStepDone(run.id, record.index, outcome.ids, outcome.appData, outcome.result);
        deps.metrics?.stepFinished(record.step.kind, 'done', elapsed());
        deps.__test__failpoint?.('after-record', record.step);
        deps.onStep?.(run, { ...record, status: 'done' }, describeStep(record.step));
      } catch (error) {
        if (!(error instanceof PermanentStepError)) throw error;
        await store.markStepFailed(run.id, record.index, error.message);
        deps.metrics?.stepFinished(record.step.kind, 'failed', elapsed());
        deps.onStep?.(
          run,
          { ...record, status: 'failed', lastError: error.message },
          describeStep(record.step),
        );
        const count = await compensate(error.message);
        log(
          `run ${run.id}: ${describeStep(record.step)} failed (${error.message}); compensating ${count} step(s)`,
        );
        break;
      }
    }
    run = await mustGetRun(store, runId);
    if (run.state === 'running') {
      await recordCalls(deps, run.id);
      await store.finishRun(run.id, 'succeeded', ids);
      deps.metrics?.runFinished(run.kind, 'succeeded');
      return mustGetRun(store, runId);
    }
  }

  // Compensating: undo in reverse; a compensation that fails for good is recorded and the others still run.
  records = await store.steps(run.id);
  for (const record of records.filter((candidate) => candidate.phase === 'compensation')) {
    if (record.status === 'done' || record.status === 'failed' || record.status === 'skipped') continue;
    try {
      const outcome = await runStep(deps, tenant, run, record, ids, subject);
      await store.markStepDone(run.id, record.index, outcome.ids, undefined, outcome.result);
      deps.onStep?.(run, { ...record, status: 'done' }, describeStep(record.step));
    } catch (error) {
      if (!(error instanceof PermanentStepError)) throw error;
      await store.markStepFailed(run.id, record.index, error.message);
      log(`run ${run.id}: compensation ${describeStep(record.step)} failed: ${error.message}`);
    }
  }
  await recordCalls(deps, run.id);
  await store.finishRun(run.id, 'failed', ids, run.error);
  deps.metrics?.runFinished(run.kind, 'failed');
  return mustGetRun(store, runId);
}

async function mustGetRun(store: Store, runId: string): Promise<RunRecord> {
  const run = await store.getRun(runId);
  if (!run) throw new Error(`no run ${runId}`);
  return run;
}

/** One step: reconcile if in doubt, then act with retries; permanent failures become PermanentStepError. */
async function runStep(
  deps: EngineDeps,
  tenant: Auth0Tenant,
  run: RunRecord,
  record: StepRecord,
  ids: KnownIds,
  subject: RunSubject,
): Promise<StepDone> {
  const { store } = deps;
  const context = { orgName: run.orgName, runId: run.id, ids };
  const policy = deps.retry ?? DEFAULT_RETRY_POLICY;
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? defaultSleep;
  let inDoubt = record.status === 'started';
  /** Classifies a failure: rethrows permanent ones, waits before the next attempt for transient ones. */
  const handle = async (error: unknown, attempt: number): Promise<void> => {
    if (error instanceof PermanentStepError || error instanceof RunSuspendedError) throw error;
    if (error instanceof Auth0Failure && !error.retryable)
      throw new PermanentStepError(error.message, { cause: error });
    const message = error instanceof Error ? error.message : String(error);
    await store.noteStepError(run.id, record.index, message);
    if (attempt >= policy.maxAttempts) {
      throw new RetryLaterError(
        `${describeStep(record.step)}: still failing after ${attempt} attempts (${message})`,
        {
          cause: error,
        },
      );
    }
    await sleep(
      retryDelay(policy, attempt, now(), error instanceof Auth0Failure ? error.details.retryAt : undefined),
    );
  };
  for (let attempt = record.attempts + 1; ; attempt++) {
    try {
      // A hook call in doubt is sent again: its webhook-id makes the repeat harmless to the application. So is a
      // client-URL step: the ledger and the reconciler make the repeat harmless, and it yields the step's result.
      if (inDoubt && record.step.kind !== 'call-hook' && !isClientUrlStep(record.step)) {
        const found = await tenant.reconcile(record.step, context);
        if (found.state === 'done') return found.outcome;
        if (found.state === 'foreign') throw new PermanentStepError(found.message);
      }
      // A URL step taken up again after waiting for a batched write is the same attempt, not a new one.
      if (!(inDoubt && isClientUrlStep(record.step))) await store.markStepStarted(run.id, record.index);
    } catch (error) {
      await handle(error, attempt);
      continue;
    }
    inDoubt = true; // from here until the result is recorded, a crash leaves the outcome unknown
    deps.__test__failpoint?.('before-call', record.step); // outside the try: a simulated crash is not retried
    try {
      return record.step.kind === 'call-hook'
        ? await callHook(deps, run, record, record.step, ids, subject)
        : await act(deps, tenant, run, record.step, context);
    } catch (error) {
      await handle(error, attempt);
    }
  }
}

async function act(
  deps: EngineDeps,
  tenant: Auth0Tenant,
  run: RunRecord,
  step: Step,
  context: { orgName: string; runId: string; ids: KnownIds },
): Promise<StepDone> {
  if (isClientUrlStep(step)) {
    const add = step.kind === 'add-client-urls' ? step.urls : EMPTY_URLS;
    const remove = step.kind === 'remove-client-urls' ? step.urls : EMPTY_URLS;
    if (deps.__test__unsafeClientUrls) {
      await unsafeReadModifyWrite(tenant, step.clientName, add, remove);
      return {};
    }
    const intent = {
      tenant: run.tenant,
      clientName: step.clientName,
      orgName: run.orgName,
      runId: run.id,
      add,
      remove,
    };
    const outcome = await reconcileClientUrls(deps.store, tenant, intent, deps.urlBatching);
    if ('waiting' in outcome) {
      throw new RunSuspendedError(
        `${describeStep(step)}: waiting to be written together with other organizations' URLs`,
        outcome.retryInMs,
        // Still waiting unless a write applied the intent or someone asked to cancel the run meanwhile.
        async () =>
          (await deps.store.clientUrlIntentState(run.tenant, step.clientName, run.orgName, run.id)).state ===
            'pending' && (await deps.store.getRun(run.id))?.cancelRequestedBy === undefined,
      );
    }
    if (outcome.settledRuns.length > 0 && deps.urlBatching) {
      // Waiting runs would resume on their own at the latest after the batching wait; waking them is only faster.
      await deps.urlBatching.wake(outcome.settledRuns).catch((error: unknown) => {
        deps.log?.(`run ${run.id}: waking ${outcome.settledRuns.length} run(s): ${String(error)}`);
      });
    }
    // Journaled with the step: its compensation takes off only these.
    return step.kind === 'add-client-urls' ? { result: { addedUrls: outcome.added } } : {};
  }
  const { url, ...outcome } = await tenant.execute(step, context);
  if (url) deps.onAdminLink?.(run, url);
  return outcome;
}

const isClientUrlStep = (
  step: Step,
): step is Extract<Step, { kind: 'add-client-urls' | 'remove-client-urls' }> =>
  step.kind === 'add-client-urls' || step.kind === 'remove-client-urls';

/** The Standard Webhooks message id of a hook step: the same for every attempt of it, across crashes. */
export function hookMessageId(runId: string, index: number): string {
  return `run_${runId}_step_${index}`;
}

/**
 * Calls an application hook. 2xx: done (a JSON object answer to `before-auth0`/`after-auth0` is kept on the
 * organization); 408, 429, 5xx and network failures: transient, retried; any other answer: permanent, so the run
 * compensates.
 */
async function callHook(
  deps: EngineDeps,
  run: RunRecord,
  record: StepRecord,
  step: Extract<Step, { kind: 'call-hook' }>,
  ids: KnownIds,
  subject: RunSubject,
): Promise<StepDone> {
  if (!deps.hooks)
    throw new PermanentStepError(`application hook ${step.hook}: no hooks are configured here`);
  let answer;
  try {
    answer = await deps.hooks.call(step.hook, {
      id: hookMessageId(run.id, record.index),
      type: `hook.${step.phase}`,
      data: {
        phase: step.phase,
        run: { id: run.id, kind: run.kind, requestedBy: run.requestedBy },
        organization: {
          name: run.orgName,
          tenant: run.tenant,
          spec: subject.spec ? redactSecrets(subject.spec) : null,
          auth0Ids: ids,
        },
        ...(step.compensates ? { compensates: step.compensates } : {}),
      },
    });
  } catch (error) {
    if (error instanceof OrgadminError && error.code === 'hook.not_found')
      throw new PermanentStepError(`application hook ${step.hook} was removed`, { cause: error });
    throw error;
  }
  const { status, body } = answer;
  const said = body.trim() ? `: ${body.trim().slice(0, 300)}` : '';
  if (status === 408 || status === 429 || status >= 500)
    throw new Error(`application hook ${step.hook} answered ${status}${said}`);
  if (status < 200 || status >= 300)
    throw new PermanentStepError(`application hook ${step.hook} refused with ${status}${said}`);
  if (step.phase !== 'before-auth0' && step.phase !== 'after-auth0') return {};
  const data = parseObject(body);
  if (!data) return {};
  // The application accepted the call: an oversized answer is not kept, but the step is done (failing it would
  // leave the accepted work without its on-compensate).
  if (Buffer.byteLength(JSON.stringify(data)) > MAX_HOOK_DATA_BYTES) {
    deps.log?.(
      `run ${run.id}: application hook ${step.hook} returned more than ${MAX_HOOK_DATA_BYTES} bytes of data; not kept`,
    );
    return {};
  }
  return { appData: { hook: step.hook, data } };
}

function parseObject(body: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(body);
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** Retries a read (observation) on transient failures; permanent ones propagate. */
async function withRetries<T>(deps: EngineDeps, fn: () => Promise<T>): Promise<T> {
  const policy = deps.retry ?? DEFAULT_RETRY_POLICY;
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? defaultSleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      const retryable = !(error instanceof Auth0Failure) || error.retryable;
      if (!retryable) throw error;
      if (attempt >= policy.maxAttempts)
        throw new RetryLaterError(`observing the tenant kept failing: ${String(error)}`, { cause: error });
      await sleep(
        retryDelay(policy, attempt, now(), error instanceof Auth0Failure ? error.details.retryAt : undefined),
      );
    }
  }
}
