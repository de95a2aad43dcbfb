-- 0012_client_url_batching: a run may wait for a shared client's URL write instead of making its own (the write of a
-- later run applies every pending intent at once), so the ledger knows which run recorded each intent: to wake the
-- runs a write settled, to tell a repeat of the same step (its result kept) from a new change, and to withdraw a
-- failed run's intent that was never applied. NULL for intents recorded before this migration.
ALTER TABLE client_url_intents ADD COLUMN run_id uuid;


-- Management API calls each run made (counted per attempt, added when the attempt ends): what a bulk apply's summary
-- reports as calls used. A write to a shared client that carries several runs' URLs counts for the run that made it.
ALTER TABLE runs ADD COLUMN auth0_calls integer NOT NULL DEFAULT 0 CHECK (auth0_calls >= 0);

-- Intents recorded before belong to their organization's unfinished run, if it has one (it has at most one): so a
-- run that straddles the upgrade can still withdraw or keep its own intent.
UPDATE client_url_intents AS intent SET run_id = run.id
FROM runs AS run
WHERE run.org_name = intent.org_name AND run.state IN ('pending', 'running', 'compensating');
