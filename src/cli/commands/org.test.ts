import { describe, expect, it } from 'vitest';

import type { RunRecord } from '../../ports/store.js';
import { bulkSummary } from './org.js';

const run = (orgName: string, state: RunRecord['state'], error?: string): RunRecord => ({
  auth0Calls: 7,
  id: `run-${orgName}`,
  orgName,
  tenant: 't.example.com',
  kind: 'apply',
  state,
  requestedBy: 'cli:test',
  desired: undefined,
  error,
  cancelRequestedBy: undefined,
  createdAt: new Date(0),
  startedAt: undefined,
  finishedAt: undefined,
});

describe('the summary of an apply of many organizations', () => {
  it('counts outcomes and groups failures by reason, most frequent first, with a few names each', () => {
    const refused = 'Auth0 refused the SAML metadata (400)';
    const lines = bulkSummary(
      [
        run('a', 'succeeded'),
        run('b', 'failed', 'connection name taken (409)'),
        ...['c', 'd', 'e', 'f', 'g'].map((name) => run(name, 'failed', refused)),
        run('h', 'running'),
      ],
      72_345,
    );
    expect(lines).toEqual([
      '8 organizations in 72.3 s: 1 succeeded, 6 failed, 1 still open (they resume on the next apply or worker); 56 Auth0 calls',
      `  failed ×5: ${refused} (c, d, e, … 2 more)`,
      '  failed ×1: connection name taken (409) (b)',
    ]);
  });
});
