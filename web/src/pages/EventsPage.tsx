/**
 * `/events`: the lifecycle events of the outbox (what the application's hooks are told), newest first, filtered by
 * organization (`?org=`), with where each stands with every subscribed hook. Finished runs write new events, and
 * pending deliveries change on their own: the page reads its list again after run changes and while anything on it
 * is pending.
 */
import { useEffect, useRef, useState } from 'react';

import type { LifecycleEvent } from '../api.js';
import { DeliverySummary } from '../components/Deliveries.js';
import { PagedList, usePagedFetch } from '../components/PagedList.js';
import { EmptyState, FilterInput, TableWrap, Time, shortId } from '../components/ui.js';
import { useDebounced, useDocumentTitle } from '../hooks.js';
import { Link, replaceSearch, useLocation } from '../router.js';
import { useRunEvents } from '../session.js';

/** How often a page with pending deliveries is read again. */
export const PENDING_REFRESH_MS = 3000;

/** Calls `reload` every `PENDING_REFRESH_MS` while `pending` (and the tab is visible). */
export function useRefreshWhilePending(pending: boolean, reload: () => void): void {
  useEffect(() => {
    if (!pending) return;
    const timer = window.setInterval(() => {
      if (document.visibilityState === 'visible') reload();
    }, PENDING_REFRESH_MS);
    return () => window.clearInterval(timer);
  }, [pending, reload]);
}

export const eventLink = (id: string): string => `/events/${encodeURIComponent(id)}`;

export function EventsPage() {
  useDocumentTitle('Events');
  const location = useLocation();
  const [org, setOrg] = useState(() => location.search.get('org') ?? '');
  const orgFilter = useDebounced(org.trim(), 250);

  useEffect(() => {
    replaceSearch({ org: orgFilter });
  }, [orgFilter]);

  const { list, paging } = usePagedFetch<LifecycleEvent>('/api/v1/lifecycle-events', { org: orgFilter });
  const { reload } = list;

  // A run that finished wrote its events in the same transaction: read the list again, debounced.
  const reloadTimer = useRef<number | undefined>(undefined);
  useEffect(() => () => window.clearTimeout(reloadTimer.current), []);
  useRunEvents((run) => {
    if (orgFilter !== '' && run.orgName !== orgFilter) return;
    window.clearTimeout(reloadTimer.current);
    reloadTimer.current = window.setTimeout(reload, 500);
  });
  const pending =
    list.data?.items.some((event) => event.deliveries.some((delivery) => delivery.state === 'pending')) ??
    false;
  useRefreshWhilePending(pending, reload);

  return (
    <>
      <h1>Events</h1>
      <p className="hint">
        Lifecycle events sent to the application&apos;s hooks, delivered at least once and in order per
        organization.
      </p>
      <form
        className="filters"
        role="search"
        aria-label="Events"
        onSubmit={(event) => event.preventDefault()}
      >
        <FilterInput
          id="event-org"
          label="Organization"
          value={org}
          placeholder="Exact name"
          onChange={setOrg}
        />
        {org !== '' && (
          <button type="button" className="filters-clear" onClick={() => setOrg('')}>
            Clear filters
          </button>
        )}
      </form>
      <PagedList
        list={list}
        paging={paging}
        errorTitle="The events could not be loaded"
        loadingLabel="Loading events…"
        pagerLabel="Events pages"
        empty={
          <EmptyState title={orgFilter !== '' ? `No events for ${orgFilter}.` : 'No events yet.'}>
            <p>Creating, changing or removing an organization, and every finished run, writes an event.</p>
          </EmptyState>
        }
      >
        {(page) => (
          <TableWrap label="Events table">
            <table>
              <caption className="visually-hidden">Lifecycle events, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">Event</th>
                  <th scope="col">Time</th>
                  <th scope="col">Type</th>
                  <th scope="col">Organization</th>
                  <th scope="col">Run</th>
                  <th scope="col">Deliveries</th>
                </tr>
              </thead>
              <tbody>
                {page.items.map((event) => (
                  <tr key={event.id}>
                    <td>
                      <Link to={eventLink(event.id)} aria-label={`Event ${event.id}`}>
                        <code>{event.id}</code>
                      </Link>
                    </td>
                    <td>
                      <Time value={event.createdAt} />
                    </td>
                    <td className="cell-type">
                      <code>{event.type}</code>
                    </td>
                    <td>
                      <Link to={`/organizations/${encodeURIComponent(event.orgName)}`}>{event.orgName}</Link>
                    </td>
                    <td>
                      {event.runId ? (
                        <Link to={`/runs/${encodeURIComponent(event.runId)}`}>
                          <code>{shortId(event.runId)}</code>
                        </Link>
                      ) : (
                        <span className="muted">—</span>
                      )}
                    </td>
                    <td>
                      <DeliverySummary deliveries={event.deliveries} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
        )}
      </PagedList>
    </>
  );
}
