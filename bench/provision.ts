/**
 * The provisioning benchmark (issue 6): N organizations — each `isolation: isolated-database` with one database
 * connection and its own callback URL `https://<name>.example.com/callback` on a shared application created before
 * the run — provisioned into auth0-local (started in this process) by:
 *   1. orgadmin with 1, 2, 4 … `orgadmin worker` processes (one client-side rate budget, kept in PostgreSQL);
 *   2. auth0-deploy-cli importing the same organizations as a directory;
 *   3. a naive script with the official `auth0` SDK, `--batch` (10) organizations at a time, read-modify-writing
 *      the callbacks.
 * Each contender gets a FRESH tenant with the same rate-limit profile and time scale, and (orgadmin) a fresh
 * database on the benchmark's embedded PostgreSQL. Every contender runs as its own process(es).
 *
 * Shared applications: Auth0 takes at most 100 Allowed Callback URLs per application, and auth0-local refuses a
 * 101st as Auth0 does (400 "Array is too long"). So by default (`--apps auto`) the organizations are spread over
 * ceil(N / 100) shared applications "Portal-01" …, each taking a consecutive block of 100 (organizations provisioned
 * at the same time still contend for one application); `--apps 1` puts every URL on ONE application "Portal",
 * which cannot work beyond 100 organizations.
 *
 * Time scale: auth0-local's buckets and orgadmin's budget refill `--time-scale` times faster than Auth0's published
 * rates. The default, 8, keeps the default run (1000 organizations, five contender runs) under ten minutes on a
 * 2-core machine (9 min 20 s when measured) while orgadmin stays bound by the rate limits rather than by CPU (it
 * does ~1,000-1,250 orgs/min here with no limits at all; its bound at scale 8 is ~780). The clients' own retry
 * delays (the SDK honours `x-ratelimit-reset`, in whole seconds) are NOT scaled, so at a scale above 1 every 429
 * costs a retrying client (deploy-cli, the naive script) relatively more than against Auth0: compare wall times
 * with deploy-cli at `--time-scale 1` (e.g. `--orgs 200 --time-scale 1 --deploy-cli-max-retries 100`, ~5
 * minutes).
 *
 * Measured per contender: wall time, organizations per minute, the theoretical bound for the profile and the
 * calls the contender made per organization (from auth0-local's request log), Management API calls, list/PATCH
 * calls on the shared clients, 429s, organizations not complete in the tenant, callback URLs missing at the end,
 * and peak RSS (VmHWM of each process, summed). It prints progress (stderr), a table, the targets with met/MISSED,
 * and as its LAST stdout line one JSON object `{"contenders":[…]}`.
 *
 * Usage: npm run bench:provision -- [--orgs 1000] [--profile enterprise] [--time-scale 8] [--workers 1,2,4]
 *   [--concurrency 16] [--contenders orgadmin,deploy-cli,naive] [--kill-one] [--batch 10] [--apps auto|K]
 *   [--deploy-cli-max-retries N] [--request-log DIR] [--deadline-minutes 20] [--orgadmin-cli built|tsx]
 *
 * orgadmin's workers run the compiled CLI (dist/orgadmin.mjs, built first by `node bin/build.js --if-stale` when
 * missing or out of date) under plain node with --max-old-space-size=1024 (see WORKER_NODE_FLAGS); `--orgadmin-cli
 * tsx` runs the TypeScript sources through tsx instead.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

import { ensureTlsMaterial } from '../auth0-local/certificates.js';
import { RATE_PROFILE_NAMES, type RateProfileName } from '../src/adapters/auth0/rate-budget.js';
import {
  deleteEmbeddedPostgresIfUnused,
  startOrJoinEmbeddedPostgres,
} from '../src/adapters/postgres/embedded-server.js';
import { runningChildren } from './provision/child.js';
import { DEPLOY_CLI_CONFIG, runDeployCli } from './provision/deploy-cli.js';
import { runNaive } from './provision/naive.js';
import { LEASE_SECONDS, runOrgadmin, WORKER_NODE_FLAGS } from './provision/orgadmin.js';
import { MAX_CALLBACKS_PER_APP, organizations } from './provision/tenant.js';
import type { BenchContext, ContenderResult } from './provision/types.js';
import { optionChecks } from './options.js';
import { cleanUpOnce } from './cleanup.js';

const CONTENDERS = ['orgadmin', 'deploy-cli', 'naive'] as const;
type ContenderName = (typeof CONTENDERS)[number];

const { values } = parseArgs({
  options: {
    orgs: { type: 'string', default: '1000' },
    profile: { type: 'string', default: 'enterprise' },
    'time-scale': { type: 'string', default: '8' },
    workers: { type: 'string', default: '1,2,4' },
    concurrency: { type: 'string', default: '16' },
    contenders: { type: 'string', default: CONTENDERS.join(',') },
    'kill-one': { type: 'boolean', default: false },
    batch: { type: 'string', default: '10' },
    apps: { type: 'string', default: 'auto' },
    'request-log': { type: 'string' },
    'deploy-cli-max-retries': { type: 'string' },
    'deadline-minutes': { type: 'string', default: '20' },
    'orgadmin-cli': { type: 'string', default: 'built' },
  },
});

const { fail, positive } = optionChecks('bench:provision');
const orgCount = positive(values.orgs, 'orgs');
const timeScale = positive(values['time-scale'], 'time-scale', false);
const concurrency = positive(values.concurrency, 'concurrency');
const batch = positive(values.batch, 'batch');
const appCount =
  values.apps === 'auto' ? Math.ceil(orgCount / MAX_CALLBACKS_PER_APP) : positive(values.apps, 'apps');
if (appCount > orgCount) fail('--apps cannot exceed --orgs');
const deployCliMaxRetries =
  values['deploy-cli-max-retries'] === undefined
    ? undefined
    : positive(values['deploy-cli-max-retries'], 'deploy-cli-max-retries');
const deadlineMs = positive(values['deadline-minutes'], 'deadline-minutes', false) * 60_000;
if (!(RATE_PROFILE_NAMES as readonly string[]).includes(values.profile))
  fail(`--profile must be one of ${RATE_PROFILE_NAMES.join(', ')}`);
const profile = values.profile as RateProfileName;
if (values['orgadmin-cli'] !== 'built' && values['orgadmin-cli'] !== 'tsx')
  fail('--orgadmin-cli must be built or tsx');
const orgadminCli = values['orgadmin-cli'] as 'built' | 'tsx';
const workerCounts = values.workers.split(',').map((text) => positive(text.trim(), 'workers'));
const contenders = values.contenders.split(',').map((text) => text.trim());
for (const name of contenders)
  if (!(CONTENDERS as readonly string[]).includes(name))
    fail(`unknown contender ${name}; expected some of ${CONTENDERS.join(',')}`);

const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};
const workDir = mkdtempSync(join(tmpdir(), 'orgadmin-bench-provision-'));
const pgHome = join(workDir, 'postgres-home');
let postgres: Awaited<ReturnType<typeof startOrJoinEmbeddedPostgres>> | undefined;

const cleanup = cleanUpOnce('bench:provision', log, async () => {
  for (const child of runningChildren) child.kill('SIGKILL');
  await postgres?.release().catch(() => undefined);
  await deleteEmbeddedPostgresIfUnused({ home: pgHome }).catch(() => undefined);
  rmSync(workDir, { recursive: true, force: true });
});

const results: ContenderResult[] = [];
/** Contenders that could not be measured at all (the benchmark itself failed for them). */
const crashed: string[] = [];
const attempt = async (label: string, run: () => Promise<ContenderResult>): Promise<void> => {
  try {
    results.push(await run());
  } catch (error) {
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    log(`${label}: the benchmark failed for this contender: ${message}`);
    crashed.push(`${label}: not measured, the benchmark failed: ${message.split('\n')[0] ?? ''}`);
  }
};
try {
  const tlsDir = join(workDir, 'tls');
  const { caCertPath } = await ensureTlsMaterial(tlsDir);
  postgres = await startOrJoinEmbeddedPostgres({ home: pgHome });
  if (values['request-log']) mkdirSync(values['request-log'], { recursive: true });
  const ctx: BenchContext = {
    ...organizations(orgCount, appCount),
    profile,
    timeScale,
    tlsDir,
    caCertPath,
    workDir,
    postgresUrl: postgres.url,
    requestLogDir: values['request-log'] ? resolve(values['request-log']) : undefined,
    log,
  };
  log(
    `bench:provision: ${orgCount} organizations on ${appCount} shared application(s), profile ${profile}, time scale ${timeScale}, contenders ${contenders.join(', ')}` +
      (contenders.includes('orgadmin')
        ? `, orgadmin workers ${workerCounts.join('/')} × --concurrency ${concurrency}${values['kill-one'] ? ', --kill-one' : ''}`
        : ''),
  );
  for (const name of contenders as ContenderName[]) {
    if (name === 'orgadmin') {
      for (const workers of workerCounts) {
        log(`--- orgadmin, ${workers} worker process(es)`);
        await attempt(`orgadmin ×${workers}`, () =>
          runOrgadmin(ctx, {
            workers,
            cli: orgadminCli,
            concurrency,
            killOne: values['kill-one'],
            deadlineMs,
          }),
        );
      }
    } else if (name === 'deploy-cli') {
      log('--- auth0-deploy-cli');
      await attempt('deploy-cli', () => runDeployCli(ctx, { deadlineMs, maxRetries: deployCliMaxRetries }));
    } else {
      log('--- naive script');
      await attempt('naive', () => runNaive(ctx, { batch, deadlineMs }));
    }
  }
} finally {
  await cleanup();
}

