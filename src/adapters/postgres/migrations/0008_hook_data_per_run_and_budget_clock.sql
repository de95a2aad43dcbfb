-- 0008_hook_data_per_run_and_budget_clock: what a hook returned is kept on its step and reaches the organization
-- only when the run succeeds (a run that compensates leaves no stale data behind); and the shared rate budget reads
-- the clock after taking the bucket's lock, so a bucket's time never goes backwards between two callers.
ALTER TABLE run_steps
  ADD COLUMN app_data jsonb CHECK (app_data IS NULL OR jsonb_typeof(app_data) = 'object');

CREATE OR REPLACE FUNCTION orgadmin_refilled_bucket(p_key text, p_burst double precision, p_per_ms double precision,
  OUT tokens double precision, OUT closed_ms double precision, OUT now_ts timestamptz)
LANGUAGE plpgsql AS $$
DECLARE
  bucket rate_buckets%ROWTYPE;
BEGIN
  INSERT INTO rate_buckets (key, tokens, updated_at) VALUES (p_key, p_burst, clock_timestamp())
  ON CONFLICT (key) DO NOTHING;
  SELECT * INTO bucket FROM rate_buckets WHERE key = p_key FOR UPDATE;
  now_ts := greatest(clock_timestamp(), bucket.updated_at);
  tokens := least(p_burst, bucket.tokens + extract(epoch FROM now_ts - bucket.updated_at) * 1000 * p_per_ms);
  closed_ms := greatest(0, coalesce(extract(epoch FROM bucket.closed_until - now_ts) * 1000, 0));
END $$;
