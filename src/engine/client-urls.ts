/**
 * The one read-modify-write left in the Management API: a client's callbacks, logout URLs and web origins. Every
 * change goes through an intent ledger and a per-client lock held across all orgadmin processes; whoever holds the
 * lock applies every pending intent of every organization at once (one GET, one PATCH, one verifying GET), so k
 * concurrent organizations cost about one write, and nothing is lost. If the verifying read shows that someone else
 * wrote in between (the Dashboard, another tool), the merge is redone. A URL another organization still lists for
 * the client is never taken off, whichever organization added it.
 *
 * Steps are planned from specs alone, so an intent may ask for URLs that are already there: the difference is taken
 * here, under the lock, and nothing is written when nothing is missing. What each intent really added is noted in
 * the ledger and returned, so a compensation takes off only those (a URL that was there before stays).
 *
 * Batching: runs in flight at once share a write, but a bulk apply of thousands has only a worker's slots in
 * flight. So, in a worker, a run whose change can wait — another unfinished run will still change this client, and
 * the oldest pending intent has waited less than the batching wait — records its intent and suspends, freeing its
 * slot; the run that finds nobody else coming (or the wait over) writes every pending intent and wakes the runs it
 * settled. An organization alone never waits; a run that never comes delays the others by the wait at most.
 * The ledger notes each intent's run: the same step repeated keeps its result, and a failed or cancelled run's
 * intent that no write applied yet is withdrawn.
 */
import type { UrlLists } from '../domain/plan.js';
import { Auth0Failure, type Auth0Tenant } from '../ports/auth0-tenant.js';
import type { ClientUrlIntent, Store } from '../ports/store.js';

const LISTS = ['callbacks', 'logoutUrls', 'webOrigins'] as const;
const MAX_ROUNDS = 5;

export const EMPTY_URLS: UrlLists = { callbacks: [], logoutUrls: [], webOrigins: [] };

/** current ∪ adds − removes; a URL some organization still adds is never removed. */
export function mergeUrls(current: UrlLists, intents: ClientUrlIntent[]): UrlLists {
  const next = { ...EMPTY_URLS };
  for (const list of LISTS) {
    const adds = new Set(intents.flatMap((intent) => intent.add[list]));
    const removes = new Set(intents.flatMap((intent) => intent.remove[list]).filter((url) => !adds.has(url)));
    next[list] = [...new Set([...current[list], ...adds])].filter((url) => !removes.has(url));
  }
  return next;
}

function satisfies(current: UrlLists, intents: ClientUrlIntent[]): boolean {
  return intents.every((intent) =>
    LISTS.every(
      (list) =>
        intent.add[list].every((url) => current[list].includes(url)) &&
        intent.remove[list].every(
          (url) => !current[list].includes(url) || intents.some((other) => other.add[list].includes(url)),
        ),
    ),
  );
}

const same = (a: UrlLists, b: UrlLists): boolean =>
  LISTS.every((list) => JSON.stringify(a[list]) === JSON.stringify(b[list]));

export interface ClientUrlResult {
  /** The intent's additions that were missing and were put on the client (by this call or the one that applied it). */
  added: UrlLists;
  /** Other runs whose intents this call's reconciliation applied (they may be waiting for it). */
  settledRuns: string[];
}

export type RunClientUrlIntent = ClientUrlIntent & { runId: string };

const noApplication = (clientName: string): Auth0Failure =>
  new Auth0Failure(`no application is named ${clientName}`, { retryable: false, status: 404 });

const addsNothing = (intent: ClientUrlIntent): boolean =>
  LISTS.every((list) => intent.add[list].length === 0);

/** When a run's URL change may wait for other runs' changes to the same client, so one write carries them all. */
export interface ClientUrlBatching {
  /** The longest an intent waits for company; after that the next run to look writes. */
  maxWaitMs: number;
}

/** The run's intent waits for a later write (the run suspends until then, or until `retryInMs`). */
export interface ClientUrlWait {
  waiting: true;
  retryInMs: number;
}

/**
 * Records the run's intent and makes the client's lists satisfy every pending intent — or, with `batching`, leaves
 * the write to a later run when another unfinished run will still add an intent on this client and the oldest
 * pending one has not waited `maxWaitMs` yet (whoever writes applies every pending intent, so k runs cost one write).
 */