// ---------------------------------------------------------------------------------------------------------------
// Report.

const fixed = (value: number | null, digits: number): string =>
  value === null ? '∞' : value.toFixed(digits);
const perOrg = (count: number): string => (count / orgCount).toFixed(2);
const labelOf = (row: ContenderResult): string =>
  row.name === 'orgadmin' ? `orgadmin ×${row.workers}` : row.name;
const columns: [string, number, (row: ContenderResult) => string][] = [
  ['contender', 11, (row) => row.name],
  ['workers', 7, (row) => String(row.workers)],
  ['wall s', 8, (row) => row.wallSeconds.toFixed(1)],
  ['orgs/min', 9, (row) => row.orgsPerMinute.toFixed(1)],
  ['bound', 8, (row) => fixed(row.bound, 1)],
  ['ratio', 6, (row) => fixed(row.ratioToBound, 3)],
  ['calls/org', 9, (row) => row.callsPerOrg.toFixed(2)],
  ['list/org', 8, (row) => row.listCallsPerOrg.toFixed(3)],
  ['429s', 6, (row) => String(row.http429)],
  ['failed', 6, (row) => String(row.failedOrgs)],
  ['lost URLs', 9, (row) => String(row.lostUrls)],
  [
    'peak RSS MB (per process)',
    26,
    (row) =>
      `${row.peakRssMb.toFixed(0)} (${row.detail.processPeakRssMb.map((mb) => mb.toFixed(0)).join('+')})`,
  ],
];
const line = (cells: string[]): string =>
  cells
    .map((cell, index) => (index === 0 ? cell.padEnd(columns[0]![1]) : cell.padStart(columns[index]![1])))
    .join(' ');

