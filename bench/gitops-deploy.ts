/**
 * The GitOps incremental-deploy benchmark (issue 5, acceptance 3): in a repository of N organizations, all deployed,
 * ONE organization's display name changes; deploying that change with `orgadmin deploy` and with auth0-deploy-cli's
 * `a0deploy import` — Management API calls, 429s and wall time of each, against one auth0-local tenant with the
 * measured rate-limit profile.
 *
 * Setup (timed, not measured): auth0-local in this process with the tenant at profile `unlimited`; a fresh database
 * on an embedded PostgreSQL; a local bare repository to which orgadmin's repository adapter commits all N
 * organizations at once (bench/gitops/repository.ts: most linked to the shared database connection, `--isolated` of
 * them with their own database connection); then `orgadmin deploy` with AUTH0_RATE_LIMITS=unlimited populates the
 * tenant through orgadmin's engine, as the first deployment of a real installation would. Then the change is
 * committed through the organization service (`commits.patch`, as the portal or API would) and the tenant is switched
 * to the measured profile and time scale (auth0-local's `setRateLimits`, which starts every bucket full).
 *
 * Contenders, each its own process, each from the same tenant state with full buckets:
 *   A. `orgadmin deploy --json` with AUTH0_RATE_LIMITS=<profile> (its client-side budget) — incremental;
 *   B. `a0deploy import` of a checkout of the head (`git archive`) with docs/gitops.md's settings
 *      (AUTH0_INCLUDED_ONLY organizations/connections/databases, AUTH0_ALLOW_DELETE false, keyword mappings for the
 *      secrets — none here), retries as shipped unless `--deploy-cli-max-retries`.
 * Between them the changed organization's display name and metadata are put back through the Management API (at
 * profile `unlimited`, outside the measurement), so B deploys the same change A did.
 * A contender succeeded when its process exited 0 and the tenant holds the new display name.
 *
 * Time scale: auth0-local's buckets and orgadmin's budget refill `--time-scale` times faster than Auth0's rates.
 * deploy-cli reads five lists per organization, one organization after the other (its enabled connections twice,
 * client grants, discovery domains, organization clients); at the enterprise profile the organization-connections
 * read group allows 100 calls a minute, so 10,000 organizations take hours at time scale 1 before the first write
 * — the column "floor s @1" gives that least time from the calls actually made. Hence the default scale of 20. It
 * does not shorten deploy-cli's run in proportion: its SDK sleeps until `x-ratelimit-reset` (whole seconds, real
 * time) after each 429, so once the refill outpaces the bucket's burst per second, its pace is set by those sleeps.
 *
 * Prints progress (stderr), a table, notes, and as its LAST stdout line one JSON object.
 *
 * Usage: npm run bench:gitops -- [--orgs 10000] [--profile enterprise] [--time-scale 20] [--isolated 0.1]
 *   [--deploy-cli-max-retries N] [--deadline-minutes 90] [--request-log DIR]
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

import { ensureTlsMaterial } from '../auth0-local/certificates.js';
import { RATE_LIMIT_PROFILES } from '../auth0-local/rate-limits.js';
import { databaseUrlFor, ensureDatabaseExists } from '../src/adapters/postgres/database.js';
import {
  deleteEmbeddedPostgresIfUnused,
  startOrJoinEmbeddedPostgres,
} from '../src/adapters/postgres/embedded-server.js';
import { localConnectionFile, openOrgadmin } from '../src/composition-root.js';
import { loadConfig } from '../src/config/config.js';
import { createOrganizationService } from '../src/services/organizations.js';
import { managementCalls, summarize, watchCalls, type CallSummary } from './gitops/calls.js';
import {
  deployCliImport,
  deployResult,
  orgadminDeploy,
  outputTail,
  tenantCounts,
  tenantOrganization,
  DEPLOY_CLI_SCOPE,
  type ProcessRun,
} from './gitops/contenders.js';
import {
  benchSpecs,
  checkout,
  commitAll,
  isIsolated,
  keywordMappings,
  newBareRepository,
  orgName,
  SHARED_APP,
} from './gitops/repository.js';
import { managementApi } from './gitops/tenant-api.js';
import { runningChildren } from './provision/child.js';
import { freshTenant, type BenchTenant } from './provision/tenant.js';
import { optionChecks } from './options.js';
import { cleanUpOnce } from './cleanup.js';

const { values } = parseArgs({
  options: {
    orgs: { type: 'string', default: '10000' },
    profile: { type: 'string', default: 'enterprise' },
    'time-scale': { type: 'string', default: '20' },
    isolated: { type: 'string', default: '0.1' },
    'deploy-cli-max-retries': { type: 'string' },
    'deadline-minutes': { type: 'string', default: '90' },
    'request-log': { type: 'string' },
  },
});

const { fail, positive } = optionChecks('bench:gitops');
const orgCount = positive(values.orgs, 'orgs');
const timeScale = positive(values['time-scale'], 'time-scale', false);
const isolatedFraction = Number(values.isolated);
if (!(isolatedFraction >= 0 && isolatedFraction <= 1)) fail('--isolated must be a fraction from 0 to 1');
const deployCliMaxRetries =
  values['deploy-cli-max-retries'] === undefined
    ? undefined
    : positive(values['deploy-cli-max-retries'], 'deploy-cli-max-retries');
const deadlineMs = positive(values['deadline-minutes'], 'deadline-minutes', false) * 60_000;
const profile = values.profile;
if (!RATE_LIMIT_PROFILES[profile])
  fail(`--profile must be one of ${Object.keys(RATE_LIMIT_PROFILES).join(', ')}`);
const requestLogDir = values['request-log'] ? resolve(values['request-log']) : undefined;

const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};
const seconds = (from: number): number => (performance.now() - from) / 1000;

const SECRET_KEY = 'orgadmin-bench-gitops';
const ACTOR = 'ada@saas.example';
const changedIndex = Math.floor(orgCount / 2);
const changedName = orgName(changedIndex);
const newDisplayName = `Customer ${changedIndex}, renamed`;

const workDir = mkdtempSync(join(tmpdir(), 'orgadmin-bench-gitops-'));
const pgHome = join(workDir, 'postgres-home');
let postgres: Awaited<ReturnType<typeof startOrJoinEmbeddedPostgres>> | undefined;
let tenant: BenchTenant | undefined;
const databaseName = `bench_gitops_${randomBytes(3).toString('hex')}`;

const cleanup = cleanUpOnce('bench:gitops', log, async () => {
  for (const child of runningChildren) child.kill('SIGKILL');
  await tenant?.close().catch(() => undefined);
  // The cluster is the benchmark's own and is deleted whole: its database needs no DROP.
  await postgres?.release().catch(() => undefined);
  await deleteEmbeddedPostgresIfUnused({ home: pgHome }).catch(() => undefined);
  rmSync(workDir, { recursive: true, force: true });
});

interface ContenderRow {
  name: string;
  wallSeconds: number;
  calls: number;
  writeCalls: number;
  http429: number;
  succeeded: boolean;
  exitCode: number | null;
  floorSecondsAtScale1: number;
  summary: CallSummary;
  notes: string[];
}

const setupSeconds: Record<string, number> = {};
const rows: ContenderRow[] = [];
const notes: string[] = [];

try {
  const setupStarted = performance.now();
  let step = performance.now();
  const tlsDir = join(workDir, 'tls');
  const { caCertPath } = await ensureTlsMaterial(tlsDir);
  postgres = await startOrJoinEmbeddedPostgres({ home: pgHome });
  await ensureDatabaseExists(postgres.url, databaseName);
  // The tenant starts unlimited (with the measured time scale already set) so that populating it is not the test.
  tenant = await freshTenant({ name: 'gitops', tlsDir, profile: 'unlimited', timeScale, apps: [SHARED_APP] });
  const local = tenant.local;
  const home = join(workDir, 'orgadmin-home');
  const connectionFile = localConnectionFile(home);
  mkdirSync(join(connectionFile, '..'), { recursive: true });
  writeFileSync(
    connectionFile,
    JSON.stringify({
      domain: local.domain,
      clientId: local.clientId,
      clientSecret: local.clientSecret,
      caCertPath,
      adminToken: local.adminToken,
      tenantName: local.name,
    }),
  );
  const bare = newBareRepository(join(workDir, 'orgs.git'));
  const installation: Record<string, string> = {
    ORGADMIN_HOME: home,
    DATABASE_URL: databaseUrlFor(postgres.url, databaseName),
    ORGADMIN_SECRET_KEY: SECRET_KEY,
    ORGADMIN_MODE: 'gitops',
    ORGADMIN_GITOPS_REPO: bare,
  };
  setupSeconds['start'] = seconds(step);

  const specs = benchSpecs(orgCount, isolatedFraction);
  const isolatedCount = specs.filter((spec) => spec.isolation === 'isolated-database').length;
  log(
    `bench:gitops: ${orgCount} organizations (${isolatedCount} isolated-database), profile ${profile}, time scale ${timeScale}; changing ${changedName} (${isIsolated(changedIndex, isolatedFraction) ? 'isolated-database' : 'shared'})`,
  );
  // In this process orgadmin only commits (no Auth0 call): deployments run as `orgadmin deploy` processes.
  const orgadmin = await openOrgadmin(loadConfig(installation, process.cwd()));
  try {
    const gitops = orgadmin.gitops;
    if (!gitops) throw new Error('orgadmin did not open in GitOps mode');
    step = performance.now();
    const importSha = await commitAll(gitops.repository, specs);
    setupSeconds['commit'] = seconds(step);
    log(
      `setup: committed ${orgCount} organizations as ${importSha.slice(0, 12)} in ${setupSeconds['commit'].toFixed(1)} s`,
    );

    step = performance.now();
    let deployed = 0;
    let lastProgress = performance.now();
    const populate = await orgadminDeploy(
      { ...installation, AUTH0_RATE_LIMITS: 'unlimited', NODE_EXTRA_CA_CERTS: caCertPath },
      {
        json: false,
        deadlineMs,
        onLine: (line) => {
          if (line.includes('✓') || line.includes('✗')) deployed += 1;
          if (performance.now() - lastProgress >= 10_000) {
            lastProgress = performance.now();
            const elapsed = seconds(step);
            log(
              `setup: ${deployed}/${orgCount} organizations deployed after ${elapsed.toFixed(0)} s, ${((deployed / elapsed) * 60).toFixed(0)} orgs/min`,
            );
          }
        },
      },
    );
    setupSeconds['populate'] = populate.wallSeconds;
    const populated = tenantCounts(local, 'bench-');
    if (populate.exit.code !== 0 || populated.organizations !== orgCount)
      throw new Error(
        `populating the tenant failed (exit ${populate.exit.code ?? populate.exit.signal}${populate.killed ? ', killed at the deadline' : ''}; ${populated.organizations}/${orgCount} organizations): ${outputTail(populate.child)}`,
      );
    log(
      `setup: orgadmin deploy (unlimited) put ${populated.organizations} organizations and ${populated.connections} connections into the tenant in ${populate.wallSeconds.toFixed(1)} s (${managementCalls(local).length} Management API calls)`,
    );

    step = performance.now();
    const service = createOrganizationService(orgadmin, {
      enqueue: () => Promise.reject(new Error('GitOps mode queues no run on a change')),
    });
    const change = await service.commits.patch(
      changedName,
      { displayName: newDisplayName },
      ACTOR,
      'benchmark: one organization renamed',
    );
    if (!change) throw new Error('the change committed nothing');
    const changedFiles = gitops.repository.changedPaths(importSha, change.sha);
    setupSeconds['change'] = seconds(step);
    log(
      `setup: committed the change as ${change.sha.slice(0, 12)} (${(await changedFiles).join(', ')}); setup took ${seconds(setupStarted).toFixed(1)} s`,
    );
    setupSeconds['total'] = seconds(setupStarted);

    const before = tenantOrganization(local, changedName);
    if (!before) throw new Error(`${changedName} is not in the tenant`);
    const measuredLimits = { profile, timeScale };
    const hasNewName = (): boolean => tenantOrganization(local, changedName)?.display_name === newDisplayName;

    /** Runs one contender from full buckets with a fresh request log; its calls come from that log. */
    const measure = async (
      name: string,
      start: () => Promise<ProcessRun>,
      succeeded: (run: ProcessRun) => boolean,
      explain: (run: ProcessRun) => string[],
    ): Promise<void> => {
      local.setRateLimits(local.name, measuredLimits);
      local.requestLog.clear();
      log(`--- ${name}`);
      const watch = watchCalls(local, name, log);
      const ran = await start();
      const { overflowed } = watch.stop();
      const entries = managementCalls(local);
      if (requestLogDir) {
        mkdirSync(requestLogDir, { recursive: true });
        writeFileSync(
          join(requestLogDir, `${name}.jsonl`),
          entries.map((entry) => `${JSON.stringify(entry)}\n`).join(''),
        );
      }
      const summary = summarize(entries, profile);
      const rowNotes = explain(ran);
      if (ran.killed) rowNotes.push(`${name}: killed at the deadline (${values['deadline-minutes']} min)`);
      if (overflowed)
        rowNotes.push(
          `${name}: auth0-local's request log overflowed (200,000 entries) and dropped its older half: the counts are lower bounds`,
        );
      const ok = ran.exit.code === 0 && !ran.killed && succeeded(ran);
      log(
        `${name}: exited with ${ran.exit.code ?? ran.exit.signal} after ${ran.wallSeconds.toFixed(1)} s, ${summary.calls} calls, ${summary.http429} answered 429, ${ok ? 'succeeded' : 'did NOT succeed'}`,
      );
      rows.push({
        name,
        wallSeconds: ran.wallSeconds,
        calls: summary.calls,
        writeCalls: summary.writeCalls,
        http429: summary.http429,
        succeeded: ok,
        exitCode: ran.exit.code,
        floorSecondsAtScale1: summary.floorSecondsAtScale1,
        summary,
        notes: rowNotes,
      });
    };

    await measure(
      'orgadmin',
      () =>
        orgadminDeploy(
          {
            ...installation,
            AUTH0_RATE_LIMITS: profile,
            AUTH0_RATE_LIMITS_TIME_SCALE: String(timeScale),
            NODE_EXTRA_CA_CERTS: caCertPath,
          },
          { json: true, deadlineMs },
        ),
      (run) => {
        const result = deployResult(run);
        return hasNewName() && result?.deployment?.state === 'succeeded';
      },
      (run) => {
        const result = deployResult(run);
        const deployment = result?.deployment;
        const out: string[] = [];
        if (!deployment)
          out.push(`orgadmin: no deployment result; its output ends: ${outputTail(run.child)}`);
        else {
          const inside =
            deployment.finishedAt === undefined
              ? undefined
              : (Date.parse(deployment.finishedAt) - Date.parse(deployment.startedAt)) / 1000;
          out.push(
            `orgadmin: deployed ${result.organizations.map((org) => org.name).join(', ') || 'nothing'} — ${deployment.state}: ${deployment.summary ?? ''}${inside === undefined ? '' : `; the deployment record spans ${inside.toFixed(2)} s of the ${run.wallSeconds.toFixed(1)} s (the rest: process start-up, fetching and diffing the repository, reading the changed files)`}`,
          );
        }
        if (!hasNewName())
          out.push(`orgadmin: the tenant does not hold the new display name of ${changedName}`);
        return out;
      },
    );

    // Back to the state before A for the changed organization (outside any measurement).
    local.setRateLimits(local.name, 'unlimited');
    const api = await managementApi(local, caCertPath);
    await api('PATCH', `/organizations/${before.id}`, {
      display_name: before.display_name,
      metadata: before.metadata,
    });
    const restored = tenantOrganization(local, changedName);
    if (
      restored?.display_name !== before.display_name ||
      JSON.stringify(restored?.metadata) !== JSON.stringify(before.metadata)
    )
      throw new Error(`could not put ${changedName} back as it was before orgadmin's deployment`);
    log(`setup: ${changedName} put back as before orgadmin's deployment for auth0-deploy-cli`);

    const checkoutDir = join(workDir, 'checkout');
    step = performance.now();
    checkout(bare, change.sha, checkoutDir);
    setupSeconds['checkout'] = seconds(step);
    await measure(
      'deploy-cli',
      () =>
        deployCliImport({
          local,
          caCertPath,
          checkoutDir,
          configFile: join(workDir, 'a0deploy.json'),
          keywords: keywordMappings(specs),
          maxRetries: deployCliMaxRetries,
          deadlineMs,
        }),
      hasNewName,
      (run) => {
        const out: string[] = [];
        if (run.exit.code !== 0) {
          const tail = outputTail(run.child);
          out.push(
            `deploy-cli: a0deploy import exited with ${run.exit.code ?? run.exit.signal}; its output ends: ${tail}`,
          );
          if (/TooManyRequests|status code: 429|too many requests/i.test(tail))
            out.push(
              `deploy-cli: it gave up on a 429 after ${deployCliMaxRetries ?? 'its shipped number of'} retries of one call (--deploy-cli-max-retries raises AUTH0_API_MAX_RETRIES)`,
            );
        }
        if (!hasNewName())
          out.push(`deploy-cli: the tenant does not hold the new display name of ${changedName}`);
        return out;
      },
    );
  } finally {
    await orgadmin.close();
  }
} catch (error) {
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  log(`bench:gitops: failed: ${message}`);
  notes.push(`the benchmark failed: ${message.split('\n')[0] ?? ''}`);
  process.exitCode = 1;
} finally {
  await cleanup();
}

