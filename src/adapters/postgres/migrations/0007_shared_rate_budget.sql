-- 0007_shared_rate_budget (issue 6): the client-side rate budget's token buckets, shared by every orgadmin process
-- of an installation, so N workers together stay inside one tenant's Auth0 rate limits. One row per (tenant,
-- bucket); every change happens under the row's lock, on the database's clock (the one clock all processes share).
CREATE TABLE rate_buckets (
  key text PRIMARY KEY,
  tokens double precision NOT NULL,
  updated_at timestamptz NOT NULL,
  -- A 429 closes the bucket until then.
  closed_until timestamptz
);

-- The bucket refilled to now (at most `burst`, `per_ms` tokens per millisecond), created full when missing, locked.
CREATE FUNCTION orgadmin_refilled_bucket(p_key text, p_burst double precision, p_per_ms double precision,
  OUT tokens double precision, OUT closed_ms double precision, OUT now_ts timestamptz)
LANGUAGE plpgsql AS $$
DECLARE
  bucket rate_buckets%ROWTYPE;
BEGIN
  now_ts := clock_timestamp();
  INSERT INTO rate_buckets (key, tokens, updated_at) VALUES (p_key, p_burst, now_ts) ON CONFLICT (key) DO NOTHING;
  SELECT * INTO bucket FROM rate_buckets WHERE key = p_key FOR UPDATE;
  tokens := least(p_burst, bucket.tokens + greatest(0, extract(epoch FROM now_ts - bucket.updated_at) * 1000) * p_per_ms);
  closed_ms := greatest(0, coalesce(extract(epoch FROM bucket.closed_until - now_ts) * 1000, 0));
END $$;

-- Takes a token when one is there and the bucket is open; otherwise says how long to wait (milliseconds).
CREATE FUNCTION orgadmin_take_token(p_key text, p_burst double precision, p_per_ms double precision,
  OUT taken boolean, OUT wait_ms double precision)
LANGUAGE plpgsql AS $$
DECLARE
  state record;
BEGIN
  SELECT * INTO state FROM orgadmin_refilled_bucket(p_key, p_burst, p_per_ms);
  taken := state.closed_ms = 0 AND state.tokens >= 1 - 1e-9;
  UPDATE rate_buckets SET tokens = state.tokens - CASE WHEN taken THEN 1 ELSE 0 END, updated_at = state.now_ts
  WHERE key = p_key;
  wait_ms := CASE WHEN taken THEN 0
    ELSE greatest(state.closed_ms, CASE WHEN state.tokens >= 1 - 1e-9 THEN 0 ELSE (1 - state.tokens) / p_per_ms END)
  END;
END $$;

-- What Auth0's headers say corrects the estimate downwards only; a 429 also closes the bucket for `p_close_ms`.
CREATE FUNCTION orgadmin_lower_bucket(p_key text, p_burst double precision, p_per_ms double precision,
  p_at_most double precision, p_close_ms double precision)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  state record;
BEGIN
  SELECT * INTO state FROM orgadmin_refilled_bucket(p_key, p_burst, p_per_ms);
  UPDATE rate_buckets SET
    tokens = least(state.tokens, p_at_most),
    updated_at = state.now_ts,
    closed_until = CASE WHEN p_close_ms > 0
      THEN greatest(coalesce(closed_until, state.now_ts), state.now_ts + p_close_ms * interval '1 millisecond')
      ELSE closed_until END
  WHERE key = p_key;
END $$;
