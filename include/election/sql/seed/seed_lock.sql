-- Serialises concurrent seed loads for the rest of the transaction.
SELECT pg_advisory_xact_lock(hashtext('election_seed'));
