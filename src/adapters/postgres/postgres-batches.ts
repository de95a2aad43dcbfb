/**
 * The bulk-apply part of the `Store` port on PostgreSQL (schema: `migrations/0009_bulk_batches.sql`,
 * `0013_bulk_lease_owner.sql`).
 *
 * - A batch and all its items are written in one transaction before any run starts, so a batch is either recorded
 *   whole or not at all; items keep their spec (secrets sealed) only until their run is started or refused.
 * - Starting is claimed item by item under a lease (`FOR UPDATE SKIP LOCKED`), so any process may take over a start
 *   whose process stopped. Each claim has an owner token, and beginning, settling and releasing an item require it,
 *   so a process that stalled past its lease cannot act on items another process took over.
 * - The window between "run created" and "item settled" is closed by matching: a run of the item's organization,
 *   requested by the batch's requester since the item was first claimed, is the item's run — whichever claim made
 *   it (the one-unfinished-run-per-organization index refuses a second start while that run is open).
 * - Progress is computed from the items joined with their runs: nothing is counted twice and nothing can drift.
 */
import { randomUUID } from 'node:crypto';

import type pg from 'pg';

import type { OrgSpec } from '../../domain/org-spec.js';
import type {
  BatchCounts,
  BatchFailureGroup,
  BatchFormat,
  BatchProgress,
  BatchRecord,
  OrgStatus,
  RunState,
  Store,
} from '../../ports/store.js';
import { transaction } from './transaction.js';

type BatchMethods =
  | 'createBatch'
  | 'claimBatchItems'
  | 'beginBatchItem'
  | 'settleBatchItem'
  | 'releaseBatchClaim'
  | 'getBatch'
  | 'listBatches'
  | 'unstartedBatches'
  | 'orgStatuses';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const UNFINISHED: RunState[] = ['pending', 'running', 'compensating'];
/** Organizations named per failure group: enough to act on, small enough for thousands of failures. */
const FAILURE_EXAMPLES = 20;
const FAILURE_GROUPS = 50;
const DEFAULT_LIMIT = 20;
const MAX_LIMIT = 200;

type BatchRow = {
  id: string;
  requested_by: string;
  source_name: string;
  format: BatchFormat;
  total: number;
  created_at: Date;
};

type CountsRow = BatchRow & {
  waiting: number;
  refused: number;
  pending: number;
  running: number;
  compensating: number;
  succeeded: number;
  failed: number;
  last_at: Date | null;
  db_now: Date;
  stalled: boolean;
};

/**
 * The run that a claimed item `i` of batch `b` started: its organization's first run requested by the batch's
 * requester since the item's first claim (runs of one organization never overlap, so it is the one a claimer
 * created — the current claim's, or that of a claim it took over).
 */
const RUN_SINCE_CLAIM = `(SELECT r.id FROM runs r
    WHERE r.org_name = i.org_name AND r.requested_by = b.requested_by AND r.created_at >= i.claimed_at
    ORDER BY r.created_at, r.id LIMIT 1)`;

/**
 * Counts per batch, for the batches `WHERE` selects ($1: the lease in ms, to tell a start whose starter stopped
 * before claiming every item; NULL: only claims whose lease ran out tell a stalled start).
 */
const COUNTS_SQL = (where: string): string => `
  SELECT b.id, b.requested_by, b.source_name, b.format, b.total, b.created_at,
    count(*) FILTER (WHERE i.state IN ('waiting', 'starting'))::int AS waiting,
    count(*) FILTER (WHERE i.state = 'refused')::int AS refused,
    count(*) FILTER (WHERE r.state = 'pending')::int AS pending,
    count(*) FILTER (WHERE r.state = 'running')::int AS running,
    count(*) FILTER (WHERE r.state = 'compensating')::int AS compensating,
    count(*) FILTER (WHERE r.state = 'succeeded')::int AS succeeded,
    count(*) FILTER (WHERE r.state = 'failed')::int AS failed,
    greatest(max(r.finished_at), max(i.decided_at) FILTER (WHERE i.state = 'refused')) AS last_at,
    now() AS db_now,
    (count(*) FILTER (WHERE i.state = 'starting' AND i.lease_until < now()) > 0
      OR coalesce(count(*) FILTER (WHERE i.state = 'waiting') > 0
        AND coalesce(b.starter_seen_at, b.created_at) < now() - $1::int * interval '1 millisecond', false))
      AS stalled
  FROM bulk_batches b
  JOIN bulk_batch_items i ON i.batch_id = b.id
  LEFT JOIN runs r ON r.id = i.run_id
  WHERE ${where}
  GROUP BY b.id
  ORDER BY b.created_at DESC, b.id DESC`;

