/**
 * Bulk apply: one file of organization specs — YAML (or JSON) documents in the `org apply` format, or CSV rows in the
 * columns of `CSV_COLUMNS` — becomes one batch whose organizations' runs (create or update, through the
 * organization service) belong to it, so its progress and summary can be read later from any face and survive
 * restarts.
 *
 * The whole file is checked before anything is recorded: every document or row against the spec's rules, duplicate
 * names, "(set)" secrets with nothing to keep, and the shared connections and applications the specs name against
 * the tenant's catalog. One bad row refuses the upload, with every problem named by row (or document), field and
 * rule. Afterwards an organization can still be refused at start (e.g. another of its runs is unfinished): that is
 * recorded on the item and reported with the failures.
 *
 * Starting runs happens in the background, item by item under a lease in the store. A process that stops halfway
 * leaves the rest to another: one starting up (`resume`), one that lists or reads the batch, or one that was
 * starting it too and waits for the stopped claim's lease to run out. Each claim has an owner token: a process that
 * stalled past its lease and finds its claim taken over starts nothing more of it and records nothing on its items.
 */
import { OrgadminError, type SpecIssue } from '../domain/errors.js';
import { keepRedactedSecrets, orgSpecSchema, type OrgSpec } from '../domain/org-spec.js';
import { formatPath, invalid, parseSpecs, zodIssues } from '../domain/spec-document.js';
import type {
  BatchCounts,
  BatchFormat,
  BatchProgress,
  BatchRecord,
  ClaimedBatchItem,
  RunRecord,
  Store,
} from '../ports/store.js';
import type { OrganizationService } from './organizations.js';

/** The largest file accepted (characters of text, ~bytes): 10,000 typical specs fit several times over. */
export const MAX_BULK_CHARACTERS = 10 * 1024 * 1024;
/** The most organizations one batch may hold. */
export const MAX_BULK_SPECS = 10_000;
/** Problems listed in a refusal; more are counted, not listed (a wrong column fails every row alike). */
export const MAX_REPORTED_ISSUES = 100;
/** How long a claim on items lasts without a sign of life before another process may take the start over. */
export const BATCH_LEASE_MS = 60_000;
/** Items claimed at a time; the lease is renewed before each start. */
const CLAIM_CHUNK = 10;
/** Taken over only this long after a lease ran out (the database's clock and ours differ a little). */
const TAKEOVER_MARGIN_MS = 50;

/** The CSV columns and what each maps onto in the organization spec (the header row names them, in any order). */
export const CSV_COLUMNS = [
  { name: 'name', help: 'the organization name (required): lowercase letters, digits, "_" and "-"' },
  { name: 'displayName', help: 'the name people see' },
  {
    name: 'isolation',
    help: 'shared (default), isolated-database (adds the organization’s own database connection) or dedicated-tenant',
  },
  { name: 'tenant', help: 'the registered tenant of a dedicated-tenant organization' },
  { name: 'sharedConnections', help: 'existing connections to enable for it, separated by spaces' },
  {
    name: 'passwordPolicy',
    help: 'none, low, fair, good or excellent: the own database connection’s policy (isolated-database only)',
  },
  { name: 'samlMetadataUrl', help: 'https URL of the customer’s SAML metadata: adds a SAML connection' },
  { name: 'ssoDomains', help: 'email domains that sign in with the SAML connection, separated by spaces' },
  { name: 'assignMembershipOnLogin', help: 'true or false, for every connection of the row' },
  { name: 'application', help: 'an existing application the members sign in to' },
  { name: 'callbackUrls', help: 'the application’s callback URLs for it, separated by spaces' },
  { name: 'logoutUrls', help: 'allowed logout URLs, separated by spaces' },
  { name: 'webOrigins', help: 'allowed web origins, separated by spaces' },
  { name: 'adminEmail', help: 'the organization’s first administrator' },
  { name: 'adminName', help: 'the administrator’s name' },
  { name: 'adminVia', help: 'invitation (default) or password-ticket' },
  { name: 'metadata.KEY', help: 'one metadata value per column, e.g. metadata.plan' },
] as const;

