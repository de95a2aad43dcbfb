/**
 * `/organizations`: one page of organizations at a time (cursor paging, 50 a page), searched on the server — the
 * search box is debounced and every new request aborts the stale one, so the list stays responsive with 100,000
 * organizations. Filters live in the address bar; run events refresh the status of the rows on screen.
 */
import { useEffect, useRef, useState } from 'react';

import {
  api,
  ISOLATIONS,
  ORG_STATUSES,
  orgPath,
  query,
  type Organization,
  type OrgSummary,
  type Page,
} from '../api.js';
import { ErrorState, Loading, Pager, StatusBadge, TableWrap, Time } from '../components/ui.js';
import { useCursorStack, useDebounced, useDelayedFlag, useDocumentTitle, useFetch } from '../hooks.js';
import { Link, navigate, replaceSearch, useLocation } from '../router.js';
import { useRunEvents, useSession } from '../session.js';

const PAGE_SIZE = 50;

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

  const filterKey = JSON.stringify([q, status, isolation]);
  const paging = useCursorStack(filterKey);
  const url = `/api/v1/organizations${query({ q, status, isolation, limit: PAGE_SIZE, cursor: paging.cursor })}`;
  const list = useFetch<Page<OrgSummary>>(url);
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

      <form
        className="filters"
        role="search"
        aria-label="Organizations"
        onSubmit={(event) => event.preventDefault()}
      >
        <div className="field field-grow">
          <label htmlFor="org-search">Search organizations</label>
          <input
            id="org-search"
            type="search"
            value={search}
            placeholder="Name, display name or domain"
            autoComplete="off"
            spellCheck={false}
            onChange={(event) => setSearch(event.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor="org-status">Status</label>
          <select id="org-status" value={status} onChange={(event) => setStatus(event.target.value)}>
            <option value="">All statuses</option>
            {ORG_STATUSES.map((value) => (
              <option key={value} value={value}>
                {value}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="org-isolation">Isolation</label>
          <select id="org-isolation" value={isolation} onChange={(event) => setIsolation(event.target.value)}>
            <option value="">All isolation models</option>
            {ISOLATIONS.map((value) => (
              <option key={value} value={value}>
                {ISOLATION_LABEL[value]}
              </option>
            ))}
          </select>
        </div>
      </form>

      {list.error && !list.loading ? (
        <ErrorState title="The organizations could not be loaded" error={list.error} onRetry={list.reload} />
      ) : !list.data ? (
        <Loading label="Loading organizations…" />
      ) : list.data.items.length === 0 && paging.page === 1 ? (
        filtered ? (
          <div className="empty">
            <p className="empty-title">No organizations match these filters.</p>
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
          </div>
        ) : (
          <div className="empty">
            <p className="empty-title">No organizations yet</p>
            {session.isOperator ? (
              <>
                <p>Create the first customer organization: it is set up in Auth0 as one durable run.</p>
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
          </div>
        )
      ) : (
        <div aria-busy={list.loading}>
          <p className="list-status" role="status">
            {showLoading
              ? 'Loading…'
              : `${list.data.items.length} organizations on page ${paging.page}${list.data.nextCursor ? '' : ' (last page)'}`}
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
                {list.data.items.map((org) => (
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
          <Pager
            label="Organizations pages"
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
            const {
              name: orgName,
              displayName,
              isolation,
              status,
              tenant,
              error,
              lastRunId,
              createdAt,
              updatedAt,
            } = org;
            const summary: OrgSummary = {
              name: orgName,
              displayName,
              isolation,
              status,
              tenant,
              error,
              lastRunId,
              createdAt,
              updatedAt,
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
