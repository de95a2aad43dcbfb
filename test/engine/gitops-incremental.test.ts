/**
 * Issue 5, acceptance 3: a deployment is incremental. In a repository of 2,000 organizations, all deployed, changing
 * one and deploying reads and writes only that organization: at most 10 Management API calls (auth0-local's request
 * log), whatever the size of the repository.
 */
import { beforeAll, describe, expect, it } from 'vitest';

import { organizationFiles } from '../../src/domain/deploy-cli-files.js';
import { validateSpecs } from '../../src/domain/spec-document.js';
import { type TestAuth0Local, requestLogLength } from '../helpers/auth0-local.js';
import { useTestGitops, type TestGitops } from '../helpers/gitops.js';

const COUNT = 2000;
// Neither side limits the rate: this test is about how many calls, not how fast.
const file = useTestGitops({ AUTH0_RATE_LIMITS: 'unlimited' });
let local: TestAuth0Local;
let setup: TestGitops;

beforeAll(() => {
  ({ local, setup } = file);
});

const managementCalls = (from: number): string[] =>
  local.requestLog
    .list({ tenant: local.name })
    .slice(from)
    .filter((entry) => entry.path.startsWith('/api/v2/'))
    .map((entry) => `${entry.method} ${entry.path}`);

describe('an incremental deployment', () => {
  it(
    `changes one organization of ${COUNT} with at most 10 Management API calls`,
    { timeout: 300_000 },
    async () => {
      const { gitops, service } = setup;
      const names = Array.from({ length: COUNT }, (_, index) => `org-${String(index).padStart(4, '0')}`);
      // One commit with every organization, as `gitops init` or a scripted import would make it.
      const specs = validateSpecs(names.map((name) => ({ name, displayName: `Customer ${name}` })));
      await gitops.repository.commit({
        author: { name: 'import', email: 'import@saas.example' },
        change: () =>
          Promise.resolve({
            files: new Map(specs.flatMap(organizationFiles).map((file) => [file.path, file.text])),
            message: `Import ${COUNT} organizations`,
          }),
      });
      const all = await gitops.deploy({ actor: 'ci' });
      expect(all.deployment?.summary).toBe(`${COUNT} organization(s) deployed`);

      await service.commits.patch('org-1234', { displayName: 'Customer 1234, renamed' }, 'ada@saas.example');
      const from = requestLogLength(local);
      const one = await gitops.deploy({ actor: 'ci' });
      const calls = managementCalls(from);
      expect(one.organizations.map((entry) => entry.name)).toEqual(['org-1234']);
      expect(one.deployment?.state).toBe('succeeded');
      expect(calls.length, calls.join('\n')).toBeLessThanOrEqual(10);
      expect(calls.filter((call) => !call.startsWith('GET '))).toEqual([
        expect.stringMatching(/^PATCH \/api\/v2\/organizations\/org_/),
      ]);
      console.log(
        `incremental deploy of 1 of ${COUNT} organizations: ${calls.length} Management API calls\n  ${calls.join('\n  ')}`,
      );
    },
  );
});
