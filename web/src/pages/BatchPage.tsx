/**
 * `/bulk-apply/:id`: one bulk apply as one progress view — how many organizations finished, succeeded, failed, were
 * not started or are still open, for how long, and the work the runs did — then its summary, with the failures
 * grouped by reason and links to each failed organization and its run. It re-reads the batch on run changes (the
 * shared event stream) and, while runs are still being started (which sends no run change), every few seconds.
 */
import { useEffect, useRef } from 'react';

import { ApiError, batchPath, type Batch, type BatchDetail } from '../api.js';
import { ErrorState, Loading, Time, shortId } from '../components/ui.js';
import { useDocumentTitle, useFetch } from '../hooks.js';
import { Link } from '../router.js';
import { useRunEvents } from '../session.js';

/** How often an unfinished batch is re-read without a run change, and at most how often with them. */
const POLL_MS = 3000;
const THROTTLE_MS = 500;

const STATE_LABEL: Record<Batch['state'], string> = {
  starting: 'starting runs',
  running: 'running',
  finished: 'finished',
};
const STATE_CLASS: Record<Batch['state'], string> = {
  starting: 'badge-run-pending',
  running: 'badge-run-running',
  finished: 'badge-run-succeeded',
};

export function BatchStateBadge({ state }: { state: Batch['state'] }) {
  return (
    <span className={`badge ${STATE_CLASS[state]}`}>
      <span aria-hidden="true">{state === 'finished' ? '✓' : '◐'}</span> {STATE_LABEL[state]}
    </span>
  );
}

/** `4.2 s`, `3 min 5 s`, `1 h 2 min`. */
export function formatDuration(ms: number): string {
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

export function BatchPage({ id }: { id: string }) {
  const batch = useFetch<BatchDetail>(batchPath(id));
  const data = batch.data;
  useDocumentTitle(`${data?.sourceName ?? 'Bulk apply'} · Bulk apply`);
  const unfinished = data !== null && data.state !== 'finished';
  const { reload } = batch;

  const throttle = useRef<number | undefined>(undefined);
  useEffect(() => () => window.clearTimeout(throttle.current), []);
  useRunEvents(() => {
    if (!unfinished || throttle.current !== undefined) return;
    throttle.current = window.setTimeout(() => {
      throttle.current = undefined;
      reload();
    }, THROTTLE_MS);
  });
  useEffect(() => {
    if (!unfinished) return;
    const timer = window.setInterval(reload, POLL_MS);
    return () => window.clearInterval(timer);
  }, [unfinished, reload]);

  if (batch.error && !data) {
    if (batch.error instanceof ApiError && batch.error.status === 404)
      return (
        <>
          <h1>Bulk apply not found</h1>
          <p>
            <Link to="/bulk-apply">Back to bulk apply</Link>
          </p>
        </>
      );
    return <ErrorState title="The bulk apply could not be loaded" error={batch.error} onRetry={reload} />;
  }
  if (!data) return <Loading label="Loading the bulk apply…" />;

  const done = data.succeeded + data.failed + data.notStarted;
  return (
    <>
      <p className="breadcrumb">
        <Link to="/bulk-apply">Bulk apply</Link> / {data.sourceName}
      </p>
      <div className="page-header">
        <div>
          <h1>{data.sourceName}</h1>
          <p className="subtitle">
            <BatchStateBadge state={data.state} />
            <span>
              {data.total} organization{data.total === 1 ? '' : 's'} from a {data.format.toUpperCase()} file,
              uploaded by {data.requestedBy} <Time value={data.createdAt} />
            </span>
          </p>
        </div>
      </div>

      <section aria-labelledby="batch-progress-heading">
        <h2 id="batch-progress-heading">{data.state === 'finished' ? 'Summary' : 'Progress'}</h2>
        <progress
          className="batch-progress"
          max={data.total}
          value={done}
          aria-label="Organizations finished"
        />
        <p role="status" className="batch-status">
          {data.state === 'finished'
            ? `Finished in ${formatDuration(data.durationMs)}: ${data.succeeded} succeeded, ${data.failed} failed, ${data.notStarted} not started.`
            : `${done} of ${data.total} organizations finished.`}
        </p>
        <dl className="facts" aria-label="Counts">
          <div>
            <dt>Succeeded</dt>
            <dd>{data.succeeded}</dd>
          </div>
          <div>
            <dt>Failed</dt>
            <dd>{data.failed}</dd>
          </div>
          <div>
            <dt>Not started</dt>
            <dd>{data.notStarted}</dd>
          </div>
          <div>
            <dt>Still open</dt>
            <dd>{data.open}</dd>
          </div>
          <div>
            <dt>Waiting to start</dt>
            <dd>{data.waiting}</dd>
          </div>
          <div>
            <dt>Duration</dt>
            <dd>{formatDuration(data.durationMs)}</dd>
          </div>
          <div>
            <dt>Auth0 calls used</dt>
            <dd>{data.work.auth0Calls}</dd>
          </div>
          <div>
            <dt>Steps done</dt>
            <dd>
              {data.work.stepsDone} <span className="muted small">({data.work.stepAttempts} attempts)</span>
            </dd>
          </div>
        </dl>
        <p className="hint">
          Steps and attempts come from the runs&apos; journal. Auth0 calls include reads; one write to a
          shared application that carries several organizations&apos; URLs counts once.
        </p>
      </section>

      {data.failures.length > 0 && (
        <section aria-labelledby="batch-failures-heading">
          <h2 id="batch-failures-heading">Failures by reason</h2>
          <ul className="audit-list">
            {data.failures.map((group, index) => (
              <li key={index}>
                <p>
                  <strong>
                    {group.count} × {group.stage === 'start' ? 'not started' : 'run failed'}
                  </strong>
                  : <span className="cell-error">{group.reason}</span>
                </p>
                <ul className="names">
                  {group.organizations.map((org) => (
                    <li key={org.name}>
                      <Link to={`/organizations/${encodeURIComponent(org.name)}`}>{org.name}</Link>
                      {org.runId && (
                        <>
                          {' '}
                          <Link
                            to={`/runs/${encodeURIComponent(org.runId)}`}
                            aria-label={`Failed run of ${org.name}`}
                          >
                            run <code>{shortId(org.runId)}</code>
                          </Link>
                        </>
                      )}
                    </li>
                  ))}
                  {group.count > group.organizations.length && (
                    <li className="muted">and {group.count - group.organizations.length} more</li>
                  )}
                </ul>
              </li>
            ))}
          </ul>
        </section>
      )}
    </>
  );
}
