/**
 * Application (client) name → client_id, per process: filled by one `GET /clients` listing (ids and names only) and
 * listed again when a name is unknown or ambiguous there, when a caller found a cached id wrong (a 404 on a by-id
 * call, or the client there has another name now), or when the listing is older than `maxAgeMs`. A process thus
 * lists the applications about once a minute at most, however many organizations it provisions, instead of once or
 * twice per organization.
 *
 * Why the age limit: an id never changes, but a name can move. When application "A" (id X) is renamed "B" and a new
 * "A" (id Y) is created, X still exists, so a call by id on X succeeds and shows nothing wrong unless it reads the
 * name (the URL reconciler's read does, and asks again with `wrong`); calls that only send the id (enabling a
 * connection, an invitation, a password ticket) would use X for "A" for as long as the process lives. The age limit
 * bounds that to `maxAgeMs`.
 *
 * Several processes each keep their own directory. When the cached answer is not a single id, a question is answered
 * by a listing started after the one that answered it (a burst of questions shares it); a listing that failed is not
 * reused.
 */
import { Auth0Failure } from '../../ports/auth0-tenant.js';

export interface ClientEntry {
  clientId: string;
  name: string;
}

export interface ClientDirectoryOptions {
  /** A listing older than this (from its start) is replaced before it answers a question. Default 60 s. */
  maxAgeMs?: number;
  /** Milliseconds on a monotonic clock (tests pass their own). */
  now?: () => number;
}

export const CLIENT_DIRECTORY_MAX_AGE_MS = 60_000;

export class ClientDirectory {
  private entries: ClientEntry[] = [];
  private byName = new Map<string, string[]>();
  /** Listings started so far, and the index of the one whose entries are held (0: none yet). */
  private started = 0;
  private held = 0;
  /** When the listing whose entries are held started. */
  private heldAt = Number.NEGATIVE_INFINITY;
  private latest: { index: number; startedAt: number; done: Promise<void> } | undefined;
  private readonly maxAgeMs: number;
  private readonly now: () => number;

  constructor(
    private readonly listAll: () => Promise<ClientEntry[]>,
    options: ClientDirectoryOptions = {},
  ) {
    this.maxAgeMs = options.maxAgeMs ?? CLIENT_DIRECTORY_MAX_AGE_MS;
    this.now = options.now ?? (() => performance.now());
  }

  /**
   * The id of the one application named `name`, or undefined when none is. `wrong`: an id the caller just found is
   * not (or no longer) that application, so the cache cannot answer. Names are not unique in Auth0: several
   * applications with the name is a permanent failure.
   */
  async idOf(name: string, wrong?: string): Promise<string | undefined> {
    const asked = this.started;
    const oldest = this.now() - this.maxAgeMs;
    // None yet, or too old to trust a name in it: a listing started within the age limit answers (a burst shares it).
    if (this.held === 0 || this.heldAt <= oldest) await this.listing(1, oldest);
    let ids = this.byName.get(name) ?? [];
    // Unless the entries come from a listing started after the question (this one's first), ask a newer one.
    if (!(ids.length === 1 && ids[0] !== wrong) && this.held <= asked) {
      await this.relistAfter(this.held);
      ids = this.byName.get(name) ?? [];
    }
    if (ids.length > 1) {
      throw new Auth0Failure(`${ids.length} applications are named ${name}; rename all but one`, {
        retryable: false,
      });
    }
    return ids[0];
  }

  /** Which listing the entries held come from (for `relistAfter`). */
  get version(): number {
    return this.held;
  }

  /**
   * Makes sure the entries held come from a listing started after the one of `version`: a caller that resolved ids
   * at that version and then met a 404 asks again. Callers that doubt the same entries share one listing.
   */
  async relistAfter(version: number): Promise<void> {
    if (this.held <= version) await this.listing(version + 1);
  }

  /** Every application, from a listing that starts now (what the catalog shows); the directory keeps it too. */
  async list(): Promise<ClientEntry[]> {
    await this.listing(this.started + 1);
    return this.entries;
  }

  /**
   * Waits for a listing with at least this index that started after `startedAfter`, starting one when none has.
   */
  private listing(index: number, startedAfter = Number.NEGATIVE_INFINITY): Promise<void> {
    if (this.latest && this.latest.index >= index && this.latest.startedAt > startedAfter)
      return this.latest.done;
    const mine = ++this.started;
    const startedAt = this.now();
    const done = this.listAll().then(
      (entries) => {
        // Listings may finish out of order: only a later one replaces what is held.
        if (mine <= this.held) return;
        this.held = mine;
        this.heldAt = startedAt;
        this.entries = entries;
        this.byName = new Map();
        for (const entry of entries)
          this.byName.set(entry.name, [...(this.byName.get(entry.name) ?? []), entry.clientId]);
      },
      (error: unknown) => {
        if (this.latest?.index === mine) this.latest = undefined;
        throw error;
      },
    );
    this.latest = { index: mine, startedAt, done };
    return done;
  }
}
