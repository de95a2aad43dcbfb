/**
 * `/runs`: every run, newest first, filtered by state and organization; failed runs stand out and can be retried,
 * pending and running ones cancelled (operators). Run events update the rows in place.
 */
import { useEffect, useState } from 'react';

import { api, runPath, RUN_STATES, type Run } from '../api.js';
import { PagedList, usePagedFetch } from '../components/PagedList.js';
import { RunsTable } from '../components/RunsTable.js';
import { EmptyState, FilterInput, FilterSelect, shortId } from '../components/ui.js';
import { useDebounced, useDocumentTitle } from '../hooks.js';
import { navigate, replaceSearch, useLocation } from '../router.js';
import { useRunEvents, useSession } from '../session.js';

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

  const { list, paging } = usePagedFetch<Run>('/api/v1/runs', { org: orgFilter, state });

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
        <FilterSelect
          id="run-state"
          label="State"
          value={state}
          allLabel="All states"
          options={RUN_STATES}
          onChange={setState}
        />
        <FilterInput
          id="run-org"
          label="Organization"
          value={org}
          placeholder="Exact name"
          onChange={setOrg}
        />
      </form>
      {actionError && (
        <p className="callout callout-error" role="alert">
          {actionError}
        </p>
      )}
      <PagedList
        list={list}
        paging={paging}
        errorTitle="The runs could not be loaded"
        loadingLabel="Loading runs…"
        pagerLabel="Runs pages"
        empty={
          <EmptyState
            title={<>No runs{state !== '' || orgFilter !== '' ? ' match these filters' : ' yet'}.</>}
          />
        }
      >
        {(page) => (
          <RunsTable
            runs={page.items}
            label="Runs table"
            showOrganization
            showError
            actions={
              session.isOperator
                ? (run) => <RunActions run={run} busy={busy !== null} act={act} />
                : undefined
            }
          />
        )}
      </PagedList>
    </>
  );
}

/** Retry of a failed run, cancel of an unfinished one (once). */
function RunActions({
  run,
  busy,
  act,
}: {
  run: Run;
  busy: boolean;
  act: (run: Run, action: 'retry' | 'cancel') => Promise<void>;
}) {
  return (
    <>
      {run.state === 'failed' && (
        <button
          type="button"
          className="button-small"
          aria-label={`Retry run ${shortId(run.id)} of ${run.orgName}`}
          disabled={busy}
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
          disabled={busy}
          onClick={() => void act(run, 'cancel')}
        >
          Cancel
        </button>
      )}
    </>
  );
}
