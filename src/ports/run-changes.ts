/**
 * Run changes as they happen, across processes: whoever executes a run (a worker anywhere), the portal hears of
 * every change to it or its steps and re-reads the store. Only the run id travels; the store stays the truth.
 */
export interface RunChanges {
  /** Calls `listener` with the id of each run that changed; returns the unsubscribe function. */
  subscribe(listener: (runId: string) => void): () => void;
  close(): Promise<void>;
}
