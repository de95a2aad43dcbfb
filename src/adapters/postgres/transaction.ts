/** One transaction on one pooled client, shared by the store and the run queue. */
import type pg from 'pg';

/** Runs `body` between BEGIN and COMMIT on one client; rolls back when it throws. */
export async function transaction<T>(pool: pg.Pool, body: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  const ignore = (): void => undefined;
  client.on('error', ignore);
  let reusable = false;
  try {
    await client.query('BEGIN');
    let result: T;
    try {
      result = await body(client);
    } catch (error) {
      try {
        await client.query('ROLLBACK');
        reusable = true;
      } catch {
        // The session is discarded below; the transaction dies with it.
      }
      throw error;
    }
    await client.query('COMMIT');
    reusable = true;
    return result;
  } finally {
    client.removeListener('error', ignore);
    client.release(!reusable);
  }
}
