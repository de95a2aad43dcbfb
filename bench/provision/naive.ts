/**
 * Contender 3: runs bench/provision/naive-script.ts as its own process (trusting auth0-local's CA through
 * NODE_EXTRA_CA_CERTS, as a user's script would) against a fresh tenant. Wall time: the process, spawn to exit.
 */
import { childEnv, startChild } from './child.js';
import { requestLogFile, result } from './measure.js';
import { freshTenant, measure, watchProgress } from './tenant.js';
import type { BenchContext, ContenderResult } from './types.js';

export async function runNaive(
  ctx: BenchContext,
  options: { batch: number; deadlineMs: number },
): Promise<ContenderResult> {
  const { orgs } = ctx;
  const notes: string[] = [];
  const tenant = await freshTenant({
    name: 'naive',
    tlsDir: ctx.tlsDir,
    profile: ctx.profile,
    timeScale: ctx.timeScale,
    apps: ctx.apps,
  });
  try {
    const stop = watchProgress(tenant, 'naive', orgs.length, ctx.log);
    const started = performance.now();
    const startedAt = Date.now();
    const child = startChild(process.execPath, ['bin/run-ts.js', 'bench/provision/naive-script.ts'], {
      env: childEnv({
        NODE_EXTRA_CA_CERTS: ctx.caCertPath,
        NAIVE_INPUT: JSON.stringify({
          domain: tenant.local.domain,
          clientId: tenant.local.clientId,
          clientSecret: tenant.local.clientSecret,
          orgs: orgs.map(({ name, app, url }) => ({ name, url, clientId: tenant.appIds.get(app) })),
          batch: options.batch,
        }),
      }),
    });
    const timer = setTimeout(() => {
      notes.push(`naive: killed after ${(options.deadlineMs / 1000).toFixed(0)} s`);
      child.kill('SIGKILL');
    }, options.deadlineMs);
    const exit = await child.exited;
    const wallSeconds = (performance.now() - started) / 1000;
    clearTimeout(timer);
    stop();
    ctx.log(`naive: exited with ${exit.code ?? exit.signal} after ${wallSeconds.toFixed(1)} s`);
    const last = child.stdout().trim().split('\n').pop() ?? '';
    let reported: { failed: string[]; errors: string[] } = { failed: [], errors: [] };
    try {
      reported = JSON.parse(last) as typeof reported;
    } catch {
      notes.push(`naive: no result line (exit ${exit.code ?? exit.signal}): ${child.output().slice(-1000)}`);
    }
    if (reported.failed.length > 0)
      notes.push(
        `naive: ${reported.failed.length} organization(s) failed; first errors: ${reported.errors.join(' | ')}`,
      );
    const measured = measure(tenant, orgs, ctx.profile, ctx.timeScale, requestLogFile(ctx, 'naive'));
    if (measured.firstWriteAt !== undefined)
      notes.push(
        `naive: first write reached auth0-local ${((measured.firstWriteAt - startedAt) / 1000).toFixed(1)} s after the process started`,
      );
    return result({
      name: 'naive',
      workers: 1,
      orgs: orgs.length,
      wallSeconds,
      measured,
      reportedFailed: new Set(reported.failed),
      processes: [child],
      notes,
    });
  } finally {
    await tenant.close();
  }
}
