/**
 * The port to the lifecycle-event outbox (issue 7): events written with the change they report, one delivery per
 * subscribed hook, claimed by dispatchers under a lease, and the delivery log.
 */
import type { EventType } from '../domain/lifecycle-events.js';
import type { WebhookTarget } from './app-hooks.js';

export interface DeliveryView {
  hookName: string;
  state: 'pending' | 'delivered';
  attempts: number;
  nextAttemptAt: Date | undefined;
  lastStatus: number | undefined;
  lastError: string | undefined;
  deliveredAt: Date | undefined;
}

export interface DeliveryAttempt {
  hookName: string;
  at: Date;
  status: number | undefined;
  error: string | undefined;
  durationMs: number;
}

export interface OutboxEvent {
  /** Increasing: the order of events, and per organization the order of delivery. */
  id: string;
  type: EventType;
  orgName: string;
  runId: string | undefined;
  payload: Record<string, unknown>;
  createdAt: Date;
  deliveries: DeliveryView[];
}

/** One delivery a dispatcher holds under lease. */
export interface ClaimedDelivery {
  eventId: string;
  hookName: string;
  /** Attempts before this one. */
  attempts: number;
  type: EventType;
  orgName: string;
  payload: Record<string, unknown>;
  target: WebhookTarget;
}

export interface DeliveryFailure {
  status: number | undefined;
  error: string;
  durationMs: number;
  retryInMs: number;
  /** Disable the hook once its failures reach this many in a row, spanning at least `afterMs`. */
  disable: { afterFailures: number; afterMs: number };
}

export interface EventOutbox {
  /**
   * Leases up to `limit` due deliveries, each the oldest pending one of its hook and organization (so an
   * organization's events go out in order), skipping disabled hooks and deliveries another dispatcher holds.
   */
  claim(options: { limit: number; leaseMs: number }): Promise<ClaimedDelivery[]>;
  recordSuccess(delivery: ClaimedDelivery, result: { status: number; durationMs: number }): Promise<void>;
  /** Schedules the next attempt; true when this failure disabled the hook. */
  recordFailure(delivery: ClaimedDelivery, failure: DeliveryFailure): Promise<{ disabled: boolean }>;
  /** Milliseconds until the next pending delivery of an enabled hook comes due (0: now), undefined for none. */
  nextDueInMs(): Promise<number | undefined>;
  /** Newest first; `beforeId` continues a page. */
  listEvents(filter: { orgName?: string; beforeId?: string; limit?: number }): Promise<OutboxEvent[]>;
  getEvent(id: string): Promise<(OutboxEvent & { attempts: DeliveryAttempt[] }) | undefined>;
  /**
   * Sends an event again to every hook now subscribed to its type (or only `hookName`), as pending deliveries with
   * the same `webhook-id` and a fresh backoff; returns how many were queued. Audited.
   */
  replay(id: string, actor: string, hookName?: string): Promise<number>;
}
