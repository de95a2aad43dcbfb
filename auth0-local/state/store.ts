/**
 * All tenants' state in memory, optionally persisted to a state file.
 *
 * Persistence is a snapshot (`<file>`) plus an append-only journal (`<file>.log`). Each flush appends one JSON line
 * holding every change made since the previous flush, so one request's changes reach the disk together or not at
 * all: a process killed mid-write leaves at most a torn last line, which loading ignores. Responses are sent only
 * after their flush, so every acknowledged write survives a kill -9. When the journal grows, a new snapshot is
 * written to a temporary file, fsynced and renamed over the old one before the journal is truncated; journal lines
 * carry a sequence number, so lines already folded into a snapshot are skipped if a crash interrupts compaction.
 */
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';

import { Table, type RowIndexer, type TableChange } from './table.js';

export interface TenantMeta {
  name: string;
  port: number;
  createdAt: string;
  signingKey: { kid: string; privateJwk: Record<string, unknown>; publicJwk: Record<string, unknown> };
  managementClientId: string;
  managementClientSecret: string;
  /** False for tenants that behave as if created after January 2026: `enabled_clients` is gone from connections. */
  legacyEnabledClients: boolean;
  rateLimits: Record<string, unknown>;
  /**
   * Namespaced claim that carries the user's role names in tokens from interactive logins, as the Auth0 Action a
   * real tenant would run (`api.idToken.setCustomClaim(ns + 'roles', event.authorization.roles)`); off when absent.
   */
  rolesClaim?: string;
  /** The tenant's "Allowed Logout URLs", used by logout requests that name no client. */
  allowedLogoutUrls?: string[];
}

type JournalOp =
  | { o: 'tenant'; n: string; m: TenantMeta | null }
  | { o: 'put'; n: string; t: string; k: string; s: number; v: unknown }
  | { o: 'del'; n: string; t: string; k: string }
  | { o: 'drop'; n: string; t: string };

interface Snapshot {
  version: 1;
  lsn: number;
  seq: number;
  tenants: { meta: TenantMeta; tables: Record<string, [string, number, unknown][]> }[];
}

/** Unique indexes of the top-level tables; child tables (`org/<id>/members` …) are keyed by their natural key. */
const TABLE_INDEXES: Record<string, Record<string, RowIndexer<Record<string, unknown>>>> = {
  organizations: { name: (row) => row['name'] as string },
  connections: { name: (row) => row['name'] as string },
  roles: { name: (row) => row['name'] as string },
  'resource-servers': { identifier: (row) => row['identifier'] as string },
  'client-grants': { pair: (row) => `${row['client_id'] as string}|${row['audience'] as string}` },
};

const COMPACT_AFTER_BYTES = 32 * 1024 * 1024;

export class TenantData {
  readonly tables = new Map<string, Table<object>>();

  constructor(
    public meta: TenantMeta,
    private readonly store: Store,
  ) {}

  table<T extends object>(name: string): Table<T> {
    let table = this.tables.get(name);
    if (!table) {
      const indexes = (TABLE_INDEXES[name] ?? {}) as Record<string, RowIndexer<object>>;
      table = new Table<object>(
        name,
        () => this.store.nextSeq(),
        (change) => this.store.record(this.meta.name, change),
        indexes,
      );
      this.tables.set(name, table);
    }
    // The table registry is keyed by name; each name is only ever used with one row type.
    return table as unknown as Table<T>;
  }

  /** Removes a child table entirely (e.g. an organization's members when the organization is deleted). */
  dropTable(name: string): void {
    if (this.tables.delete(name)) this.store.enqueue({ o: 'drop', n: this.meta.name, t: name });
  }
}

export class Store {
  private readonly tenantMap = new Map<string, TenantData>();
  private pending: JournalOp[] = [];
  private seq = 0;
  private lsn = 0;
  private journalFd: number | undefined;
  private journalBytes = 0;

  private constructor(private readonly stateFile: string | undefined) {}

  /** Opens a store; with a state file, loads the snapshot and replays the journal. */
  static open(stateFile?: string): Store {
    const store = new Store(stateFile);
    if (stateFile) {
      mkdirSync(dirname(stateFile), { recursive: true });
      const tornTail = store.load(stateFile);
      store.journalFd = openSync(`${stateFile}.log`, 'a');
      // Appending after a torn line would glue the next entry onto it; start from a fresh snapshot instead.
      if (tornTail) store.compact();
    }
    return store;
  }

  get persistent(): boolean {
    return this.stateFile !== undefined;
  }

  nextSeq(): number {
    return ++this.seq;
  }

  tenants(): TenantData[] {
    return [...this.tenantMap.values()];
  }

  tenant(name: string): TenantData | undefined {
    return this.tenantMap.get(name);
  }

