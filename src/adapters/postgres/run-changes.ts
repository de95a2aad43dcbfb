/**
 * `RunChanges` on PostgreSQL LISTEN/NOTIFY: the triggers of migration 0004 notify `orgadmin_runs` with the run id
 * at each commit that touches a run or its steps. One dedicated connection listens for the whole process; if it
 * drops, it reconnects with backoff and tells listeners nothing was missed by notifying every run they follow
 * (an SSE stream re-reads and sends its run's state again).
 */
import pg from 'pg';

import type { RunChanges } from '../../ports/run-changes.js';

export const RUN_CHANGES_CHANNEL = 'orgadmin_runs';
const RECONNECT_DELAYS_MS = [250, 500, 1000, 2000, 5000];

export async function listenForRunChanges(options: {
  connectionString: string;
  log?: (line: string) => void;
}): Promise<RunChanges> {
  const log = options.log ?? (() => undefined);
  const listeners = new Set<(runId: string) => void>();
  /** Each listener's runs seen lately, so a reconnect can tell them to re-read. */
  const seen = new Set<string>();
  let client: pg.Client | undefined;
  let closed = false;
  let attempt = 0;

  const emit = (runId: string): void => {
    seen.add(runId);
    if (seen.size > 10_000) seen.clear();
    for (const listener of listeners) listener(runId);
  };

  const connect = async (): Promise<void> => {
    const next = new pg.Client({ connectionString: options.connectionString });
    next.on('notification', (message) => {
      if (message.channel === RUN_CHANGES_CHANNEL && message.payload) emit(message.payload);
    });
    next.on('error', (error) => {
      log(`orgadmin: run-change listener lost its connection (${error.message}); reconnecting`);
      void next.end().catch(() => undefined);
      if (client === next) client = undefined;
      scheduleReconnect();
    });
    await next.connect();
    await next.query(`LISTEN ${RUN_CHANGES_CHANNEL}`);
    client = next;
    attempt = 0;
  };

  const scheduleReconnect = (): void => {
    if (closed) return;
    const delay = RECONNECT_DELAYS_MS[Math.min(attempt, RECONNECT_DELAYS_MS.length - 1)]!;
    attempt += 1;
    setTimeout(() => {
      if (closed) return;
      connect().then(
        () => {
          for (const runId of seen) for (const listener of listeners) listener(runId);
        },
        () => scheduleReconnect(),
      );
    }, delay).unref();
  };

  await connect();
  return {
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      closed = true;
      listeners.clear();
      await client?.end().catch(() => undefined);
    },
  };
}