export async function reconcileClientUrls(
  store: Store,
  tenant: Auth0Tenant,
  intent: RunClientUrlIntent,
  batching?: ClientUrlBatching,
): Promise<ClientUrlResult | ClientUrlWait> {
  const recorded = await store.recordClientUrlIntent(intent);
  if (recorded.state === 'settled') return { added: recorded.added, settledRuns: [] };
  if (batching) {
    const batch = await store.clientUrlBatchState(intent.tenant, intent.clientName, intent.runId);
    const waited = batch.oldestPendingMs ?? 0;
    if (batch.moreComing && waited < batching.maxWaitMs)
      return { waiting: true, retryInMs: Math.ceil(batching.maxWaitMs - waited) };
  }
  const mineApplied = async (): Promise<boolean> =>
    (await store.clientUrlIntentState(intent.tenant, intent.clientName, intent.orgName, intent.runId))
      .state === 'settled';
  const settledRuns = await writeClientUrls(store, tenant, intent.tenant, intent.clientName, mineApplied);
  const mine = await store.clientUrlIntentState(
    intent.tenant,
    intent.clientName,
    intent.orgName,
    intent.runId,
  );
  if (mine.state === 'settled') {
    return { added: mine.added, settledRuns: settledRuns.filter((runId) => runId !== intent.runId) };
  }
  // Still pending after a reconciliation: only an intent that adds to an application that does not exist stays.
  throw noApplication(intent.clientName);
}

/**
 * Under the client's lock: applies every pending intent on it at once (one GET, one PATCH, one verifying GET) and
 * settles them, with what each added; returns the runs whose intents it settled. Intents that add to an
 * application that does not exist stay pending.
 */
async function writeClientUrls(
  store: Store,
  tenant: Auth0Tenant,
  tenantName: string,
  clientName: string,
  alreadyDone: () => Promise<boolean>,
): Promise<string[]> {
  return store.withClientLock(tenantName, clientName, async () => {
    // The holder before us applied our intent: the intents recorded since wait for their own turn (a later write),
    // rather than every run queued on the lock writing once more — a convoy when writes wait on the rate budget.
    if (await alreadyDone()) return [];
    const recorded = await store.pendingClientUrlIntents(tenantName, clientName);
    if (recorded.length === 0) return [];
    const pending = await Promise.all(recorded.map((candidate) => keepUrlsOthersWant(store, candidate)));
    const added = new Map(pending.map((candidate) => [candidate.orgName, { ...EMPTY_URLS }]));
    let applied = pending;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const found = await tenant.readClientUrls(clientName);
      if (!found) {
        // No application has this name: removals have nothing to take off, additions cannot be made.
        applied = pending.filter(addsNothing);
        break;
      }
      const { clientId, ...current } = found;
      // Each round after a write is also the verifying read.
      if (satisfies(current, pending)) break;
      if (round === MAX_ROUNDS - 1) {
        throw new Error(`client ${clientName}: URL lists kept changing under us; will retry`);
      }
      const next = mergeUrls(current, pending);
      if (!same(next, current)) {
        await tenant.writeClientUrls(clientId, next);
        for (const candidate of pending) {
          const mine = added.get(candidate.orgName)!;
          for (const list of LISTS) {
            const missing = candidate.add[list].filter((url) => !current[list].includes(url));
            mine[list] = [...new Set([...mine[list], ...missing])];
          }
        }
      }
    }
    return store.settleClientUrlIntents(
      tenantName,
      clientName,
      applied.map((candidate) => candidate.orgName),
      Object.fromEntries(applied.map((candidate) => [candidate.orgName, added.get(candidate.orgName)!])),
    );
  });
}

/**
 * Takes a failed or cancelled run's URL change back: an intent never applied is withdrawn (no later write applies
 * it), under the client's lock so no write is applying it at that moment; one already applied is reported with what
 * it added, for the compensation to take off.
 */
export async function withdrawClientUrls(
  store: Store,
  intent: { tenant: string; clientName: string; orgName: string; runId: string },
): Promise<{ applied: false } | { applied: true; added: UrlLists }> {
  const outcome = await store.withClientLock(intent.tenant, intent.clientName, () =>
    store.withdrawClientUrlIntent(intent.tenant, intent.clientName, intent.orgName, intent.runId),
  );
  return outcome.state === 'settled' ? { applied: true, added: outcome.added } : { applied: false };
}

/** The intent without removals of URLs another organization still lists for the client (two may share one). */
async function keepUrlsOthersWant(store: Store, intent: ClientUrlIntent): Promise<ClientUrlIntent> {
  if (LISTS.every((list) => intent.remove[list].length === 0)) return intent;
  const wanted = await store.clientUrlsWantedByOthers(intent.tenant, intent.clientName, intent.orgName);
  const remove = { ...EMPTY_URLS };
  for (const list of LISTS) remove[list] = intent.remove[list].filter((url) => !wanted[list].includes(url));
  return { ...intent, remove };
}

/**
 * The unsafe way every script does it — read, add, write, no lock, no ledger. Only for tests that must show the
 * lost-update hazard the reconciler exists to prevent.
 */
export async function unsafeReadModifyWrite(
  tenant: Auth0Tenant,
  clientName: string,
  add: UrlLists,
  remove: UrlLists,
): Promise<void> {
  const found = await tenant.readClientUrls(clientName);
  if (!found) throw noApplication(clientName);
  const { clientId, ...current } = found;
  const next = mergeUrls(current, [{ tenant: '', clientName, orgName: '', add, remove }]);
  await tenant.writeClientUrls(clientId, next);
}