export interface BulkUpload {
  /** The file's name; its extension (.yaml, .yml, .json, .csv) tells the format unless `format` does. */
  fileName: string;
  content: string;
  format?: BatchFormat | undefined;
}

export interface BulkValidation {
  format: BatchFormat;
  total: number;
  /** Organizations the batch would create, and existing ones it would update. */
  creates: number;
  updates: number;
  /** Organizations with an unfinished run: they would be refused at start (the first ones, by file order). */
  busy: string[];
  busyCount: number;
}

export interface BulkApplyService {
  /** Checks a file without recording or starting anything; throws the refusal with every problem. */
  validate(upload: BulkUpload): Promise<BulkValidation>;
  /** Checks the file, records the batch and starts its runs in the background. */
  start(upload: BulkUpload, actor: string): Promise<BatchProgress>;
  /** Records specs already checked (the CLI) as a batch, without starting anything yet. */
  record(
    specs: OrgSpec[],
    source: { name: string; format: BatchFormat },
    actor: string,
  ): Promise<BatchRecord>;
  /** Starts the batch's waiting runs in this process; resolves when none is left to start. */
  drain(batchId: string): Promise<void>;
  /** The batch's progress and summary; a start that a stopped process left unfinished is taken over. */
  get(batchId: string): Promise<BatchProgress>;
  /** Batches, newest first; starts that stopped processes left unfinished among them are taken over. */
  list(filter: { limit?: number; before?: string }): Promise<BatchCounts[]>;
  /**
   * Takes over, in the background, every batch with items left to start (a process starting up: the one that was
   * starting them may have stopped). Items another process holds are taken over once their lease runs out.
   * Resolves with the ids of those batches once they are looked at, not when their runs are started.
   */
  resume(): Promise<string[]>;
  /**
   * Stops starting runs after the current one and waits for that; the rest of its claim goes back to waiting for
   * another process.
   */
  close(): Promise<void>;
}

