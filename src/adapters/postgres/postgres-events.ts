/**
 * The `EventOutbox` port on PostgreSQL (schema: `migrations/0006_app_data_and_events.sql`). Events are inserted by
 * the store in the transaction that finishes a run; this adapter hands deliveries to dispatchers and keeps the log.
 *
 * Claiming leases the head of each (hook, organization) queue with one UPDATE whose WHERE is evaluated again on the
 * locked row, so two dispatchers never hold the same delivery, and an organization's next event is not sent while an
 * earlier one is pending — even one leased elsewhere.
 */
import type pg from 'pg';

import { subscribes, type EventType } from '../../domain/lifecycle-events.js';
import type { ClaimedDelivery, DeliveryView, EventOutbox, OutboxEvent } from '../../ports/events.js';
import type { SecretBox } from './secret-box.js';
import { transaction } from './transaction.js';

const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 500;
const ID = /^[1-9][0-9]{0,18}$/;

type EventRow = {
  id: string;
  type: EventType;
  org_name: string;
  run_id: string | null;
  payload: Record<string, unknown>;
  created_at: Date;
  deliveries: DeliveryRow[] | null;
};

type DeliveryRow = {
  hook_name: string;
  state: 'pending' | 'delivered';
  attempts: number;
  next_attempt_at: string | null;
  last_status: number | null;
  last_error: string | null;
  delivered_at: string | null;
};

type ClaimRow = {
  event_id: string;
  hook_name: string;
  attempts: number;
  type: EventType;
  org_name: string;
  payload: Record<string, unknown>;
  url: string;
  secret_sealed: string;
  allow_private_network: boolean;
};

const toDelivery = (row: DeliveryRow): DeliveryView => ({
  hookName: row.hook_name,
  state: row.state,
  attempts: row.attempts,
  nextAttemptAt: row.state === 'pending' && row.next_attempt_at ? new Date(row.next_attempt_at) : undefined,
  lastStatus: row.last_status ?? undefined,
  lastError: row.last_error ?? undefined,
  deliveredAt: row.delivered_at ? new Date(row.delivered_at) : undefined,
});

const toEvent = (row: EventRow): OutboxEvent => ({
  id: row.id,
  type: row.type,
  orgName: row.org_name,
  runId: row.run_id ?? undefined,
  payload: row.payload,
  createdAt: row.created_at,
  deliveries: (row.deliveries ?? []).map(toDelivery),
});

const EVENT_WITH_DELIVERIES = `
  SELECT e.*, (
    SELECT jsonb_agg(jsonb_build_object(
      'hook_name', d.hook_name, 'state', d.state, 'attempts', d.attempts, 'next_attempt_at', d.next_attempt_at,
      'last_status', d.last_status, 'last_error', d.last_error, 'delivered_at', d.delivered_at
    ) ORDER BY d.hook_name)
    FROM event_deliveries d WHERE d.event_id = e.id
  ) AS deliveries
  FROM outbox_events e`;

