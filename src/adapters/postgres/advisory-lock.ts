/**
 * Session-level PostgreSQL advisory locks held on a dedicated pooled connection for as long as a function runs. The
 * lock goes with the session: a process that dies releases every lock it held, so a crash never leaves one taken.
 * They need a session-level connection to PostgreSQL (not a transaction-pooling proxy such as pgbouncer in
 * transaction mode, where a lock and its unlock may land on different server sessions).
 */
import type pg from 'pg';

/**
 * Runs `fn` holding the lock (namespace, hashtext(name)); with `wait: false`, answers undefined at once when another
 * session holds it. A hash collision only serializes two names needlessly.
 */
export async function withAdvisoryLock<T>(
  pool: pg.Pool,
  namespace: number,
  name: string,
  fn: () => Promise<T>,
  options: { wait: boolean } = { wait: true },
): Promise<{ value: T } | undefined> {
  const client = await pool.connect();
  // A checked-out client has no error listener: a dropped connection must fail the next query, not the process.
  const ignore = (): void => undefined;
  client.on('error', ignore);
  const key = [namespace, name];
  try {
    if (options.wait) await client.query('SELECT pg_advisory_lock($1::int, hashtext($2))', key);
    else {
      const { rows } = await client.query<{ locked: boolean }>(
        'SELECT pg_try_advisory_lock($1::int, hashtext($2)) AS locked',
        key,
      );
      if (!rows[0]?.locked) {
        client.removeListener('error', ignore);
        client.release();
        return undefined;
      }
    }
  } catch (error) {
    client.removeListener('error', ignore);
    client.release(true);
    throw error;
  }
  let unlocked = false;
  try {
    return { value: await fn() };
  } finally {
    try {
      // False when this session no longer held it (e.g. a pooler moved us to another server session): the
      // connection is then discarded below, which ends whatever session does hold it.
      const { rows } = await client.query<{ unlocked: boolean }>(
        'SELECT pg_advisory_unlock($1::int, hashtext($2)) AS unlocked',
        key,
      );
      unlocked = rows[0]?.unlocked === true;
    } catch {
      // Discarding the session below releases its advisory locks.
    }
    client.removeListener('error', ignore);
    client.release(!unlocked);
  }
}
