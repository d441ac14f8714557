-- Serialises the loads of one election_seed run (a retry racing the attempt it replaces) for the transaction.
SELECT pg_advisory_xact_lock(hashtext(%(seed_run)s));