  putTenant(meta: TenantMeta): TenantData {
    const existing = this.tenantMap.get(meta.name);
    if (existing) existing.meta = meta;
    this.enqueue({ o: 'tenant', n: meta.name, m: meta });
    if (existing) return existing;
    const created = new TenantData(meta, this);
    this.tenantMap.set(meta.name, created);
    return created;
  }

  deleteTenant(name: string): boolean {
    if (!this.tenantMap.delete(name)) return false;
    this.enqueue({ o: 'tenant', n: name, m: null });
    return true;
  }

  record(tenant: string, change: TableChange): void {
    if (change.value === null) this.enqueue({ o: 'del', n: tenant, t: change.table, k: change.key });
    else
      this.enqueue({ o: 'put', n: tenant, t: change.table, k: change.key, s: change.seq, v: change.value });
  }

  enqueue(op: JournalOp): void {
    if (this.stateFile) this.pending.push(op);
  }

  /** Writes every change since the last flush as one journal line; call before acknowledging a write. */
  flush(): void {
    if (this.pending.length === 0 || this.journalFd === undefined) return;
    const line = `${JSON.stringify({ l: ++this.lsn, ops: this.pending })}\n`;
    this.pending = [];
    writeSync(this.journalFd, line);
    this.journalBytes += line.length;
    if (this.journalBytes > COMPACT_AFTER_BYTES) this.compact();
  }

  /** Folds the journal into a new snapshot (atomic rename), then starts an empty journal. */
  compact(): void {
    if (!this.stateFile) return;
    this.flush();
    const snapshot: Snapshot = { version: 1, lsn: this.lsn, seq: this.seq, tenants: [] };
    for (const tenant of this.tenantMap.values()) {
      const tables: Snapshot['tenants'][number]['tables'] = {};
      for (const [name, table] of tenant.tables) tables[name] = [...table.entries()];
      snapshot.tenants.push({ meta: tenant.meta, tables });
    }
    const temporary = `${this.stateFile}.tmp`;
    const fd = openSync(temporary, 'w');
    try {
      writeSync(fd, JSON.stringify(snapshot));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, this.stateFile);
    const directory = openSync(dirname(this.stateFile), 'r');
    try {
      fsyncSync(directory);
    } finally {
      closeSync(directory);
    }
    if (this.journalFd !== undefined) closeSync(this.journalFd);
    this.journalFd = openSync(`${this.stateFile}.log`, 'w');
    this.journalBytes = 0;
  }

  /** Drops every tenant (used by the admin reset). */
  clear(): void {
    for (const name of [...this.tenantMap.keys()]) this.deleteTenant(name);
  }

  close(): void {
    if (!this.stateFile) return;
    this.compact();
    if (this.journalFd !== undefined) closeSync(this.journalFd);
    this.journalFd = undefined;
  }

  /** Loads the snapshot and journal; returns true when the journal ended in a torn line. */
  private load(stateFile: string): boolean {
    if (existsSync(stateFile)) {
      const snapshot = JSON.parse(readFileSync(stateFile, 'utf8')) as Snapshot;
      this.lsn = snapshot.lsn;
      this.seq = snapshot.seq;
      for (const { meta, tables } of snapshot.tenants) {
        const tenant = new TenantData(meta, this);
        this.tenantMap.set(meta.name, tenant);
        for (const [name, rows] of Object.entries(tables)) {
          const table = tenant.table<object>(name);
          for (const [key, seq, value] of rows) table.apply(key, seq, value as object);
        }
      }
    }
    const journal = `${stateFile}.log`;
    if (!existsSync(journal)) return false;
    const lines = readFileSync(journal, 'utf8').split('\n');
    for (const [index, line] of lines.entries()) {
      if (line.trim() === '') continue;
      let entry: { l: number; ops: JournalOp[] };
      try {
        entry = JSON.parse(line) as { l: number; ops: JournalOp[] };
      } catch (error) {
        // Only the last line can be torn (a kill during its write); anything else is real corruption.
        if (index >= lines.length - 2) return true;
        throw new Error(`state journal ${journal} is corrupt at line ${index + 1}`, { cause: error });
      }
      if (entry.l <= this.lsn) continue;
      this.lsn = entry.l;
      for (const op of entry.ops) this.replay(op);
    }
    return false;
  }

  private replay(op: JournalOp): void {
    if (op.o === 'tenant') {
      if (op.m === null) this.tenantMap.delete(op.n);
      else {
        const existing = this.tenantMap.get(op.n);
        if (existing) existing.meta = op.m;
        else this.tenantMap.set(op.n, new TenantData(op.m, this));
      }
      return;
    }
    const tenant = this.tenantMap.get(op.n);
    if (!tenant) return;
    if (op.o === 'drop') tenant.tables.delete(op.t);
    else if (op.o === 'del') tenant.table<object>(op.t).remove(op.k);
    else {
      tenant.table<object>(op.t).apply(op.k, op.s, op.v as object);
      if (op.s > this.seq) this.seq = op.s;
    }
  }
}