console.log('');
console.log(
  `Provisioning ${orgCount} organizations (isolated-database: 1 database connection each; 1 callback URL each on ${appCount === 1 ? 'ONE shared application "Portal"' : `${appCount} shared applications of ≤ ${Math.ceil(orgCount / appCount)} organizations each`}) into auth0-local, profile ${profile}, time scale ${timeScale}`,
);
console.log(line(columns.map(([title]) => title)));
for (const row of results) console.log(line(columns.map(([, , cell]) => cell(row))));
console.log('');
console.log(
  "bound = min over the limited buckets b the contender drew on (the global one and each endpoint group) of rate_b [req/s] × time scale × 60 / callsPerOrg_b, where callsPerOrg_b = calls admitted against b (429s take no token) ÷ N, counted from auth0-local's request log; bursts ignored. Each contender's bound uses its own calls.",
);
for (const row of results) {
  const { buckets, callsByGroup, rejectedByGroup, listBreakdown } = row.detail;
  const groups = (counts: Record<string, number>): string =>
    Object.entries(counts)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([group, count]) => `${group} ${perOrg(count)}`)
      .join(', ') || 'none';
  console.log(
    `  ${labelOf(row)}: ${buckets.map((b) => `${b.bucket} ${b.callsPerOrg.toFixed(2)}/org → ${b.orgsPerMinute.toFixed(0)} orgs/min`).join('; ') || 'no limited bucket'}`,
  );
  console.log(`    admitted calls per org: ${groups(callsByGroup)}`);
  console.log(`    429s per org: ${groups(rejectedByGroup)}`);
  console.log(
    `    shared-client calls per org: GET /clients ${perOrg(listBreakdown.listGets)}, GET /clients/{app} ${perOrg(listBreakdown.appGets)}, PATCH /clients/{app} ${perOrg(listBreakdown.appPatches)}`,
  );
}

