/**
 * The benchmark's organization repository: N organization specs, written as ONE commit through orgadmin's own
 * repository adapter (as a scripted import would make it), and a checkout of a revision for auth0-deploy-cli (what a
 * CI job's `git checkout` gives it).
 *
 * The organizations `bench-00000` …: most are `isolation: shared`, linked to the tenant's shared database connection
 * `Username-Password-Authentication` (an organization without any connection cannot sign anyone in); a fraction
 * (`--isolated`) are `isolation: isolated-database` with their own database connection, enabled for the shared
 * application `Portal` (created in the tenant before the benchmark, as a common component that is not in the
 * repository).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';

import { organizationFiles, secretKeywords } from '../../src/domain/deploy-cli-files.js';
import type { OrgSpec } from '../../src/domain/org-spec.js';
import { validateSpecs } from '../../src/domain/spec-document.js';
import type { OrgRepository } from '../../src/ports/org-repository.js';

export const SHARED_APP = 'Portal';
export const SHARED_CONNECTION = 'Username-Password-Authentication';

export const orgName = (index: number): string => `bench-${String(index).padStart(5, '0')}`;

/** Whether organization `index` is one of the isolated ones: spread evenly, `fraction` of them. */
export const isIsolated = (index: number, fraction: number): boolean =>
  Math.floor((index + 1) * fraction) > Math.floor(index * fraction);

export function benchSpecs(count: number, isolatedFraction: number): OrgSpec[] {
  return validateSpecs(
    Array.from({ length: count }, (_, index) => {
      const name = orgName(index);
      return isIsolated(index, isolatedFraction)
        ? {
            name,
            displayName: `Customer ${index}`,
            isolation: 'isolated-database',
            connections: [{ database: {} }],
            applications: [{ client: SHARED_APP }],
          }
        : { name, displayName: `Customer ${index}`, connections: [{ shared: SHARED_CONNECTION }] };
    }),
  );
}

/** Commits every organization's files in one commit; returns the commit's sha. */
export async function commitAll(repository: OrgRepository, specs: OrgSpec[]): Promise<string> {
  const commit = await repository.commit({
    author: { name: 'import', email: 'import@saas.example' },
    change: () =>
      Promise.resolve({
        files: new Map(specs.flatMap(organizationFiles).map((file) => [file.path, file.text])),
        message: `Import ${specs.length} organizations`,
      }),
  });
  if (!commit) throw new Error('the import commit changed nothing');
  return commit.sha;
}

/** The keyword values deploy-cli needs for these specs' secrets (none for the benchmark's specs, by construction). */
export function keywordMappings(specs: OrgSpec[]): Record<string, string> {
  return Object.assign({}, ...specs.map(secretKeywords)) as Record<string, string>;
}

/** The files of `revision` of the bare repository, extracted into `dir` (a CI job's checkout). */
export function checkout(bare: string, revision: string, dir: string): void {
  mkdirSync(dir, { recursive: true });
  execFileSync('sh', ['-c', 'git --git-dir "$1" archive "$2" | tar -x -C "$3"', 'sh', bare, revision, dir]);
}

/** A new, empty bare repository (branch main) under `dir`. */
export function newBareRepository(dir: string): string {
  execFileSync('git', ['init', '-q', '--bare', '-b', 'main', dir]);
  return dir;
}
