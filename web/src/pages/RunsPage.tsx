/**
 * `/runs`: every run, newest first, filtered by state and organization; failed runs stand out and can be retried,
 * pending and running ones cancelled (operators). Run events update the rows in place.
 */
import { useEffect, useState } from 'react';

import { api, query, runPath, RUN_STATES, type Page, type Run } from '../api.js';
import { ErrorState, Loading, Pager, RunStateBadge, TableWrap, Time, shortId } from '../components/ui.js';
import { useCursorStack, useDebounced, useDocumentTitle, useFetch } from '../hooks.js';
import { Link, navigate, replaceSearch, useLocation } from '../router.js';
import { useRunEvents, useSession } from '../session.js';

const PAGE_SIZE = 50;

export function RunsPage() {
  useDocumentTitle('Runs');
  const session = useSession();
  const location = useLocation();
  const [state, setState] = useState(() => location.search.get('state') ?? '');
  const [org, setOrg] = useState(() => location.search.get('org') ?? '');
  const orgFilter = useDebounced(org.trim(), 250);
  const [actionError, setActionError] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);

  useEffect(() => {
    replaceSearch({ org: orgFilter, state });
  }, [orgFilter, state]);

  const paging = useCursorStack(JSON.stringify([orgFilter, state]));
  const list = useFetch<Page<Run>>(
    `/api/v1/runs${query({ org: orgFilter, state, limit: PAGE_SIZE, cursor: paging.cursor })}`,
  );

  useRunEvents((run) => {
    list.setData((current) => {
      if (!current) return current;
      if (current.items.some((item) => item.id === run.id)) {
        const items = current.items.map((item) => (item.id === run.id ? run : item));
        return { ...current, items: state === '' ? items : items.filter((item) => item.state === state) };
      }
      // A new run: shown at the top of the first page when it matches the filters.
      const matches =
        (state === '' || run.state === state) && (orgFilter === '' || run.orgName === orgFilter);
      return paging.page === 1 && matches ? { ...current, items: [run, ...current.items] } : current;
    });
  });

  async function act(run: Run, action: 'retry' | 'cancel'): Promise<void> {
    setBusy(`${action}:${run.id}`);
    setActionError(null);
    try {
      const result = await api.post<{ run: Run }>(`${runPath(run.id)}/${action}`);
      if (action === 'retry') navigate(`/runs/${encodeURIComponent(result.run.id)}`);
      else
        list.setData(
          (current) =>
            current && {
              ...current,
              items: current.items.map((item) => (item.id === run.id ? result.run : item)),
            },
        );
    } catch (failure) {
      setActionError(
        `${action === 'retry' ? 'Retry' : 'Cancel'} of run ${shortId(run.id)} failed: ${failure instanceof Error ? failure.message : 'unknown error'}`,
      );
    } finally {
      setBusy(null);
    }
  }

  return (
    <>
      <h1>Runs</h1>
      <form className="filters" role="search" aria-label="Runs" onSubmit={(event) => event.preventDefault()}>
        <div className="field">
          <label htmlFor="run-state">State</label>
          <select id="run-state" value={state} onChange={(event) => setState(event.target.value)}>
            <option value="">All states</option>
            {RUN_STATES.map((value) => (
              <option key={value} value={value}>
                {value}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="run-org">Organization</label>
          <input
            id="run-org"
            type="search"
            value={org}
            placeholder="Exact name"
            autoComplete="off"
            spellCheck={false}
            onChange={(event) => setOrg(event.target.value)}
          />
        </div>
      </form>
      {actionError && (
        <p className="callout callout-error" role="alert">
          {actionError}
        </p>
      )}
      {list.error && !list.loading ? (
        <ErrorState title="The runs could not be loaded" error={list.error} onRetry={list.reload} />
      ) : !list.data ? (
        <Loading label="Loading runs…" />
      ) : list.data.items.length === 0 && paging.page === 1 ? (
        <div className="empty">
          <p className="empty-title">
            No runs{state !== '' || orgFilter !== '' ? ' match these filters' : ' yet'}.
          </p>
        </div>
      ) : (
        <div aria-busy={list.loading}>
          <TableWrap label="Runs table">
            <table>
              <thead>
                <tr>
                  <th scope="col">Run</th>
                  <th scope="col">Organization</th>
                  <th scope="col">Kind</th>
                  <th scope="col">State</th>
                  <th scope="col">Requested by</th>
                  <th scope="col">Created</th>
                  <th scope="col">Finished</th>
                  <th scope="col">Error</th>
                  {session.isOperator && <th scope="col">Actions</th>}
                </tr>
              </thead>
              <tbody>
                {list.data.items.map((run) => (
                  <tr key={run.id} className={run.state === 'failed' ? 'row-failed' : undefined}>
                    <td>
                      <Link to={`/runs/${encodeURIComponent(run.id)}`}>
                        <code>{shortId(run.id)}</code>
                      </Link>
                    </td>
                    <td>
                      <Link to={`/organizations/${encodeURIComponent(run.orgName)}`}>{run.orgName}</Link>
                    </td>
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
                    <td className="cell-error">{run.error ?? ''}</td>
                    {session.isOperator && (
                      <td className="cell-actions">
                        {run.state === 'failed' && (
                          <button
                            type="button"
                            className="button-small"
                            aria-label={`Retry run ${shortId(run.id)} of ${run.orgName}`}
                            disabled={busy !== null}
                            onClick={() => void act(run, 'retry')}
                          >
                            Retry
                          </button>
                        )}
                        {(run.state === 'pending' || run.state === 'running') && run.cancelRequestedBy && (
                          <span className="muted small">Cancel requested</span>
                        )}
                        {(run.state === 'pending' || run.state === 'running') && !run.cancelRequestedBy && (
                          <button
                            type="button"
                            className="button-small"
                            aria-label={`Cancel run ${shortId(run.id)} of ${run.orgName}`}
                            disabled={busy !== null}
                            onClick={() => void act(run, 'cancel')}
                          >
                            Cancel
                          </button>
                        )}
                      </td>
                    )}
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
          <Pager
            label="Runs pages"
            page={paging.page}
            hasPrevious={paging.hasPrevious}
            hasNext={list.data.nextCursor !== null}
            onPrevious={paging.previous}
            onNext={() => {
              if (list.data?.nextCursor) paging.next(list.data.nextCursor);
            }}
          />
        </div>
      )}
    </>
  );
}
