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
  /** Whether this call wrote (false when another run's reconciliation had already applied this intent). */
  wrote: boolean;
  /** The intent's additions that were missing and were put on the client (by this call or the one that applied it). */
  added: UrlLists;
}

const noApplication = (clientName: string): Auth0Failure =>
  new Auth0Failure(`no application is named ${clientName}`, { retryable: false, status: 404 });

const addsNothing = (intent: ClientUrlIntent): boolean =>
  LISTS.every((list) => intent.add[list].length === 0);

/** Records the intent and makes the client's lists satisfy every pending intent. */
export async function reconcileClientUrls(
  store: Store,
  tenant: Auth0Tenant,
  intent: ClientUrlIntent,
): Promise<ClientUrlResult> {
  await store.recordClientUrlIntent(intent);
  return store.withClientLock(intent.tenant, intent.clientName, async () => {
    const recorded = await store.pendingClientUrlIntents(intent.tenant, intent.clientName);
    if (!recorded.some((candidate) => candidate.orgName === intent.orgName)) {
      const added = await store.clientUrlsAdded(intent.tenant, intent.clientName, intent.orgName);
      return { wrote: false, added: added ?? EMPTY_URLS };
    }
    const pending = await Promise.all(recorded.map((candidate) => keepUrlsOthersWant(store, candidate)));
    const added = new Map(pending.map((candidate) => [candidate.orgName, { ...EMPTY_URLS }]));
    let applied = pending;
    let wrote = false;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const found = await tenant.readClientUrls(intent.clientName);
      if (!found) {
        // No application has this name: removals have nothing to take off, additions cannot be made.
        applied = pending.filter(addsNothing);
        break;
      }
      const { clientId, ...current } = found;
      // Each round after a write is also the verifying read.
      if (satisfies(current, pending)) break;
      if (round === MAX_ROUNDS - 1) {
        throw new Error(`client ${intent.clientName}: URL lists kept changing under us; will retry`);
      }
      const next = mergeUrls(current, pending);
      if (!same(next, current)) {
        await tenant.writeClientUrls(clientId, next);
        wrote = true;
        for (const candidate of pending) {
          const mine = added.get(candidate.orgName)!;
          for (const list of LISTS) {
            const missing = candidate.add[list].filter((url) => !current[list].includes(url));
            mine[list] = [...new Set([...mine[list], ...missing])];
          }
        }
      }
    }
    await store.settleClientUrlIntents(
      intent.tenant,
      intent.clientName,
      applied.map((candidate) => candidate.orgName),
      Object.fromEntries(applied.map((candidate) => [candidate.orgName, added.get(candidate.orgName)!])),
    );
    if (!applied.some((candidate) => candidate.orgName === intent.orgName))
      throw noApplication(intent.clientName);
    return { wrote, added: added.get(intent.orgName)! };
  });
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