export function createBulkApplyService(deps: {
  store: Store;
  organizations: OrganizationService;
  log?: (line: string) => void;
}): BulkApplyService {
  const { store, organizations } = deps;
  const log = deps.log ?? (() => undefined);
  const draining = new Map<string, Promise<void>>();
  /** Batches to look at again when claims other processes hold run out. */
  const timers = new Map<string, NodeJS.Timeout>();
  let closed = false;

  /** One organization's run: an update of an existing organization, else a creation. */
  const startRun = async (spec: OrgSpec, actor: string): Promise<RunRecord> => {
    const existing = await store.getOrg(spec.name);
    if (existing && existing.status !== 'removed')
      return (await organizations.update(spec.name, spec, actor)).run;
    try {
      return (await organizations.create(spec, actor)).run;
    } catch (error) {
      // Created by someone else since it was read: apply as an update, like `org apply`.
      if (error instanceof OrgadminError && error.code === 'org.exists')
        return (await organizations.update(spec.name, spec, actor)).run;
      throw error;
    }
  };

  /** Starts the items of one claim in order; false when the claim was taken over (the rest is not ours). */
  const startClaimed = async (
    batchId: string,
    items: ClaimedBatchItem[],
    actor: string,
  ): Promise<boolean> => {
    for (const item of items) {
      if (closed) return true;
      const begun = await store.beginBatchItem(batchId, item.position, item.owner, BATCH_LEASE_MS);
      if (begun === 'lost') return false;
      if (begun === 'linked') continue;
      let outcome: { runId: string } | { error: string };
      try {
        outcome = { runId: (await startRun(item.spec, actor)).id };
      } catch (error) {
        outcome = { error: error instanceof Error ? error.message : String(error) };
      }
      // Not settled: another process took the item over meanwhile; a run this start made is linked by that one.
      if (!(await store.settleBatchItem(batchId, item.position, item.owner, outcome))) return false;
    }
    return true;
  };

  const drainAs = async (batchId: string, actor: string): Promise<void> => {
    while (!closed) {
      const items = await store.claimBatchItems(batchId, CLAIM_CHUNK, BATCH_LEASE_MS);
      if (items.length === 0) return;
      let kept: boolean | undefined;
      try {
        kept = await startClaimed(batchId, items, actor);
      } finally {
        // Stopping (closed, taken over, or a failure) hands the unstarted rest of the claim back rather than
        // leaving it to its lease.
        if (closed || kept !== true)
          await store.releaseBatchClaim(batchId, items[0]!.owner).catch(() => undefined);
      }
      if (!kept) log(`bulk apply ${batchId}: another process took over items this one had claimed`);
    }
  };

  /** Looks at the batch again when the first claim another process holds on it runs out. */
  const watch = (batchId: string, actor: string, afterMs: number): void => {
    if (closed) return;
    clearTimeout(timers.get(batchId));
    const timer = setTimeout(() => {
      timers.delete(batchId);
      if (!closed) void kick(batchId, actor);
    }, afterMs + TAKEOVER_MARGIN_MS);
    // Never the reason a process stays up.
    timer.unref();
    timers.set(batchId, timer);
  };

  /** What is left to start of a batch after draining: start it now, watch claims held elsewhere, or nothing. */
  const followUp = async (batchId: string, actor: string): Promise<void> => {
    if (closed) return;
    const [open] = await store.unstartedBatches({ batchId });
    if (!open) return;
    if (open.claimable > 0) watch(batchId, actor, 0);
    else if (open.heldForMs !== undefined) watch(batchId, actor, open.heldForMs);
  };

  /** Starts the batch's runs in the background, once per process at a time. */
  const kick = (batchId: string, actor: string): Promise<void> => {
    let running = draining.get(batchId);
    if (!running) {
      clearTimeout(timers.get(batchId));
      timers.delete(batchId);
      running = drainAs(batchId, actor)
        .then(() => followUp(batchId, actor))
        .catch((error: unknown) =>
          log(
            `bulk apply ${batchId}: starting runs stopped (${error instanceof Error ? error.message : String(error)}); another process takes over once the lease runs out`,
          ),
        )
        .finally(() => draining.delete(batchId));
      draining.set(batchId, running);
    }
    return running;
  };

  /** Takes a batch over unless this process is already starting it. */
  const takeOver = (batch: { id: string; requestedBy: string }): void => {
    if (closed || draining.has(batch.id)) return;
    log(`bulk apply ${batch.id}: items are left to start; continuing its start here`);
    void kick(batch.id, batch.requestedBy);
  };

  const mustGet = async (batchId: string): Promise<BatchProgress> => {
    const batch = await store.getBatch(batchId, BATCH_LEASE_MS);
    if (!batch) throw new OrgadminError('not_found', `No batch ${batchId}.`);
    return batch;
  };

  const check = async (upload: BulkUpload): Promise<{ format: BatchFormat; specs: OrgSpec[] }> => {
    const read = readBulkFile(upload);
    const issues = await checkAgainstState(read, store, organizations);
    if (issues.length > 0) throw refusal('spec.invalid', issues);
    return { format: read.format, specs: read.specs };
  };

  return {
    async validate(upload) {
      const { format, specs } = await check(upload);
      const statuses = await store.orgStatuses(specs.map((spec) => spec.name));
      const existing = new Map(statuses.map((status) => [status.name, status]));
      const updates = specs.filter((spec) => {
        const status = existing.get(spec.name)?.status;
        return status !== undefined && status !== 'removed';
      }).length;
      const busy = specs.filter((spec) => existing.get(spec.name)?.busy).map((spec) => spec.name);
      return {
        format,
        total: specs.length,
        creates: specs.length - updates,
        updates,
        busy: busy.slice(0, 20),
        busyCount: busy.length,
      };
    },

    async start(upload, actor) {
      const { format, specs } = await check(upload);
      const batch = await store.createBatch({
        requestedBy: actor,
        sourceName: upload.fileName,
        format,
        specs,
      });
      log(`bulk apply ${batch.id}: ${specs.length} organization(s) from ${upload.fileName} by ${actor}`);
      void kick(batch.id, actor);
      return mustGet(batch.id);
    },

    record: (specs, source, actor) =>
      store.createBatch({ requestedBy: actor, sourceName: source.name, format: source.format, specs }),

    async drain(batchId) {
      const batch = await mustGet(batchId);
      await kick(batchId, batch.requestedBy);
    },

    async get(batchId) {
      const batch = await mustGet(batchId);
      if (batch.stalled) takeOver(batch);
      return batch;
    },

    async list(filter) {
      const batches = await store.listBatches(filter, BATCH_LEASE_MS);
      for (const batch of batches) if (batch.stalled) takeOver(batch);
      return batches;
    },

    async resume() {
      const open = await store.unstartedBatches();
      for (const batch of open) {
        if (batch.claimable > 0) takeOver(batch);
        else if (batch.heldForMs !== undefined) watch(batch.id, batch.requestedBy, batch.heldForMs);
      }
      return open.map((batch) => batch.id);
    },

    async close() {
      closed = true;
      for (const timer of timers.values()) clearTimeout(timer);
      timers.clear();
      await Promise.all(draining.values());
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Reading and checking a file

interface ReadFile {
  format: BatchFormat;
  specs: OrgSpec[];
  /** How problems name each spec: `row 3` (CSV) or `#2` (documents), in spec order. */
  labels: string[];
  /** The CSV column a spec path comes from, when there is one (so a problem names what the operator wrote). */
  columnOf: (index: number, path: readonly PropertyKey[]) => string | undefined;
}

/** The format a file is in: as named, else from its extension. */
function formatOf(upload: BulkUpload): BatchFormat {
  if (upload.format) return upload.format;
  const extension = /\.([a-z]+)$/i.exec(upload.fileName)?.[1]?.toLowerCase();
  if (extension === 'csv') return 'csv';
  if (extension === 'json') return 'json';
  if (extension === 'yaml' || extension === 'yml') return 'yaml';
  throw refusal('request.invalid', [
    { path: 'fileName', message: 'must end in .yaml, .yml, .json or .csv (or name the format)' },
  ]);
}

/** Parses and validates every spec of a file (no I/O); throws the refusal listing every problem. */
function readBulkFile(upload: BulkUpload): ReadFile {
  if (upload.content.length > MAX_BULK_CHARACTERS)
    throw refusal('request.invalid', [
      { path: 'content', message: `must be at most ${MAX_BULK_CHARACTERS / 1024 / 1024} MiB` },
    ]);
  const format = formatOf(upload);
  if (format === 'csv') return readCsv(upload.content);
  let specs: OrgSpec[];
  try {
    specs = parseSpecs(upload.content, upload.fileName);
  } catch (error) {
    // The reader lists every problem; a file of thousands is capped like a CSV.
    if (error instanceof OrgadminError && error.code === 'spec.invalid')
      throw refusal('spec.invalid', error.details.issues ?? []);
    throw error;
  }
  tooMany(specs.length);
  return {
    format,
    specs,
    labels: specs.map((_, index) => (specs.length > 1 ? `#${index + 1}` : '')),
    columnOf: () => undefined,
  };
}

function tooMany(count: number): void {
  if (count > MAX_BULK_SPECS)
    throw refusal('request.invalid', [
      {
        path: 'content',
        message: `holds ${count.toLocaleString('en')} organizations; a batch takes at most ${MAX_BULK_SPECS.toLocaleString('en')}`,
      },
    ]);
}

/** Problems the file's specs have against orgadmin's and the tenant's current state. */
async function checkAgainstState(
  read: ReadFile,
  store: Store,
  organizations: OrganizationService,
): Promise<SpecIssue[]> {
  const issues: SpecIssue[] = [];
  const at = (index: number, path: (string | number)[], message: string): void => {
    const where = read.columnOf(index, path) ?? formatPath(path);
    issues.push({ path: [read.labels[index], where].filter(Boolean).join(' '), message });
  };
  // A "(set)" secret keeps the organization's current one: a new organization has none.
  for (const [index, spec] of read.specs.entries()) {
    if (!JSON.stringify(spec).includes('"(set)"')) continue;
    const current = await store.getOrg(spec.name);
    const kept = keepRedactedSecrets(spec, current?.status === 'removed' ? undefined : current?.spec);
    for (const path of kept.missing)
      issues.push({
        path: [read.labels[index], path].filter(Boolean).join(' '),
        message: 'is "(set)" but the organization has no such secret to keep',
      });
  }
  // Shared connections and applications must exist in the default tenant (dedicated tenants are checked at start).
  const inDefaultTenant = read.specs
    .map((spec, index) => ({ spec, index }))
    .filter(({ spec }) => spec.isolation !== 'dedicated-tenant');
  const namesSomething = inDefaultTenant.some(
    ({ spec }) => spec.applications.length > 0 || spec.connections.some((entry) => 'shared' in entry),
  );
  if (namesSomething) {
    const catalog = await organizations.catalog();
    const connections = new Set(catalog.connections.map((connection) => connection.name));
    const clients = new Set(catalog.clients.map((client) => client.name));
    // Auth0 allows two applications one name; a run could not tell them apart, so thousands would fail one by one.
    const ambiguous = new Set(
      catalog.clients
        .map((client) => client.name)
        .filter((name, index, names) => names.indexOf(name) !== index),
    );
    for (const { spec, index } of inDefaultTenant) {
      spec.connections.forEach((entry, position) => {
        if ('shared' in entry && !connections.has(entry.shared))
          at(
            index,
            ['connections', position, 'shared'],
            `no shared connection "${entry.shared}" in the tenant`,
          );
      });
      spec.applications.forEach((app, position) => {
        if (!clients.has(app.client))
          at(index, ['applications', position, 'client'], `no application "${app.client}" in the tenant`);
        else if (ambiguous.has(app.client))
          at(
            index,
            ['applications', position, 'client'],
            `several applications are named "${app.client}"; rename all but one`,
          );
      });
    }
  }
  return issues;
}

/** The one refusal: every problem up to MAX_REPORTED_ISSUES, then how many more there were. */
function refusal(code: 'spec.invalid' | 'request.invalid', issues: SpecIssue[]): OrgadminError {
  if (issues.length <= MAX_REPORTED_ISSUES)
    return invalid(code, code === 'spec.invalid' ? 'bulk apply file' : 'request', issues);
  const shown = issues.slice(0, MAX_REPORTED_ISSUES);
  return invalid(code, 'bulk apply file', [
    ...shown,
    { path: 'file', message: `and ${issues.length - shown.length} more problem(s) not listed` },
  ]);
}

// ---------------------------------------------------------------------------------------------------------------
// CSV

interface CsvRecord {
  cells: string[];
  /** The line the record starts on (a quoted cell may span lines). */
  line: number;
}

/** RFC 4180 records: quoted cells may hold the delimiter, line breaks and quotes (doubled); CRLF, LF or CR. */
export function parseCsv(text: string, delimiter = ','): CsvRecord[] {
  const records: CsvRecord[] = [];
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  let wasQuoted = false;
  let line = 1;
  let recordLine = 1;
  const endRecord = (): void => {
    cells.push(cell);
    records.push({ cells, line: recordLine });
    cells = [];
    cell = '';
    wasQuoted = false;
  };
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (char === '"') quoted = false;
      else {
        if (char === '\n' || (char === '\r' && text[i + 1] !== '\n')) line++;
        cell += char;
      }
    } else if (char === '"' && cell === '' && !wasQuoted) {
      quoted = true;
      wasQuoted = true;
    } else if (char === delimiter) {
      cells.push(cell);
      cell = '';
      wasQuoted = false;
    } else if (char === '\r' || char === '\n') {
      if (char === '\r' && text[i + 1] === '\n') i++;
      endRecord();
      line++;
      recordLine = line;
    } else cell += char;
  }
  if (quoted)
    throw new OrgadminError(
      'spec.unreadable',
      `CSV: the quoted cell starting on line ${recordLine} is not closed`,
    );
  if (cell !== '' || cells.length > 0 || wasQuoted) endRecord();
  return records;
}

const KNOWN_COLUMNS = new Map(
  CSV_COLUMNS.filter((column) => column.name !== 'metadata.KEY').map((column) => [
    column.name.toLowerCase(),
    column.name,
  ]),
);
const METADATA_PREFIX = 'metadata.';
const BOOLEANS: Record<string, boolean> = {
  true: true,
  yes: true,
  '1': true,
  false: false,
  no: false,
  '0': false,
};

function readCsv(content: string): ReadFile {
  const text = content.replace(/^\uFEFF/, '');
  // Spreadsheets in many locales save with ";" — the header row tells which.
  const header = text.slice(0, text.search(/\r|\n|$/));
  const delimiter = header.includes(',')
    ? ','
    : header.includes(';')
      ? ';'
      : header.includes('\t')
        ? '\t'
        : ',';
  const [head, ...records] = parseCsv(text, delimiter);
  if (!head || head.cells.every((cell) => cell.trim() === ''))
    throw new OrgadminError('spec.unreadable', 'CSV: no header row');

  const issues: SpecIssue[] = [];
  const columns = head.cells.map((cell) => {
    const written = cell.trim();
    if (written.toLowerCase().startsWith(METADATA_PREFIX) && written.length > METADATA_PREFIX.length)
      return `${METADATA_PREFIX}${written.slice(METADATA_PREFIX.length)}`;
    const known = KNOWN_COLUMNS.get(written.toLowerCase());
    if (!known)
      issues.push({
        path: `row 1 column "${written}"`,
        message: `is not a known column (known: ${CSV_COLUMNS.map((column) => column.name).join(', ')})`,
      });
    return known ?? written;
  });
  columns.forEach((column, index) => {
    if (columns.indexOf(column) !== index)
      issues.push({ path: `row 1 column "${column}"`, message: 'appears twice' });
  });
  if (!columns.includes('name')) issues.push({ path: 'row 1', message: 'needs a "name" column' });
  if (issues.length > 0) throw refusal('spec.invalid', issues);

  const rows = records
    .map((record, index) => ({ ...record, row: index + 2 }))
    .filter((record) => record.cells.some((cell) => cell.trim() !== ''));
  tooMany(rows.length);
  if (rows.length === 0)
    throw new OrgadminError('spec.unreadable', 'CSV: no organization in it (only a header row)');

  const specs: OrgSpec[] = [];
  const labels: string[] = [];
  const connectionColumns: string[][] = [];
  const rowOfName = new Map<string, number>();
  for (const record of rows) {
    const label = `row ${record.row}`;
    if (record.cells.length !== columns.length) {
      issues.push({
        path: label,
        message: `has ${record.cells.length} cell(s) but the header has ${columns.length} (a quote or "${delimiter}" too many or too few?)`,
      });
      continue;
    }
    const cells = new Map(columns.map((column, index) => [column, record.cells[index]!.trim()]));
    const mapped = specOfRow(cells);
    for (const problem of mapped.issues)
      issues.push({ path: `${label} ${problem.column}`, message: problem.message });
    const parsed = orgSpecSchema.safeParse(mapped.value);
    if (!parsed.success) {
      issues.push(
        ...zodIssues(parsed.error, (path) => {
          const column = csvColumnOf(path, mapped.connectionColumns);
          const value = valueAt(mapped.value, path);
          // The value as written, so the cell is found at a glance (CSV has no secret columns).
          const shown = typeof value === 'string' && value !== '' && column !== undefined;
          return `${label} ${column ?? formatPath(path)}${shown ? ` "${value.slice(0, 80)}"` : ''}`;
        }),
      );
      continue;
    }
    if (mapped.issues.length > 0) continue;
    const first = rowOfName.get(parsed.data.name);
    if (first !== undefined) {
      issues.push({
        path: `${label} name`,
        message: `organization "${parsed.data.name}" appears in more than one row (also row ${first})`,
      });
      continue;
    }
    rowOfName.set(parsed.data.name, record.row);
    specs.push(parsed.data);
    labels.push(label);
    connectionColumns.push(mapped.connectionColumns);
  }
  if (issues.length > 0) throw refusal('spec.invalid', issues);
  return {
    format: 'csv',
    specs,
    labels,
    columnOf: (index, path) => csvColumnOf(path, connectionColumns[index] ?? []),
  };
}

/** The spec one CSV row stands for, and the problems only the mapping can see. */
function specOfRow(cells: Map<string, string>): {
  value: Record<string, unknown>;
  issues: { column: string; message: string }[];
  /** The column each connection came from, by index. */
  connectionColumns: string[];
} {
  const issues: { column: string; message: string }[] = [];
  const cell = (column: string): string => cells.get(column) ?? '';
  const list = (column: string): string[] => cell(column).split(/\s+/).filter(Boolean);
  const value: Record<string, unknown> = { name: cell('name') };
  for (const column of ['displayName', 'isolation', 'tenant'])
    if (cell(column) !== '') value[column] = cell(column);

  const membership: { assignMembershipOnLogin?: boolean } = {};
  const assign = cell('assignMembershipOnLogin').toLowerCase();
  if (assign !== '') {
    if (assign in BOOLEANS) membership.assignMembershipOnLogin = BOOLEANS[assign]!;
    else
      issues.push({ column: 'assignMembershipOnLogin', message: 'must be true or false (or yes/no, 1/0)' });
  }
  const connections: Record<string, unknown>[] = [];
  const connectionColumns: string[] = [];
  const passwordPolicy = cell('passwordPolicy');
  if (cell('isolation') === 'isolated-database') {
    connections.push({ database: passwordPolicy ? { passwordPolicy } : {}, ...membership });
    connectionColumns.push(passwordPolicy ? 'passwordPolicy' : 'isolation');
  } else if (passwordPolicy !== '')
    issues.push({
      column: 'passwordPolicy',
      message: 'applies only with isolation isolated-database (the organization’s own database connection)',
    });
  for (const shared of list('sharedConnections')) {
    connections.push({ shared, ...membership });
    connectionColumns.push('sharedConnections');
  }
  const domains = list('ssoDomains');
  if (cell('samlMetadataUrl') !== '') {
    connections.push({
      saml: { metadataUrl: cell('samlMetadataUrl') },
      ...(domains.length > 0 ? { domains } : {}),
      ...membership,
    });
    connectionColumns.push('samlMetadataUrl');
  } else if (domains.length > 0)
    issues.push({
      column: 'ssoDomains',
      message: 'needs samlMetadataUrl (the domains lead to the SAML connection)',
    });
  if (connections.length > 0) value['connections'] = connections;

  const urlColumns = {
    callbacks: 'callbackUrls',
    logoutUrls: 'logoutUrls',
    webOrigins: 'webOrigins',
  } as const;
  if (cell('application') !== '') {
    const app: Record<string, unknown> = { client: cell('application') };
    for (const [field, column] of Object.entries(urlColumns))
      if (cell(column) !== '') app[field] = list(column);
    value['applications'] = [app];
  } else
    for (const column of Object.values(urlColumns))
      if (cell(column) !== '') issues.push({ column, message: 'needs the application column' });

  if (cell('adminEmail') !== '')
    value['admin'] = {
      email: cell('adminEmail'),
      ...(cell('adminName') !== '' ? { name: cell('adminName') } : {}),
      ...(cell('adminVia') !== '' ? { via: cell('adminVia') } : {}),
    };
  else
    for (const column of ['adminName', 'adminVia'])
      if (cell(column) !== '') issues.push({ column, message: 'needs adminEmail' });

  const metadata: Record<string, string> = {};
  for (const [column, text] of cells)
    if (column.startsWith(METADATA_PREFIX) && text !== '')
      metadata[column.slice(METADATA_PREFIX.length)] = text;
  if (Object.keys(metadata).length > 0) value['metadata'] = metadata;
  return { value, issues, connectionColumns };
}

/** The CSV column a spec path comes from (zod's path of a problem), when one does. */
function csvColumnOf(path: readonly PropertyKey[], connectionColumns: string[]): string | undefined {
  const [head, second, third] = path;
  switch (head) {
    case 'name':
    case 'displayName':
    case 'isolation':
    case 'tenant':
      return head;
    case 'metadata':
      return typeof second === 'string' ? `${METADATA_PREFIX}${second}` : 'metadata.KEY';
    case 'admin':
      return second === 'name' ? 'adminName' : second === 'via' ? 'adminVia' : 'adminEmail';
    case 'applications':
      return third === 'callbacks'
        ? 'callbackUrls'
        : third === 'logoutUrls' || third === 'webOrigins'
          ? third
          : 'application';
    case 'connections':
      if (typeof second !== 'number') return undefined;
      if (third === 'domains') return 'ssoDomains';
      if (third === 'assignMembershipOnLogin') return 'assignMembershipOnLogin';
      return connectionColumns[second];
    default:
      return undefined;
  }
}

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let current = value;
  for (const segment of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[segment];
  }
  return current;
}
