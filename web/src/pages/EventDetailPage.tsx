/**
 * `/events/:id`: one lifecycle event — its payload (what the hooks receive as `data`), where it stands with each
 * subscribed hook and the log of every delivery attempt. Operators replay it to every subscribed hook or to one
 * (same `webhook-id`, so a receiver that deduplicates does nothing twice); viewers see why they cannot.
 */
import { useState } from 'react';

import {
  api,
  ApiError,
  errorMessage,
  lifecycleEventPath,
  type EventDelivery,
  type LifecycleEventDetail,
} from '../api.js';
import { DeliveryBadge, attemptsText, lastAnswer } from '../components/Deliveries.js';
import { ErrorState, JsonView, Loading, TableWrap, Time, shortId } from '../components/ui.js';
import { useDocumentTitle, useFetch } from '../hooks.js';
import { Link } from '../router.js';
import { useSession } from '../session.js';
import { useRefreshWhilePending } from './EventsPage.js';

export function EventDetailPage({ id }: { id: string }) {
  useDocumentTitle(`Event ${id}`);
  const session = useSession();
  const event = useFetch<LifecycleEventDetail>(lifecycleEventPath(id));
  const [busy, setBusy] = useState(false);
  const [replayed, setReplayed] = useState<{ queued: number; hook: string | undefined } | null>(null);
  const [replayError, setReplayError] = useState<string | null>(null);
  const pending = event.data?.deliveries.some((delivery) => delivery.state === 'pending') ?? false;
  useRefreshWhilePending(pending, event.reload);

  async function replay(hook?: string): Promise<void> {
    setBusy(true);
    setReplayed(null);
    setReplayError(null);
    try {
      const result = await api.post<{ queued: number }>(
        `${lifecycleEventPath(id)}/replay`,
        hook === undefined ? {} : { hook },
      );
      setReplayed({ queued: result.queued, hook });
      event.reload();
    } catch (failure) {
      setReplayError(`The replay failed: ${errorMessage(failure)}`);
    } finally {
      setBusy(false);
    }
  }

  if (event.error && !event.data) {
    if (event.error instanceof ApiError && event.error.code === 'event.not_found') {
      return (
        <>
          <h1>Event not found</h1>
          <p>
            There is no event <code>{id}</code>.
          </p>
          <p>
            <Link to="/events">Back to events</Link>
          </p>
        </>
      );
    }
    return <ErrorState title="The event could not be loaded" error={event.error} onRetry={event.reload} />;
  }
  if (!event.data) return <Loading label="Loading the event…" />;
  const data = event.data;
  const canReplay = session.isOperator && data.deliveries.length > 0;

  return (
    <>
      <p className="breadcrumb">
        <Link to="/events">Events</Link> <span aria-hidden="true">›</span> {data.id}
      </p>
      <div className="page-header">
        <div>
          <h1>Event {data.id}</h1>
          <p className="subtitle">
            <code>{data.type}</code> for{' '}
            <Link to={`/organizations/${encodeURIComponent(data.orgName)}`}>{data.orgName}</Link>
          </p>
        </div>
        {canReplay && (
          <div className="actions">
            <button type="button" className="button-primary" disabled={busy} onClick={() => void replay()}>
              Replay
            </button>
          </div>
        )}
      </div>
      {!session.isOperator && (
        <p className="hint">Replaying an event to the application&apos;s hooks needs the operator role.</p>
      )}
      <div role="status">
        {replayed && (
          <p className="callout callout-success">
            {replayed.queued === 0
              ? 'No hook is subscribed to this event any more: nothing was queued.'
              : `Replay queued for ${replayed.queued} hook(s)${replayed.hook ? ` (${replayed.hook})` : ''}.`}
          </p>
        )}
      </div>
      {replayError && (
        <p className="callout callout-error" role="alert">
          {replayError}
        </p>
      )}

      <dl className="facts">
        <div>
          <dt>Event ID</dt>
          <dd>
            <code>{data.id}</code>
          </dd>
        </div>
        <div>
          <dt>Webhook ID</dt>
          <dd>
            <code>evt_{data.id}</code>
          </dd>
        </div>
        <div>
          <dt>Run</dt>
          <dd>
            {data.runId ? (
              <Link to={`/runs/${encodeURIComponent(data.runId)}`}>{shortId(data.runId)}</Link>
            ) : (
              <span className="muted">—</span>
            )}
          </dd>
        </div>
        <div>
          <dt>Created</dt>
          <dd>
            <Time value={data.createdAt} />
          </dd>
        </div>
      </dl>

      <section aria-labelledby="event-deliveries">
        <h2 id="event-deliveries">Deliveries</h2>
        {data.deliveries.length === 0 ? (
          <p className="muted">No hook is subscribed to this event.</p>
        ) : (
          <Deliveries
            deliveries={data.deliveries}
            onReplay={session.isOperator ? (hook) => void replay(hook) : undefined}
            busy={busy}
          />
        )}
      </section>

      <section aria-labelledby="event-log">
        <h2 id="event-log">Delivery log</h2>
        {data.attempts.length === 0 ? (
          <p className="muted">No delivery attempt yet.</p>
        ) : (
          <TableWrap label="Delivery log table">
            <table>
              <caption className="visually-hidden">Every delivery attempt of this event</caption>
              <thead>
                <tr>
                  <th scope="col">Time</th>
                  <th scope="col">Hook</th>
                  <th scope="col">Result</th>
                  <th scope="col">Duration</th>
                </tr>
              </thead>
              <tbody>
                {data.attempts.map((attempt, index) => {
                  const ok = attempt.status !== null && attempt.status >= 200 && attempt.status < 300;
                  return (
                    <tr
                      key={`${attempt.at}-${attempt.hookName}-${index}`}
                      className={ok ? undefined : 'row-failed'}
                    >
                      <td>
                        <Time value={attempt.at} />
                      </td>
                      <td>{attempt.hookName}</td>
                      <td className={ok ? undefined : 'cell-error'}>
                        {ok ? 'delivered' : 'failed'}
                        {lastAnswer(attempt.status, attempt.error) && (
                          <> ({lastAnswer(attempt.status, attempt.error)})</>
                        )}
                      </td>
                      <td>{attempt.durationMs} ms</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </TableWrap>
        )}
      </section>

      <section aria-labelledby="event-payload">
        <h2 id="event-payload">Payload</h2>
        <p className="hint">
          The <code>data</code> of the message, signed per Standard Webhooks with{' '}
          <code>webhook-id: evt_{data.id}</code>.
        </p>
        <JsonView value={data.payload} label="Event payload (JSON)" />
      </section>
    </>
  );
}

function Deliveries({
  deliveries,
  onReplay,
  busy,
}: {
  deliveries: EventDelivery[];
  /** Absent for viewers. */
  onReplay: ((hook: string) => void) | undefined;
  busy: boolean;
}) {
  return (
    <TableWrap label="Deliveries table">
      <table>
        <caption className="visually-hidden">Where this event stands with each subscribed hook</caption>
        <thead>
          <tr>
            <th scope="col">Hook</th>
            <th scope="col">State</th>
            <th scope="col">Attempts</th>
            <th scope="col">Last answer</th>
            <th scope="col">Next attempt</th>
            <th scope="col">Delivered</th>
            {onReplay && <th scope="col">Actions</th>}
          </tr>
        </thead>
        <tbody>
          {deliveries.map((delivery) => (
            <tr key={delivery.hookName}>
              <td>{delivery.hookName}</td>
              <td>
                <DeliveryBadge delivery={delivery} />
              </td>
              <td>{attemptsText(delivery.attempts)}</td>
              <td className={delivery.state === 'pending' ? 'cell-error' : undefined}>
                {lastAnswer(delivery.lastStatus, delivery.lastError) ?? <span className="muted">—</span>}
              </td>
              <td>
                <Time value={delivery.state === 'pending' ? delivery.nextAttemptAt : null} />
              </td>
              <td>
                <Time value={delivery.deliveredAt} />
              </td>
              {onReplay && (
                <td className="cell-actions">
                  <button
                    type="button"
                    className="button-small"
                    aria-label={`Replay to ${delivery.hookName}`}
                    disabled={busy}
                    onClick={() => onReplay(delivery.hookName)}
                  >
                    Replay
                  </button>
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </TableWrap>
  );
}
