/**
 * The per-process application directory: one listing answers every known name; unknown, ambiguous and stale answers
 * are decided by a listing that started after the question; concurrent questions share a listing; a failed listing
 * is not reused; a listing older than the age limit is replaced before it answers (a name that moved to another
 * application while the old one still exists).
 */
import { describe, expect, it } from 'vitest';

import {
  ClientDirectory,
  type ClientDirectoryOptions,
  type ClientEntry,
} from '../../../src/adapters/auth0/client-directory.js';
import { Auth0Failure } from '../../../src/ports/auth0-tenant.js';

/** A tenant's application list that the test changes, and the listings made of it. */
function tenant(initial: ClientEntry[], options?: ClientDirectoryOptions) {
  const state = { clients: initial, listings: 0, fail: false };
  const gates: (() => void)[] = [];
  const directory = new ClientDirectory(async () => {
    state.listings += 1;
    const snapshot = [...state.clients];
    const fail = state.fail;
    await new Promise<void>((resolve) => gates.push(resolve));
    if (fail) throw new Auth0Failure('GET /clients: 503', { retryable: true, status: 503 });
    return snapshot;
  }, options);
  /** Lets every listing in flight answer. */
  const answer = async (): Promise<void> => {
    for (;;) {
      await new Promise((resolve) => setImmediate(resolve));
      const gate = gates.shift();
      if (!gate) return;
      gate();
    }
  };
  return { state, directory, answer };
}

const settle = async <T>(promise: Promise<T>, answer: () => Promise<void>): Promise<T> => {
  const result = promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  await answer();
  const outcome = await result;
  if ('error' in outcome) throw outcome.error;
  return outcome.value;
};

