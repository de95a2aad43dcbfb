-- 0013_bulk_lease_owner: a bulk-apply claim carries an owner token (random per claim). A process that stalled past
-- its lease and whose items another process took over must not start, settle or release them any more: every such
-- statement names the token, so only the claim holding an item acts on it. NULL while the item is not claimed (and
-- for claims made before this migration, which are taken over once their lease runs out).
-- From now on `claimed_at` keeps the item's first claim, so a run started by a claim that was later taken over is
-- still recognised as the item's run by the claim that took it over.
ALTER TABLE bulk_batch_items
  ADD COLUMN claim_owner uuid,
  ADD CONSTRAINT bulk_batch_items_owner_while_starting CHECK (claim_owner IS NULL OR state = 'starting');

-- A claim renews the lease of all its items before each start: find them without scanning the batch's open items.
CREATE INDEX bulk_batch_items_claim ON bulk_batch_items (claim_owner) WHERE claim_owner IS NOT NULL;