// ---------------------------------------------------------------------------------------------------------------
// Report.

const orgadminRow = rows.find((row) => row.name === 'orgadmin');
const deployCliRow = rows.find((row) => row.name === 'deploy-cli');
const ratio = (a: number | undefined, b: number | undefined): number | null =>
  a === undefined || b === undefined || b === 0 ? null : Number((a / b).toPrecision(3));
const isolatedCount = Array.from({ length: orgCount }, (_, i) => isIsolated(i, isolatedFraction)).filter(
  Boolean,
).length;

const columns: [string, number, (row: ContenderRow) => string][] = [
  ['contender', 10, (row) => row.name],
  ['wall s', 9, (row) => row.wallSeconds.toFixed(2)],
  ['calls', 7, (row) => String(row.calls)],
  ['writes', 7, (row) => String(row.writeCalls)],
  ['429s', 6, (row) => String(row.http429)],
  ['floor s @1', 10, (row) => row.floorSecondsAtScale1.toFixed(1)],
  ['succeeded', 9, (row) => (row.succeeded ? 'yes' : 'NO')],
];
const line = (cells: string[]): string =>
  cells
    .map((cell, index) => (index === 0 ? cell.padEnd(columns[0]![1]) : cell.padStart(columns[index]![1])))
    .join(' ');