describe('ClientDirectory', () => {
  it('answers known names from one listing, shared by concurrent questions', async () => {
    const { state, directory, answer } = tenant([
      { clientId: 'c1', name: 'Portal' },
      { clientId: 'c2', name: 'Admin' },
    ]);
    const ids = await settle(
      Promise.all(['Portal', 'Admin', 'Portal', 'Admin'].map((name) => directory.idOf(name))),
      answer,
    );
    expect(ids).toEqual(['c1', 'c2', 'c1', 'c2']);
    expect(await directory.idOf('Portal')).toBe('c1');
    expect(state.listings).toBe(1);
  });

  it('lists again for an unknown name, once for a burst of questions', async () => {
    const { state, directory, answer } = tenant([{ clientId: 'c1', name: 'Portal' }]);
    await settle(directory.idOf('Portal'), answer);
    state.clients = [...state.clients, { clientId: 'c3', name: 'New App' }];
    const ids = await settle(Promise.all([1, 2, 3].map(() => directory.idOf('New App'))), answer);
    expect(ids).toEqual(['c3', 'c3', 'c3']);
    expect(state.listings).toBe(2);
    expect(await settle(directory.idOf('Nobody'), answer)).toBeUndefined();
    expect(state.listings).toBe(3);
  });

  it('replaces an id the caller found wrong (deleted and created again under the name)', async () => {
    const { state, directory, answer } = tenant([{ clientId: 'old', name: 'Portal' }]);
    await settle(directory.idOf('Portal'), answer);
    state.clients = [{ clientId: 'new', name: 'Portal' }];
    // The cache alone still says `old`: only a caller's evidence makes it ask again.
    expect(await directory.idOf('Portal')).toBe('old');
    expect(await settle(directory.idOf('Portal', 'old'), answer)).toBe('new');
    expect(await directory.idOf('Portal')).toBe('new');
    expect(state.listings).toBe(2);
  });

  it('lists again once for every caller that doubts the same entries', async () => {
    const { state, directory, answer } = tenant([{ clientId: 'old', name: 'Portal' }]);
    await settle(directory.idOf('Portal'), answer);
    const version = directory.version;
    state.clients = [{ clientId: 'new', name: 'Portal' }];
    await settle(Promise.all([1, 2, 3].map(() => directory.relistAfter(version))), answer);
    expect(await directory.idOf('Portal')).toBe('new');
    expect(state.listings).toBe(2);
    // Already newer than that version: nothing to do.
    await directory.relistAfter(version);
    expect(state.listings).toBe(2);
  });

  it('refuses a name several applications share, after confirming it with a fresh listing', async () => {
    const { state, directory, answer } = tenant([
      { clientId: 't1', name: 'Twin' },
      { clientId: 't2', name: 'Twin' },
    ]);
    const failure = await settle(directory.idOf('Twin'), answer).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(Auth0Failure);
    expect((failure as Auth0Failure).retryable).toBe(false);
    expect((failure as Auth0Failure).message).toBe('2 applications are named Twin; rename all but one');
    expect(state.listings).toBe(1);
    // Renamed in the meantime: the next question lists again and gets the one left.
    state.clients = [
      { clientId: 't1', name: 'Twin' },
      { clientId: 't2', name: 'Twin (old)' },
    ];
    expect(await settle(directory.idOf('Twin'), answer)).toBe('t1');
    expect(state.listings).toBe(2);
  });

  it('does not reuse a listing that failed', async () => {
    const { state, directory, answer } = tenant([{ clientId: 'c1', name: 'Portal' }]);
    state.fail = true;
    await expect(settle(directory.idOf('Portal'), answer)).rejects.toMatchObject({ retryable: true });
    state.fail = false;
    expect(await settle(directory.idOf('Portal'), answer)).toBe('c1');
    expect(state.listings).toBe(2);
  });

  it('replaces a listing older than the age limit before answering: a renamed application no longer answers for its old name', async () => {
    let now = 1_000;
    const { state, directory, answer } = tenant([{ clientId: 'X', name: 'A' }], {
      maxAgeMs: 60_000,
      now: () => now,
    });
    expect(await settle(directory.idOf('A'), answer)).toBe('X');
    // In the Dashboard: "A" (X) is renamed "B" and a new "A" (Y) is created. X still exists, so a by-id call on it
    // succeeds; a caller that does not read the name has no evidence that X is no longer "A".
    state.clients = [
      { clientId: 'X', name: 'B' },
      { clientId: 'Y', name: 'A' },
    ];
    now += 59_999;
    expect(await directory.idOf('A')).toBe('X');
    expect(state.listings).toBe(1);
    // At the age limit, a burst of questions waits for one new listing.
    now += 1;
    const ids = await settle(Promise.all([1, 2, 3].map(() => directory.idOf('A'))), answer);
    expect(ids).toEqual(['Y', 'Y', 'Y']);
    expect(await directory.idOf('B')).toBe('X');
    expect(state.listings).toBe(2);
    // The new listing's age counts from when it started.
    now += 59_999;
    expect(await directory.idOf('A')).toBe('Y');
    expect(state.listings).toBe(2);
  });

  it('answers a caller that read another name under the cached id (renamed) from a new listing, within the age limit', async () => {
    const now = 1_000;
    const { state, directory, answer } = tenant([{ clientId: 'X', name: 'A' }], { now: () => now });
    expect(await settle(directory.idOf('A'), answer)).toBe('X');
    state.clients = [
      { clientId: 'X', name: 'B' },
      { clientId: 'Y', name: 'A' },
    ];
    // The URL reconciler reads the client by id and finds the name "B": it asks again, naming X wrong.
    expect(await settle(directory.idOf('A', 'X'), answer)).toBe('Y');
    expect(await directory.idOf('A')).toBe('Y');
    expect(state.listings).toBe(2);
  });

  it('does not reuse a listing in flight that started before the age limit', async () => {
    let now = 0;
    const { state, directory, answer } = tenant([{ clientId: 'X', name: 'A' }], {
      maxAgeMs: 1_000,
      now: () => now,
    });
    expect(await settle(directory.idOf('A'), answer)).toBe('X');
    // A catalog listing starts, and is still in flight when the held entries become too old.
    const catalog = directory.list();
    state.clients = [{ clientId: 'Y', name: 'A' }];
    now = 1_000;
    const fresh = directory.idOf('A');
    await answer();
    await catalog;
    expect(await fresh).toBe('Y');
    expect(state.listings).toBe(3);
  });
});
