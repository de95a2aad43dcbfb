/**
 * orgadmin in GitOps mode for a test file: a fresh local bare repository, the file's database, provisioning into
 * the file's auth0-local; plus the organization service whose `commits` make changes.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { openOrgadmin, type Orgadmin } from '../../src/composition-root.js';
import { loadConfig } from '../../src/config/config.js';
import type { GitopsService } from '../../src/services/gitops.js';
import { createOrganizationService, type OrganizationService } from '../../src/services/organizations.js';
import type { ManagementClient } from 'auth0';
import { afterAll, beforeAll } from 'vitest';

import {
  managementClient,
  orgadminHomeFor,
  startTestAuth0Local,
  type TestAuth0Local,
} from './auth0-local.js';
import { createTestDatabase, type TestDatabase } from './database.js';

export interface TestGitops {
  orgadmin: Orgadmin;
  gitops: GitopsService;
  service: OrganizationService;
  /** The bare repository (the "remote"). */
  bare: string;
  /** The environment an `orgadmin` child process needs to work on the same installation. */
  env: Record<string, string>;
  /** `git --git-dir <bare> ARGS`, its stdout. */
  git: (...args: string[]) => string;
  close(): Promise<void>;
}

/** A new, empty bare repository (branch main): the "remote" a GitOps installation commits to. */
export function newBareRepository(): string {
  const bare = join(mkdtempSync(join(tmpdir(), 'orgadmin-gitops-')), 'orgs.git');
  execFileSync('git', ['init', '-q', '--bare', '-b', 'main', bare]);
  return bare;
}

/** `git --git-dir <bare> ARGS`, its stdout. */
export const gitIn =
  (bare: string) =>
  (...args: string[]): string =>
    execFileSync('git', ['--git-dir', bare, ...args], { encoding: 'utf8' });

export async function startTestGitops(
  local: TestAuth0Local,
  database: TestDatabase,
  extraEnv: Record<string, string> = {},
): Promise<TestGitops> {
  const bare = newBareRepository();
  const env: Record<string, string> = {
    ...extraEnv,
    ORGADMIN_HOME: orgadminHomeFor(local),
    DATABASE_URL: database.url,
    ORGADMIN_SECRET_KEY: 'test-secret-key',
    ORGADMIN_MODE: 'gitops',
    ORGADMIN_GITOPS_REPO: bare,
  };
  const orgadmin = await openOrgadmin(loadConfig(env, process.cwd()));
  return {
    orgadmin,
    gitops: orgadmin.gitops!,
    service: createOrganizationService(orgadmin, {
      enqueue: () => Promise.reject(new Error('GitOps mode queues no run on a change')),
    }),
    bare,
    env,
    git: gitIn(bare),
    close: () => orgadmin.close(),
  };
}

/** What a GitOps test file works with: its auth0-local, its database, orgadmin in GitOps mode and an SDK client. */
export interface GitopsTestFile {
  local: TestAuth0Local;
  database: TestDatabase;
  setup: TestGitops;
  api: ManagementClient;
}

/**
 * One GitOps installation for a whole test file: started before its tests (this hook runs before the file's own
 * `beforeAll`), closed after them. The returned object is filled in when the hook has run.
 */
export function useTestGitops(extraEnv: Record<string, string> = {}): GitopsTestFile {
  const file = {} as GitopsTestFile;
  beforeAll(async () => {
    file.local = await startTestAuth0Local();
    file.database = await createTestDatabase();
    file.setup = await startTestGitops(file.local, file.database, extraEnv);
    file.api = managementClient(file.local);
  });
  afterAll(async () => {
    await file.setup?.close();
    await file.local?.close();
    await file.database?.drop();
  });
  return file;
}
