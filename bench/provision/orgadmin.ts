/**
 * Contender 1: orgadmin with W `orgadmin worker` processes on one fresh database (of the benchmark's embedded
 * PostgreSQL), all drawing on one client-side rate budget kept in that database. The benchmark creates the runs
 * with the store and enqueues them with the job queue (as `orgadmin org apply` does), then waits until every run
 * has finished. With `killOne`, one worker gets SIGKILL once a third of the runs have finished.
 *
 * Wall time: from the first run created to the last run finished (the workers are started, and report `ready`,
 * before the clock starts: they are long-running services).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import pg from 'pg';

import { databaseUrlFor, openDatabase } from '../../src/adapters/postgres/database.js';
import { createJobQueue } from '../../src/adapters/postgres/job-queue.js';
import { createPostgresStore } from '../../src/adapters/postgres/postgres-store.js';
import { loadSecretBox } from '../../src/adapters/postgres/secret-box.js';
import { localConnectionFile } from '../../src/composition-root.js';
import { validateSpecs } from '../../src/domain/spec-document.js';
import { childEnv, startChild, type Child } from './child.js';
import { requestLogFile, result } from './measure.js';
import { freshTenant, measure, type BenchTenant } from './tenant.js';
import type { BenchContext, ContenderResult } from './types.js';

const SECRET_KEY = 'orgadmin-bench-provision';
/** The lease of a job: a killed worker's runs are offered to the others this long after its last heartbeat. */
export const LEASE_SECONDS = 10;
const POLL_MS = 250;
const PROGRESS_EVERY_MS = 5000;
/** Runs created and enqueued at once. */
const CREATE_PARALLELISM = 8;

export interface OrgadminOptions {
  workers: number;
  /**
   * What the workers run: `built` — the compiled CLI, dist/orgadmin.mjs, under plain node (built first when missing
   * or out of date); `tsx` — the TypeScript sources through bin/orgadmin.js and tsx's loader (~60 MB more each).
   */
  cli: 'built' | 'tsx';
  /** `--concurrency` of each worker. */
  concurrency: number;
  killOne: boolean;
  /** Give up waiting after this long (unfinished runs count as failed). */
  deadlineMs: number;
}

/**
 * Node flags of every worker, as the README recommends running workers. V8 decides how far the old generation may
 * grow between full collections from the heap limit: with the default limit of a large host (4 GB here) up to 4×
 * the live heap. A worker's live heap is ~30 MB, so garbage, not data, made most of its peak (up to 185 MB of heap
 * holding 30 MB live over 10,000 organizations). A 1 GB limit, ~30× what a worker holds, makes V8 collect at
 * ~1.6× live instead.
 */
export const WORKER_NODE_FLAGS = ['--max-old-space-size=1024'];

/**
 * The compiled CLI, built now if dist/ is missing or older than the sources (checked by content), so the benchmark
 * stays one command from a fresh clone and never runs stale code.
 */
function builtCli(): string {
  execFileSync(process.execPath, ['bin/build.js', '--if-stale'], { stdio: ['ignore', 'inherit', 'inherit'] });
  return 'dist/orgadmin.mjs';
}

/** An orgadmin state folder whose `auth0-local/connection.json` points at the tenant (as `orgadmin start` leaves it). */
function orgadminHome(ctx: BenchContext, tenant: BenchTenant, label: string): string {
  const home = mkdtempSync(join(ctx.workDir, `${label}-home-`));
  const file = localConnectionFile(home);
  mkdirSync(join(file, '..'), { recursive: true });
  const { domain, clientId, clientSecret, adminToken, name } = tenant.local;
  writeFileSync(
    file,
    JSON.stringify({
      domain,
      clientId,
      clientSecret,
      caCertPath: ctx.caCertPath,
      adminToken,
      tenantName: name,
    }),
  );
  return home;
}

async function admin<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

