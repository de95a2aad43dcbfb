/**
 * Application (client) name → client_id, per process: filled by one `GET /clients` listing (ids and names only) and
 * listed again only when a name is unknown or ambiguous there, or when a caller found a cached id wrong (a 404 on a
 * by-id call, or the client there has another name now). A process thus lists the applications about once, however
 * many organizations it provisions, instead of once or twice per organization.
 *
 * Several processes each keep their own directory and stay correct: an existing client's id never changes, so a
 * cached id is either right or shown wrong by the call that uses it, which asks again. When the cached answer is not
 * a single id, a question is answered by a listing started after the one that answered it (a burst of questions
 * shares it); a listing that failed is not reused.
 */
import { Auth0Failure } from '../../ports/auth0-tenant.js';

export interface ClientEntry {
  clientId: string;
  name: string;
}

export class ClientDirectory {
  private entries: ClientEntry[] = [];
  private byName = new Map<string, string[]>();
  /** Listings started so far, and the index of the one whose entries are held (0: none yet). */
  private started = 0;
  private held = 0;
  private latest: { index: number; done: Promise<void> } | undefined;

  constructor(private readonly listAll: () => Promise<ClientEntry[]>) {}

  /**
   * The id of the one application named `name`, or undefined when none is. `wrong`: an id the caller just found is
   * not (or no longer) that application, so the cache cannot answer. Names are not unique in Auth0: several
   * applications with the name is a permanent failure.
   */
  async idOf(name: string, wrong?: string): Promise<string | undefined> {
    const asked = this.started;
    if (this.held === 0) await this.listing(1);
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

  /** Waits for a listing with at least this index, starting one when none has. */
  private listing(index: number): Promise<void> {
    if (this.latest && this.latest.index >= index) return this.latest.done;
    const mine = ++this.started;
    const done = this.listAll().then(
      (entries) => {
        // Listings may finish out of order: only a later one replaces what is held.
        if (mine <= this.held) return;
        this.held = mine;
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
    this.latest = { index: mine, done };
    return done;
  }
}
