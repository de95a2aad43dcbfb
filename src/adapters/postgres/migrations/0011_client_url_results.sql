-- 0011_client_url_results: runs plan URL steps from specs alone and the reconciler takes the difference, so what a
-- step really put on a shared client is known only there: the ledger keeps it per intent (`added`, set when the
-- intent is settled) and the journal keeps it per step (`result`), so a compensation takes off only those URLs.
ALTER TABLE client_url_intents
  ADD COLUMN added jsonb CHECK (added IS NULL OR jsonb_typeof(added) = 'object');

ALTER TABLE run_steps
  ADD COLUMN result jsonb CHECK (result IS NULL OR jsonb_typeof(result) = 'object');
