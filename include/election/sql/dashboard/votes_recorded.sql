-- Votes recorded in PostgreSQL: what the streamed totals are reconciled against.
SELECT count(*) AS votes_recorded FROM votes;
