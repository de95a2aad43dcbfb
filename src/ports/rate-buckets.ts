/**
 * Token buckets kept outside the process (PostgreSQL), so that every orgadmin process of an installation draws from
 * the same client-side rate budget of a tenant (issue 6): N workers together stay inside the tenant's limits.
 */
export interface SharedBucket {
  burst: number;
  /** Tokens added per millisecond. */
  perMs: number;
}

export interface SharedBuckets {
  /** Takes a token if one is there and the bucket is open: 0; otherwise the milliseconds to wait before asking again. */
  take(key: string, bucket: SharedBucket): Promise<number>;
  /** Lowers the bucket to at most `atMost` tokens; `closeMs` > 0 also closes it that long (a 429). */
  lower(key: string, bucket: SharedBucket, atMost: number, closeMs: number): Promise<void>;
}
