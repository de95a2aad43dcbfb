/**
 * A run's live timeline: `useRunStream()` follows `GET /api/v1/runs/{id}/events` (Server-Sent Events, one RunDetail
 * per change) until the run succeeds or fails, and `<RunTimeline>` shows each step with an icon AND its status in
 * words, the attempts and the last error; compensation steps (undoing completed work) are listed and marked apart,
 * and calls of the application's hooks (`call-hook`) are tagged as such. Any other step kind shows its description.
 */
import { useEffect, useRef, useState } from 'react';

import { api, isAbort, runPath, type RunDetail, type RunStep } from '../api.js';
import { Link } from '../router.js';
import { CopyButton, RunStateBadge, STEP_STATUS_ICON, Time, shortId } from './ui.js';

export const isFinished = (state: RunDetail['state']): boolean => state === 'succeeded' || state === 'failed';

export interface RunStream {
  run: RunDetail | null;
  error: string | null;
  /** true while the stream is open (the run is not finished). */
  live: boolean;
}

export function useRunStream(runId: string | null, onChange?: (run: RunDetail) => void): RunStream {
  const [state, setState] = useState<RunStream>({ run: null, error: null, live: false });
  // The latest callback, so that a new one does not reopen the stream.
  const onChangeRef = useRef(onChange);
  useEffect(() => {
    onChangeRef.current = onChange;
  });

  useEffect(() => {
    setState({ run: null, error: null, live: false });
    if (runId === null) return;
    let closed = false;
    let received = false;
    const source = new EventSource(`${runPath(runId)}/events`);
    const controller = new AbortController();

    const close = (): void => {
      closed = true;
      source.close();
    };

    source.addEventListener('run', (event: MessageEvent<string>) => {
      let run: RunDetail;
      try {
        run = JSON.parse(event.data) as RunDetail;
      } catch {
        return;
      }
      received = true;
      const finished = isFinished(run.state);
      if (finished) close();
      setState({ run, error: null, live: !finished });
      onChangeRef.current?.(run);
    });

    source.addEventListener('error', () => {
      if (closed) return;
      if (source.readyState === EventSource.CLOSED || !received) {
        // The stream could not be opened (e.g. no such run): read the run once instead, to show why.
        close();
        api.get<RunDetail>(runPath(runId), controller.signal).then(
          (run) => setState({ run, error: null, live: false }),
          (failure: unknown) => {
            if (isAbort(failure)) return;
            setState((current) => ({
              ...current,
              live: false,
              error: failure instanceof Error ? failure.message : 'The run could not be loaded.',
            }));
          },
        );
      }
      // Otherwise EventSource reconnects by itself and the server sends the current state again.
    });

    return () => {
      close();
      controller.abort();
    };
  }, [runId]);

  return state;
}

function StepItem({ step }: { step: RunStep }) {
  return (
    <li className={`step step-${step.status}${step.phase === 'compensation' ? ' step-compensation' : ''}`}>
      <span className={`step-icon step-icon-${step.status}`} aria-hidden="true">
        {STEP_STATUS_ICON[step.status]}
      </span>
      <div className="step-body">
        <p className="step-title">
          <span>{step.description}</span>
          {step.kind === 'call-hook' && <span className="tag">application hook</span>}
          {step.phase === 'compensation' && <span className="tag">compensation</span>}
        </p>
        <p className="step-meta">
          <span className={`step-status step-status-${step.status}`}>{step.status}</span>
          {step.attempts > 1 && <span>{step.attempts} attempts</span>}
          {step.attempts === 1 && step.status !== 'pending' && <span>1 attempt</span>}
          {step.finishedAt && (
            <span>
              finished <Time value={step.finishedAt} />
            </span>
          )}
        </p>
        {step.lastError && <p className="step-error">Error: {step.lastError}</p>}
      </div>
    </li>
  );
}

export function AdminLink({ link }: { link: string }) {
  return (
    <div className="callout callout-success">
      <p className="callout-title">Link for the administrator</p>
      <p>Send this link to the organization&apos;s administrator. It is shown only here, once.</p>
      <div className="copy-row">
        <label htmlFor="admin-link" className="visually-hidden">
          Administrator link
        </label>
        <input id="admin-link" readOnly value={link} onFocus={(event) => event.currentTarget.select()} />
        <CopyButton value={link} label="Copy administrator link" text="Copy link" />
      </div>
    </div>
  );
}

export function RunTimeline({
  run,
  live,
  showHeader = true,
}: {
  run: RunDetail;
  live: boolean;
  showHeader?: boolean;
}) {
  const forward = run.steps.filter((step) => step.phase === 'forward');
  const compensation = run.steps.filter((step) => step.phase === 'compensation');
  const done = forward.filter((step) => step.status === 'done' || step.status === 'skipped').length;

  return (
    <div className="timeline">
      {showHeader && (
        <div className="timeline-header">
          <RunStateBadge state={run.state} />
          <span>
            {run.kind === 'remove' ? 'Removal' : 'Apply'} run{' '}
            <Link to={`/runs/${encodeURIComponent(run.id)}`}>{shortId(run.id)}</Link> by {run.requestedBy}
          </span>
          <span className="muted">
            {done} of {forward.length} steps done
          </span>
          {live && (
            <span className="live" title="Updates arrive as they happen">
              <span className="live-dot" aria-hidden="true" /> live
            </span>
          )}
        </div>
      )}
      <div role="status" aria-live="polite" className="visually-hidden">
        {`Run ${run.state}. ${done} of ${forward.length} steps done.`}
      </div>
      {run.error && (
        <div className="callout callout-error">
          <p className="callout-title">The run failed</p>
          <p>{run.error}</p>
        </div>
      )}
      {run.adminLink && <AdminLink link={run.adminLink} />}
      {forward.length === 0 && compensation.length === 0 ? (
        <p className="muted">
          {isFinished(run.state) ? 'This run had nothing to do.' : 'Planning the steps…'}
        </p>
      ) : (
        <ol className="steps" aria-label="Steps">
          {forward.map((step) => (
            <StepItem key={`${step.phase}-${step.index}`} step={step} />
          ))}
        </ol>
      )}
      {compensation.length > 0 && (
        <>
          <h3 className="compensation-heading">Undoing completed steps (compensation)</h3>
          <ol className="steps" aria-label="Compensation steps">
            {compensation.map((step) => (
              <StepItem key={`${step.phase}-${step.index}`} step={step} />
            ))}
          </ol>
        </>
      )}
    </div>
  );
}
