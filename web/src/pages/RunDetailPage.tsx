/** `/runs/:id`: one run with its timeline, live while it is unfinished; Retry (failed) and Cancel (pending, running). */
import { useState } from 'react';

import { api, runPath, type Run } from '../api.js';
import { RunTimeline, useRunStream } from '../components/RunTimeline.js';
import { ErrorState, Loading, RunStateBadge, Time, shortId } from '../components/ui.js';
import { useDocumentTitle } from '../hooks.js';
import { Link, navigate } from '../router.js';
import { useSession } from '../session.js';

export function RunDetailPage({ id }: { id: string }) {
  useDocumentTitle(`Run ${shortId(id)}`);
  const session = useSession();
  const stream = useRunStream(id);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | null>(null);

  async function act(action: 'retry' | 'cancel'): Promise<void> {
    setBusy(true);
    setError(null);
    try {
      const result = await api.post<{ run: Run }>(`${runPath(id)}/${action}`);
      if (action === 'retry') navigate(`/runs/${encodeURIComponent(result.run.id)}`);
    } catch (failure) {
      setError(failure instanceof Error ? failure : new Error(`The ${action} failed.`));
    } finally {
      setBusy(false);
    }
  }

  if (stream.error && !stream.run)
    return <ErrorState title="The run could not be loaded" error={new Error(stream.error)} />;
  if (!stream.run) return <Loading label="Loading the run…" />;
  const run = stream.run;

  return (
    <>
      <p className="breadcrumb">
        <Link to="/runs">Runs</Link> <span aria-hidden="true">›</span> {shortId(run.id)}
      </p>
      <div className="page-header">
        <div>
          <h1>
            {run.kind === 'remove' ? 'Removal' : 'Apply'} run {shortId(run.id)}
          </h1>
          <p className="subtitle">
            <RunStateBadge state={run.state} /> for{' '}
            <Link to={`/organizations/${encodeURIComponent(run.orgName)}`}>{run.orgName}</Link>
            {stream.live && (
              <span className="live" title="Updates arrive as they happen">
                <span className="live-dot" aria-hidden="true" /> live
              </span>
            )}
          </p>
        </div>
        {session.isOperator && (
          <div className="actions">
            {run.state === 'failed' && (
              <button
                type="button"
                className="button-primary"
                disabled={busy}
                onClick={() => void act('retry')}
              >
                Retry
              </button>
            )}
            {(run.state === 'pending' || run.state === 'running') && run.cancelRequestedBy && (
              <span className="muted">Cancel requested by {run.cancelRequestedBy}</span>
            )}
            {(run.state === 'pending' || run.state === 'running') && !run.cancelRequestedBy && (
              <button type="button" disabled={busy} onClick={() => void act('cancel')}>
                Cancel run
              </button>
            )}
          </div>
        )}
      </div>
      {error && <ErrorState title="The action failed" error={error} />}
      <dl className="facts">
        <div>
          <dt>Run ID</dt>
          <dd>
            <code>{run.id}</code>
          </dd>
        </div>
        <div>
          <dt>Tenant</dt>
          <dd>{run.tenant}</dd>
        </div>
        <div>
          <dt>Requested by</dt>
          <dd>{run.requestedBy}</dd>
        </div>
        <div>
          <dt>Created</dt>
          <dd>
            <Time value={run.createdAt} />
          </dd>
        </div>
        <div>
          <dt>Started</dt>
          <dd>
            <Time value={run.startedAt} />
          </dd>
        </div>
        <div>
          <dt>Finished</dt>
          <dd>
            <Time value={run.finishedAt} />
          </dd>
        </div>
      </dl>
      <section aria-labelledby="run-steps">
        <h2 id="run-steps">Timeline</h2>
        <RunTimeline run={run} live={stream.live} showHeader={false} />
      </section>
    </>
  );
}
