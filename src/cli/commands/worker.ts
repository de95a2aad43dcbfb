/**
 * `orgadmin worker`: executes queued runs until SIGINT/SIGTERM, then stops gracefully (running runs finish, up to
 * a timeout; the rest are handed back to the queue). Any number of workers may run, in any number of processes.
 * Also the place where test hooks are composed.
 */
import { parseArgs } from 'node:util';

import { openOrgadmin, openRunQueue, serveMetrics, startEventDelivery } from '../../composition-root.js';
import { loadConfig } from '../../config/config.js';
import type { Step } from '../../domain/plan.js';
import type { EngineDeps, Failpoint } from '../../engine/run-executor.js';
import { startWorker } from '../../engine/worker.js';
import { printErr, untilSignal, type Command } from '../command.js';

const HELP = `Usage: orgadmin worker [--concurrency N] [--lease SECONDS] [--poll SECONDS]

Executes queued runs (from \`org apply\`, \`org delete\` and unfinished runs found at start) until Ctrl-C or
SIGTERM. Run as many workers as you like; each run is executed by one of them at a time.

Options:
  --concurrency N        runs executed at once (default 4)
  --lease SECONDS        lease of the jobs this worker enqueues (unfinished runs found at start): a job whose
                         worker stopped beating for this long is retried elsewhere (default 60)
  --poll SECONDS         how often an idle worker looks for jobs (default 2, at least 0.5)
  --maintenance SECONDS  how often expired leases are looked for (default 30)
  --retry-delay SECONDS  base delay of the retry backoff of failed attempts (default 5)
  --stop-timeout SECONDS how long a stopping worker waits for running runs (default 30)
  --metrics-port PORT    serve Prometheus /metrics on HOST:PORT (needs METRICS_TOKEN; scrapers send it as a
                         Bearer token)
`;

/**
 * Test hook, composed in the CLI only (worker, deploy): `ORGADMIN_TEST_CRASH=<step key or kind>@<failpoint>` kills this process with
 * SIGKILL at that failpoint of the first matching step — a crash at an exact instant, for crash-recovery tests.
 */
export function crashHook(value: string | undefined): EngineDeps['__test__failpoint'] {
  if (!value) return undefined;
  const at = value.lastIndexOf('@');
  const target = value.slice(0, at);
  const point = value.slice(at + 1);
  const points: Failpoint[] = ['before-call', 'after-call', 'after-record'];
  if (at <= 0 || !points.includes(point as Failpoint))
    throw new Error(`ORGADMIN_TEST_CRASH must look like <step key or kind>@<${points.join('|')}>`);
  return (failpoint: Failpoint, step: Step) => {
    if (failpoint === point && (step.key === target || step.kind === target)) {
      process.stderr.write(`orgadmin[${process.pid}]: ORGADMIN_TEST_CRASH: SIGKILL at ${value}\n`);
      process.kill(process.pid, 'SIGKILL');
    }
  };
}

function seconds(value: string | undefined, name: string, minimum: number): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < minimum)
    throw new Error(`--${name} must be a number ≥ ${minimum}`);
  return parsed;
}