console.log('');
console.log(
  `Deploying a change of ONE organization (${changedName}: display name) in a repository of ${orgCount} organizations (${isolatedCount} isolated-database), all deployed; auth0-local profile ${profile}, time scale ${timeScale}`,
);
console.log(
  `Setup (not measured): ${Object.entries(setupSeconds)
    .map(([name, value]) => `${name} ${value.toFixed(1)} s`)
    .join(', ')}`,
);
console.log(line(columns.map(([title]) => title)));
for (const row of rows) console.log(line(columns.map(([, , cell]) => cell(row))));
if (orgadminRow && deployCliRow)
  console.log(
    `orgadmin / deploy-cli: calls ${ratio(orgadminRow.calls, deployCliRow.calls) ?? '–'}, wall time ${ratio(orgadminRow.wallSeconds, deployCliRow.wallSeconds) ?? '–'}`,
  );
console.log('');
for (const row of rows) {
  const groups = Object.entries(row.summary.byGroup)
    .sort(([, a], [, b]) => b - a)
    .map(([group, count]) => `${group} ${count}`)
    .join(', ');
  console.log(`  ${row.name}: admitted calls by group: ${groups || 'none'}`);
  const rejected = Object.entries(row.summary.rejectedByGroup)
    .map(([group, count]) => `${group} ${count}`)
    .join(', ');
  console.log(`  ${row.name}: 429s by group: ${rejected || 'none'}`);
  const written = Object.entries(row.summary.written)
    .map(([target, count]) => `${target} ${count}`)
    .join(', ');
  console.log(`  ${row.name}: distinct objects written (successful writes): ${written || 'none'}`);
  if (row.calls <= 20) for (const call of row.summary.lines) console.log(`    ${call}`);
}
console.log('');
console.log('Notes:');
const allNotes = [
  "wall s: from spawn to exit of the contender's process (start-up, reading the repository, the deployment). calls: Management API requests in auth0-local's request log, 429s included; writes: those other than GET.",
  `floor s @1: the least time the contender's admitted calls take under the ${profile} profile at Auth0's own rates (time scale 1), buckets full at the start: max over the limited buckets of (calls − burst) ÷ rate. The run itself used time scale ${timeScale}: auth0-local's buckets and orgadmin's budget refill ${timeScale}× faster; deploy-cli's SDK waits out a 429 in real seconds.`,
  `deploy-cli settings: ${JSON.stringify(DEPLOY_CLI_SCOPE)}, AUTH0_KEYWORD_REPLACE_MAPPINGS for the repository's secret keywords (none: no organization here has a secret); ${deployCliMaxRetries === undefined ? 'retries as shipped' : `AUTH0_API_MAX_RETRIES ${deployCliMaxRetries} (--deploy-cli-max-retries)`}.`,
  `Repository: organizations/<name>.json and .orgadmin/organizations/<name>.json per organization; the ${isolatedCount} isolated-database ones also database-connections/<name>-db/database.json (enabled for the shared application "Portal"); the others are linked to the shared connection Username-Password-Authentication. Written by orgadmin's organizationFiles in one commit; the change is a second commit by the organization service (it also adds orgadmin's .orgadmin/manifest.json, which no deployer reads).`,
  `Both contenders start from the same tenant: after orgadmin's deployment, ${changedName}'s display name and metadata were put back through the Management API at profile unlimited, and every bucket was refilled, before deploy-cli ran.`,
  ...rows.flatMap((row) => row.notes),
  ...notes,
];
for (const note of allNotes) console.log(`  - ${note}`);

const round = (value: number, digits: number): number => Number(value.toFixed(digits));
console.log(
  JSON.stringify({
    orgs: orgCount,
    isolatedOrgs: isolatedCount,
    changed: changedName,
    profile,
    timeScale,
    setupSeconds: Object.fromEntries(
      Object.entries(setupSeconds).map(([name, value]) => [name, round(value, 1)]),
    ),
    contenders: rows.map((row) => ({
      name: row.name,
      wallSeconds: round(row.wallSeconds, 2),
      calls: row.calls,
      writeCalls: row.writeCalls,
      http429: row.http429,
      floorSecondsAtScale1: round(row.floorSecondsAtScale1, 1),
      succeeded: row.succeeded,
      exitCode: row.exitCode,
    })),
    orgadminOverDeployCli: {
      calls: ratio(orgadminRow?.calls, deployCliRow?.calls),
      wallSeconds: ratio(orgadminRow?.wallSeconds, deployCliRow?.wallSeconds),
    },
  }),
);
