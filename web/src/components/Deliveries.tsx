/**
 * How a lifecycle event stands with each hook subscribed to it: delivered (when), or pending with its attempts,
 * the last answer (HTTP status or error) and the next attempt — a badge with an icon AND the state in words.
 */
import type { EventDelivery } from '../api.js';
import { Time } from './ui.js';

const DELIVERY_ICON: Record<EventDelivery['state'], string> = { delivered: '✓', pending: '◌' };

export function DeliveryBadge({ delivery }: { delivery: EventDelivery }) {
  // A pending delivery that was tried already is failing: it stands out as such.
  const failing = delivery.state === 'pending' && delivery.attempts > 0;
  return (
    <span className={`badge badge-delivery-${failing ? 'failing' : delivery.state}`}>
      <span aria-hidden="true">{failing ? '↺' : DELIVERY_ICON[delivery.state]}</span> {delivery.state}
    </span>
  );
}

export const attemptsText = (attempts: number): string =>
  attempts === 1 ? '1 attempt' : `${attempts} attempts`;

/** The last answer of an attempt: "HTTP 503: the start of its body", or the network error when there was none. */
export function lastAnswer(status: number | null, error: string | null): string | null {
  if (status === null) return error;
  // The dispatcher words a refusal as "answered 503: <body>": keep the body only.
  const rest = error?.replace(new RegExp(`^answered ${status}:?\\s*`), '') ?? '';
  return rest === '' ? `HTTP ${status}` : `HTTP ${status}: ${rest}`;
}

/** The deliveries of one event, one line per hook, as the events list shows them. */
export function DeliverySummary({ deliveries }: { deliveries: EventDelivery[] }) {
  if (deliveries.length === 0) return <span className="muted">No hook subscribed</span>;
  return (
    <ul className="deliveries">
      {deliveries.map((delivery) => {
        const answer = lastAnswer(delivery.lastStatus, delivery.lastError);
        return (
          <li key={delivery.hookName}>
            <span className="delivery-hook">{delivery.hookName}</span> <DeliveryBadge delivery={delivery} />
            {delivery.state === 'delivered' ? (
              <span className="delivery-meta">
                <Time value={delivery.deliveredAt} />
                {delivery.attempts > 1 && <> · {attemptsText(delivery.attempts)}</>}
              </span>
            ) : (
              <span className="delivery-meta">
                {delivery.attempts === 0 ? 'not sent yet' : attemptsText(delivery.attempts)}
                {answer && <span className="error-text"> · last: {answer}</span>}
                {delivery.nextAttemptAt && (
                  <>
                    {' '}
                    · next <Time value={delivery.nextAttemptAt} />
                  </>
                )}
              </span>
            )}
          </li>
        );
      })}
    </ul>
  );
}
