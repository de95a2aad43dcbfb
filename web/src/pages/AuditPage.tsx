/** `/audit`: the audit log, newest first, filtered by organization, actor and time; cursor paging. */
import { useEffect, useState } from 'react';

import { query, type AuditEntry, type Page } from '../api.js';
import { ErrorState, Loading, Pager, TableWrap, Time, shortId } from '../components/ui.js';
import { useCursorStack, useDebounced, useDocumentTitle, useFetch } from '../hooks.js';
import { Link, replaceSearch, useLocation } from '../router.js';

const PAGE_SIZE = 50;

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

  const paging = useCursorStack(JSON.stringify([orgFilter, actorFilter, sinceIso, untilIso]));
  const list = useFetch<Page<AuditEntry>>(
    `/api/v1/audit${query({ org: orgFilter, actor: actorFilter, since: sinceIso, until: untilIso, limit: PAGE_SIZE, cursor: paging.cursor })}`,
  );
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
        <div className="field">
          <label htmlFor="audit-org">Organization</label>
          <input
            id="audit-org"
            type="search"
            value={org}
            autoComplete="off"
            spellCheck={false}
            onChange={(event) => setOrg(event.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor="audit-actor">Actor</label>
          <input
            id="audit-actor"
            type="search"
            value={actor}
            autoComplete="off"
            spellCheck={false}
            onChange={(event) => setActor(event.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor="audit-since">Since</label>
          <input
            id="audit-since"
            type="datetime-local"
            value={since}
            onChange={(event) => setSince(event.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor="audit-until">Until</label>
          <input
            id="audit-until"
            type="datetime-local"
            value={until}
            onChange={(event) => setUntil(event.target.value)}
          />
        </div>
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
      {list.error && !list.loading ? (
        <ErrorState title="The audit log could not be loaded" error={list.error} onRetry={list.reload} />
      ) : !list.data ? (
        <Loading label="Loading the audit log…" />
      ) : list.data.items.length === 0 && paging.page === 1 ? (
        <div className="empty">
          <p className="empty-title">
            {filtered ? 'No audit entries match these filters.' : 'No audit entries yet.'}
          </p>
        </div>
      ) : (
        <div aria-busy={list.loading}>
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
                {list.data.items.map((entry) => (
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
          <Pager
            label="Audit log pages"
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
