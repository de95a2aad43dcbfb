/** `/audit`: the audit log, newest first, filtered by organization, actor and time; cursor paging. */
import { useEffect, useState } from 'react';

import type { AuditEntry } from '../api.js';
import { PagedList, usePagedFetch } from '../components/PagedList.js';
import { EmptyState, FilterInput, TableWrap, Time, shortId } from '../components/ui.js';
import { useDebounced, useDocumentTitle } from '../hooks.js';
import { Link, replaceSearch, useLocation } from '../router.js';

/** `datetime-local` input value (local time) → ISO instant, or '' when empty or incomplete. */
function toIso(local: string): string {
  if (local === '') return '';
  const date = new Date(local);
  return Number.isNaN(date.getTime()) ? '' : date.toISOString();
}

/** ISO instant → `datetime-local` value in local time. */
function toLocal(iso: string | null): string {
  if (!iso) return '';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

function Change({ entry }: { entry: AuditEntry }) {
  if (entry.before === null && entry.after === null) return <span className="muted">—</span>;
  if (entry.before === undefined && entry.after === undefined) return <span className="muted">—</span>;
  return (
    <details>
      <summary>Show change</summary>
      <div className="change">
        <div>
          <p className="small muted">Before</p>
          <pre className="json">{JSON.stringify(entry.before ?? null, null, 2)}</pre>
        </div>
        <div>
          <p className="small muted">After</p>
          <pre className="json">{JSON.stringify(entry.after ?? null, null, 2)}</pre>
        </div>
      </div>
    </details>
  );
}

export function AuditPage() {
  useDocumentTitle('Audit log');
  const location = useLocation();
  const [org, setOrg] = useState(() => location.search.get('org') ?? '');
  const [actor, setActor] = useState(() => location.search.get('actor') ?? '');
  const [since, setSince] = useState(() => toLocal(location.search.get('since')));
  const [until, setUntil] = useState(() => toLocal(location.search.get('until')));
  const orgFilter = useDebounced(org.trim(), 250);
  const actorFilter = useDebounced(actor.trim(), 250);
  const sinceIso = toIso(since);
  const untilIso = toIso(until);

  useEffect(() => {
    replaceSearch({ org: orgFilter, actor: actorFilter, since: sinceIso, until: untilIso });
  }, [orgFilter, actorFilter, sinceIso, untilIso]);

  const { list, paging } = usePagedFetch<AuditEntry>('/api/v1/audit', {
    org: orgFilter,
    actor: actorFilter,
    since: sinceIso,
    until: untilIso,
  });
  const filtered = orgFilter !== '' || actorFilter !== '' || sinceIso !== '' || untilIso !== '';

  return (
    <>
      <h1>Audit log</h1>
      <form
        className="filters"
        role="search"
        aria-label="Audit log"
        onSubmit={(event) => event.preventDefault()}
      >
        <FilterInput id="audit-org" label="Organization" value={org} onChange={setOrg} />
        <FilterInput id="audit-actor" label="Actor" value={actor} onChange={setActor} />
        <FilterInput id="audit-since" label="Since" type="datetime-local" value={since} onChange={setSince} />
        <FilterInput id="audit-until" label="Until" type="datetime-local" value={until} onChange={setUntil} />
        {filtered && (
          <button
            type="button"
            className="filters-clear"
            onClick={() => {
              setOrg('');
              setActor('');
              setSince('');
              setUntil('');
            }}
          >
            Clear filters
          </button>
        )}
      </form>
      <PagedList
        list={list}
        paging={paging}
        errorTitle="The audit log could not be loaded"
        loadingLabel="Loading the audit log…"
        pagerLabel="Audit log pages"
        empty={
          <EmptyState title={filtered ? 'No audit entries match these filters.' : 'No audit entries yet.'} />
        }
      >
        {(page) => (
          <TableWrap label="Audit log table">
            <table>
              <thead>
                <tr>
                  <th scope="col">Time</th>
                  <th scope="col">Actor</th>
                  <th scope="col">Action</th>
                  <th scope="col">Organization</th>
                  <th scope="col">Run</th>
                  <th scope="col">Change</th>
                </tr>
              </thead>
              <tbody>
                {page.items.map((entry) => (
                  <tr key={entry.id}>
                    <td>
                      <Time value={entry.at} />
                    </td>
                    <td>{entry.actor}</td>
                    <td>
                      <code>{entry.action}</code>
                    </td>
                    <td>
                      {entry.orgName ? (
                        <Link to={`/organizations/${encodeURIComponent(entry.orgName)}`}>
                          {entry.orgName}
                        </Link>
                      ) : (
                        <span className="muted">—</span>
                      )}
                    </td>
                    <td>
                      {entry.runId ? (
                        <Link to={`/runs/${encodeURIComponent(entry.runId)}`}>
                          <code>{shortId(entry.runId)}</code>
                        </Link>
                      ) : (
                        <span className="muted">—</span>
                      )}
                    </td>
                    <td>
                      <Change entry={entry} />
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
