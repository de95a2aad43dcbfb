/**
 * The two ways of deploying the repository's head, each as its own process, as a CI job runs them:
 *   - `orgadmin deploy` (bin/orgadmin.js, GitOps mode): incremental from the revision deployed last;
 *   - `a0deploy import` of a checkout of the head, scoped as docs/gitops.md says.
 * Wall time is from spawn to exit (start-up, reading the repository and the deployment itself).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { tables } from '../../auth0-local/model.js';
import { childEnv, startChild, type Child, type Exit } from '../provision/child.js';
import type { Local } from '../provision/tenant.js';

const ORGADMIN = fileURLToPath(new URL('../../bin/orgadmin.js', import.meta.url));
const DEPLOY_CLI = fileURLToPath(
  new URL('../../node_modules/auth0-deploy-cli/lib/index.js', import.meta.url),
);
const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** docs/gitops.md's scoping: only organizations and their connections, never a deletion. */
export const DEPLOY_CLI_SCOPE = {
  AUTH0_INCLUDED_ONLY: ['organizations', 'connections', 'databases'],
  AUTH0_ALLOW_DELETE: false,
};

export interface ProcessRun {
  exit: Exit;
  wallSeconds: number;
  child: Child;
  /** Set when the deadline killed the process. */
  killed: boolean;
}

async function timed(child: Child, deadlineMs: number): Promise<ProcessRun> {
  const started = performance.now();
  let killed = false;
  const timer = setTimeout(() => {
    killed = true;
    child.kill('SIGKILL');
  }, deadlineMs);
  const exit = await child.exited;
  clearTimeout(timer);
  return { exit, wallSeconds: (performance.now() - started) / 1000, child, killed };
}

/** The last lines of a process's output, colours removed, on one line. */
export function outputTail(child: Child, lines = 12): string {
  return (
    child
      .output()
      .split('\n')
      // eslint-disable-next-line no-control-regex -- winston colours its levels even with NO_COLOR
      .map((line) => line.replace(/\u001b\[[0-9;]*m/g, '').trim())
      .filter(Boolean)
      .slice(-lines)
      .join(' ⏎ ')
      .replace(/\s+/g, ' ')
      .slice(-1500)
  );
}

/** `orgadmin deploy [--json]` with the installation's environment plus `extra` (the rate-limit settings). */
export function orgadminDeploy(
  env: Record<string, string>,
  options: { json: boolean; deadlineMs: number; onLine?: (line: string) => void },
): Promise<ProcessRun> {
  const child = startChild(process.execPath, [ORGADMIN, 'deploy', ...(options.json ? ['--json'] : [])], {
    env: childEnv(env),
    cwd: REPO_ROOT,
    ...(options.onLine ? { onLine: options.onLine } : {}),
  });
  return timed(child, options.deadlineMs);
}

/** What `orgadmin deploy --json` printed as its last line, if it was a deployment result. */
export function deployResult(run: ProcessRun):
  | {
      organizations: { name: string }[];
      deployment?: { state: string; summary?: string; startedAt: string; finishedAt?: string };
    }
  | undefined {
  const last = run.child.stdout().trim().split('\n').at(-1);
  try {
    return last ? (JSON.parse(last) as ReturnType<typeof deployResult>) : undefined;
  } catch {
    return undefined;
  }
}

export function deployCliImport(input: {
  local: Local;
  caCertPath: string;
  checkoutDir: string;
  configFile: string;
  keywords: Record<string, string>;
  /** AUTH0_API_MAX_RETRIES; undefined = deploy-cli's shipped default. */
  maxRetries: number | undefined;
  deadlineMs: number;
}): Promise<ProcessRun> {
  const { local } = input;
  writeFileSync(
    input.configFile,
    JSON.stringify({
      AUTH0_DOMAIN: local.domain,
      AUTH0_CLIENT_ID: local.clientId,
      AUTH0_CLIENT_SECRET: local.clientSecret,
      ...DEPLOY_CLI_SCOPE,
      AUTH0_KEYWORD_REPLACE_MAPPINGS: input.keywords,
      ...(input.maxRetries === undefined ? {} : { AUTH0_API_MAX_RETRIES: input.maxRetries }),
    }),
  );
  const child = startChild(
    process.execPath,
    [
      DEPLOY_CLI,
      'import',
      '--input_file',
      input.checkoutDir,
      '--config_file',
      input.configFile,
      '--env=false',
    ],
    {
      env: childEnv({ NODE_EXTRA_CA_CERTS: input.caCertPath, NO_COLOR: '1', FORCE_COLOR: '0' }),
      cwd: join(input.checkoutDir, '..'),
    },
  );
  return timed(child, input.deadlineMs);
}

/** The tenant's organization of that name as auth0-local holds it (read in process: no API call). */
export function tenantOrganization(
  local: Local,
  name: string,
): { id: string; display_name?: unknown; metadata?: unknown } | undefined {
  const data = local.runtime(local.name)?.data;
  if (!data) throw new Error(`tenant ${local.name} is gone`);
  for (const org of tables.organizations(data).values()) if (org.name === name) return org;
  return undefined;
}

/** How many organizations and connections whose names start with `prefix` the tenant holds. */
export function tenantCounts(local: Local, prefix: string): { organizations: number; connections: number } {
  const data = local.runtime(local.name)?.data;
  if (!data) throw new Error(`tenant ${local.name} is gone`);
  const count = (names: Iterable<{ name: string }>): number =>
    [...names].filter((entry) => entry.name.startsWith(prefix)).length;
  return {
    organizations: count(tables.organizations(data).values()),
    connections: count(tables.connections(data).values()),
  };
}
