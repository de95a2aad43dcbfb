/**
 * Delivers lifecycle events from the outbox to the hooks subscribed to them: at least once (a delivery is marked
 * done only after a 2xx), in order per organization and hook (the outbox hands out only the head of each queue),
 * signed like hook calls, with exponential backoff per delivery, and a hook disabled once its failures go on too
 * long. Any number of dispatchers may run (they share the work through leases); a crashed one's leases expire.
 *
 * Not pg-boss: its queues have no per-key FIFO, which per-organization order needs.
 */
import type { SendWebhook } from '../ports/app-hooks.js';
import type { ClaimedDelivery, EventOutbox } from '../ports/events.js';
import { retryDelay } from './backoff.js';

export interface EventDispatcherOptions {
  outbox: EventOutbox;
  send: SendWebhook;
  log?: (line: string) => void;
  /** Deliveries sent at once. */
  concurrency?: number;
  /** How long a claimed delivery stays this dispatcher's (longer than a request can take). */
  leaseMs?: number;
  /** The longest an idle dispatcher waits before looking again (retries come due; other processes add events). */
  pollMs?: number;
  /** Backoff between attempts of one delivery. */
  retry?: { baseDelayMs: number; maxDelayMs: number };
  /** A hook whose deliveries failed this many times in a row, over at least this long, is disabled. */
  disable?: { afterFailures: number; afterMs: number };
  /** Per request. */
  timeoutMs?: number;
  /** Every attempt's end. */
  onAttempt?: (delivery: ClaimedDelivery, outcome: { ok: boolean; status?: number; error?: string }) => void;
}

export interface EventDispatcher {
  /** Looks for deliveries now (new events were written). */
  notify(): void;
  /** Stops after the deliveries in flight. */
  stop(): Promise<void>;
}

export const DEFAULT_EVENT_RETRY = { baseDelayMs: 2_000, maxDelayMs: 15 * 60_000 };
export const DEFAULT_EVENT_DISABLE = { afterFailures: 50, afterMs: 24 * 60 * 60_000 };

/** Even when something is due at once (a lease about to expire), an idle dispatcher does not spin. */
const MIN_IDLE_MS = 25;

/** The Standard Webhooks message id of an event: the same on every attempt and replay. */
export const eventMessageId = (eventId: string): string => `evt_${eventId}`;

export function startEventDispatcher(options: EventDispatcherOptions): EventDispatcher {
  const { outbox, send } = options;
  const log = options.log ?? (() => undefined);
  const concurrency = options.concurrency ?? 8;
  const leaseMs = options.leaseMs ?? 60_000;
  const pollMs = options.pollMs ?? 1_000;
  const retry = { maxAttempts: Number.POSITIVE_INFINITY, ...(options.retry ?? DEFAULT_EVENT_RETRY) };
  const disable = options.disable ?? DEFAULT_EVENT_DISABLE;
  const timeoutMs = options.timeoutMs ?? 10_000;
  let stopped = false;
  let wake: (() => void) | undefined;

  const idle = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      }
      wake = done;
    });

  const deliver = async (delivery: ClaimedDelivery): Promise<void> => {
    const started = performance.now();
    let status: number | undefined;
    let error: string;
    try {
      const answer = await send(
        delivery.target,
        {
          id: eventMessageId(delivery.eventId),
          type: delivery.type,
          data: { eventId: delivery.eventId, ...delivery.payload },
        },
        { timeoutMs },
      );
      status = answer.status;
      if (status >= 200 && status < 300) {
        await outbox.recordSuccess(delivery, { status, durationMs: performance.now() - started });
        options.onAttempt?.(delivery, { ok: true, status });
        return;
      }
      error = `answered ${status}${answer.body.trim() ? `: ${answer.body.trim().slice(0, 200)}` : ''}`;
    } catch (caught) {
      error = caught instanceof Error ? caught.message : String(caught);
    }
    const { disabled } = await outbox.recordFailure(delivery, {
      status,
      error,
      durationMs: performance.now() - started,
      retryInMs: retryDelay(retry, delivery.attempts + 1, Date.now()),
      disable,
    });
    options.onAttempt?.(delivery, { ok: false, ...(status === undefined ? {} : { status }), error });
    if (disabled)
      log(
        `hook ${delivery.hookName} disabled after repeated failed deliveries (last: ${error}); enable it with orgadmin hooks enable ${delivery.hookName}`,
      );
  };

  const loop = async (): Promise<void> => {
    while (!stopped) {
      try {
        const claimed = await outbox.claim({ limit: concurrency, leaseMs });
        if (claimed.length > 0) {
          await Promise.all(claimed.map(deliver));
          continue;
        }
        const due = await outbox.nextDueInMs();
        await idle(Math.max(MIN_IDLE_MS, Math.min(pollMs, due ?? pollMs)));
      } catch (error) {
        log(`event delivery: ${error instanceof Error ? error.message : String(error)}`);
        await idle(pollMs);
      }
    }
  };
  const running = loop();

  return {
    notify: () => wake?.(),
    async stop() {
      stopped = true;
      wake?.();
      await running;
    },
  };
}