export async function runOrgadmin(ctx: BenchContext, options: OrgadminOptions): Promise<ContenderResult> {
  const { orgs } = ctx;
  const label = `orgadmin-w${options.workers}`;
  const notes: string[] = [];
  const tenant = await freshTenant({
    name: label,
    tlsDir: ctx.tlsDir,
    profile: ctx.profile,
    timeScale: ctx.timeScale,
    apps: ctx.apps,
  });
  const databaseName = `bench_provision_w${options.workers}_${randomBytes(3).toString('hex')}`;
  await admin(ctx.postgresUrl, (client) =>
    client.query(`CREATE DATABASE ${client.escapeIdentifier(databaseName)}`),
  );
  const databaseUrl = databaseUrlFor(ctx.postgresUrl, databaseName);
  const workers: Child[] = [];
  try {
    const home = orgadminHome(ctx, tenant, label);
    const database = await openDatabase({ home, databaseUrl });
    const queue = await createJobQueue({
      connectionString: databaseUrl,
      expireInSeconds: LEASE_SECONDS,
      supervise: false,
    });
    try {
      const store = createPostgresStore(database.pool, { secrets: loadSecretBox({ home, key: SECRET_KEY }) });
      const env = childEnv({
        ORGADMIN_HOME: home,
        DATABASE_URL: databaseUrl,
        ORGADMIN_SECRET_KEY: SECRET_KEY,
        AUTH0_RATE_LIMITS: ctx.profile,
        AUTH0_RATE_LIMITS_TIME_SCALE: String(ctx.timeScale),
        NODE_EXTRA_CA_CERTS: ctx.caCertPath,
      });
      const args = [
        ...WORKER_NODE_FLAGS,
        options.cli === 'built' ? builtCli() : 'bin/orgadmin.js',
        'worker',
        '--concurrency',
        String(options.concurrency),
        '--poll',
        '0.5',
        '--maintenance',
        '2',
        '--lease',
        String(LEASE_SECONDS),
        '--stop-timeout',
        '10',
      ];
      for (let i = 0; i < options.workers; i += 1) workers.push(startChild(process.execPath, args, { env }));
      await Promise.all(workers.map((worker) => worker.waitFor('ready', 60_000)));
      ctx.log(
        `${label}: ${options.workers} worker(s) ready (pids ${workers.map((w) => w.pid).join(', ')}; node ${args.slice(0, WORKER_NODE_FLAGS.length + 1).join(' ')})`,
      );

      const specs = validateSpecs(
        orgs.map(({ name, app, url }) => ({
          name,
          isolation: 'isolated-database',
          connections: [{ database: {} }],
          applications: [{ client: app, callbacks: [url] }],
        })),
      );
      const started = performance.now();
      const runIds: string[] = [];
      let next = 0;
      let creationError: string | undefined;
      const creating = Promise.all(
        Array.from({ length: CREATE_PARALLELISM }, async () => {
          while (next < specs.length) {
            const spec = specs[next++]!;
            const run = await store.createRun({
              orgName: spec.name,
              tenant: tenant.local.domain,
              kind: 'apply',
              desired: spec,
              requestedBy: 'bench',
            });
            runIds.push(run.id);
            await queue.enqueue(run.id);
          }
        }),
      ).catch((error: unknown) => {
        creationError = error instanceof Error ? error.message : String(error);
      });

      let killed: Child | undefined;
      let lastProgress = performance.now();
      let finished = 0;
      let failed = 0;
      const deadline = performance.now() + options.deadlineMs;
      for (;;) {
        const { rows } = await database.pool.query<{ state: string; count: number }>(
          'SELECT state, count(*)::int AS count FROM runs GROUP BY state',
        );
        const count = (state: string): number => rows.find((row) => row.state === state)?.count ?? 0;
        finished = count('succeeded') + count('failed');
        failed = count('failed');
        const now = performance.now();
        if (finished >= orgs.length) break;
        if (creationError !== undefined) {
          notes.push(`${label}: creating the runs failed: ${creationError}`);
          break;
        }
        if (now > deadline) {
          notes.push(
            `${label}: gave up after ${(options.deadlineMs / 1000).toFixed(0)} s with ${orgs.length - finished} runs unfinished`,
          );
          break;
        }
        if (options.killOne && !killed && workers.length >= 2 && finished >= orgs.length / 3) {
          killed = workers[0]!;
          killed.kill('SIGKILL');
          ctx.log(`${label}: SIGKILL worker ${killed.pid} after ${finished}/${orgs.length} runs finished`);
        }
        if (now - lastProgress >= PROGRESS_EVERY_MS) {
          lastProgress = now;
          const seconds = (now - started) / 1000;
          ctx.log(
            `${label}: ${finished}/${orgs.length} runs finished (${failed} failed) after ${seconds.toFixed(0)} s, ${((finished / seconds) * 60).toFixed(0)} orgs/min`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
      const wallSeconds = (performance.now() - started) / 1000;
      await creating;
      ctx.log(
        `${label}: ${finished}/${orgs.length} runs finished (${failed} failed) in ${wallSeconds.toFixed(1)} s`,
      );

      const survivors = workers.filter((worker) => worker !== killed);
      const exits = await Promise.all(
        survivors.map((worker) => {
          worker.kill('SIGTERM');
          return worker.exited;
        }),
      );
      exits.forEach((exit, index) => {
        if (exit.code !== 0)
          notes.push(
            `${label}: worker ${survivors[index]!.pid} exited with ${exit.code ?? exit.signal}:\n${survivors[index]!.output().slice(-2000)}`,
          );
      });
      if (killed) {
        const rest = orgs.length - finished;
        notes.push(
          `${label} --kill-one: worker ${killed.pid} got SIGKILL after a third of the runs; the other ${survivors.length} finished ${rest === 0 && failed === 0 ? 'every run' : `all but ${rest} unfinished and ${failed} failed runs`}`,
        );
      } else if (options.killOne) {
        notes.push(`${label} --kill-one: not applied (needs ≥ 2 workers)`);
      }
      const { rows: notSucceeded } = await database.pool.query<{ org_name: string; error: string | null }>(
        "SELECT org_name, error FROM runs WHERE state <> 'succeeded'",
      );
      for (const row of notSucceeded.slice(0, 3))
        notes.push(`${label}: run of ${row.org_name} did not succeed: ${row.error ?? '(unfinished)'}`);
      return result({
        name: 'orgadmin',
        workers: options.workers,
        orgs: orgs.length,
        wallSeconds,
        measured: measure(tenant, orgs, ctx.profile, ctx.timeScale, requestLogFile(ctx, label)),
        reportedFailed: new Set(notSucceeded.map((row) => row.org_name)),
        processes: workers,
        notes,
      });
    } finally {
      await queue.close({ timeoutMs: 1000 });
      await database.close();
    }
  } finally {
    for (const worker of workers) worker.kill('SIGKILL');
    await Promise.all(workers.map((worker) => worker.exited));
    await admin(ctx.postgresUrl, (client) =>
      client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(databaseName)} WITH (FORCE)`),
    );
    await tenant.close();
  }
}