export function createPostgresBatches(
  pool: pg.Pool,
  secrets: {
    /** JSON text of the value with its secrets sealed. */
    seal: (value: unknown) => string;
    open: <T>(value: unknown) => T;
  },
): Pick<Store, BatchMethods> {
  const toRecord = (row: BatchRow): BatchRecord => ({
    id: row.id,
    requestedBy: row.requested_by,
    sourceName: row.source_name,
    format: row.format,
    total: row.total,
    createdAt: row.created_at,
  });

  const toCounts = (row: CountsRow): BatchCounts => {
    const open = row.pending + row.running + row.compensating;
    const finished = row.waiting === 0 && open === 0;
    const end = finished ? (row.last_at ?? row.created_at) : row.db_now;
    return {
      ...toRecord(row),
      waiting: row.waiting,
      refused: row.refused,
      runs: {
        pending: row.pending,
        running: row.running,
        compensating: row.compensating,
        succeeded: row.succeeded,
        failed: row.failed,
      },
      finishedAt: finished ? end : undefined,
      durationMs: Math.max(0, end.getTime() - row.created_at.getTime()),
      stalled: row.stalled,
    };
  };

  return {
    createBatch: ({ requestedBy, sourceName, format, specs }) =>
      transaction(pool, async (client) => {
        const batch = (
          await client.query<BatchRow>(
            `INSERT INTO bulk_batches (requested_by, source_name, format, total) VALUES ($1, $2, $3, $4)
             RETURNING *`,
            [requestedBy, sourceName, format, specs.length],
          )
        ).rows[0]!;
        await client.query(
          `INSERT INTO bulk_batch_items (batch_id, position, org_name, spec)
           SELECT $1, ordinality::int - 1, spec ->> 'name', spec
           FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS listed(spec, ordinality)`,
          [batch.id, secrets.seal(specs)],
        );
        await client.query(
          `INSERT INTO audit_events (actor, action, org_name, run_id, before, after)
           VALUES ($1, 'batch.requested', NULL, NULL, NULL, $2::jsonb)`,
          [
            requestedBy,
            JSON.stringify({
              batchId: batch.id,
              sourceName,
              format,
              total: specs.length,
              organizations: specs.map((spec) => spec.name),
            }),
          ],
        );
        return toRecord(batch);
      }),

    claimBatchItems: (batchId, limit, leaseMs) =>
      transaction(pool, async (client) => {
        if (!UUID.test(batchId)) return [];
        // Claims whose process stopped after creating the run: the run is the item's.
        await client.query(
          `UPDATE bulk_batch_items AS i
           SET state = 'started', run_id = found.run_id, spec = NULL, lease_until = NULL, claim_owner = NULL,
             decided_at = now()
           FROM (
             SELECT i.position, ${RUN_SINCE_CLAIM} AS run_id
             FROM bulk_batch_items i JOIN bulk_batches b ON b.id = i.batch_id
             WHERE i.batch_id = $1 AND i.state = 'starting' AND i.lease_until < now()
             FOR UPDATE OF i SKIP LOCKED
           ) AS found
           WHERE i.batch_id = $1 AND i.position = found.position AND found.run_id IS NOT NULL`,
          [batchId],
        );
        const owner = randomUUID();
        const { rows } = await client.query<{ position: number; org_name: string; spec: unknown }>(
          `UPDATE bulk_batch_items
           SET state = 'starting', claim_owner = $4, claimed_at = coalesce(claimed_at, now()),
             lease_until = now() + $3::int * interval '1 millisecond'
           WHERE batch_id = $1 AND position IN (
             SELECT position FROM bulk_batch_items
             WHERE batch_id = $1 AND (state = 'waiting' OR (state = 'starting' AND lease_until < now()))
             ORDER BY position LIMIT $2
             FOR UPDATE SKIP LOCKED
           )
           RETURNING position, org_name, spec`,
          [batchId, limit, leaseMs, owner],
        );
        await client.query('UPDATE bulk_batches SET starter_seen_at = now() WHERE id = $1', [batchId]);
        return rows
          .sort((a, b) => a.position - b.position)
          .map((row) => ({
            position: row.position,
            orgName: row.org_name,
            spec: secrets.open<OrgSpec>(row.spec),
            owner,
          }));
      }),

    beginBatchItem: (batchId, position, owner, leaseMs) =>
      transaction(pool, async (client) => {
        if (!UUID.test(batchId) || !UUID.test(owner)) return 'lost';
        // The row locks taken here keep a concurrent claim from taking these items until this commits.
        const held = await client.query<{ position: number }>(
          `UPDATE bulk_batch_items SET lease_until = now() + $3::int * interval '1 millisecond'
           WHERE claim_owner = $2 AND batch_id = $1 AND state = 'starting'
           RETURNING position`,
          [batchId, owner, leaseMs],
        );
        if (!held.rows.some((row) => row.position === position)) return 'lost';
        await client.query('UPDATE bulk_batches SET starter_seen_at = now() WHERE id = $1', [batchId]);
        const linked = await client.query(
          `UPDATE bulk_batch_items AS i
           SET state = 'started', run_id = found.run_id, spec = NULL, lease_until = NULL, claim_owner = NULL,
             decided_at = now()
           FROM (
             SELECT ${RUN_SINCE_CLAIM} AS run_id
             FROM bulk_batch_items i JOIN bulk_batches b ON b.id = i.batch_id
             WHERE i.batch_id = $1 AND i.position = $2
           ) AS found
           WHERE i.batch_id = $1 AND i.position = $2 AND i.claim_owner = $3 AND found.run_id IS NOT NULL`,
          [batchId, position, owner],
        );
        return linked.rowCount === 1 ? 'linked' : 'start';
      }),

    async settleBatchItem(batchId, position, owner, outcome) {
      if (!UUID.test(batchId) || !UUID.test(owner)) return false;
      const runId = 'runId' in outcome ? outcome.runId : null;
      const error = 'error' in outcome ? outcome.error : null;
      const settled = await pool.query(
        `UPDATE bulk_batch_items AS i
         SET run_id = linked.run_id, error = CASE WHEN linked.run_id IS NULL THEN $4 END,
           state = CASE WHEN linked.run_id IS NULL THEN 'refused' ELSE 'started' END,
           spec = NULL, lease_until = NULL, claim_owner = NULL, decided_at = now()
         FROM (
           SELECT coalesce($3::uuid, ${RUN_SINCE_CLAIM}) AS run_id
           FROM bulk_batch_items i JOIN bulk_batches b ON b.id = i.batch_id
           WHERE i.batch_id = $1 AND i.position = $2
         ) AS linked
         WHERE i.batch_id = $1 AND i.position = $2 AND i.state = 'starting' AND i.claim_owner = $5`,
        [batchId, position, runId, error, owner],
      );
      return settled.rowCount === 1;
    },

    async releaseBatchClaim(batchId, owner) {
      if (!UUID.test(batchId) || !UUID.test(owner)) return;
      await pool.query(
        `UPDATE bulk_batch_items SET state = 'waiting', claim_owner = NULL, lease_until = NULL
         WHERE claim_owner = $2 AND batch_id = $1 AND state = 'starting'`,
        [batchId, owner],
      );
    },

    async getBatch(id, leaseMs) {
      if (!UUID.test(id)) return undefined;
      const counts = (await pool.query<CountsRow>(COUNTS_SQL('b.id = $2'), [leaseMs, id])).rows[0];
      if (!counts) return undefined;
      const [work, failures] = await Promise.all([
        pool.query<{ steps_done: number; step_attempts: number; auth0_calls: number }>(
          `SELECT
             (SELECT count(*) FILTER (WHERE s.status = 'done')::int
              FROM bulk_batch_items i JOIN run_steps s ON s.run_id = i.run_id WHERE i.batch_id = $1) AS steps_done,
             (SELECT coalesce(sum(s.attempts), 0)::int
              FROM bulk_batch_items i JOIN run_steps s ON s.run_id = i.run_id WHERE i.batch_id = $1) AS step_attempts,
             (SELECT coalesce(sum(r.auth0_calls), 0)::int
              FROM bulk_batch_items i JOIN runs r ON r.id = i.run_id WHERE i.batch_id = $1) AS auth0_calls`,
          [id],
        ),
        // Messages name the organization (and objects named after it) and run ids: without them, one cause is one
        // group.
        pool.query<{ reason: string; stage: 'run' | 'start'; count: number; examples: unknown }>(
          `SELECT reason, stage, count(*)::int AS count,
             to_jsonb((array_agg(jsonb_build_object('orgName', org_name, 'runId', run_id) ORDER BY position))[1:$2::int])
               AS examples
           FROM (
             SELECT i.position, i.org_name, i.run_id,
               CASE WHEN i.state = 'refused' THEN 'start' ELSE 'run' END AS stage,
               regexp_replace(
                 regexp_replace(
                   coalesce(CASE WHEN i.state = 'refused' THEN i.error ELSE r.error END, 'no reason recorded'),
                   '\\m' || i.org_name || '\\M', '{org}', 'g'),
                 '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}', '{id}', 'g') AS reason
             FROM bulk_batch_items i LEFT JOIN runs r ON r.id = i.run_id
             WHERE i.batch_id = $1 AND (i.state = 'refused' OR r.state = 'failed')
           ) AS failed
           GROUP BY reason, stage
           ORDER BY count(*) DESC, min(position)
           LIMIT $3`,
          [id, FAILURE_EXAMPLES, FAILURE_GROUPS],
        ),
      ]);
      return {
        ...toCounts(counts),
        stepsDone: work.rows[0]?.steps_done ?? 0,
        stepAttempts: work.rows[0]?.step_attempts ?? 0,
        auth0Calls: work.rows[0]?.auth0_calls ?? 0,
        failures: failures.rows.map((row): BatchFailureGroup => ({
          reason: row.reason,
          stage: row.stage,
          count: row.count,
          examples: (row.examples as { orgName: string; runId: string | null }[]).map((example) => ({
            orgName: example.orgName,
            runId: example.runId ?? undefined,
          })),
        })),
      } satisfies BatchProgress;
    },

    async listBatches(filter, leaseMs) {
      const before = filter.before !== undefined && UUID.test(filter.before) ? filter.before : null;
      const { rows } = await pool.query<CountsRow>(
        COUNTS_SQL(`b.id IN (
          SELECT id FROM bulk_batches
          WHERE $2::uuid IS NULL OR (created_at, id) < (SELECT created_at, id FROM bulk_batches WHERE id = $2)
          ORDER BY created_at DESC, id DESC LIMIT $3)`),
        [leaseMs ?? null, before, limitOf(filter.limit)],
      );
      return rows.map(toCounts);
    },

    async unstartedBatches(filter = {}) {
      if (filter.batchId !== undefined && !UUID.test(filter.batchId)) return [];
      const { rows } = await pool.query<{
        id: string;
        requested_by: string;
        claimable: number;
        held_for_ms: number | null;
      }>(
        `SELECT b.id, b.requested_by,
           count(*) FILTER (WHERE i.state = 'waiting' OR i.lease_until < now())::int AS claimable,
           ceil(extract(epoch FROM min(i.lease_until) FILTER (WHERE i.state = 'starting' AND i.lease_until >= now())
             - now()) * 1000)::int AS held_for_ms
         FROM bulk_batch_items i JOIN bulk_batches b ON b.id = i.batch_id
         WHERE i.state IN ('waiting', 'starting') AND ($1::uuid IS NULL OR i.batch_id = $1)
         GROUP BY b.id
         ORDER BY b.created_at, b.id`,
        [filter.batchId ?? null],
      );
      return rows.map((row) => ({
        id: row.id,
        requestedBy: row.requested_by,
        claimable: row.claimable,
        heldForMs: row.held_for_ms ?? undefined,
      }));
    },

    async orgStatuses(names) {
      if (names.length === 0) return [];
      const { rows } = await pool.query<{ name: string; status: OrgStatus; busy: boolean }>(
        `SELECT o.name, o.status,
           EXISTS (SELECT 1 FROM runs r WHERE r.org_name = o.name AND r.state = ANY($2::text[])) AS busy
         FROM organizations o WHERE o.name = ANY($1::text[])`,
        [names, UNFINISHED],
      );
      return rows;
    },
  };
}

function limitOf(limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit)) return DEFAULT_LIMIT;
  return Math.max(0, Math.min(MAX_LIMIT, Math.floor(limit)));
}
