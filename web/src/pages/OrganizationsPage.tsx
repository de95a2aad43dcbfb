/**
 * `/organizations`: one page of organizations at a time (cursor paging, 50 a page), searched on the server — the
 * search box is debounced and every new request aborts the stale one, so the list stays responsive with 100,000
 * organizations. Filters live in the address bar; run events refresh the status of the rows on screen. In GitOps
 * mode the list is what is deployed, which a note says, with the committed changes still waiting for a deploy.
 */
import { useEffect, useRef, useState } from 'react';

import {
  api,
  ISOLATIONS,
  ORG_STATUSES,
  orgPath,
  type Organization,
  type OrgSummary,
  type Page,
} from '../api.js';
import { DeployedStateNote } from '../components/GitOps.js';
import { PagedList, usePagedFetch } from '../components/PagedList.js';
import { EmptyState, FilterInput, FilterSelect, StatusBadge, TableWrap, Time } from '../components/ui.js';
import { useDebounced, useDelayedFlag, useDocumentTitle } from '../hooks.js';
import { Link, navigate, replaceSearch, useLocation } from '../router.js';
import { useRunEvents, useSession } from '../session.js';

export const ISOLATION_LABEL: Record<OrgSummary['isolation'], string> = {
  shared: 'Shared',
  'isolated-database': 'Isolated database',
  'dedicated-tenant': 'Dedicated tenant',
};

export function OrganizationsPage() {
  useDocumentTitle('Organizations');
  const session = useSession();
  const location = useLocation();
  const [search, setSearch] = useState(() => location.search.get('q') ?? '');
  const [status, setStatus] = useState(() => location.search.get('status') ?? '');
  const [isolation, setIsolation] = useState(() => location.search.get('isolation') ?? '');
  const q = useDebounced(search.trim(), 250);

  useEffect(() => {
    replaceSearch({ q, status, isolation });
  }, [q, status, isolation]);

  const { list, paging } = usePagedFetch<OrgSummary>('/api/v1/organizations', { q, status, isolation });
  const showLoading = useDelayedFlag(list.loading);
  const filtered = q !== '' || status !== '' || isolation !== '';

  useRowRefresh(list.data?.items ?? [], list.setData);

  return (
    <>
      <div className="page-header">
        <h1>Organizations</h1>
        {session.isOperator && (
          <button type="button" className="button-primary" onClick={() => navigate('/organizations/new')}>
            New organization
          </button>
        )}
      </div>

      <DeployedStateNote subject="This list" />

      <form
        className="filters"
        role="search"
        aria-label="Organizations"
        onSubmit={(event) => event.preventDefault()}
      >
        <FilterInput
          id="org-search"
          label="Search organizations"
          value={search}
          placeholder="Name, display name or domain"
          grow
          onChange={setSearch}
        />
        <FilterSelect
          id="org-status"
          label="Status"
          value={status}
          allLabel="All statuses"
          options={ORG_STATUSES}
          onChange={setStatus}
        />
        <FilterSelect
          id="org-isolation"
          label="Isolation"
          value={isolation}
          allLabel="All isolation models"
          options={ISOLATIONS}
          optionLabel={(value) => ISOLATION_LABEL[value]}
          onChange={setIsolation}
        />
      </form>

      <PagedList
        list={list}
        paging={paging}
        errorTitle="The organizations could not be loaded"
        loadingLabel="Loading organizations…"
        pagerLabel="Organizations pages"
        empty={
          filtered ? (
            <EmptyState title="No organizations match these filters.">
              <button
                type="button"
                onClick={() => {
                  setSearch('');
                  setStatus('');
                  setIsolation('');
                }}
              >
                Clear filters
              </button>
            </EmptyState>
          ) : (
            <EmptyState title="No organizations yet">
              {session.isOperator ? (
                <>
                  <p>
                    {session.gitops
                      ? 'Create the first customer organization: it becomes a commit, and a deploy sets it up in Auth0.'
                      : 'Create the first customer organization: it is set up in Auth0 as one durable run.'}
                  </p>
                  <button
                    type="button"
                    className="button-primary"
                    onClick={() => navigate('/organizations/new')}
                  >
                    Create organization
                  </button>
                </>
              ) : (
                <p>An operator can create them.</p>
              )}
            </EmptyState>
          )
        }
      >
        {(page) => (
          <>
            <p className="list-status" role="status">
              {showLoading
                ? 'Loading…'
                : `${page.items.length} organizations on page ${paging.page}${page.nextCursor ? '' : ' (last page)'}`}
            </p>
            <TableWrap label="Organizations table">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Display name</th>
                    <th scope="col">Isolation</th>
                    <th scope="col">Status</th>
                    <th scope="col">Updated</th>
                  </tr>
                </thead>
                <tbody>
                  {page.items.map((org) => (
                    <tr key={org.name}>
                      <td>
                        <Link to={`/organizations/${encodeURIComponent(org.name)}`}>{org.name}</Link>
                      </td>
                      <td>{org.displayName ?? <span className="muted">—</span>}</td>
                      <td>{ISOLATION_LABEL[org.isolation]}</td>
                      <td>
                        <StatusBadge status={org.status} />
                      </td>
                      <td>
                        <Time value={org.updatedAt} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableWrap>
          </>
        )}
      </PagedList>
    </>
  );
}

/**
 * When a run of an organization on screen changes, re-read just that organization (debounced per name) and update
 * its row in place — the page stays where it is and nothing else is fetched.
 */
function useRowRefresh(
  items: OrgSummary[],
  setData: (update: (current: Page<OrgSummary> | null) => Page<OrgSummary> | null) => void,
): void {
  const visible = useRef(new Set<string>());
  useEffect(() => {
    visible.current = new Set(items.map((item) => item.name));
  }, [items]);
  const timers = useRef(new Map<string, number>());
  const controllers = useRef(new Map<string, AbortController>());

  useEffect(() => {
    const pendingTimers = timers.current;
    const pendingControllers = controllers.current;
    return () => {
      for (const timer of pendingTimers.values()) window.clearTimeout(timer);
      for (const controller of pendingControllers.values()) controller.abort();
    };
  }, []);

  useRunEvents((run) => {
    const name = run.orgName;
    if (!visible.current.has(name)) return;
    window.clearTimeout(timers.current.get(name));
    timers.current.set(
      name,
      window.setTimeout(() => {
        controllers.current.get(name)?.abort();
        const controller = new AbortController();
        controllers.current.set(name, controller);
        api.get<Organization>(orgPath(name), controller.signal).then(
          (org) => {
            // The row gets exactly the list's shape: the detail's spec, Auth0 ids and current run stay out.
            const summary: OrgSummary = {
              name: org.name,
              displayName: org.displayName,
              isolation: org.isolation,
              status: org.status,
              tenant: org.tenant,
              error: org.error,
              lastRunId: org.lastRunId,
              createdAt: org.createdAt,
              updatedAt: org.updatedAt,
            };
            setData((current) =>
              current
                ? { ...current, items: current.items.map((item) => (item.name === name ? summary : item)) }
                : current,
            );
          },
          // A row that cannot be refreshed keeps its last known state (and an aborted read was superseded).
          () => undefined,
        );
      }, 400),
    );
  });
}