export function createPostgresEvents(pool: pg.Pool, options: { secrets: SecretBox }): EventOutbox {
  return {
    async claim({ limit, leaseMs }) {
      const { rows } = await pool.query<ClaimRow>(
        `WITH heads AS (
           SELECT DISTINCT ON (hook_name, org_name) event_id, hook_name, next_attempt_at, leased_until
           FROM event_deliveries WHERE state = 'pending'
           ORDER BY hook_name, org_name, event_id
         ), due AS (
           SELECT h.event_id, h.hook_name FROM heads h
           JOIN app_hooks a ON a.name = h.hook_name AND a.disabled_at IS NULL
           WHERE h.next_attempt_at <= now() AND (h.leased_until IS NULL OR h.leased_until < now())
           ORDER BY h.next_attempt_at, h.event_id LIMIT $1
         ), claimed AS (
           UPDATE event_deliveries d SET leased_until = now() + $2 * interval '1 millisecond'
           FROM due WHERE d.event_id = due.event_id AND d.hook_name = due.hook_name
             AND d.state = 'pending' AND (d.leased_until IS NULL OR d.leased_until < now())
           RETURNING d.event_id, d.hook_name, d.attempts
         )
         SELECT c.event_id, c.hook_name, c.attempts, e.type, e.org_name, e.payload,
                a.url, a.secret_sealed, a.allow_private_network
         FROM claimed c JOIN outbox_events e ON e.id = c.event_id JOIN app_hooks a ON a.name = c.hook_name
         ORDER BY c.event_id`,
        [limit, leaseMs],
      );
      return rows.map((row): ClaimedDelivery => ({
        eventId: row.event_id,
        hookName: row.hook_name,
        attempts: row.attempts,
        type: row.type,
        orgName: row.org_name,
        payload: row.payload,
        target: {
          url: row.url,
          secret: options.secrets.open(row.secret_sealed),
          allowPrivateNetwork: row.allow_private_network,
        },
      }));
    },

    recordSuccess: (delivery, result) =>
      transaction(pool, async (client) => {
        await client.query(
          `UPDATE event_deliveries SET state = 'delivered', delivered_at = now(), attempts = attempts + 1,
             last_status = $3, last_error = NULL, leased_until = NULL
           WHERE event_id = $1 AND hook_name = $2`,
          [delivery.eventId, delivery.hookName, result.status],
        );
        await client.query(
          `INSERT INTO event_delivery_attempts (event_id, hook_name, status, duration_ms) VALUES ($1, $2, $3, $4)`,
          [delivery.eventId, delivery.hookName, result.status, Math.round(result.durationMs)],
        );
        await client.query(
          `UPDATE app_hooks SET consecutive_failures = 0, failing_since = NULL
           WHERE name = $1 AND consecutive_failures > 0`,
          [delivery.hookName],
        );
      }),

    recordFailure: (delivery, failure) =>
      transaction(pool, async (client) => {
        await client.query(
          `UPDATE event_deliveries SET attempts = attempts + 1, last_status = $3, last_error = $4,
             next_attempt_at = now() + $5 * interval '1 millisecond', leased_until = NULL
           WHERE event_id = $1 AND hook_name = $2`,
          [
            delivery.eventId,
            delivery.hookName,
            failure.status ?? null,
            failure.error.slice(0, 1000),
            Math.round(failure.retryInMs),
          ],
        );
        await client.query(
          `INSERT INTO event_delivery_attempts (event_id, hook_name, status, error, duration_ms)
           VALUES ($1, $2, $3, $4, $5)`,
          [
            delivery.eventId,
            delivery.hookName,
            failure.status ?? null,
            failure.error.slice(0, 1000),
            Math.round(failure.durationMs),
          ],
        );
        const { rows } = await client.query<{ disabled: boolean }>(
          `UPDATE app_hooks SET
             consecutive_failures = consecutive_failures + 1,
             failing_since = coalesce(failing_since, now()),
             disabled_at = CASE
               WHEN disabled_at IS NULL AND consecutive_failures + 1 >= $2
                 AND now() - coalesce(failing_since, now()) >= $3 * interval '1 millisecond'
               THEN now() ELSE disabled_at END,
             disabled_reason = CASE
               WHEN disabled_at IS NULL AND consecutive_failures + 1 >= $2
                 AND now() - coalesce(failing_since, now()) >= $3 * interval '1 millisecond'
               THEN format('%s event deliveries failed in a row since %s; last: %s',
                 consecutive_failures + 1, coalesce(failing_since, now()), $4::text)
               ELSE disabled_reason END
           WHERE name = $1
           RETURNING disabled_at IS NOT NULL AND disabled_at = now() AS disabled`,
          [
            delivery.hookName,
            failure.disable.afterFailures,
            failure.disable.afterMs,
            failure.error.slice(0, 200),
          ],
        );
        return { disabled: rows[0]?.disabled ?? false };
      }),

    async nextDueInMs() {
      // Over queue heads only: a later event of an organization waits for its head, whatever its own time.
      const { rows } = await pool.query<{ wait_ms: number | null }>(
        `WITH heads AS (
           SELECT DISTINCT ON (hook_name, org_name) hook_name, next_attempt_at, leased_until
           FROM event_deliveries WHERE state = 'pending'
           ORDER BY hook_name, org_name, event_id
         )
         SELECT greatest(0, extract(epoch FROM min(greatest(h.next_attempt_at, h.leased_until)) - now()) * 1000)::float8
           AS wait_ms
         FROM heads h JOIN app_hooks a ON a.name = h.hook_name AND a.disabled_at IS NULL`,
      );
      return rows[0]?.wait_ms ?? undefined;
    },

    async listEvents(filter) {
      const limit = Math.min(Math.max(filter.limit ?? DEFAULT_LIMIT, 1), MAX_LIMIT);
      if (filter.beforeId !== undefined && !ID.test(filter.beforeId)) return [];
      const { rows } = await pool.query<EventRow>(
        `${EVENT_WITH_DELIVERIES}
         WHERE ($1::text IS NULL OR e.org_name = $1) AND ($2::bigint IS NULL OR e.id < $2)
         ORDER BY e.id DESC LIMIT $3`,
        [filter.orgName ?? null, filter.beforeId ?? null, limit],
      );
      return rows.map(toEvent);
    },

    async getEvent(id) {
      if (!ID.test(id)) return undefined;
      const { rows } = await pool.query<EventRow>(`${EVENT_WITH_DELIVERIES} WHERE e.id = $1`, [id]);
      if (!rows[0]) return undefined;
      const attempts = await pool.query<{
        hook_name: string;
        at: Date;
        status: number | null;
        error: string | null;
        duration_ms: number;
      }>(
        `SELECT hook_name, at, status, error, duration_ms FROM event_delivery_attempts
         WHERE event_id = $1 ORDER BY id`,
        [id],
      );
      return {
        ...toEvent(rows[0]),
        attempts: attempts.rows.map((row) => ({
          hookName: row.hook_name,
          at: row.at,
          status: row.status ?? undefined,
          error: row.error ?? undefined,
          durationMs: row.duration_ms,
        })),
      };
    },

    replay: (id, actor, hookName) =>
      transaction(pool, async (client) => {
        if (!ID.test(id)) return 0;
        const event = (
          await client.query<{ type: EventType; org_name: string }>(
            'SELECT type, org_name FROM outbox_events WHERE id = $1',
            [id],
          )
        ).rows[0];
        if (!event) return 0;
        const hooks = await client.query<{ name: string; events: string[] }>(
          'SELECT name, events FROM app_hooks',
        );
        const names = hooks.rows
          .filter(
            (hook) =>
              subscribes(hook.events, event.type) && (hookName === undefined || hook.name === hookName),
          )
          .map((hook) => hook.name);
        if (names.length === 0) return 0;
        const { rowCount } = await client.query(
          `INSERT INTO event_deliveries (event_id, hook_name, org_name) SELECT $1, unnest($3::text[]), $2
           ON CONFLICT (event_id, hook_name) DO UPDATE
             SET state = 'pending', attempts = 0, next_attempt_at = now(), leased_until = NULL, delivered_at = NULL`,
          [id, event.org_name, names],
        );
        await client.query(
          `INSERT INTO audit_events (actor, action, org_name, run_id, before, after)
           VALUES ($1, 'event.replayed', $2, NULL, NULL, $3::jsonb)`,
          [actor, event.org_name, JSON.stringify({ eventId: id, hook: hookName ?? null, queued: rowCount })],
        );
        return rowCount ?? 0;
      }),
  };
}