console.log('');
console.log('Notes:');
const notes = [
  `Wall time: orgadmin from the first run created to the last run finished (its ${workerCounts.join('/')} worker processes, --concurrency ${concurrency} each, are started and ready before; job lease ${LEASE_SECONDS} s); deploy-cli and the naive script from spawn to exit of their process.`,
  `Shared applications: Auth0 allows at most ${MAX_CALLBACKS_PER_APP} Allowed Callback URLs per application and auth0-local enforces it, so ${appCount === 1 ? `every URL went to ONE application${orgCount > MAX_CALLBACKS_PER_APP ? ` — more than ${MAX_CALLBACKS_PER_APP} cannot fit, whoever writes them` : ''}` : `the URLs went to ${appCount} applications in consecutive blocks (--apps ${values.apps}); --apps 1 puts them all on one`}.`,
  `deploy-cli settings: ${JSON.stringify(DEPLOY_CLI_CONFIG)}; ${deployCliMaxRetries === undefined ? 'everything else as shipped (AUTH0_API_MAX_RETRIES 10, ' : `AUTH0_API_MAX_RETRIES ${deployCliMaxRetries} (--deploy-cli-max-retries; shipped default 10); everything else as shipped (`}3 concurrent calls, except that after creating database connections it looks each one up by name all at once).`,
  "The time scale multiplies the refill rates of auth0-local and of orgadmin's budget (AUTH0_RATE_LIMITS_TIME_SCALE); the SDK's retry delays (x-ratelimit-reset, whole seconds; else 1 s, 2 s, … backoff) run in real time, which makes a 429 cost a client that retries relatively more at a larger scale.",
  'listCallsPerOrg: GET /clients (every page of the application list) + GET and PATCH /clients/{shared app} (the URL lists read and written), ÷ N.',
  "failed: organizations not complete in the tenant at the end (organization, its database connection, that connection enabled on the organization and for its application) or reported failed by the contender (run not succeeded, script error). lost URLs: expected callback URLs missing from their application at the end (a failed organization's too).",
  `peak RSS: VmHWM of each process of the contender (sampled every 250 ms until it exits), summed; PostgreSQL and auth0-local (in the benchmark process) are not counted. orgadmin's workers ran ${orgadminCli === 'built' ? 'the compiled CLI, dist/orgadmin.mjs, under plain node' : 'the TypeScript sources through tsx (bin/orgadmin.js)'} (--orgadmin-cli) with ${WORKER_NODE_FLAGS.join(' ')}.`,
  ...crashed,
  ...results.flatMap((row) => row.detail.notes),
];
for (const note of notes) console.log(`  - ${note}`);

console.log('');
console.log('Targets (orgadmin):');
const verdict = (ok: boolean): string => (ok ? 'met' : 'MISSED');
const deployCli = results.find((row) => row.name === 'deploy-cli');
for (const row of results.filter((r) => r.name === 'orgadmin')) {
  const label = `  ${labelOf(row)}`;
  const ratioOk = row.ratioToBound !== null && row.ratioToBound >= 0.9;
  console.log(
    `${label}: ≥ 0.9 of the bound with 0 failed organizations and 0 lost URLs: ratio ${fixed(row.ratioToBound, 3)} ${verdict(ratioOk)}, failed ${row.failedOrgs} ${verdict(row.failedOrgs === 0)}, lost URLs ${row.lostUrls} ${verdict(row.lostUrls === 0)}`,
  );
  if (!deployCli) {
    console.log(`${label}: ≤ 1/3 of auth0-deploy-cli's wall time: not measured (deploy-cli not run)`);
  } else if (deployCli.failedOrgs > 0) {
    console.log(
      `${label}: ≤ 1/3 of auth0-deploy-cli's wall time: not comparable — deploy-cli did not provision ${deployCli.failedOrgs} of the ${orgCount} organizations (its wall time ${deployCli.wallSeconds.toFixed(1)} s is that of a failed import); orgadmin ${row.wallSeconds.toFixed(1)} s`,
    );
  } else {
    const limit = deployCli.wallSeconds / 3;
    console.log(
      `${label}: ≤ 1/3 of auth0-deploy-cli's wall time: ${row.wallSeconds.toFixed(1)} s vs ${limit.toFixed(1)} s (= ${deployCli.wallSeconds.toFixed(1)} / 3), ${(row.wallSeconds / deployCli.wallSeconds).toFixed(3)} of it: ${verdict(row.wallSeconds <= limit)}${timeScale === 1 ? '' : ` — at time scale ${timeScale}, where deploy-cli's retry waits (real seconds) weigh ${timeScale}× more than they would against Auth0; only --time-scale 1 compares the two as they would run`}`,
    );
  }
  console.log(
    `${label}: ≤ 0.05 amortized list calls per org: ${row.listCallsPerOrg.toFixed(3)} ${verdict(row.listCallsPerOrg <= 0.05)}`,
  );
}
if (!results.some((row) => row.name === 'orgadmin')) console.log('  (orgadmin not run)');

console.log(
  JSON.stringify({
    contenders: results.map((row) => ({
      name: row.name,
      workers: row.workers,
      wallSeconds: row.wallSeconds,
      orgsPerMinute: row.orgsPerMinute,
      bound: row.bound,
      ratioToBound: row.ratioToBound,
      callsPerOrg: row.callsPerOrg,
      listCallsPerOrg: row.listCallsPerOrg,
      http429: row.http429,
      failedOrgs: row.failedOrgs,
      lostUrls: row.lostUrls,
      peakRssMb: row.peakRssMb,
    })),
  }),
);