export const workerCommand: Command = {
  name: 'worker',
  summary: 'execute queued runs until stopped (--concurrency N)',
  async run(args) {
    const { values } = parseArgs({
      args,
      strict: true,
      options: {
        concurrency: { type: 'string' },
        lease: { type: 'string' },
        poll: { type: 'string' },
        maintenance: { type: 'string' },
        'retry-delay': { type: 'string' },
        'stop-timeout': { type: 'string' },
        'metrics-port': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      process.stdout.write(HELP);
      return 0;
    }
    const concurrency = seconds(values.concurrency, 'concurrency', 1) ?? 4;
    if (!Number.isInteger(concurrency)) throw new Error('--concurrency must be an integer ≥ 1');
    const lease = seconds(values.lease, 'lease', 1);
    const poll = seconds(values.poll, 'poll', 0.5);
    const maintenance = seconds(values.maintenance, 'maintenance', 1);
    const retryDelay = seconds(values['retry-delay'], 'retry-delay', 0);
    const stopTimeout = seconds(values['stop-timeout'], 'stop-timeout', 0) ?? 30;
    const failpoint = crashHook(process.env['ORGADMIN_TEST_CRASH']);
    const metricsPort = seconds(values['metrics-port'], 'metrics-port', 0);
    if (metricsPort !== undefined && (!Number.isInteger(metricsPort) || metricsPort > 65535))
      throw new Error('--metrics-port must be a port number (0-65535)');

    const tag = `orgadmin worker[${process.pid}]`;
    const log = (line: string): void => printErr(`${tag}: ${line}`);
    // Listen before anything slow, so a signal during start-up still stops the worker gracefully.
    const signal = untilSignal();
    const config = loadConfig(process.env, process.cwd());
    if (metricsPort !== undefined && !config.metricsToken)
      throw new Error('--metrics-port needs METRICS_TOKEN (the Bearer token scrapers send)');
    const orgadmin = await openOrgadmin(config);
    const metricsServer =
      metricsPort === undefined
        ? undefined
        : await serveMetrics(orgadmin, config.portal.host, metricsPort, log);
    try {
      const queue = await openRunQueue(orgadmin, {
        log,
        maxConnections: 4,
        ...(lease !== undefined ? { expireInSeconds: Math.ceil(lease) } : {}),
        ...(poll !== undefined ? { pollIntervalMs: Math.round(poll * 1000) } : {}),
        ...(maintenance !== undefined ? { maintenanceIntervalSeconds: Math.ceil(maintenance) } : {}),
        ...(retryDelay !== undefined ? { retryDelaySeconds: Math.round(retryDelay) } : {}),
      });
      const delivery = startEventDelivery(orgadmin, { log });
      try {
        const worker = await startWorker({
          queue,
          engine: {
            ...orgadmin.engine,
            log,
            // The link is for the organization's administrator: never logged. The operator gets it when the
            // run is applied in-process (`org apply` with no worker taking the job first).
            onAdminLink: (run) =>
              log(`run ${run.id} (${run.orgName}): administrator link issued (not logged)`),
            ...(failpoint ? { __test__failpoint: failpoint } : {}),
          },
          concurrency,
          log,
          rescanIntervalMs: 5 * 60_000,
          urlBatchMaxWaitMs: orgadmin.config.urlBatchMaxWaitMs,
          // A finished run wrote its events: deliver them now rather than at the next poll.
          onAttempt: () => delivery.notify(),
        });
        // A bulk apply whose starting process stopped is continued by whichever process starts next. Its modules
        // are loaded only when there is one (a worker otherwise never needs them).
        let bulk: { close(): Promise<void> } | undefined;
        if ((await orgadmin.store.unstartedBatches()).length > 0) {
          const [{ createBulkApplyService }, { createOrganizationService }] = await Promise.all([
            import('../../services/bulk-apply.js'),
            import('../../services/organizations.js'),
          ]);
          const organizations = createOrganizationService(orgadmin, {
            enqueue: async (runId) => {
              await queue.enqueue(runId);
              worker.notify();
            },
          });
          const service = createBulkApplyService({ store: orgadmin.store, organizations, log });
          bulk = service;
          log(`continuing the start of ${(await service.resume()).length} bulk apply batch(es)`);
        }
        log(`ready (concurrency ${concurrency})`);
        const received = await signal;
        log(`${received}: stopping (waiting up to ${stopTimeout} s for running runs)`);
        await bulk?.close();
        await worker.stop({ timeoutMs: stopTimeout * 1000 });
      } finally {
        await delivery.stop();
        await queue.close({ timeoutMs: 1000 });
      }
      log('stopped');
      return 0;
    } finally {
      await metricsServer?.close();
      await orgadmin.close();
    }
  },
};
