/** A table of runs, as the runs page and an organization's run history show them; failed runs stand out. */
import type { ReactNode } from 'react';

import type { Run } from '../api.js';
import { Link } from '../router.js';
import { RunStateBadge, TableWrap, Time, shortId } from './ui.js';

export function RunsTable({
  runs,
  label,
  showOrganization = false,
  showError = false,
  actions,
}: {
  runs: Run[];
  label: string;
  /** Off in an organization's own history, where every run is that organization's. */
  showOrganization?: boolean;
  showError?: boolean;
  /** The content of an Actions column; none without it. */
  actions?: ((run: Run) => ReactNode) | undefined;
}) {
  return (
    <TableWrap label={label}>
      <table>
        <thead>
          <tr>
            <th scope="col">Run</th>
            {showOrganization && <th scope="col">Organization</th>}
            <th scope="col">Kind</th>
            <th scope="col">State</th>
            <th scope="col">Requested by</th>
            <th scope="col">Created</th>
            <th scope="col">Finished</th>
            {showError && <th scope="col">Error</th>}
            {actions && <th scope="col">Actions</th>}
          </tr>
        </thead>
        <tbody>
          {runs.map((run) => (
            <tr key={run.id} className={run.state === 'failed' ? 'row-failed' : undefined}>
              <td>
                <Link to={`/runs/${encodeURIComponent(run.id)}`}>
                  <code>{shortId(run.id)}</code>
                </Link>
              </td>
              {showOrganization && (
                <td>
                  <Link to={`/organizations/${encodeURIComponent(run.orgName)}`}>{run.orgName}</Link>
                </td>
              )}
              <td>{run.kind}</td>
              <td>
                <RunStateBadge state={run.state} />
              </td>
              <td>{run.requestedBy}</td>
              <td>
                <Time value={run.createdAt} />
              </td>
              <td>
                <Time value={run.finishedAt} />
              </td>
              {showError && <td className="cell-error">{run.error ?? ''}</td>}
              {actions && <td className="cell-actions">{actions(run)}</td>}
            </tr>
          ))}
        </tbody>
      </table>
    </TableWrap>
  );
}
