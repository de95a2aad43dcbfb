/**
 * When to try a transient failure again: exponential backoff with full jitter (so many workers hitting the same
 * 429 do not come back in lockstep), capped, and never earlier than the time Auth0 told us (`x-ratelimit-reset`).
 */
export interface RetryPolicy {
  /** Attempts per step before the run is left for a later resume. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 8, baseDelayMs: 250, maxDelayMs: 30_000 };

export function retryDelay(
  policy: RetryPolicy,
  attempt: number,
  now: number,
  retryAt?: number,
  random = Math.random,
): number {
  const exponential = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  const jittered = exponential * (0.5 + random() / 2);
  const told = retryAt === undefined ? 0 : Math.max(0, retryAt - now) + random() * 100;
  return Math.min(policy.maxDelayMs, Math.max(jittered, told));
}
